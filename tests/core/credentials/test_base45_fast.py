"""decode's fast path agrees with the strict character-by-character decoder: same bytes for
everything valid, the same Base45Error (message and all) for everything else."""
import random

from core.credentials import base45


def _outcome(fn, text):
    try:
        return "ok", fn(text)
    except base45.Base45Error as exc:
        return "error", str(exc)


def _strict(text):
    if len(text) % 3 == 1:
        raise base45.Base45Error(f"dangling single character at the end (length {len(text)})")
    return base45._decode_strict(text)


def test_fast_path_matches_strict_decoder():
    rng = random.Random(45)
    high = base45.ALPHABET[-8:] + base45.ALPHABET[:2]  # digits that overflow 65535 / 255
    odd = base45.ALPHABET + "a\x00\xe9\u0661\ud800"
    for _ in range(20000):
        n = rng.randrange(0, 14)
        pick = rng.random()
        if pick < 0.4:
            text = base45.encode(bytes(rng.randrange(256) for _ in range(n)))
        elif pick < 0.75:
            text = "".join(rng.choice(high) for _ in range(n))
        else:
            text = "".join(rng.choice(odd) for _ in range(n))
        assert _outcome(base45.decode, text) == _outcome(_strict, text), repr(text)


def test_round_trip_every_length():
    rng = random.Random(9285)
    for n in range(600):
        data = bytes(rng.randrange(256) for _ in range(n))
        assert base45.decode(base45.encode(data)) == data
