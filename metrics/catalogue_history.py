"""The site catalogue's history as stored (``ioc_reference_history``, migration 21).

Every version of the catalogue loaded is kept there, one row per entry and version with the
time of the version's last load: what /health says about the catalogue in force, the names an
entry had, and the entries since removed (their events stay stored under their codes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from ioc_app.storage import SqlStore

HISTORY_TABLE = "ioc_reference_history"


def version_loaded(store: SqlStore, version: str) -> dict[str, Any]:
    """``{loaded_at, versions}``: when ``version`` was last loaded (None if never) and how many
    versions the history holds."""
    rows = store.rows(f"SELECT maxIf(loaded_at, catalogue = {{v:String}}), "
                      f"countIf(catalogue = {{v:String}}), uniqExact(catalogue) FROM {HISTORY_TABLE}",
                      {"v": version})
    at, held, versions = rows[0] if rows else (None, 0, 0)
    return {"loaded_at": at if held else None, "versions": int(versions)}


def names_in_history(store: SqlStore, kind: str) -> pl.DataFrame:
    """Every code of a kind the catalogue ever held, with its latest names and whether it is
    still in force: ``{code, name_zh, name_en, last_loaded_at, removed}``."""
    return store.query(
        f"""
        SELECT code, argMax(h.name_zh, h.loaded_at) AS name_zh, argMax(h.name_en, h.loaded_at) AS name_en,
               max(h.loaded_at) AS last_loaded_at,
               toBool(code NOT IN (SELECT code FROM ioc_reference FINAL WHERE kind = {{k:String}})) AS removed
        FROM {HISTORY_TABLE} AS h WHERE kind = {{k:String}}
        GROUP BY code ORDER BY code
        """,
        {"k": kind},
    )


def names_of(store: SqlStore, kind: str, code: str) -> list[tuple[datetime, str, str]]:
    """The names one entry had, oldest first, one row per change: ``(loaded_at, zh, en)``."""
    rows = store.rows(f"SELECT catalogue, max(loaded_at) AS at, argMax(name_zh, loaded_at), "
                      f"argMax(name_en, loaded_at) FROM {HISTORY_TABLE} "
                      "WHERE kind = {k:String} AND code = {c:String} GROUP BY catalogue ORDER BY at",
                      {"k": kind, "c": code})
    out: list[tuple[datetime, str, str]] = []
    for _, at, zh, en in rows:
        if not out or out[-1][1:] != (zh, en):
            out.append((at, zh, en))
    return out
