"""The kiosk's "most used first" reading (KioskFace.service_usage), the same in-process and
through a hub on loopback: the kiosk orders its services by it in a service centre too."""
from __future__ import annotations

RES = "residence-certificate"


def test_usage_counts_the_tickets_of_the_last_30_days(kiosk, office):
    assert kiosk.service_usage() == {}
    kiosk.take_ticket(RES, None)
    kiosk.take_ticket("excavation-permit", None)
    kiosk.take_ticket(RES, "elderly")
    assert kiosk.service_usage() == {RES: 2, "excavation-permit": 1}
    assert kiosk.service_usage() == office.queue.service_usage()
