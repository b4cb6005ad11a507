"""The monthly open data (central/open_data.py) from real offices' November:

- MUH (municipality NORTH) serves 8 residence-certificate tickets (5 served, 2 no-shows, 1
  cancelled) and issues one certificate; RIF (SOUTH) serves 2 tickets. Threshold 5.
- The export passes its own dictionary's checks; read back with the csv module and as JSON
  it says what was done, small counts blank and flagged (and the statistics of small groups);
  no clerk, counter, ticket or application id, name or national id anywhere in the files.
- A broken export is refused by check_export: a small count not suppressed, a statistic of a
  small group, one outcome alone suppressed, an extra column, a file too many, a package whose
  hash no longer matches.
- Municipal staff get only their municipality's offices; a month not over or not a month is
  refused; the threshold's setting is checked."""
from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from central import open_data
from central.open_data import (CSV_FILE, JSON_FILE, PACKAGE_FILE, SCHEMA_FILE, check_export,
                               export)
from central.service import CentralError
from central.staff import Staff
from sync.agent import SyncAgent

from central_offices import FORM, nid
from test_central_kpi_facts import World

SERVICE = "residence-certificate"


def november(world: World) -> dict:
    north = world.office("MUH", "D01", "Asia/Bahrain", seed=1)
    south = world.office("RIF", "K01", "Asia/Bahrain", seed=2)
    staff = Staff(world.central)
    for code, office in (("NORTH", "MUH"), ("SOUTH", "RIF")):
        staff.add_municipality("test", code, f"بلدية {code}", f"{code} municipality")
        staff.assign_office("test", office, code)
    ids = []
    for n in range(8):
        ticket = north.queue.take_ticket(SERVICE)
        ids.append(ticket["id"])
        world.clock.advance(minutes=2 + n)
        if n == 7:
            north.queue.cancel(ticket["id"])
            continue
        north.queue.call_next("1")
        if n in (5, 6):
            north.queue.no_show(ticket["id"])
            continue
        north.queue.start_serving(ticket["id"])
        world.clock.advance(minutes=3)
        north.queue.finish(ticket["id"])
    for _ in range(2):
        ticket = south.queue.take_ticket(SERVICE)
        ids.append(ticket["id"])
        world.clock.advance(minutes=1)
        south.queue.call_next("1")
        south.queue.finish(ticket["id"])
    app = north.applications.submit(SERVICE, {**FORM, "full_name": "فاطمة علي",
                                              "national_id": nid(3)})
    north.payments.open_shift("sara", 20_000)
    north.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    north.licences.issue(app["id"])
    for office in (north, south):
        assert SyncAgent(office).once()["status"]["pending"] == 0
    world.clock.advance(hours=24 * 30)  # into December: November is over
    return {"tickets": ids, "application": app, "national_id": nid(3)}


@pytest.fixture
def done(tmp_path):
    world = World(tmp_path)  # 24 November
    made = november(world)
    yield world, made
    world.close()


def rows_of(files: dict) -> list[dict]:
    return list(csv.DictReader(io.StringIO(files[CSV_FILE].decode("utf-8"))))


def rewritten(files: dict, rows: list[dict], header: list[str] | None = None) -> dict:
    """The files with the CSV replaced by `rows` (and the package's hash made to match, so
    only the change itself is judged)."""
    header = header or list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    changed = {**files, CSV_FILE: out.getvalue().encode()}
    package = json.loads(files[PACKAGE_FILE])
    for resource in package["resources"]:
        body = changed[resource["url"]]
        resource.update(size=len(body), hash="sha256:" + hashlib.sha256(body).hexdigest())
    changed[PACKAGE_FILE] = json.dumps(package).encode()
    return changed


def test_the_export_passes_its_own_dictionary_and_says_what_was_done(done):
    world, made = done
    files = export(world.central, "2026-11")
    assert set(files) == {CSV_FILE, JSON_FILE, SCHEMA_FILE, PACKAGE_FILE}
    assert check_export(files) == []
    rows = rows_of(files)
    assert [(r["office"], r["municipality"], r["service"]) for r in rows] == \
        [("MUH", "NORTH", SERVICE), ("RIF", "SOUTH", SERVICE)]
    muh, rif = rows
    assert (muh["tickets"], muh["served"], muh["no_show"], muh["cancelled"],
            muh["left_unserved"], muh["called"]) == ("8", "5", "", "", "0", "7")
    # Waits of the 7 called: 2,3,...,8 minutes after taking (the queue was empty each time).
    assert (muh["wait_median_s"], muh["wait_p90_s"], muh["wait_mean_s"]) == ("300", "480", "300.0")
    assert muh["service_median_s"] == "180" and muh["service_mean_s"] == "180.0"
    assert muh["applications_submitted"] == "" and muh["licences_issued"] == ""
    assert muh["suppressed"].split() == ["no_show", "cancelled", "applications_submitted",
                                         "licences_issued"]
    assert muh["service_name_ar"] == "شهادة إثبات سكن"
    # RIF's two tickets: every count below 5 and every statistic of them blank.
    assert all(rif[c] == "" for c in ("tickets", "served", "called", "wait_mean_s",
                                      "wait_median_s", "service_mean_s", "within_target"))
    assert set(rif["suppressed"].split()) >= {"tickets", "served", "called", "wait_mean_s"}
    records = json.loads(files[JSON_FILE])["records"]
    assert records[0]["tickets"] == 8 and records[0]["no_show"] is None
    # Nothing that leads to a person: no ticket or application id, clerk, counter, name, ID.
    everything = b"".join(files.values()).decode("utf-8")
    for secret in [*made["tickets"], made["application"]["id"],
                   made["application"]["number"], made["national_id"], "sara", "فاطمة"]:
        assert secret not in everything
    header = files[CSV_FILE].decode().splitlines()[0].split(",")
    assert not {"clerk", "counter", "ticket_id", "national_id"} & set(header)
    schema = json.loads(files[SCHEMA_FILE])
    assert [f["name"] for f in schema["fields"]] == header
    assert schema["suppression"]["threshold"] == 5
    package = json.loads(files[PACKAGE_FILE])
    assert package["name"] == "nafitha-service-centres-national-2026-11"
    assert [r["url"] for r in package["resources"]] == [CSV_FILE, JSON_FILE, SCHEMA_FILE]
    assert {"key": "suppression_threshold", "value": "5"} in package["extras"]


