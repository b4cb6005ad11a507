"""What fits the paper at error correction M: the capacity table against segno, the paper's
largest version, and the worst-case probe approval measures (never shorter than the code a
device then signs)."""
import json
import time

import pytest
import segno

from core.credentials import cbor, ceremony, keys, qr_fit
from core.credentials.licence import PREFIX, decode, worst_case_code
from core.credentials.trust import DeviceSigner

TYPES = ["ADR", "BCC", "BPS", "DAP", "EXC", "RES", "RWP", "TAX"]


@pytest.mark.parametrize("version", range(1, 41))
def test_the_capacity_table_is_what_segno_fits_at_level_m(version):
    room = qr_fit.ALPHANUMERIC_M[version - 1]
    fits = segno.make("A" * room, error="m", boost_error=False, micro=False)
    assert fits.version == version
    if version < 40:
        over = segno.make("A" * (room + 1), error="m", boost_error=False, micro=False)
        assert over.version == version + 1


def test_the_papers_largest_versions():
    assert (qr_fit.largest_version(384), qr_fit.largest_version(576)) == (17, 29)
    assert qr_fit.side_dots(17) == 372 <= 384 < qr_fit.side_dots(18) == 388
    assert qr_fit.side_dots(29) == 564 <= 576 < qr_fit.side_dots(30)
    assert (qr_fit.capacity(384), qr_fit.capacity(576)) == (734, 1839)
    assert qr_fit.largest_version(100) == 0 and qr_fit.capacity(100) == 0


def test_misfit_says_how_much_is_needed_and_what_the_paper_holds():
    assert qr_fit.misfit(734, 384) is None
    assert qr_fit.misfit(735, 384) == ("the licence's QR code would need 735 characters but "
                                       "58 mm paper (384 dots) holds 734 at error correction M")
    assert qr_fit.excess_bytes(735, 384) == 1 and qr_fit.excess_bytes(737, 384) == 2
    assert qr_fit.excess_bytes(700, 384) == 0


@pytest.fixture
def signer(tmp_path):
    now = int(time.time()) - 60
    ceremony.setup_device(tmp_path, keys.generate(), "D01", "MUH", TYPES, now)
    return DeviceSigner.load(tmp_path, "D01", "MUH")


def licence_row(name: str, conditions: str, counter: int = 1) -> dict:
    return {"number": "MUH-2026-D01-000001", "licence_type": "BPS", "holder_name": name,
            "national_id": "850101239", "issued_at": int(time.time()),
            "valid_until": int(time.time()) + 365 * 86400, "device_counter": counter,
            "address": json.dumps({"block": "204", "road": "15", "building": "12"}),
            "conditions": conditions}


@pytest.mark.parametrize("name, conditions", [
    ("Ali Hasan", ""), ("علي حسن", "من ٧ صباحا حتى ٥ مساء"),
    ("ع" * 60, "ساعات العمل " * 8), ("A" * 100, "x" * 300)])
def test_the_probe_is_never_shorter_than_the_signed_code(signer, name, conditions):
    fields = {"full_name": name, "block": "204", "road": "15", "building": "12"}
    real = signer(licence_row(name, conditions, counter=4_000_000))
    for cert in (signer.cert, None):  # the device's own certificate, or the office's worst
        probe = worst_case_code("MUH", "BPS", fields, conditions, TYPES, cert)
        assert len(probe) >= len(real)
        # a well-formed NF1 code carrying these words, not a guess of one
        claims = cbor.loads(decode(probe[len(PREFIX):]).payload)
        assert (claims[3], claims.get(9, "")) == (name, conditions)
    assert len(worst_case_code("MUH", "BPS", fields, conditions, TYPES)) - len(real) < 60
