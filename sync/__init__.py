"""Sync with the central platform: the wire protocol (shared with central/), the agent that
drains the outbox and pulls reference data, and the applying of that data (docs/sync.md)."""