def test_a_broken_export_is_refused_by_its_dictionary(done):
    world, _ = done
    files = export(world.central, "2026-11")
    rows = rows_of(files)
    # A small count put back, its flag removed.
    small = [dict(rows[0], no_show="2", cancelled="1",
                  suppressed="applications_submitted licences_issued"), rows[1]]
    assert any("no_show = 2 is below the threshold" in p
               for p in check_export(rewritten(files, small)))
    # A statistic of a group of 2.
    stat = [rows[0], dict(rows[1], wait_median_s="60",
                          suppressed=rows[1]["suppressed"].replace("wait_median_s", ""))]
    assert any("wait_median_s describes a group" in p for p in check_export(rewritten(
        files, stat)))
    # One outcome alone blank: it equals tickets minus the others.
    alone = [dict(rows[0], cancelled="1", suppressed="no_show applications_submitted "
                                                     "licences_issued"), rows[1]]
    problems = check_export(rewritten(files, alone))
    assert any("no_show alone is suppressed" in p for p in problems)
    # A column outside the dictionary (a clerk's name).
    extra = [dict(r, clerk="sara") for r in rows]
    assert any("columns not in the dictionary: clerk" in p
               for p in check_export(rewritten(files, extra, [*rows[0], "clerk"])))
    # A file that is not part of the dataset, and a CSV changed behind the package's back.
    assert "not in the dataset tickets.csv" in check_export({**files, "tickets.csv": b"x"})[0]
    tampered = {**files, CSV_FILE: files[CSV_FILE].replace(b"MUH", b"MUX", 1)}
    assert any("size or hash differs" in p or "not the CSV's rows" in p
               for p in check_export(tampered))
    assert check_export(files) == []


def test_scope_bad_months_and_the_threshold_setting(done):
    world, _ = done
    north = open_data.export(world.central, "2026-11", person_municipality="NORTH")
    assert [r["office"] for r in rows_of(north)] == ["MUH"]
    assert json.loads(north[PACKAGE_FILE])["name"] == "nafitha-service-centres-north-2026-11"
    for month, code in (("2026-13", "not_a_month"), ("11/2026", "not_a_month"),
                        ("2026-12", "future_month"), ("2027-01", "future_month")):
        with pytest.raises(CentralError) as refused:
            export(world.central, month)
        assert refused.value.code == code and refused.value.status == 422
    assert open_data.min_count({}) == 5
    assert open_data.min_count({"NAFITHA_OPEN_DATA_MIN_COUNT": "10"}) == 10
    for bad in ("2", "101", "five"):
        with pytest.raises(CentralError):
            open_data.min_count({"NAFITHA_OPEN_DATA_MIN_COUNT": bad})
    # A higher threshold blanks MUH's 5 served and the statistics over them too.
    strict = rows_of(export(world.central, "2026-11", threshold=6))[0]
    assert strict["served"] == "" and strict["service_mean_s"] == ""
    assert check_export(export(world.central, "2026-11", threshold=6)) == []


def test_the_cli_writes_the_files_and_sets_an_office_zone(done, tmp_path):
    from click.testing import CliRunner

    from nafitha.cli import cli
    world, _ = done
    home = str(world.central.home)
    out = tmp_path / "open-data"
    wrote = CliRunner().invoke(cli, ["central", "--home", home, "open-data", "2026-11",
                                     "--out", str(out), "--municipality", "SOUTH"])
    assert wrote.exit_code == 0, wrote.output
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    assert check_export(files) == []
    assert [r["office"] for r in rows_of(files)] == ["RIF"]
    refused = CliRunner().invoke(cli, ["central", "--home", home, "open-data", "2026-13",
                                       "--out", str(tmp_path / "no")])
    assert refused.exit_code == 1 and "month: YYYY-MM" in refused.output
    assert not (tmp_path / "no").exists()
    zoned = CliRunner().invoke(cli, ["central", "--home", home, "office", "timezone", "RIF",
                                     "Asia/Kolkata", "--json"])
    assert zoned.exit_code == 0, zoned.output
    assert json.loads(zoned.output)["timezone"] == "Asia/Kolkata"
    bad = CliRunner().invoke(cli, ["central", "--home", home, "office", "timezone", "RIF",
                                   "Mars/Base"])
    assert bad.exit_code == 1 and "IANA time zone" in bad.output
