"""The sync agent's uploader: supporting documents' files to central, after the outbox push
(docs/sync.md, "Documents").

For each file office.attachments.to_upload() lists (its document_added event is acknowledged,
central has not confirmed the file): ask central how much it holds (GET), send the rest in
chunks from there (PUT with Content-Range), and confirm_uploaded once central says complete.
Central takes a chunk only at the offset it holds, so after a dropped connection, a cut-off
reply or a killed agent nothing but the chunk in flight is sent again. A hash mismatch (the
file central assembled is not the one named) is sent again once from the start; a file whose
copy on this device no longer matches its hash is not sent at all, and both are reported.

A network failure ends the round with SyncError: the agent's loop backs off and the next round
resumes where central stands. Chunks are sized to take about CHUNK_TARGET_S on the link, within
the protocol's bounds. The log names counts and hashes, never a document's content."""
from __future__ import annotations

import hashlib
import logging
import time

import requests

from . import protocol
from .agent import SyncError, _retry_after

log = logging.getLogger("nafitha.sync")
CHUNK_TARGET_S = 0.5  # a chunk's time on the link: the most a drop makes us send again
ROUND_BUDGET_S = 30.0  # then the agent pushes and pulls before uploading on


class Uploader:
    """One per SyncAgent: `upload_all()` each round. `broken`: files not sent again while
    this agent runs (sha256 -> why), each reported once."""

    def __init__(self, agent, clock=time.monotonic):
        self.agent = agent
        self.office = agent.office
        self.clock = clock
        self.chunk = protocol.UPLOAD_CHUNK_BYTES
        self.broken: dict[str, str] = {}

    # --- HTTP ------------------------------------------------------------------------------
    def _call(self, method: str, sha256: str, **kw) -> tuple[int, dict]:
        agent = self.agent
        try:
            response = agent.session.request(method, f"{agent.url}{protocol.DOCUMENTS}/"
                                                     f"{sha256}", timeout=agent.timeout,
                                             verify=agent.verify, **kw)
        except requests.exceptions.SSLError as exc:
            raise SyncError("tls", f"central's TLS certificate is not trusted "
                                   f"({type(exc).__name__}); check sync.ca_bundle")
        except requests.RequestException as exc:  # dropped, reset, cut off, timed out
            raise SyncError("offline", f"the document upload was interrupted: "
                                       f"{type(exc).__name__}")
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if status == 200:
                raise SyncError("protocol", "central's reply to an upload was cut off or "
                                            "not JSON")
            body = {}
        if status in (429, 503):
            raise SyncError("busy", body.get("message") or f"central is busy ({status})",
                            retry_after=_retry_after(response))
        if status >= 500:
            raise SyncError("server", body.get("message") or f"central failed ({status})",
                            retry_after=_retry_after(response))
        if status == 401:
            raise SyncError("auth", body.get("message") or "central refused the device token")
        return status, body

    @staticmethod
    def _offset(body: dict, size: int) -> int | None:
        value = body.get("received")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= size:
            return None
        return value

    # --- a round ---------------------------------------------------------------------------
    def upload_all(self) -> dict:
        """Send what is waiting. Returns {"uploaded", "bytes_sent", "failed", "more"}; raises
        SyncError when central cannot be reached (the agent backs off)."""
        attachments = self.office.attachments
        started = self.clock()
        result = {"uploaded": 0, "bytes_sent": 0, "failed": 0, "more": False}
        for item in attachments.to_upload():
            if self.agent.loop.stopped:
                break
            if item["sha256"] in self.broken:
                result["failed"] += 1
                continue
            if self.clock() - started > ROUND_BUDGET_S:
                result["more"] = True  # the agent comes back at once, after a push and pull
                break
            outcome = self.upload_one(item, result)
            if outcome == "complete":
                attachments.confirm_uploaded(item["sha256"], self.office.store.now())
                result["uploaded"] += 1
            else:
                result["failed"] += 1
        return result

    def upload_one(self, item: dict, result: dict) -> str:
        """"complete", or why not ("refused", "hash_mismatch", "corrupt_on_device")."""
        sha256, size = item["sha256"], item["bytes"]
        status, body = self._call("GET", sha256)
        if status != 200:
            return self._give_up(sha256, f"refused: {body.get('error', status)}", "refused")
        if body.get("complete") is True:
            return "complete"
        offset = self._offset(body, size)
        if offset is None:
            raise SyncError("protocol", "central's upload state names no offset")
        mismatches = 0
        with open(item["path"], "rb") as fh:
            while True:
                fh.seek(offset)
                if offset >= size:
                    raise SyncError("protocol", "central holds the whole file but does not "
                                                "say it is complete")
                chunk = fh.read(min(self.chunk, size - offset))
                if not chunk:  # the file here is shorter than its event says
                    return self._give_up(sha256, "the file on this device is shorter than "
                                                 "its event says", "corrupt_on_device")
                end = offset + len(chunk) - 1
                sent_at = self.clock()
                try:
                    status, body = self._call("PUT", sha256, data=chunk, headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": protocol.content_range(offset, end, size)})
                except SyncError as exc:
                    if exc.kind == "offline":  # the link dropped: smaller chunks lose less
                        self.chunk = max(protocol.MIN_UPLOAD_CHUNK_BYTES, self.chunk // 2)
                    raise
                result["bytes_sent"] += len(chunk)
                if status == 200:
                    self._size_chunks(len(chunk), self.clock() - sent_at)
                    if body.get("complete") is True:
                        return "complete"
                    offset = self._offset(body, size)
                    if offset is None:
                        raise SyncError("protocol", "central's reply names no offset")
                elif status == 409 and body.get("error") == "wrong_offset" and \
                        self._offset(body, size) is not None:
                    offset = self._offset(body, size)  # central stands elsewhere: go on there
                elif status == 422 and body.get("error") == "hash_mismatch":
                    if _sha256_of(item["path"]) != sha256:
                        return self._give_up(sha256, "the file on this device no longer "
                                                     "matches its hash", "corrupt_on_device")
                    mismatches += 1
                    if mismatches > 1:
                        return self._give_up(sha256, "central refused it twice (hash "
                                                     "mismatch)", "hash_mismatch")
                    log.warning("document %s reached central damaged; sending it again",
                                sha256[:12])
                    offset = 0
                else:
                    return self._give_up(sha256, f"refused ({status}): "
                                                 f"{body.get('error', '')}", "refused")

    def _size_chunks(self, sent: int, seconds: float) -> None:
        """The next chunk: about CHUNK_TARGET_S on the link as the last one went."""
        if sent < self.chunk or seconds <= 0:
            return  # a file's short last chunk says little about the link
        wanted = int(sent / seconds * CHUNK_TARGET_S)
        self.chunk = max(protocol.MIN_UPLOAD_CHUNK_BYTES,
                         min(protocol.MAX_UPLOAD_CHUNK_BYTES, wanted))

    def _give_up(self, sha256: str, why: str, outcome: str) -> str:
        """Not sent again while this agent runs; said once (the hash, never the content)."""
        if sha256 not in self.broken:
            log.warning("document %s not uploaded: %s", sha256[:12], why)
        self.broken[sha256] = why
        return outcome


def _sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
