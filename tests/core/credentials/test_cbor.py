"""The strict, bounded CBOR codec (RFC 8949): known vectors, deterministic encoding, every
refusal, hostile-input bombs, and property tests.

`cbor2` is used only here, as an independent reference implementation: our `dumps` must
produce exactly the bytes cbor2 produces, and cbor2 must read back what we write.

One known, intended divergence: cbor2's `canonical=True` sorts map keys length-first (the
RFC 7049 canonical order, RFC 8949 §4.2.3), while we follow RFC 8949 §4.2.1 (plain bytewise
order of the encoded keys). The two orders agree unless keys of different encoded lengths
compare the other way bytewise (e.g. 100 = 0x1864 sorts before -1 = 0x20 bytewise). So we
compare with `cbor2.dumps(x, canonical=True)` whenever the orders agree, and always with
cbor2's plain encoder fed maps pre-sorted bytewise by cbor2's own key encodings.
"""
import time
from collections.abc import Mapping

import cbor2
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from core.credentials.cbor import CBORError, Tag, dumps, loads

# --- known vectors --------------------------------------------------------------------------

RFC_8949_APPENDIX_A = [
    (0, "00"),
    (1, "01"),
    (10, "0a"),
    (23, "17"),
    (24, "1818"),
    (25, "1819"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"),
    (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (False, "f4"),
    (True, "f5"),
    (None, "f6"),
    (b"", "40"),
    (bytes.fromhex("01020304"), "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ("\"\\", "62225c"),
    ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"),
    ("\U00010151", "64f0908591"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    ({"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"},
     "a56161614161626142616361436164614461656145"),
]


@pytest.mark.parametrize("value, hexed", RFC_8949_APPENDIX_A)
def test_rfc_8949_appendix_a_vectors(value, hexed):
    assert dumps(value).hex() == hexed
    decoded = loads(bytes.fromhex(hexed))
    assert decoded == value and type(decoded) is type(value)


def test_tag_18_cose_sign1_shape():
    value = Tag(18, [b"\xa1\x01\x26", {4: b"kid"}, b"payload", b"\x00" * 64])
    encoded = dumps(value)
    assert encoded[:2] == b"\xd2\x84"
    assert loads(encoded) == value


def test_map_keys_are_sorted_bytewise_per_rfc_8949_4_2_1():
    # The int/text part of the RFC 8949 §4.2.1 example order: 10, 100, -1, "z", "aa".
    value = {"aa": 5, "z": 4, -1: 3, 100: 2, 10: 1}
    assert dumps(value).hex() == "a5" "0a01" "186402" "2003" "617a04" "62616105"
    assert list(loads(dumps(value))) == [10, 100, -1, "z", "aa"]


def test_tuples_encode_as_arrays_and_bytearray_as_bytes():
    assert dumps((1, bytearray(b"\x01"))) == dumps([1, b"\x01"])


# --- dumps refusals -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    1.5, 0.0, float("nan"), [1, 2.0], {"x": 1.0},
])
def test_dumps_refuses_floats(value):
    with pytest.raises(CBORError, match="float"):
        dumps(value)


@pytest.mark.parametrize("value", [2**64, -(2**64) - 1])
def test_dumps_refuses_integers_beyond_64_bits(value):
    with pytest.raises(CBORError, match="64-bit"):
        dumps(value)


@pytest.mark.parametrize("value", [{1, 2}, object(), 1j, frozenset(), memoryview(b"")])
def test_dumps_refuses_other_types(value):
    with pytest.raises(CBORError, match="cannot encode"):
        dumps(value)


@pytest.mark.parametrize("key", [True, None, b"k", 1.0, (1,)])
def test_dumps_refuses_map_keys_that_are_not_int_or_text(key):
    with pytest.raises(CBORError, match="map keys"):
        dumps({key: 1})


@pytest.mark.parametrize("number", [-1, 2**64, True, "18"])
def test_dumps_refuses_bad_tag_numbers(number):
    with pytest.raises(CBORError, match="tag number"):
        dumps(Tag(number, 0))


def test_dumps_refuses_unencodable_text_and_cycles():
    with pytest.raises(CBORError, match="UTF-8"):
        dumps("\ud800")
    cycle = []
    cycle.append(cycle)
    with pytest.raises(CBORError, match="deeper"):
        dumps(cycle)


# --- loads refusals: each has its own test ------------------------------------------------

def refused(hexed, match, **limits):
    with pytest.raises(CBORError, match=match):
        loads(bytes.fromhex(hexed), **limits)


@pytest.mark.parametrize("hexed", ["f93c00", "fa47c35000", "fb3ff199999999999a", "f97e00"])
def test_refuses_floats(hexed):
    refused(hexed, "floats")


def test_refuses_undefined():
    refused("f7", "undefined")


@pytest.mark.parametrize("hexed", ["e0", "f0", "f3", "f818", "f8ff"])
def test_refuses_other_simple_values(hexed):
    refused(hexed, "simple values")


@pytest.mark.parametrize("hexed", ["5f41014102ff", "7f6161ff", "9f01ff", "bf616101ff", "1f", "3f",
                                   "df00"])
def test_refuses_indefinite_length_items(hexed):
    refused(hexed, "indefinite")


def test_refuses_a_lone_break():
    refused("ff", "break")


@pytest.mark.parametrize("hexed", ["1c", "3d", "5e", "fc", "fd", "fe"])
def test_refuses_reserved_additional_information(hexed):
    refused(hexed, "reserved")


@pytest.mark.parametrize("hexed", ["a2010001 00", "a2616100616101", "a3010002000100"])
def test_refuses_duplicate_map_keys(hexed):
    refused(hexed.replace(" ", ""), "duplicate map key")


@pytest.mark.parametrize("hexed", [
    "a2020001 00",          # {2, 1}
    "a2200001 00",          # {-1, 1}: -1 (0x20) sorts after every unsigned key
    "a2616100 0100",        # {"a", 1}: integer keys sort before text keys
    "a2616100 616100",      # {"a", "a"} is a duplicate; {"b", "a"} below is out of order
    "a2616200 616100",
    "a2626161 00 616200",   # {"aa", "b"}: the shorter encoding sorts first
])
def test_refuses_map_keys_out_of_deterministic_order(hexed):
    refused(hexed.replace(" ", ""), "duplicate map key|out of deterministic order")


def test_accepts_keys_in_deterministic_order():
    assert loads(bytes.fromhex("a4 0100 2000 616200 62616100".replace(" ", ""))) == \
        {1: 0, -1: 0, "b": 0, "aa": 0}


@pytest.mark.parametrize("hexed", [
    "a1410100",    # byte string key
    "a1f500",      # true as key (not the integer 1)
    "a1f600",      # null key
    "a18000",      # array key
    "a1a000",      # map key
    "a1d20000",    # tagged key
    "a1f93c0000",  # float key (refused as a key before it is even read)
])
def test_refuses_map_keys_that_are_not_int_or_text(hexed):
    refused(hexed, "map keys must be integers or text strings")


@pytest.mark.parametrize("hexed", ["0000", "80ff", "f6f6", "a0a0"])
def test_refuses_trailing_bytes(hexed):
    refused(hexed, "trailing bytes")


@pytest.mark.parametrize("hexed", [
    "1800", "1817",                # 0 and 23 need no extra byte
    "1900ff", "1a0000ffff", "1b00000000ffffffff",
    "3817",                         # -24
    "580100", "780161",             # string lengths
    "98020102",                     # array count
    "b8010102",                     # map count
    "d81200",                       # tag number 18
])
def test_refuses_non_shortest_integers_and_lengths(hexed):
    refused(hexed, "non-shortest")


def test_accepts_the_smallest_value_of_each_width():
    for hexed, value in [("1818", 24), ("190100", 256), ("1a00010000", 65536),
                         ("1b0000000100000000", 2**32), ("3818", -25)]:
        assert loads(bytes.fromhex(hexed)) == value


def test_refuses_nesting_deeper_than_max_depth():
    assert loads(b"\x81" * 8 + b"\x00") == [[[[[[[[0]]]]]]]]
    refused("81" * 9 + "00", "nesting deeper than 8")
    refused("81" * 8 + "80", "nesting deeper than 8")  # an empty array is a level too
    refused("a101" + "81" * 7 + "a0", "nesting deeper than 8")  # maps count too
    refused("818100", "nesting deeper than 1", max_depth=1)
    assert loads(bytes.fromhex("818100"), max_depth=2) == [[0]]


def test_tags_count_towards_depth():
    refused("d2" * 2 + "00", "nesting deeper than 1", max_depth=1)


def test_refuses_more_than_max_items():
    assert loads(dumps([0] * 255)) == [0] * 255  # 256 items with the array itself
    refused(dumps([0] * 256).hex(), "more than 256 data items")
    refused(dumps({i: i for i in range(128)}).hex(), "more than 256 data items")
    refused(dumps([[1, 2], [3, 4]]).hex(), "more than 4 data items", max_items=4)
    refused("d200", "more than 1 data items", max_items=1)


@pytest.mark.parametrize("hexed, what", [
    ("44010203", "string claims 4 bytes but only 3 remain"),
    ("6261", "string claims 2 bytes but only 1 remain"),
    ("5a00010000", "string claims 65536 bytes but only 0 remain"),
    ("830102", "array claims 3 entries but only 2 bytes remain"),
    ("a3010203", "map claims 3 entries but only 3 bytes remain"),
    ("a101", "map claims 1 entries but only 1 bytes remain"),
    ("82", "array claims 2 entries but only 0 bytes remain"),
])
def test_refuses_declared_lengths_beyond_the_input(hexed, what):
    refused(hexed, what)


@pytest.mark.parametrize("hexed", ["", "18", "1901", "1a000000", "1b00000000000000", "d2",
                                   "828101", "a201810102", "d2d2"])
def test_refuses_truncated_input(hexed):
    refused(hexed, "unexpected end of input")


def test_refuses_input_longer_than_max_bytes():
    fits = dumps(b"\x00" * 4093)  # 3-byte header + 4093 = 4096 bytes
    assert len(fits) == 4096 and loads(fits) == b"\x00" * 4093
    too_long = dumps(b"\x00" * 4094)
    assert len(too_long) == 4097
    with pytest.raises(CBORError, match="4097 bytes, more than the limit of 4096"):
        loads(too_long)
    with pytest.raises(CBORError, match="limit of 10"):
        loads(dumps("x" * 10), max_bytes=10)


@pytest.mark.parametrize("hexed", ["62c328", "61ff", "63eda080", "62c0af"])
def test_refuses_invalid_utf8(hexed):
    refused(hexed, "invalid UTF-8")


def test_tags_must_be_allowed():
    assert loads(bytes.fromhex("d200")) == Tag(18, 0)
    refused("c100", "tag 1 is not allowed")
    refused("d200", "tag 18 is not allowed", allowed_tags=frozenset())
    assert loads(bytes.fromhex("c1d200"), allowed_tags={1, 18}) == Tag(1, Tag(18, 0))


def test_loads_wants_bytes():
    assert loads(bytearray(b"\x01")) == 1 and loads(memoryview(b"\x01")) == 1
    with pytest.raises(TypeError):
        loads("00")


def test_errors_are_value_errors_and_name_the_offset():
    assert issubclass(CBORError, ValueError)
    with pytest.raises(CBORError, match="at byte 3"):
        loads(bytes.fromhex("830102f7"))


# --- bombs ----------------------------------------------------------------------------------

def timed(call):
    began = time.perf_counter()
    try:
        return call()
    finally:
        assert time.perf_counter() - began < 1.0


def test_bomb_10000_nested_arrays():
    with pytest.raises(CBORError, match="nesting deeper than 8"):
        timed(lambda: loads(b"\x81" * 10000 + b"\x00", max_bytes=20000))
    # Even with limits raised far beyond the recursion limit: no RecursionError.
    deep = b"\x81" * 10000 + b"\x00"
    value = loads(deep, max_depth=10000, max_items=10001, max_bytes=10001)
    for _ in range(10000):
        (value,) = value
    assert value == 0


def test_bomb_byte_string_claiming_2_to_the_63_bytes():
    with pytest.raises(CBORError, match="claims 9223372036854775808 bytes"):
        timed(lambda: loads(b"\x5b" + (2**63).to_bytes(8, "big") + b"\x00" * 16))


def test_bomb_array_claiming_2_to_the_32_items():
    with pytest.raises(CBORError, match="claims 4294967296 entries"):
        timed(lambda: loads(b"\x9b" + (2**32).to_bytes(8, "big") + b"\x00" * 16))


def test_bomb_map_claiming_2_to_the_64_minus_1_pairs():
    with pytest.raises(CBORError, match="map claims"):
        timed(lambda: loads(b"\xbb" + b"\xff" * 8))


def test_bomb_map_with_duplicate_keys():
    # A signed map whose second "sub" could shadow the first: must never be accepted.
    with pytest.raises(CBORError, match="duplicate map key 'sub'"):
        loads(bytes.fromhex("a2") + dumps("sub") + dumps("alice") + dumps("sub") + dumps("eve"))


# --- properties -----------------------------------------------------------------------------

EDGE_INTS = [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1,
             -1, -24, -25, -256, -257, -65536, -65537, -(2**32), -(2**32) - 1, -(2**64)]
ints = st.one_of(st.sampled_from(EDGE_INTS), st.integers(-(2**64), 2**64 - 1))
keys = st.one_of(ints, st.text(max_size=12))
scalars = st.one_of(ints, st.binary(max_size=40), st.text(max_size=20), st.booleans(), st.none())


def nested(with_tags):
    def extend(children):
        options = [st.lists(children, max_size=6), st.dictionaries(keys, children, max_size=6)]
        if with_tags:
            options.append(st.builds(Tag, st.just(18), children))
        return st.one_of(options)
    return st.recursive(scalars, extend, max_leaves=30)


def depth(value):
    if isinstance(value, Tag):
        return 1 + depth(value.value)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def count(value):
    if isinstance(value, Tag):
        return 1 + count(value.value)
    if isinstance(value, list):
        return 1 + sum(map(count, value))
    if isinstance(value, dict):
        return 1 + len(value) + sum(map(count, value.values()))
    return 1


def within_limits(value):
    return depth(value) <= 8 and count(value) <= 256 and len(dumps(value)) <= 4096


PROPERTY = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY
@given(nested(with_tags=True))
def test_round_trip(value):
    assume(within_limits(value))
    encoded = dumps(value)
    assert loads(encoded) == value
    assert dumps(loads(encoded)) == encoded  # deterministic: decode + encode is the identity


def bytewise_sorted(value):
    """The same value with every dict's insertion order = bytewise order of cbor2's keys."""
    if isinstance(value, list):
        return [bytewise_sorted(v) for v in value]
    if isinstance(value, dict):
        ordered = sorted(value, key=cbor2.dumps)
        return {k: bytewise_sorted(value[k]) for k in ordered}
    return value


def length_first_agrees(value):
    if isinstance(value, list):
        return all(map(length_first_agrees, value))
    if isinstance(value, dict):
        encoded = [cbor2.dumps(k) for k in value]
        if sorted(encoded) != sorted(encoded, key=lambda e: (len(e), e)):
            return False
        return all(map(length_first_agrees, value.values()))
    return True


@PROPERTY
@given(nested(with_tags=False))
def test_byte_for_byte_equal_to_cbor2(value):
    ours = dumps(value)
    assert cbor2.loads(ours) == value
    assert ours == cbor2.dumps(bytewise_sorted(value))
    if length_first_agrees(value):
        assert ours == cbor2.dumps(value, canonical=True)


def test_keys_of_different_lengths_sort_bytewise_not_length_first():
    # Where we diverge from cbor2's canonical=True (length-first would put -1 first).
    value = {100: "a", -1: "b"}
    assert dumps(value).hex() == "a2" "1864" "6161" "20" "6162"  # 0x18.. < 0x20 bytewise
    assert cbor2.loads(dumps(value)) == value


def from_cbor2(value):
    """cbor2's decoded value in our types (it uses CBORTag, and tuples/frozendicts in places)."""
    if isinstance(value, cbor2.CBORTag):
        return Tag(value.tag, from_cbor2(value.value))
    if isinstance(value, (list, tuple)):
        return [from_cbor2(v) for v in value]
    if isinstance(value, Mapping):  # dict, or cbor2's frozendict
        return {k: from_cbor2(v) for k, v in value.items()}
    return value


def check_hostile(data):
    """Only a value or CBORError, never a runaway (a generous bound: it catches quadratic or
    worse blow-ups, not a shared machine's noise; speed is bench/'s); and whatever we
    accept, cbor2 reads the same way."""
    began = time.perf_counter()
    try:
        value = loads(data)
    except CBORError:
        value = CBORError
    assert time.perf_counter() - began < 1.0
    if value is not CBORError:
        assert from_cbor2(cbor2.loads(data)) == value


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=5000))
@example(b"\x81" * 5000)
@example(bytes(range(256)) * 19)
def test_random_bytes_only_ever_decode_or_raise_cbor_error(data):
    check_hostile(data)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested(with_tags=True), st.data())
def test_mutated_valid_encodings_only_ever_decode_or_raise_cbor_error(value, draw):
    # Random bytes mostly fail on the first byte; damaged real encodings go much deeper.
    data = bytearray(dumps(value))
    for _ in range(draw.draw(st.integers(1, 4))):
        action = draw.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw.draw(st.integers(0, len(data)))
        if action == "flip" and at < len(data):
            data[at] = draw.draw(st.integers(0, 255))
        elif action == "insert":
            data.insert(at, draw.draw(st.integers(0, 255)))
        elif action == "delete" and at < len(data):
            del data[at]
        elif action == "truncate":
            del data[at:]
    check_hostile(bytes(data))
