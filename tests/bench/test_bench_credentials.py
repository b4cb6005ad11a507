"""bench/credentials.py runs, and what it prints is true of the codes it printed."""
import json

import pytest

from bench_loader import load_bench

from core.credentials import base45
from core.credentials.licence import PREFIX, verify



@pytest.fixture(scope="module")
def bench():
    return load_bench("credentials")


@pytest.fixture(scope="module")
def report(bench):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench.main(["--rounds", "1", "--ops", "5"]) == 0
    return json.loads(out.getvalue())


def variant(report, name):
    return report["variants"][name]


def test_our_codes_are_alphanumeric_qr_and_the_baseline_is_byte_mode(report):
    for name in ("nafitha_with_certificate", "nafitha_without_certificate"):
        v = variant(report, name)
        assert v["qr"]["mode"] == "alphanumeric"
        assert v["qr"]["error"] == "M"
        assert v["text"].startswith(PREFIX)
        assert set(v["text"][len(PREFIX):]) <= set(base45.ALPHABET)
    assert variant(report, "baseline_json_detached_signature")["qr"]["mode"] == "byte"


def test_the_printed_licence_verifies(bench, report):
    _, _, trust = bench.setup()
    text = variant(report, "nafitha_with_certificate")["text"]
    result = verify(text, trust, bench.NOW)
    assert result.valid and result.reason == "valid"
    assert result.claims["number"] == bench.ROW["number"]
    assert variant(report, "nafitha_with_certificate")["verify_reason"] == "valid"


def test_the_certificate_makes_the_code_longer(report):
    with_cert = variant(report, "nafitha_with_certificate")
    without = variant(report, "nafitha_without_certificate")
    assert len(with_cert["text"]) == with_cert["text_chars"] > \
        len(without["text"]) == without["text_chars"]
    assert with_cert["cbor_bytes"] - without["cbor_bytes"] >= with_cert["certificate_cbor_bytes"]
    assert with_cert["qr"]["version"] >= without["qr"]["version"]


def test_the_baseline_prints_the_national_id_and_ours_does_not(bench, report):
    nid = bench.NATIONAL_ID
    baseline = variant(report, "baseline_json_detached_signature")
    assert nid in baseline["text"] and baseline["national_id_in_clear"] is True
    for name in ("nafitha_with_certificate", "nafitha_without_certificate"):
        text = variant(report, name)["text"]
        assert nid not in text
        assert nid.encode() not in base45.decode(text[len(PREFIX):])


def test_rates_are_positive(report):
    rates = []
    for v in report["variants"].values():
        for key, value in v.items():
            if key.endswith("ops_per_s") and value is not None:
                rates += [value["median"], *value["all"]]
    assert len(rates) >= 2 * 6  # six timed operations, one round: median + the value
    assert all(r > 0 for r in rates)
    assert all(r > 0 for k, r in report["ratios_vs_baseline"].items() if k.endswith("_ops"))


def test_qr_fields_are_consistent(report):
    for v in report["variants"].values():
        assert v["qr"]["fits_v17_M"] == (v["qr"]["version"] <= 17)
        assert v["qr"]["modules_per_side"] == 17 + 4 * v["qr"]["version"]
    assert report["fits_v17_M"] == variant(report, "nafitha_with_certificate")["qr"]["fits_v17_M"]


def test_a_licence_with_short_conditions_fits_v17_at_M(report):
    """The issue's example conditions (39 characters) fit, with the certificate."""
    points = report["conditions_sensitivity"]["points"]
    short = next(p for p in points if p["conditions_chars"] == 39)
    assert short["with_certificate"]["qr_version"] <= 17
    assert report["conditions_sensitivity"][
        "longest_conditions_fitting_v17_M_chars"] >= 39


def test_the_typical_licence_fits_v17_at_M(report):
    assert variant(report, "nafitha_with_certificate")["qr"]["version"] <= 17
    assert report["fits_v17_M"] is True
