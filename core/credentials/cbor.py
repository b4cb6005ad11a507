"""A small, strict, bounded CBOR codec (RFC 8949) for signed licences.

A licence QR code is hostile input until its signature checks out, and even the signature
check needs the CBOR parsed first. So the decoder here accepts only the handful of CBOR
features licences use, refuses everything else, and is bounded in every dimension:

    integers (unsigned and negative, 64-bit), byte strings, UTF-8 text strings, arrays,
    maps (int or text keys, no duplicates), tags the caller allows, false/true/null

Refused with `CBORError`: floats, undefined, other simple values, indefinite lengths,
reserved encodings, non-shortest integers/lengths, invalid UTF-8, duplicate or non-int/text
map keys, map keys out of the deterministic order, disallowed tags, trailing bytes, truncated input, declared lengths larger than
the remaining input (checked before anything is read or allocated), nesting deeper than
`max_depth`, more than `max_items` data items, input longer than `max_bytes`.

The decoder is iterative (an explicit stack), so no input can cause a RecursionError.

`dumps` writes RFC 8949 §4.2.1 "Core Deterministic Encoding": shortest integers and lengths,
map keys sorted by the bytewise order of their encodings. The same value always gives the
same bytes, which is what a signature covers; `loads` accepts only that encoding, so each
value has exactly one valid encoding (a second verifier cannot disagree about re-encodings).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CBORError", "Tag", "dumps", "loads", "is_uint", "COSE_SIGN1_TAG"]

COSE_SIGN1_TAG = 18
_UINT64_MAX = 2**64 - 1
# Major types (the top 3 bits of the initial byte).
_UINT, _NINT, _BYTES, _TEXT, _ARRAY, _MAP, _TAG, _SIMPLE = range(8)
# dumps recurses over values our own code built; this limit turns a cyclic or absurdly deep
# structure into a CBORError instead of a RecursionError.
_DUMPS_MAX_DEPTH = 64


class CBORError(ValueError):
    """The bytes are not CBOR this codec accepts, or the value cannot be encoded."""


@dataclass(frozen=True)
class Tag:
    """A tagged data item, e.g. Tag(18, [...]) for COSE_Sign1."""

    number: int
    value: object


def is_uint(value) -> bool:
    """A decoded CBOR unsigned integer (major type 0): true/false decode to Python bools,
    which are ints, and must not pass as numbers."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- encoding -----------------------------------------------------------------------------

def _head(major: int, n: int) -> bytes:
    """The initial byte and argument in shortest form (RFC 8949 §4.2.1)."""
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise CBORError(f"argument {n} does not fit in 64 bits")


def dumps(value: object) -> bytes:
    """Encode `value` deterministically. Raises CBORError for anything unsupported."""
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


def _encode(value: object, out: bytearray, depth: int) -> None:
    if depth > _DUMPS_MAX_DEPTH:
        raise CBORError(f"value nested deeper than {_DUMPS_MAX_DEPTH} levels (cyclic?)")
    # bool before int: True is an int in Python but a simple value in CBOR.
    if value is False:
        out.append(0xF4)
    elif value is True:
        out.append(0xF5)
    elif value is None:
        out.append(0xF6)
    elif isinstance(value, int):
        if 0 <= value <= _UINT64_MAX:
            out += _head(_UINT, value)
        elif -(2**64) <= value < 0:
            out += _head(_NINT, -1 - value)
        else:
            raise CBORError(f"integer {value} is outside the 64-bit CBOR range")
    elif isinstance(value, (bytes, bytearray)):
        out += _head(_BYTES, len(value)) + value
    elif isinstance(value, str):
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CBORError(f"text is not encodable as UTF-8: {exc}") from None
        out += _head(_TEXT, len(raw)) + raw
    elif isinstance(value, (list, tuple)):
        out += _head(_ARRAY, len(value))
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            if type(key) not in (int, str):  # exact types: refuses bool keys too
                raise CBORError(f"map keys must be int or str, not {type(key).__name__}")
            encoded_key = bytearray()
            _encode(key, encoded_key, depth + 1)
            pairs.append((bytes(encoded_key), item))
        pairs.sort(key=lambda pair: pair[0])  # bytewise lexicographic order, §4.2.1
        out += _head(_MAP, len(pairs))
        for encoded_key, item in pairs:
            out += encoded_key
            _encode(item, out, depth + 1)
    elif isinstance(value, Tag):
        if type(value.number) is not int or not 0 <= value.number <= _UINT64_MAX:
            raise CBORError(f"tag number {value.number!r} is not a 64-bit unsigned integer")
        out += _head(_TAG, value.number)
        _encode(value.value, out, depth + 1)
    elif isinstance(value, float):
        raise CBORError("floats are not supported")
    else:
        raise CBORError(f"cannot encode a value of type {type(value).__name__}")


# --- decoding -----------------------------------------------------------------------------

_NO_KEY = object()  # marks a map frame that is waiting for a key


