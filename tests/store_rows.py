"""Every row of every table of a store, to prove that a refused operation changed nothing."""
from __future__ import annotations


def all_rows(store) -> dict[str, list[tuple]]:
    """Each table's rows (sqlite_sequence excluded), in a stable order."""
    tables = [r[0] for r in store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {t: sorted(map(tuple, store.conn.execute(f"SELECT * FROM {t}")), key=repr)
            for t in tables}
