"""Base45 (RFC 9285): the RFC's examples, round trips, and every way decoding refuses."""
import pytest
from hypothesis import given, settings, strategies as st

from core.credentials.base45 import ALPHABET, Base45Error, decode, encode

RFC_EXAMPLES = [  # RFC 9285 §4.3 and §4.4
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize("data, text", RFC_EXAMPLES)
def test_rfc_9285_examples(data, text):
    assert encode(data) == text
    assert decode(text) == data


@pytest.mark.parametrize("data, text", [
    (b"", ""), (b"\x00", "00"), (b"\xff", "U5"), (b"\x00\x00", "000"), (b"\xff\xff", "FGW"),
])
def test_edges(data, text):
    assert encode(data) == text
    assert decode(text) == data


def test_alphabet_is_the_rfc_one():
    assert ALPHABET == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    assert len(set(ALPHABET)) == 45


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_round_trip(data):
    text = encode(data)
    assert set(text) <= set(ALPHABET)
    assert len(text) == 3 * (len(data) // 2) + 2 * (len(data) % 2)
    assert decode(text) == data


@pytest.mark.parametrize("text, position", [
    ("bb8", 0),        # lowercase is not in the alphabet
    ("BB8~", None),    # length 4: dangling character is checked first
    ("BB~", 2),
    ("BB\n", 2),
    ("BBÅ", 2),
    ("BB8\x00AB", 3),
])
def test_refuses_characters_outside_the_alphabet(text, position):
    if position is None:
        with pytest.raises(Base45Error, match="dangling"):
            decode(text)
    else:
        with pytest.raises(Base45Error, match="not in the Base45 alphabet") as info:
            decode(text)
        assert f"position {position}" in str(info.value)


@pytest.mark.parametrize("text", ["A", "BB8A", "%69 VD92EX0AB"])
def test_refuses_a_dangling_single_character(text):
    with pytest.raises(Base45Error, match="dangling single character"):
        decode(text)


@pytest.mark.parametrize("text", ["GGW", "BB8GGW", ":::"])
def test_refuses_a_triplet_above_65535(text):
    with pytest.raises(Base45Error, match="> 65535"):
        decode(text)


@pytest.mark.parametrize("text", ["V5", "::", "BB8V5"])
def test_refuses_a_final_pair_above_255(text):
    with pytest.raises(Base45Error, match="> 255"):
        decode(text)


def test_errors_are_value_errors_and_non_str_is_a_type_error():
    assert issubclass(Base45Error, ValueError)
    with pytest.raises(TypeError):
        decode(b"BB8")


@given(st.binary(min_size=1, max_size=200))
def test_a_code_never_ends_in_whitespace(data):
    """The last character of a group is at most W, so a line reader's trim loses nothing
    (docs/credential-format.md, One encoding only)."""
    text = encode(data)
    group_ends = text[2::3] + (text[-1] if len(text) % 3 == 2 else "")
    assert max(ALPHABET.index(c) for c in group_ends) <= ALPHABET.index("W")
    assert not text.endswith(" ")
