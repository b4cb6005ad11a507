"""The ticket slip's follow QR (core/follow.py, docs/phone.md): printed only when the office
has a hub.public_url, as a code a phone reads at 4+ dots per module on 58 and 80 mm paper,
with "Follow your turn on your phone" in both languages; the counter's ticket code stays."""
from __future__ import annotations

import pytest
import zxingcpp

from core import codes, documents
from devices.printing import layouts, render as r


def qr_codes(image) -> list:
    return zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)


def captions(data: dict, lang: str) -> list[str]:
    return [line for b in layouts.build("ticket", data, lang) if isinstance(b, layouts.QR)
            for line in b.caption]


def test_no_public_address_no_follow_code(office):
    t = office.queue.take_ticket("residence-certificate")
    data = documents.build(office, "ticket", t["id"])
    assert data["follow_url"] is None
    assert [b.text for b in layouts.build("ticket", data, "ar")
            if isinstance(b, layouts.QR)] == [data["qr_text"]]
    assert captions(data, "en") == ["Scan to follow your turn"]


@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_follow_code_prints_and_reads(office, lang, width):
    office.settings.hub.public_url = "http://192.168.100.200:8471"
    t = office.queue.take_ticket("residence-certificate")
    data = documents.build(office, "ticket", t["id"])
    url = data["follow_url"]
    assert url == f"http://192.168.100.200:8471/q/{office.follow.token(t['id'])}"
    assert office.follow.ticket_of(url.rsplit("/", 1)[1]) == t["id"]
    other = "en" if lang == "ar" else "ar"
    assert captions(data, lang) == [layouts.label("ticket_follow", lang),
                                    layouts.label("ticket_follow", other),
                                    layouts.label("ticket_code", lang)]
    assert "Follow your turn on your phone" in captions(data, lang)
    assert "تابع دورك على هاتفك" in captions(data, lang)
    image = r.render("ticket", data, lang, width)
    found = {b.text: b for b in qr_codes(image)}
    assert set(found) == {url, data["qr_text"]}
    assert codes.parse(data["qr_text"])[0] == "ticket"
    # 4+ dots per module: the follow code's width over its module count.
    code = found[url]
    xs = [p.x for p in (code.position.top_left, code.position.top_right)]
    modules = len(r.qr_matrix(url, width))
    assert (max(xs) - min(xs) + 1) / modules >= 3.9
