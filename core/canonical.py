"""Canonical JSON: the one text of a value that hashes and signatures are computed over
(sorted keys, no spaces, UTF-8 as is). The audit chain, outbox events and central's copies
of them all use it, so a hash made on a device checks everywhere."""
from __future__ import annotations

import json


def canonical_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
