"""One hierarchy of domain errors. Each carries a stable `code` (turned into a translated
message at the edge) and an English message for logs and the CLI."""
from __future__ import annotations


class NafithaError(Exception):
    code = "error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message, **self.details}


class ConfigError(NafithaError):
    code = "config_invalid"


class CatalogError(NafithaError):
    code = "catalog_invalid"


class StoreError(NafithaError):
    code = "store_unusable"


class DiskFull(StoreError):
    """The device's disk (or the store's size limit) is full: the operation was rolled back
    whole and nothing of it was written; the same step works again once space is freed.
    Its stable mark is details reason "disk_full" (the code stays store_unusable, so the
    hub's 503 and every caller of StoreError are unchanged; a hub's client gets a
    StoreError with the same reason: test with `is_disk_full`). The kiosk goes out of
    service on it (kiosk/flow.py)."""

    reason = "disk_full"

    def __init__(self, message: str, **details):
        details.setdefault("reason", self.reason)
        super().__init__(message, **details)


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc` says the disk is full: a DiskFull here, or one a hub reported."""
    return isinstance(exc, DiskFull) or (
        isinstance(exc, StoreError) and exc.details.get("reason") == DiskFull.reason)


class DocumentStorageFull(DiskFull):
    """The disk is full: a supporting document's page could not be stored, and nothing of
    it was (no file, no row). details: reason "disk_full"."""


class ValidationError(NafithaError):
    """Bad input from a person or a caller; `field` names what was wrong.

    Refusals of a value a person typed also carry `problem` (a stable code such as
    "too_long") and the parameters needed to phrase it (max_length=100); ui/messages.py
    turns them into a translated sentence. Both are in `details` and so in `to_dict()`."""

    code = "invalid_input"

    def __init__(self, message: str, field: str | None = None, **details):
        super().__init__(message, field=field, **details)
        self.field = field

    @property
    def problem(self) -> str | None:
        return self.details.get("problem")


class NotFound(NafithaError):
    code = "not_found"


class InvalidState(NafithaError):
    """The operation is not allowed in the thing's current state (e.g. issuing twice)."""

    code = "invalid_state"


class PermissionDenied(NafithaError):
    code = "permission_denied"


class DeviceError(NafithaError):
    """A printer, scanner, camera or card terminal cannot do what was asked; the message
    says why in plain words. Each device's errors subclass this beside its code (devices/),
    each with its own stable `code`."""

    code = "device_error"


class HubUnreachable(NafithaError):
    """A service centre's kiosk or counter could not reach the centre's hub (network,
    hub stopped). Nothing was done; the same step can be tried again when it is back."""

    code = "hub_unreachable"


class TooManyRequests(NafithaError):
    """One device called an operation more often than a person at it could (its declared
    per_minute); `retry_after_s` says when it may again."""
    code = "too_many_requests"
