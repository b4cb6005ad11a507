"""Issue 19's "done when", in Chromium and in Arabic: an officer approves a building permit
applied for at a field office that was offline; the office comes back online, applies the
decision, and its counter issues the licence; the offices page shows the office's backlog
drain to zero. Then the licence, revoked in the console, is refused at the office.

Everything is real but the network's failure: the office is a core Office enrolled over HTTP
with its own keys, its sync agent pushes and pulls through central's API, and the console is
served by the same central (tests/central/console/conftest.py)."""
from __future__ import annotations

import pytest

from core.faces.counter import CounterFace
from sync.agent import SyncAgent

from central.documents import Documents
from central_offices import PERMIT, attach_required, nid
from ops_devices import Devices

CONDITIONS = "العمل من ٧ صباحًا حتى ٥ مساءً"


@pytest.fixture
def devices(site, tmp_path):
    made = Devices(site, tmp_path)
    yield made
    made.close()


def backlog(page, device: str) -> str:
    return page.locator(f'tr[data-device="{device}"] td.backlog').inner_text().strip()


def test_an_officer_approves_a_permit_from_an_offline_field_office(site, page, sign_in,
                                                                   devices):
    site.municipality("NTH", offices=("FLD",))
    officer = site.person("mariam", "officer", municipality="NTH", two_step=True,
                          full_name="مريم أحمد")
    field = devices.add("FLD", "D01", batch_size=5)
    field.users.create("sara", "clerk", "1234")
    field.payments.open_shift("sara", 20_000)

    # A morning with no network: a building permit applied for and paid, thirty tickets.
    permit = field.applications.submit("building-permit-small", {
        **PERMIT, "full_name": "أحمد محمد الحسن", "national_id": nid(7)})
    field.payments.take(permit["id"], "cash", "sara", tendered_minor=20_000)
    attach_required(field, permit["id"])  # the title deed and the drawing, captured
    for _ in range(30):
        field.queue.take_ticket("residence-certificate")
    site.clock.advance(hours=3)

    # The link comes back for a moment: batches get through until the permit and its
    # pages' events are at central, the pages go up, then it drops again.
    for _ in range(4):
        devices.push_one_batch(field)
        if len(Documents(site.central).pages(permit["id"])) == 2:
            break
    assert site.central.counts()["applications"] == 1
    assert SyncAgent(field).uploader.upload_all()["uploaded"] == 2
    left = field.store.one("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")["n"]
    assert left > 20

    sign_in(page, officer.username, secret=officer.secret)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"

    page.goto(f"{site.url}/console/offices")
    assert backlog(page, "FLD/D01").split()[0] == str(left)

    page.goto(f"{site.url}/console/applications")
    page.get_by_role("link", name=permit["number"]).click()
    page.fill("#conditions", CONDITIONS)
    page.locator("#approve button[type=submit]").click()
    page.wait_for_url(f"**/console/applications/{permit['number']}*")
    assert "بانتظار مزامنة المكتب" in page.locator("main").inner_text()  # waiting for it
    assert field.applications.get(permit["id"])["state"] == "paid"  # not at the office yet

    # Back online for good: everything pushed, the decision pulled; the counter issues.
    result = SyncAgent(field).once()
    # Only the office's own approval (made by that pull) is left to send.
    assert result["pulled"]["decisions"] == 1 and result["status"]["pending"] == 1
    local = field.applications.get(permit["id"])
    assert local["state"] == "approved" and local["conditions"] == CONDITIONS
    desk = CounterFace(field, "1")
    desk.sign_in("sara", "1234")
    licence = desk.issue_licence("sara", permit["id"], "ar")
    assert field.verify_licence(licence["signed_payload"]).valid
    assert SyncAgent(field).once()["status"]["pending"] == 0

    page.goto(f"{site.url}/console/offices")
    assert backlog(page, "FLD/D01").split()[0] == "0"
    page.goto(f"{site.url}/console/applications/{permit['number']}")
    text = page.locator("main").inner_text()
    assert licence["number"] in text  # the licence the counter issued, as central holds it
    assert "وصل القرار إلى المكتب في" in text and "بانتظار مزامنة المكتب" not in text

    # Revoked in the console: after its next pull the office refuses the licence.
    page.goto(f"{site.url}/console/licences/{licence['number']}")
    page.fill("#reason", "صدرت على عقد مزوّر")
    page.locator("#revoke button[type=submit]").click()
    page.wait_for_load_state()
    assert site.central.licence_status(licence["number"])["status"] == "revoked"
    assert SyncAgent(field).once()["pulled"]["revocation_list"] is not None
    verdict = field.verify_licence(licence["signed_payload"])
    assert not verdict.valid and verdict.reason == "revoked"
