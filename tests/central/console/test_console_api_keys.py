"""/v1/admin with named API keys: the role's permission, revocation, municipal scope, and
every write audited with the key's name."""
from __future__ import annotations

import httpx


def _post(site, path: str, key: str, body: dict) -> httpx.Response:
    return httpx.post(f"{site.url}{path}", json=body, headers={"Authorization": f"Bearer {key}"})


def _get(site, path: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{site.url}{path}", headers=headers)


def test_the_admin_token_is_the_root_key(site):
    answer = _get(site, "/v1/admin/offices", site.admin_token)
    assert answer.status_code == 200 and [o["office"] for o in answer.json()] == ["MUH"]
    assert [k["name"] for k in site.staff.keys()] == ["root"]
    assert site.staff.keys()[0]["last_used_at"] is not None


def test_a_finance_key_reads_but_cannot_decide_or_revoke(site):
    finance = site.staff.add_key("test", "till", "finance", None)
    assert _get(site, "/v1/admin/rejections", finance).status_code == 200
    for path, body in (("/v1/admin/applications/MUH-D01-A2026-000001/decision",
                        {"decision": "approved"}),
                       ("/v1/admin/licences/MUH-2026-D01-000001/revoke", {"reason": "x"}),
                       ("/v1/admin/erasures", {"numbers": ["MUH-D01-A2026-000001"],
                                               "reason": "x"})):
        answer = _post(site, path, finance, body)
        assert answer.status_code == 403, path
        assert answer.json()["error"] == "not_permitted" and "till" in answer.json()["message"]
    officer = site.staff.add_key("test", "desk", "officer", None)
    # an officer may decide: the refusal is now about the application, not the key
    answer = _post(site, "/v1/admin/applications/MUH-D01-A2026-000001/decision", officer,
                   {"decision": "approved"})
    assert answer.status_code == 404
    assert _post(site, "/v1/admin/erasures", officer,
                 {"numbers": ["X"], "reason": "x"}).status_code == 403  # admin only


def test_no_key_an_unknown_key_and_a_revoked_key_get_401(site):
    key = site.staff.add_key("test", "bot", "officer", None)
    assert _get(site, "/v1/admin/offices", key).status_code == 200
    site.staff.revoke_key("test", "bot")
    for candidate in (key, "not-a-key", None):
        answer = _get(site, "/v1/admin/offices", candidate)
        assert answer.status_code == 401
        assert answer.json()["error"] == "not_authenticated" and answer.json()["message"]
    assert "revoked" in _get(site, "/v1/admin/offices", key).json()["message"]


def test_a_municipal_key_sees_only_its_offices(site):
    site.municipality("CAP", offices=())
    site.municipality("NTH", offices=("MUH",))
    capital = site.staff.add_key("test", "capital", "auditor", "CAP")
    assert _get(site, "/v1/admin/offices", capital).json() == []
    northern = site.staff.add_key("test", "northern", "auditor", "NTH")
    assert [o["office"] for o in _get(site, "/v1/admin/offices", northern).json()] == ["MUH"]


def test_admin_writes_are_audited_with_the_keys_name(site):
    officer = site.staff.add_key("test", "desk", "officer", None)
    answer = _post(site, "/v1/admin/licences/MUH-2026-D01-000009/revoke", officer,
                   {"reason": "issued in error"})
    assert answer.status_code == 404  # no such licence: refused, nothing audited
    root = site.staff.authenticate_key(f"Bearer {site.admin_token}")
    assert [r["action"] for r in site.staff.audit_log(root)] == ["api_key.add", "api_key.add"]


def test_a_decision_is_made_in_the_keys_name_and_audited(site, monkeypatch):
    site.municipality("CAP", offices=("MUH",))
    made = []
    monkeypatch.setattr(site.central, "decide", lambda number, decision, reason, conditions,
                        by: made.append((number, decision, by)) or {"number": number})
    officer = site.staff.add_key("test", "desk", "officer", None)
    answer = _post(site, "/v1/admin/applications/MUH-D01-A2026-000001/decision", officer,
                   {"decision": "rejected", "reason": "incomplete drawings"})
    assert answer.status_code == 200
    assert made == [("MUH-D01-A2026-000001", "rejected", "key:desk")]
    root = site.staff.authenticate_key(f"Bearer {site.admin_token}")
    row = site.staff.audit_log(root)[0]
    assert (row["actor"], row["action"], row["entity_id"], row["detail"]) == \
        ("key:desk", "application.decide", "MUH-D01-A2026-000001", {"decision": "rejected"})
    assert "incomplete" not in str(row)  # the reason may name people: not in the audit
