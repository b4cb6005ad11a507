"""The licence as an A4 PDF (issue 25 "Paper"): the same signed QR code, read back from the
rasterised page; the words in its text layer; refused for a revoked or unknown licence."""
from __future__ import annotations

import io
import json

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from core.errors import InvalidState, NotFound
from devices.printing.certificate_pdf import QR_MM, certificate_pdf, licence_pdf
from devices.scanning.decoders import DecoderChain
from nafitha.cli import cli

DPI = 200


def raster(pdf: bytes) -> np.ndarray:
    (page,) = pdfium.PdfDocument(pdf)
    return np.asarray(page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L"))


def image_objects(pdf: bytes) -> int:
    (page,) = pdfium.PdfDocument(pdf)
    return sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))


def text_layer(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    return "".join(p.extract_text() for p in PdfReader(path).pages)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_pdf_carries_the_licences_own_qr_code_large_enough_to_scan(office, issued, lang,
                                                                       tmp_path):
    lic = issued()
    pdf = licence_pdf(office, lic["number"], lang)
    assert pdf.startswith(b"%PDF-")
    (page,) = PdfReader(io.BytesIO(pdf)).pages
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    found = DecoderChain(formats="qr").decode(raster(pdf))
    assert [d.text for d in found] == [lic["signed_payload"]]
    xs = [x for x, _ in found[0].corners]
    width_mm = (max(xs) - min(xs)) / DPI * 25.4
    assert width_mm >= 30 and abs(width_mm - QR_MM) < 2  # the code itself, quiet zone apart
    result = office.verify_licence(found[0].text)
    assert result.valid and result.claims["number"] == lic["number"]


def test_the_qr_code_is_vector_not_a_picture(office, issued):
    lic = issued()
    assert image_objects(licence_pdf(office, lic["number"], "en")) == 1  # the emblem only
    office.settings.licence.emblem = "none"
    pdf = licence_pdf(office, lic["number"], "en")
    assert image_objects(pdf) == 0
    assert [d.text for d in DecoderChain(formats="qr").decode(raster(pdf))] == \
        [lic["signed_payload"]]


@pytest.mark.parametrize("name", ["Fatima Ali Hasan", "فاطمة عبدالله الحداد"])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_text_layer_names_the_licence_and_its_holder(office, issued, lang, name,
                                                         tmp_path):
    lic = issued(full_name=name)
    said = text_layer(licence_pdf(office, lic["number"], lang), tmp_path)
    assert lic["number"] in said
    assert name in said
    assert lic["national_id"] not in said and lic["national_id"][-3:] in said  # masked
    assert "RES" not in said.replace(lic["number"], "")  # no internal service code
    if lang == "en":
        assert "Muharraq Municipality" in said and "Valid until" in said


def test_the_full_id_policy_prints_the_whole_number(office, issued, tmp_path):
    lic = issued()
    office.settings.licence.national_id = "full"
    assert lic["national_id"] in text_layer(licence_pdf(office, lic["number"], "en"), tmp_path)


def test_the_verify_address_is_printed_when_the_office_has_one(office, issued, tmp_path):
    lic = issued()
    assert "https://" not in text_layer(licence_pdf(office, lic["number"], "en"), tmp_path)
    office.settings.licence.verify_url = "https://central.example.bh/verify/"
    said = text_layer(licence_pdf(office, lic["number"], "en"), tmp_path)
    assert "https://central.example.bh/verify/" in said


def test_the_same_licence_gives_the_same_bytes(office, issued):
    lic = issued()
    assert licence_pdf(office, lic["number"], "ar") == licence_pdf(office, lic["id"], "ar")


def test_an_unknown_licence_is_not_found_and_changes_nothing(office, issued, db_state):
    issued()
    before = db_state()
    with pytest.raises(NotFound):
        licence_pdf(office, "MUH-2026-D01-999999", "ar")
    assert db_state() == before


def test_a_revoked_licence_gets_no_pdf(office, issued, till, db_state):
    lic = issued()
    with office.as_supervisor(till.supervisor, till.supervisor_pin):
        office.licences.revoke(lic["id"], "issued in error")
    before = db_state()
    with pytest.raises(InvalidState) as caught:
        licence_pdf(office, lic["number"], "en")
    assert caught.value.details["reason"] == "revoked"
    assert db_state() == before


@pytest.mark.parametrize("bad,problem", [({"lang": "fr"}, "unknown language"),
                                         ({"national_id_shown": "half"}, "national_id_shown"),
                                         ({"valid_until": "5/12/2027"}, "valid_until")])
def test_bad_data_is_refused_by_name(office, issued, bad, problem):
    from core import documents

    data = documents.licence(office, issued()["id"])
    lang = bad.pop("lang", "en")
    with pytest.raises(ValueError, match=problem):
        certificate_pdf({**data, **bad}, lang)


def test_a_spoiled_emblem_file_leaves_the_emblem_out(office, issued, tmp_path, caplog):
    lic = issued()
    spoiled = tmp_path / "emblem.png"
    spoiled.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really")  # passed the check, then broke
    office.settings.licence.emblem = str(spoiled)
    pdf = licence_pdf(office, lic["number"], "en")
    assert image_objects(pdf) == 0 and "emblem" in caplog.text
    assert [d.text for d in DecoderChain(formats="qr").decode(raster(pdf))] == \
        [lic["signed_payload"]]


def test_the_cli_writes_the_pdf(office, issued, settings, tmp_path):
    lic = issued()
    out = tmp_path / "out" / "licence.pdf"
    out.parent.mkdir()
    runner = CliRunner()
    env = {"NAFITHA_DATA": None, "NAFITHA_CONFIG": None}
    result = runner.invoke(cli, ["--data", str(settings.data_dir), "licence", "pdf",
                                 lic["number"], "--out", str(out), "--lang", "en", "--json"],
                           env=env)
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert said["out"] == str(out) and said["bytes"] == out.stat().st_size
    assert out.read_bytes() == licence_pdf(office, lic["number"], "en")
    assert [p.name for p in out.parent.iterdir()] == ["licence.pdf"]  # no partial left

    missing = tmp_path / "out" / "none.pdf"
    result = runner.invoke(cli, ["--data", str(settings.data_dir), "licence", "pdf",
                                 "MUH-2026-D01-999999", "--out", str(missing)], env=env)
    assert result.exit_code == 1 and "no licence" in result.stderr
    assert not missing.exists()
    result = runner.invoke(cli, ["--data", str(settings.data_dir), "licence", "pdf",
                                 lic["number"], "--out", str(missing), "--lang", "fr"], env=env)
    assert result.exit_code == 2 and not missing.exists()
