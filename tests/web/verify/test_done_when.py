"""Issue 21's "done when", against the real central (not a test server): a phone-size
Chromium loads central's /verify page once; with the network cut, it reads a licence an
enrolled office really issued and printed (its raster, photographed, as the fake camera) and
says genuine; central revokes the licence; reconnected, the same licence is refused with
"revoked" — by central's new trust list, with the network cut again."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench_loader import load_bench  # noqa: E402
from central_servers import ServerThread  # noqa: E402
from page_fixtures import camera, wait_offline_ready  # noqa: E402

from core.verify_words import words  # noqa: E402

WORDS = words()["ar"]
FORM = {"full_name": "فاطمة عبدالله الحداد", "phone": "33334444", "block": "204",
        "road": "15", "building": "12", "national_id": "850101239"}


@pytest.fixture
def world(tmp_path):
    """Central served over HTTP, and an office of MUH enrolled with it, issuing for real."""
    from central.app import create_app
    from central.service import Central
    from core.clock import SystemClock
    from core.office import Office
    from core.settings import load_settings
    from sync.agent import enrol
    central, _ = Central.init_root(tmp_path / "central")
    server = ServerThread(create_app(central)).start()
    settings = load_settings(tmp_path / "office", environ={
        "NAFITHA_OFFICE__CODE": "MUH", "NAFITHA_DEVICE__ID": "D01"})
    enrol(settings, server.url, central.enrol_code("MUH", role="hub")["code"])
    office = Office.open(settings, clock=SystemClock())
    yield central, server, office
    office.close()
    server.stop()


def issued(office) -> dict:
    app = office.applications.submit("residence-certificate", FORM)
    office.users.create("sara", "clerk", "1234")
    office.payments.open_shift("sara", 20_000)
    office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    return office.licences.issue(app["id"])


def test_a_phone_offline_says_genuine_then_revoked_after_central_revokes(world, tmp_path):
    from playwright.sync_api import sync_playwright
    from sync.agent import SyncAgent
    central, server, office = world
    vw = load_bench("verify_web")
    licence = issued(office)
    SyncAgent(office, url=server.url).once()  # central knows the licence
    assert central.licence_status(licence["number"])["status"] == "valid"

    # The fake camera films the licence as the office's printer printed it.
    raster = vw.licence_raster(licence["signed_payload"], licence["number"])
    video = vw.write_y4m(tmp_path / "licence.y4m",
                         [vw.photograph(raster, seed=s) for s in range(6)])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=vw.CHROMIUM, headless=True, args=[
            *vw.ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        context = browser.new_context(viewport={"width": 390, "height": 844},
                                      service_workers="allow")
        page = context.new_page()
        page.goto(f"{server.url}/verify/")
        page.wait_for_selector("body[data-ready=true]")
        first_version = page.get_attribute("#list", "data-version")
        wait_offline_ready(page)

        # The network cut: genuine, "as of the list of DATE".
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        offline = camera(page)
        assert (offline["code"], offline["ok"]) == ("valid", "true")
        assert offline["headline"] == WORDS["verify.genuine"]
        assert licence["number"] in offline["facts"]
        page.wait_for_selector("#status[data-status=offline]")

        # Central revokes it; reconnected, the page takes central's newer list...
        central.revoke_licence(licence["number"], "issued in error")
        context.set_offline(False)
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        assert int(page.get_attribute("#list", "data-version")) > int(first_version)
        page.click("#camera")
        page.wait_for_selector("#verdict[data-code=revoked]", timeout=30000)

        # ...and with the network cut again, the list alone refuses the same licence.
        wait_offline_ready(page)
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        again = camera(page)
        assert (again["code"], again["ok"]) == ("revoked", "false")
        assert again["headline"] == WORDS["verify.not_genuine"]
        assert again["reason"] == WORDS["reason.revoked"]
        browser.close()