def loads(data: bytes, *, max_depth: int = 8, max_items: int = 256, max_bytes: int = 4096,
          allowed_tags: frozenset[int] = frozenset({COSE_SIGN1_TAG})) -> object:
    """Decode exactly one CBOR data item that fills `data`. Raises CBORError otherwise.

    max_depth counts nested arrays, maps and tags (a top-level scalar has depth 0);
    max_items counts every data item, including map keys and tag items.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"CBOR input must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise CBORError(f"input is {len(data)} bytes, more than the limit of {max_bytes}")

    end = len(data)
    pos = 0
    items = 0
    # Open containers, innermost last: [list, count] / [dict, count, key, previous key's
    # encoding] / [tag number].
    stack: list[list] = []

    def fail(message: str, at: int) -> CBORError:
        return CBORError(f"at byte {at}: {message}")

    while True:
        start = pos
        if pos >= end:
            raise fail("unexpected end of input", pos)
        major, ai = data[pos] >> 5, data[pos] & 0x1F
        pos += 1
        items += 1
        if items > max_items:
            raise fail(f"more than {max_items} data items", start)
        if stack and len(stack[-1]) == 4 and stack[-1][2] is _NO_KEY \
                and major not in (_UINT, _NINT, _TEXT):
            raise fail("map keys must be integers or text strings", start)

        if major == _SIMPLE:
            # Simple values and floats carry no length, so handle them by their code alone.
            if ai == 20:
                value = False
            elif ai == 21:
                value = True
            elif ai == 22:
                value = None
            elif ai == 23:
                raise fail("'undefined' is not supported", start)
            elif 25 <= ai <= 27:
                raise fail("floats are not supported", start)
            elif ai == 31:
                raise fail("unexpected 'break' (indefinite-length items are not supported)",
                           start)
            elif ai in (28, 29, 30):
                raise fail(f"reserved additional information {ai}", start)
            else:
                raise fail("simple values other than false/true/null are not supported",
                           start)
        else:
            # The argument: an integer value, a length, a count or a tag number.
            if ai < 24:
                arg = ai
            elif ai <= 27:
                size = 1 << (ai - 24)
                if size > end - pos:
                    raise fail("unexpected end of input in an integer or length", start)
                arg = int.from_bytes(data[pos:pos + size], "big")
                pos += size
                # Shortest form only: each size must be needed (§4.2.1).
                if arg < (24 if size == 1 else 1 << (4 * size)):
                    raise fail(f"non-shortest encoding of {arg}", start)
            elif ai == 31:
                raise fail("indefinite-length items are not supported", start)
            else:
                raise fail(f"reserved additional information {ai}", start)

            if major == _UINT:
                value = arg
            elif major == _NINT:
                value = -1 - arg
            elif major in (_BYTES, _TEXT):
                # Check the declared length against what is left BEFORE slicing.
                if arg > end - pos:
                    raise fail(f"string claims {arg} bytes but only {end - pos} remain", start)
                value = data[pos:pos + arg]
                pos += arg
                if major == _TEXT:
                    try:
                        value = value.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise fail(f"invalid UTF-8 in text string: {exc.reason}", start) \
                            from None
            else:
                # A container. Refuse absurd counts before anything is built: every child
                # takes at least one byte and counts as one item.
                if len(stack) + 1 > max_depth:
                    raise fail(f"nesting deeper than {max_depth}", start)
                if major == _TAG:
                    if arg not in allowed_tags:
                        raise fail(f"tag {arg} is not allowed", start)
                    stack.append([arg])
                    continue
                children = arg if major == _ARRAY else 2 * arg
                if children > end - pos:
                    raise fail(f"{'array' if major == _ARRAY else 'map'} claims {arg} "
                               f"entries but only {end - pos} bytes remain", start)
                if items + children > max_items:
                    raise fail(f"more than {max_items} data items", start)
                if arg:
                    stack.append([[], arg] if major == _ARRAY else [{}, arg, _NO_KEY, b""])
                    continue
                value = [] if major == _ARRAY else {}

        # A complete value: hand it to the open containers, closing those it completes.
        while stack:
            frame = stack[-1]
            if len(frame) == 1:  # tag: one item completes it
                value = Tag(frame[0], value)
            elif len(frame) == 2:  # array
                frame[0].append(value)
                if len(frame[0]) < frame[1]:
                    break
                value = frame[0]
            elif frame[2] is _NO_KEY:  # map, this value is a key (int or str, checked above)
                if value in frame[0]:
                    raise fail(f"duplicate map key {value!r}", start)
                # Keys are scalars, so data[start:pos] is exactly this key's encoding.
                encoded = data[start:pos]
                if encoded <= frame[3]:
                    raise fail(f"map key {value!r} out of deterministic order (keys are "
                               f"sorted by the bytes of their encodings)", start)
                frame[2], frame[3] = value, encoded
                break
            else:  # map, this value belongs to the pending key
                frame[0][frame[2]] = value
                frame[2] = _NO_KEY
                if len(frame[0]) < frame[1]:
                    break
                value = frame[0]
            stack.pop()
        else:
            if pos != end:
                raise fail(f"{end - pos} trailing bytes after the data item", pos)
            return value
