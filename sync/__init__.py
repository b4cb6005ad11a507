"""Sync with the central platform: the wire protocol (shared with central/) and, to come, the
agent that drains the outbox and pulls reference data (issue 6)."""
