"""The frame around every counter screen (root.kv): the header (office, counter, clerk, the
lock, sign-out and language buttons), the notice line, and the status bar (sync, the hub,
the printer, the camera) with the keyboard shortcuts."""
from __future__ import annotations

from pathlib import Path

from ..desk import SHORTCUTS
from .base import CounterViewModel


class ChromeViewModel(CounterViewModel):
    """texts: the frame's words; flags: what is shown and each status's tone; rows: the
    shortcut bar's (key, name) pairs. `status` is the devices' and the sync's state, set by
    the app before each refresh: {"sync": {...}, "hub": bool|None, "printer", "camera"}."""

    status: dict = {}

    def compute(self, desk, tr):
        self.desk, self.tr, self.settings = desk, tr, desk.settings
        d, s, status = desk, self.settings, self.status
        office = s.office.name_ar if self.lang == "ar" else s.office.name_en
        # The clerk's (Latin) name and the role apart: one line mixing them reorders.
        clerk, role = (d.user["username"], self.t(f"role.{d.user['role']}")) if d.user \
            else ("", "")
        sync = status.get("sync") or {}
        no_central = self.no_central(sync)
        if status.get("hub") is False:  # a service centre's counter: the hub is away
            online = self.t("status.hub_offline")
        elif no_central:
            online = self.t("status.no_central")
        elif sync.get("online") is None:
            online = self.t("status.never")
        else:
            online = self.t("status.online" if sync["online"] else "status.offline")
        last = self.t("status.last_sync", time=self.when(sync["last_success_at"])) \
            if sync.get("last_success_at") else ""
        printer = status.get("printer", "ok")
        camera = status.get("camera", "closed")
        notice = self.notice()
        texts = {
            "office": office, "counter": self.t("common.counter", name=s.counter.name),
            "clerk": clerk, "role": role, "language": self.t("common.language"),
            "lock": self.t("common.lock"), "sign_out": self.t("common.sign_out"),
            "close_shift": self.t("common.close_shift"), "online": online,
            # Events central refused wait for the operator (nafitha outbox list --held).
            "pending": self.t("status.held", n=int(sync.get("pending") or 0),
                              m=int(sync["held"])) if sync.get("held")
            else self.t("status.pending", n=int(sync.get("pending") or 0)),
            "last_sync": last, "printer": self.t(f"status.printer_{printer}"),
            "camera": self.t("status.camera_on" if camera in ("starting", "running")
                             else "status.camera_off" if camera in ("closed", "ended",
                                                                     "stopped")
                             else "status.camera_unavailable"),
            "notice": notice["text"]}
        flags = {"signed_in": bool(d.user) and not d.locked,
                 "at_work": bool(d.user) and not d.locked and d.shift is not None,
                 "online_tone": "ok" if (sync.get("online") or no_central)
                 and status.get("hub") is not False else "warn",
                 "printer_tone": "ok" if printer == "ok" else "warn",
                 "pending_tone": "warn" if sync.get("held") else "ok",
                 "notice_tone": notice["tone"]}
        shortcuts = [[key.upper() if len(key) < 4 else key.capitalize(),
                      self.t(f"shortcut.{step}")]
                     for key, step in SHORTCUTS + (("esc", "back"), ("enter", "enter"))] \
            if d.user and not d.locked else []
        return texts, shortcuts, flags

    def no_central(self, sync: dict) -> bool:
        """An office that was never given a central (no sync.url, never enrolled, no
        attempt recorded) works offline by design: nothing to warn about. One with a
        central that has not answered yet is warned about (status.never)."""
        # keys/sync.json: `nafitha enrol`'s record (sync.agent.enrolment_path; the
        # counter may not import sync).
        return sync.get("online") is None and not sync.get("central_url") \
            and not self.settings.sync.url \
            and not (Path(self.settings.data_dir) / "keys" / "sync.json").exists()
