"""Importing a file from a USB stick: images and PDFs become pages; every bad file is refused
with its own reason before anything is rendered, and the file and its folder are left as
they were. The test files are made here (Pillow, pypdf)."""
import hashlib
import io
import os

import cv2
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (ArrayObject, DictionaryObject, NameObject, NumberObject,
                           TextStringObject)

from core.errors import DeviceError
from devices.documents import imports
from devices.documents.cleanup import MAX_TEXT_PAGE_BYTES
from devices.documents.imports import (MAX_IMPORT_BYTES, MAX_IMPORT_PAGES, ImportRefused,
                                       import_file, import_frames, sniff)
from devices.scanning.decoders import DecoderChain
from synthetic_pages import a4_page

QR_TEXT = "NFA:MUH:MUH-D01-A2026-000042"
ZXING = DecoderChain(("zxing",), formats="qr")


@pytest.fixture(scope="module")
def page_rgb():
    return Image.fromarray(cv2.cvtColor(a4_page(QR_TEXT), cv2.COLOR_BGR2RGB))


def snapshot(folder):
    """Every file under folder with its SHA-256: proof that a refusal changed nothing."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.stat().st_size < 10_000_000 else p.stat().st_size
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(path, reason):
    before = snapshot(path.parent)
    with pytest.raises(ImportRefused) as caught:
        import_file(path)
    assert caught.value.reason == reason, caught.value.message
    assert caught.value.code == "document_import_refused"
    assert isinstance(caught.value, DeviceError)
    assert caught.value.to_dict()["reason"] == reason
    assert snapshot(path.parent) == before  # nothing written, nothing changed
    return caught.value


def pdf_bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def decoded(data: bytes) -> list[str]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return [d.text for d in ZXING.decode(image)]


# --- what is imported ---------------------------------------------------------------------

def test_a_jpeg_scan_becomes_one_legible_text_page(tmp_path, page_rgb):
    path = tmp_path / "deed.JPG"
    page_rgb.save(path, "JPEG", quality=85)
    pages = import_file(path)
    assert len(pages) == 1
    data, media_type = pages[0]
    assert media_type == "image/png" and len(data) <= MAX_TEXT_PAGE_BYTES
    assert decoded(data) == [QR_TEXT]


def test_a_pdf_is_rendered_page_by_page(tmp_path, page_rgb):
    photo = Image.fromarray(cv2.cvtColor(a4_page(photo=True), cv2.COLOR_BGR2RGB))
    path = tmp_path / "drawings.pdf"
    page_rgb.save(path, "PDF", resolution=150, save_all=True, append_images=[photo, page_rgb])
    frames = import_frames(path)
    assert len(frames) == 3
    assert all(f.shape[2] == 3 and f.shape[0] > f.shape[1] for f in frames)
    pages = import_file(path)
    assert [media for _, media in pages] == ["image/png", "image/jpeg", "image/png"]
    assert decoded(pages[0][0]) == [QR_TEXT] and decoded(pages[2][0]) == [QR_TEXT]


def test_every_frame_of_a_tiff_is_a_page_and_png_and_webp_are_read(tmp_path, page_rgb):
    tiff = tmp_path / "two.tiff"
    page_rgb.save(tiff, "TIFF", save_all=True, append_images=[page_rgb])
    assert len(import_file(tiff)) == 2
    for name, fmt in (("page.png", "PNG"), ("page.webp", "WEBP")):
        page_rgb.save(tmp_path / name, fmt)
        [(data, _)] = import_file(tmp_path / name)
        assert decoded(data) == [QR_TEXT]


def test_a_pdf_with_only_an_owner_password_opens(tmp_path):
    """Restrictions without a password to open (common on bank letters) are no reason to
    refuse: only a PDF that needs a password to be read is."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-128")
    path = tmp_path / "restricted.pdf"
    path.write_bytes(pdf_bytes(writer))
    assert len(import_file(path)) == 1


def test_sniff_names_what_the_bytes_are():
    assert sniff(b"\xff\xd8\xff\xe0....") == "jpeg"
    assert sniff(b"%PDF-1.7\n") == "pdf"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(b"PK\x03\x04rest") == "zip"
    assert sniff(os.urandom(0) + b"\x13\x37 random") is None


