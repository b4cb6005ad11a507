"""The verifier page (assets/verify/) in Chromium: the fake camera reads our printed licence,
again with the network cut, a revocation after reconnecting; bad inputs; trust lists refused;
plain HTTP; the words; no inline script."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from page_fixtures import *  # noqa: F403,E402  (the fixtures: vw, licence, browser, site, page)
from page_fixtures import DAY, camera, shown, until, wait_offline_ready  # noqa: E402,F401

from core.verify_words import words  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "assets" / "verify"
WORDS = words()
HELD = "nafitha.verify.trust"


def held(page):
    return page.evaluate(f"localStorage.getItem({HELD!r})")


def list_state(page) -> dict:
    return page.evaluate("""() => ({version: document.getElementById('list').dataset.version,
        text: document.getElementById('list').textContent,
        note: document.getElementById('list-note').dataset.code})""")


def paste(page, text: str) -> dict:
    page.fill("#paste", text)
    page.click("#check")
    return shown(page)


# ---- the camera, online, offline, and after a revocation ---------------------------------

def test_the_fake_camera_reads_the_printed_licence_online_offline_then_revoked(
        page, site, licence, vw, now):
    number = licence[1]
    site.statuses[number] = {"status": "valid", "revoked_at": None,
                             "as_of": "2026-12-01T00:00:00+00:00"}
    first = camera(page)
    assert (first["code"], first["ok"]) == ("valid", "true")
    assert first["headline"] == WORDS["ar"]["verify.genuine"]
    assert first["reason"] == WORDS["ar"]["reason.valid"]
    assert "فاطمة عبدالله الحداد" in first["facts"] and number in first["facts"]
    page.wait_for_selector("#status[data-status=valid]")
    assert f"/verify/status/{number}" in site.requests

    # the network cut: the page, the decoder, nf1.js and the list come from the worker
    wait_offline_ready(page)
    page.context.set_offline(True)
    asked = len(site.requests)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert list_state(page)["note"] == "verify_page.list_offline"
    offline = camera(page)
    assert (offline["code"], offline["ok"]) == ("valid", "true")
    page.wait_for_selector("#status[data-status=offline]")
    date = page.evaluate("new Intl.DateTimeFormat('ar-u-nu-latn', {year: 'numeric', "
                         "month: 'long', day: 'numeric'})"
                         f".format(new Date({(now - DAY) * 1000}))")
    assert page.text_content("#status") == WORDS["ar"]["verify_page.as_of"].format(date=date)
    assert len(site.requests) == asked  # nothing reached the server

    # central revokes it; reconnected, the same licence is refused: live, and by the new list
    page.context.set_offline(False)
    site.statuses[number] = {"status": "revoked", "revoked_at": "2026-12-02T09:00:00+00:00",
                             "as_of": "2026-12-02T09:00:00+00:00"}
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.click("#camera")
    page.wait_for_selector("#verdict[data-code=revoked]", timeout=30000)
    live = shown(page)
    assert live["ok"] == "false" and live["headline"] == WORDS["ar"]["verify.not_genuine"]
    assert live["reason"] == WORDS["ar"]["reason.revoked"] and live["status"] == "revoked"

    site.envelope = vw.trust_envelope(3, now, revoked=(number,))
    page.context.set_offline(False)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert list_state(page)["version"] == "3"
    page.context.set_offline(True)  # the list alone now says revoked, with no status asked
    by_list = camera(page)
    assert (by_list["code"], by_list["ok"]) == ("revoked", "false")


# ---- bad input: each gets its words, escaped, and changes nothing -----------------------

BAD = {
    "ticket": "NFT:MUH:01M8693800V3RS3DTR98H6BCFN",
    "url": "https://evil.example/<img src=x onerror=alert(1)>",
    "wifi": "WIFI:S:Office<b>x</b>;T:WPA;P:secret;;",
    "binary": "\x00\x01\x02\xff\xfe<script>alert(1)</script>\x7f",
    "bidi": "NF1:\u202eGNINEG\u202c6BFOXN",
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_code_that_is_not_a_licence_gets_the_words_for_what_it_is(page, site, kind):
    before = held(page)
    got = paste(page, BAD[kind])
    assert got["code"] in ("malformed", "unsupported_version") and got["ok"] == "false"
    assert got["headline"] == WORDS["ar"]["verify.not_genuine"]
    assert got["reason"] == WORDS["ar"]["verify.not_licence"]
    assert (got["kind"], got["kind_text"]) == (kind, WORDS["ar"][f"verify_page.kind_{kind}"])
    assert got["facts"] == [] and got["status"] == ""
    assert "<img" not in got["html"] and "<script" not in got["html"] and "<b>" not in got["html"]
    assert page.evaluate("document.querySelectorAll('img, script:not([src]), b').length") == 0
    assert held(page) == before
    assert not [r for r in site.requests if "/status/" in r]  # no status was asked


def test_a_binary_qr_in_a_photo_is_read_and_named(page, tmp_path):
    import segno
    png = tmp_path / "binary.png"
    segno.make(bytes(range(0, 256, 7)), mode="byte", error="m").save(str(png), scale=8)
    page.set_input_files("#photo", str(png))
    got = shown(page)
    assert got["ok"] == "false" and got["kind"] == "binary"


def test_a_photo_without_a_code_says_so_and_shows_no_verdict(page, tmp_path, vw):
    import cv2
    import numpy as np
    png = tmp_path / "blank.png"
    cv2.imwrite(str(png), np.full((300, 400, 3), 200, np.uint8))
    page.set_input_files("#photo", str(png))
    words_json = __import__("json").dumps(WORDS["ar"]["verify_page.no_code_in_photo"])
    until(page, f"document.getElementById('photo-note').textContent === {words_json}")
    assert page.is_hidden("#verdict")


def test_a_forged_licence_is_not_genuine_with_its_reason(page, licence, vw):
    got = paste(page, vw.flipped_signature(licence[0]))
    assert (got["code"], got["ok"]) == ("bad_signature", "false")
    assert got["headline"] == WORDS["ar"]["verify.not_genuine"]
    assert got["reason"] == WORDS["ar"]["reason.bad_signature"] and got["kind"] == ""


def test_a_pasted_code_with_its_line_end_is_genuine_and_english_says_so(page, licence):
    text, number = licence
    page.click("#lang")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == \
        ["en", "ltr"]
    got = paste(page, text + "\n")
    assert got["code"] == "valid" and got["headline"] == WORDS["en"]["verify.genuine"]
    assert got["facts"][2] == number


# ---- trust lists refused: the held one is kept -----------------------------------------

def test_a_trust_list_with_a_bad_signature_is_refused_and_the_held_one_kept(
        page, site, vw, now, licence):
    before = held(page)
    assert list_state(page)["version"] == "2"
    forged = vw.trust_envelope(3, now, revoked=(licence[1],))
    other = vw.trust_envelope(3, now, revoked=(licence[1],), signer=vw.vb.OTHER_ROOT)
    site.envelope = {**forged, "signature": other["signature"]}  # the root's kid, wrong bytes
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    state = list_state(page)
    assert (state["version"], state["note"]) == ("2", "verify_page.list_bad_signature")
    assert page.text_content("#list-note") == WORDS["ar"]["verify_page.list_bad_signature"]
    assert held(page) == before
    assert paste(page, licence[0])["code"] == "valid"  # the forged list's revocation unused


def test_an_older_trust_list_is_refused_and_the_held_one_kept(page, site, vw, now):
    before = held(page)
    site.envelope = vw.trust_envelope(1, now - 2 * DAY)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    state = list_state(page)
    assert (state["version"], state["note"]) == ("2", "verify_page.list_older")
    assert held(page) == before


def test_a_list_from_an_unknown_signer_is_refused(page, site, vw, now):
    before = held(page)
    site.envelope = vw.trust_envelope(5, now, signer=vw.vb.OTHER_ROOT,
                                      roots=[vw.vb.OTHER_ROOT])
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    state = list_state(page)
    assert (state["version"], state["note"]) == ("2", "verify_page.list_unreadable")
    assert held(page) == before


# ---- plain HTTP on a LAN: no camera API; the page says what to do ------------------------

def test_plain_http_says_to_open_https_or_paste_and_paste_still_verifies(
        browser, site, licence):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"http://lan.test:{site.port}/verify/")
        page.wait_for_selector("body[data-ready=true]")
        assert page.evaluate("[window.isSecureContext, typeof navigator.mediaDevices]") == \
            [False, "undefined"]
        https = f"https://lan.test:{site.port}/verify/"
        assert page.text_content("#insecure") == \
            WORDS["ar"]["verify_page.insecure"].format(https=https)
        assert page.is_hidden("#camera") and page.is_visible("#paste")
        assert paste(page, licence[0])["code"] == "valid"  # no WebCrypto here: the JS fallback
    finally:
        context.close()


# ---- the page's own rules ----------------------------------------------------------------

def test_no_inline_script_and_output_only_through_text_content():
    html = (ASSETS / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=", html)
    assert "script-src 'self' 'wasm-unsafe-eval'" in html
    app = (ASSETS / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", app)
    assert "fastly.jsdelivr" not in app and "http://" not in app


def test_every_word_the_page_uses_exists_in_both_languages():
    html = (ASSETS / "index.html").read_text(encoding="utf-8")
    app = (ASSETS / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-w="([a-z_]+\.[a-z_]+)"', html))
    used |= set(re.findall(r'"((?:verify|verify_page|reason|common)\.[a-z_]+)"', app))
    used |= {f"verify_page.kind_{k}" for k in BAD}
    from core.credentials.licence import REASONS
    used |= {f"reason.{code}" for code in REASONS}
    assert len(used) > 40
    for lang in ("ar", "en"):
        assert sorted(used - set(WORDS[lang])) == []


def test_the_words_refuse_a_text_without_both_languages(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text('[common]\nlanguage = { ar = "English", en = "العربية" }\n'
                   '[verify]\ntitle = { ar = "تحقق" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="verify.title needs non-empty ar and en"):
        words(bad)
    assert words()["ar"]["verify.title"] == "التحقق من رخصة"  # the shipped file unaffected


def test_the_manifest_and_worker_make_it_installable():
    import json
    manifest = json.loads((ASSETS / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["start_url"] == "./" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert (ASSETS / icon["src"]).is_file()
    sw = (ASSETS / "sw.js").read_text(encoding="utf-8")
    for path in ("nf1.js", "words.json", "vendor/zxing-wasm/reader/zxing_reader.wasm"):
        assert f'"{path}"' in sw and (path == "words.json" or (ASSETS / path).is_file())
