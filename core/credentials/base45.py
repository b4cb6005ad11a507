"""Base45 (RFC 9285): the text form of the bytes in a licence QR code.

Base45 uses only characters of the QR "alphanumeric" mode, so a QR code can carry the
bytes compactly. Every 2 bytes become 3 characters (a final single byte becomes 2), least
significant digit first. Decoding is strict: anything that is not the exact output of
`encode` for some bytes is refused with `Base45Error`.
"""
from __future__ import annotations

import struct

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_NOT_BASE45 = 255
# ASCII byte -> its Base45 digit (_NOT_BASE45 for a byte outside the alphabet)
_DIGITS = bytes(_VALUE.get(chr(i), _NOT_BASE45) for i in range(256))


class Base45Error(ValueError):
    """The text is not valid Base45."""


def encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"Base45 text must be str, not {type(text).__name__}")
    # Check the length first: the whole input is refused before any work on it.
    if len(text) % 3 == 1:
        raise Base45Error(f"dangling single character at the end (length {len(text)})")
    # The fast path only accepts what the strict loop below accepts, and gives the same bytes;
    # anything it doubts goes to that loop, which says precisely what is wrong.
    try:
        digits = text.encode("ascii").translate(_DIGITS)
    except UnicodeEncodeError:
        return _decode_strict(text)
    if _NOT_BASE45 in digits:
        return _decode_strict(text)
    full = len(digits) - len(digits) % 3
    values = [a + b * 45 + c * 2025 for a, b, c in
              zip(digits[0:full:3], digits[1:full:3], digits[2:full:3])]
    if values and max(values) > 0xFFFF:
        return _decode_strict(text)
    out = struct.pack(f">{len(values)}H", *values)
    if full < len(digits):
        n = digits[full] + digits[full + 1] * 45
        if n > 0xFF:
            return _decode_strict(text)
        out += bytes((n,))
    return out


def _decode_strict(text: str) -> bytes:
    """Character by character: the first thing that is not Base45 is refused, by position."""
    digits = []
    for pos, ch in enumerate(text):
        value = _VALUE.get(ch)
        if value is None:
            raise Base45Error(f"character {ch!r} at position {pos} is not in the Base45 alphabet")
        digits.append(value)
    out = bytearray()
    for i in range(0, len(digits), 3):
        chunk = digits[i:i + 3]
        if len(chunk) == 3:
            n = chunk[0] + chunk[1] * 45 + chunk[2] * 45 * 45
            if n > 0xFFFF:
                raise Base45Error(f"triplet {text[i:i + 3]!r} at position {i} "
                                  f"has value {n} > 65535")
            out += n.to_bytes(2, "big")
        else:
            n = chunk[0] + chunk[1] * 45
            if n > 0xFF:
                raise Base45Error(f"final pair {text[i:i + 2]!r} at position {i} "
                                  f"has value {n} > 255")
            out.append(n)
    return bytes(out)
