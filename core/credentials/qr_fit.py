"""Whether a licence's QR code fits the paper, decided before anything is signed or numbered.

A licence code is printed at error correction M (docs/credential-format.md), never lower, at
least 4 printer dots per module (0.5 mm at 203 dpi, what a phone camera reads at arm's
length), with the 4-module quiet zone the standard asks for. On 58 mm paper (384 dots) that
is QR version 17 at most; on 80 mm (576 dots) version 29. An NF1 code is all QR-alphanumeric
characters, so what fits is the alphanumeric capacity of that version at level M."""
from __future__ import annotations

ERROR_LEVEL = "M"
QUIET_MODULES = 4
MIN_DOTS_PER_MODULE = 4
PAPER_DOTS = {384: "58 mm", 576: "80 mm"}

# Alphanumeric characters a QR symbol of version 1..40 holds at level M (ISO/IEC 18004,
# table 7; tests/core/credentials/test_qr_fit.py checks each against segno).
ALPHANUMERIC_M = (20, 38, 61, 90, 122, 154, 178, 221, 262, 311, 366, 419, 483, 528, 600, 656,
                  734, 816, 909, 970, 1035, 1134, 1248, 1326, 1451, 1542, 1637, 1732, 1839,
                  1994, 2113, 2238, 2369, 2506, 2632, 2780, 2894, 3054, 3220, 3391)


def side_dots(version: int, dots_per_module: int = MIN_DOTS_PER_MODULE) -> int:
    """How wide a symbol of `version` prints, quiet zone included."""
    return (17 + 4 * version + 2 * QUIET_MODULES) * dots_per_module


def largest_version(width_dots: int) -> int:
    """The largest QR version that fits `width_dots` at the minimum module size (0: none)."""
    fitting = [v for v in range(1, 41) if side_dots(v) <= width_dots]
    return fitting[-1] if fitting else 0


def capacity(width_dots: int) -> int:
    """How many NF1 characters fit on paper `width_dots` wide at level M."""
    version = largest_version(width_dots)
    return ALPHANUMERIC_M[version - 1] if version else 0


def paper_name(width_dots: int) -> str:
    return f"{PAPER_DOTS.get(width_dots, f'{width_dots}-dot')} paper ({width_dots} dots)"


def misfit(length: int, width_dots: int) -> str | None:
    """None when a code of `length` characters fits; else why not, in words."""
    room = capacity(width_dots)
    if length <= room:
        return None
    return (f"the licence's QR code would need {length} characters but "
            f"{paper_name(width_dots)} holds {room} at error correction {ERROR_LEVEL}")


def excess_bytes(length: int, width_dots: int) -> int:
    """How many bytes of text to take out so a code of `length` characters fits: base45
    spends 3 characters on 2 bytes (a Latin letter is one byte in UTF-8, an Arabic one two)."""
    over = length - capacity(width_dots)
    return max(0, -(-over * 2 // 3))
