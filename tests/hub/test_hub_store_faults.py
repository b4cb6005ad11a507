"""A full disk at the hub: the documented JSON 503, never a plain-text 500; the queue is as it
was and works again once there is room (SQLite's max_page_count plays the disk)."""
import requests


def test_a_full_disk_is_a_json_503_and_changes_nothing(hub):
    hub.office.settings.hub.rate_limits = False  # hundreds of tickets, to fill the page
    token = hub.token("kiosk", "kiosk-1")
    store = hub.office.store
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    taken = 0
    for _ in range(500):
        reply = hub.http.post(hub.url + "/api/v1/kiosk/take-ticket",
                              json={"service": "residence-certificate"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        if reply.status_code != 200:
            break
        taken += 1
    assert reply.status_code == 503
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["error"] == "store_unusable"
    assert reply.json()["message"].startswith("the disk is full: ")
    assert store.one("SELECT COUNT(*) AS n FROM tickets")["n"] == taken
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    again = hub.http.post(hub.url + "/api/v1/kiosk/take-ticket",
                          json={"service": "residence-certificate"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert again.status_code == 200