# --- bad input: one test each --------------------------------------------------------------

def test_an_image_that_is_not_an_image_is_refused(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(np.random.default_rng(1).bytes(50_000))
    error = refused(path, "not_an_image")
    assert "photo.jpg" in error.message and "not an image" in error.message


def test_a_pdf_of_300_pages_is_refused(tmp_path):
    writer = PdfWriter()
    for _ in range(300):
        writer.add_blank_page(595, 842)
    path = tmp_path / "archive.pdf"
    path.write_bytes(pdf_bytes(writer))
    error = refused(path, "too_many_pages")
    assert error.details["pages"] == 300 and error.details["max_pages"] == MAX_IMPORT_PAGES
    assert "300 pages" in error.message


def test_a_pdf_that_runs_javascript_when_opened_is_refused(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_open_action(JavaScript("app.alert('hello');"))
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf_bytes(writer))
    error = refused(path, "pdf_javascript")
    assert "JavaScript" in error.message


def test_a_pdf_with_javascript_behind_a_link_is_refused(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.launchURL('x');")})
    link = DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                             NameObject("/Subtype"): NameObject("/Link"),
                             NameObject("/Rect"): ArrayObject([NumberObject(v) for v in
                                                               (10, 10, 200, 40)]),
                             NameObject("/A"): action})
    writer.add_annotation(page_number=0, annotation=link)
    path = tmp_path / "linked.pdf"
    path.write_bytes(pdf_bytes(writer))
    refused(path, "pdf_javascript")


def test_a_pdf_with_a_password_is_refused(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="secret", owner_password="secret", algorithm="AES-128")
    path = tmp_path / "locked.pdf"
    path.write_bytes(pdf_bytes(writer))
    error = refused(path, "pdf_password")
    assert "password" in error.message


def test_a_200_mb_file_is_refused_by_its_size_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "scan.pdf"
    with open(path, "wb") as f:  # sparse: 200 MiB on paper, nothing on the disk
        f.write(b"%PDF-1.7\n")
        f.truncate(200 * 1024 * 1024)
    assert path.stat().st_size > MAX_IMPORT_BYTES

    def read_whole(_path):
        raise AssertionError("the file was read before its size was checked")

    monkeypatch.setattr(imports, "read_file", read_whole)
    error = refused(path, "too_large")
    assert error.details == {"reason": "too_large", "bytes": 200 * 1024 * 1024,
                             "max_bytes": MAX_IMPORT_BYTES}
    assert "MB" in error.message


def test_a_jpg_that_is_really_a_pdf_is_refused_saying_what_it_is(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    path = tmp_path / "deed.jpg"
    path.write_bytes(pdf_bytes(writer))
    error = refused(path, "extension_lies")
    assert (error.details["claimed"], error.details["actual"]) == ("jpeg", "pdf")
    assert "really PDF" in error.message


def test_a_pdf_that_is_really_a_png_is_refused_saying_what_it_is(tmp_path, page_rgb):
    path = tmp_path / "deed.pdf"
    page_rgb.save(path, "PNG")
    error = refused(path, "extension_lies")
    assert (error.details["claimed"], error.details["actual"]) == ("pdf", "png")
    assert "really PNG" in error.message


def test_a_file_we_do_not_import_is_refused_by_its_name(tmp_path):
    path = tmp_path / "letter.docx"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    error = refused(path, "unsupported_type")
    assert error.details["actual"] == "zip"


def test_a_pdf_that_starts_right_but_is_broken_is_damaged_not_a_crash(tmp_path):
    path = tmp_path / "cut.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog" + bytes(200))
    refused(path, "damaged")


def test_a_picture_too_small_to_be_a_page_is_refused(tmp_path):
    path = tmp_path / "icon.png"
    Image.new("RGB", (2000, 20), (255, 255, 255)).save(path, "PNG")
    error = refused(path, "page_too_small")
    assert (error.details["width"], error.details["height"]) == (2000, 20)
