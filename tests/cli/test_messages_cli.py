"""`nafitha messages ...` (nafitha/messages_cli.py): consent, following a ticket, sending
what is due through the simulated gateway, the queue's states, the templates check; bad
input is one clear line, exit 1, nothing changed."""
import json

ON = {"NAFITHA_MESSAGES__GATEWAY": "simulated"}


def test_consent_follow_and_send_through_the_simulator(run):
    run("ticket", "take", "R", env=ON)
    mine = json.loads(run("ticket", "take", "R", "--json", env=ON).stdout)
    wrong = run("messages", "consent", "add", "1234", env=ON, expect=1)
    assert "not a phone number" in wrong.stderr
    refused = run("messages", "follow", mine["number"], "36001234", env=ON, expect=1)
    assert "consent" in refused.stderr
    given = run("messages", "consent", "add", "3600 1234", "--channel", "counter", env=ON)
    assert "+973*****234: consent given" in given.stdout
    run("messages", "follow", mine["number"], "36001234", "--language", "en", env=ON)
    sent = json.loads(run("messages", "send-pending", "--json", env=ON).stdout)
    assert (sent["sent"], sent["states"]) == (1, {"sent": 1})
    listed = json.loads(run("messages", "list", "--json", env=ON).stdout)
    assert [(m["kind"], m["state"], m["number"]) for m in listed] == \
        [("turn_near", "sent", "+97336001234")]
    assert f"Ticket {mine['number']}, 1 ahead" in listed[0]["text"]
    again = json.loads(run("messages", "send-pending", "--json", env=ON).stdout)
    assert again["sent"] == 0  # nothing is sent twice
    assert "sent" in run("messages", "list", env=ON).stdout
    out = run("messages", "consent", "withdraw", "+97336001234", env=ON).stdout
    assert "consent withdrawn" in out
    shown = json.loads(run("messages", "consent", "show", "36001234", "--json", env=ON).stdout)
    assert shown["withdrawn_at"] is not None


def test_sending_with_no_gateway_is_a_usage_error(run):
    result = run("messages", "send-pending", expect=2)
    assert "messages.gateway is none" in result.output + result.stderr


def test_templates_check_names_a_template_missing_a_placeholder(run, tmp_path):
    ok = run("messages", "templates").stdout
    assert "every template checks out" in ok and "called.ar:" in ok
    from core.messages import SHIPPED_TEMPLATES
    bad = tmp_path / "bad.toml"
    bad.write_text(SHIPPED_TEMPLATES.read_text(encoding="utf-8").replace(
        "Receipt {receipt}.", "Thank you."), encoding="utf-8")
    result = run("messages", "templates", "--file", str(bad), expect=1)
    assert "receipt.en" in result.stderr and "{receipt}" in result.stderr


def test_sending_on_a_new_store_says_there_is_nothing(run):
    """A store with nothing in its audit log yet (found by a newcomer's walk-through: it
    crashed reading the log's head)."""
    out = run("messages", "send-pending", env=ON).stdout
    assert out.strip() == "sent 0, failed 0; no messages held"
