"""Base45 (RFC 9285): the text form of the bytes in a licence QR code.

Base45 uses only characters of the QR "alphanumeric" mode, so a QR code can carry the
bytes compactly. Every 2 bytes become 3 characters (a final single byte becomes 2), least
significant digit first. Decoding is strict: anything that is not the exact output of
`encode` for some bytes is refused with `Base45Error`.
"""
from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


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
