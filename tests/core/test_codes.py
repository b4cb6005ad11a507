from core import codes


def test_codes_round_trip_and_use_the_alphanumeric_qr_set():
    alphabet = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    t = codes.ticket_code("MUH", "01M8693800V3RS3DTR98H6BCFN")
    a = codes.application_code("MUH", "MUH-D01-A2026-000001")
    assert set(t) <= alphabet and set(a) <= alphabet
    assert codes.parse(t) == ("ticket", "MUH", "01M8693800V3RS3DTR98H6BCFN")
    assert codes.parse(a) == ("application", "MUH", "MUH-D01-A2026-000001")


def test_other_text_is_not_a_code():
    for text in ("", "NF1:ABC", "NFT:MUH", "NFA:muh:X", "NFT:MUH:R 7", None, 42,
                 "NFA:MUH:" + "A" * 41):
        assert codes.parse(text) is None
