"""The reference central platform (docs/sync.md): FastAPI over SQLite or PostgreSQL."""
