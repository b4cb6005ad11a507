"""`nafitha payments reconcile` and `payments disputes`: a closed shift's card payments
against the terminal's batch report, from a file or from this device's terminal."""
import json

from test_cli import RESIDENT, as_json

TID = "T0000001"


def write(tmp_path, report, name="batch.json"):
    path = tmp_path / name
    path.write_text(json.dumps(report) if not isinstance(report, str) else report)
    return str(path)


def day(run):
    run("init")
    run("user", "add", "sara", env={"NAFITHA_NEW_PIN": "1234"})
    run("shift", "open", "--clerk", "sara")
    apps = [as_json(run("apply", "residence-certificate", *RESIDENT, "--json"))
            for _ in range(2)]
    for n, app in enumerate(apps, 1):
        run("pay", app["number"], "--method", "card", "--reference", f"{TID}-00000{n}-00000{n}",
            "--clerk", "sara")
    z = as_json(run("shift", "close", "--clerk", "sara", "--counted", "0", "--json"))
    assert z["card_check"] is None  # closed before its report came
    return apps, z


def test_reconcile_flags_and_disputes_list_them(run, tmp_path):
    apps, z = day(run)
    report = {"terminal_id": TID, "entries": [
        {"terminal_ref": f"{TID}-000001-000001", "amount_minor": 1000, "currency": "BHD"},
        {"terminal_ref": f"{TID}-000007-000007", "amount_minor": 500, "currency": "BHD"}]}
    file = write(tmp_path, report)
    result = as_json(run("payments", "reconcile", str(z["shift"]), "--report", file, "--json"))
    assert len(result["matched"]) == 1 and result["differences"] == 2
    assert result["missing_from_terminal"][0]["application_number"] == apps[1]["number"]
    human = run("payments", "reconcile", str(z["shift"]), "--report", file).stdout
    assert "FLAG missing from the terminal (unconfirmed)" in human   # again: same answer
    assert "FLAG missing from the office: T0000001-000007-000007" in human
    disputes = as_json(run("payments", "disputes", "--json"))
    assert [p["card_check"] for p in disputes["payments"]] == ["unconfirmed"]
    assert as_json(run("report", "z", str(z["shift"]), "--json"))["card_check"][
        "missing_from_terminal"] == [disputes["payments"][0]["receipt"]]
    # another report for the same shift: refused, one clear line
    other = write(tmp_path, {"terminal_id": TID, "entries": []}, "other.json")
    refused = run("payments", "reconcile", str(z["shift"]), "--report", other, expect=1)
    assert "already reconciled" in refused.stderr and "Traceback" not in refused.stderr


def test_bad_input_is_one_clear_line_and_changes_nothing(run, tmp_path):
    _, z = day(run)
    good = write(tmp_path, {"terminal_id": TID, "entries": []})
    for args, words in (
            (("424242", "--report", good), "no shift"),
            ((str(z["shift"]), "--report", write(tmp_path, "{not json", "bad.json")),
             "not JSON"),
            ((str(z["shift"]), "--report", write(tmp_path, {"terminal_id": TID}, "b2.json")),
             "malformed"),
            ((str(z["shift"]), "--from-terminal"), "no card terminal")):
        env = {"NAFITHA_PAYMENT__TRANSPORT": "none"}
        result = run("payments", "reconcile", *args, env=env, expect=1)
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, words
    assert "--report FILE or --from-terminal" in run("payments", "reconcile", "1",
                                                      expect=2).stderr
    assert as_json(run("payments", "disputes", "--json")) == {"payments": [],
                                                              "unrecorded_approvals": []}


def test_another_terminals_payment_is_counted_apart(run, tmp_path):
    """A clerk's shift with a payment of a second terminal: this terminal's report does not
    flag it; the disputes list it to check against that terminal's report."""
    day(run)
    run("shift", "open", "--clerk", "sara")
    other = as_json(run("apply", "residence-certificate", *RESIDENT, "--json"))
    run("pay", other["number"], "--method", "card", "--reference", "T0000002-000001-000001",
        "--clerk", "sara")
    z = as_json(run("shift", "close", "--clerk", "sara", "--counted", "0", "--json"))
    file = write(tmp_path, {"terminal_id": TID, "entries": []})
    result = as_json(run("payments", "reconcile", str(z["shift"]), "--report", file, "--json"))
    assert (result["other_terminals"], result["differences"]) == (1, 0)
    assert "other terminals        1" in run("payments", "reconcile", str(z["shift"]),
                                             "--report", file).stdout
    disputes = as_json(run("payments", "disputes", "--json"))["payments"]
    assert [(p["application_number"], p["card_check"]) for p in disputes] == \
        [(other["number"], "other_terminal")]
