"""Versions of the site catalogue in the store: the one in force, and every earlier one.

Figures are stored under codes, never names, so a catalogue change never rewrites history:
a rename (same code, new name) shows the new name on every past figure, and a removed code's
events stay stored. ``ioc_reference`` holds the rows in force; ``ioc_reference_history``
(migration 21) gets a copy of the rows each time a *changed* catalogue is loaded (at start-up
or ``migrate``), with its version — so the names an entry had, and those of entries since
removed, stay readable.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import polars as pl

from ingest.site_model import Site
from ioc_app.storage import SqlStore

HISTORY_TABLE = "ioc_reference_history"


def version_of(site: Site) -> str:
    """The catalogue's version: the file's sha256, or (a catalogue built in code) its rows'."""
    if site.digest:
        return site.digest
    rows = site.reference_frame().drop("loaded_at").write_csv()
    return hashlib.sha256(rows.encode()).hexdigest()


def latest_version(store: SqlStore) -> str | None:
    """The version most recently recorded, or None before the first."""
    rows = store.rows(f"SELECT argMax(catalogue, loaded_at), count() FROM {HISTORY_TABLE}")
    return str(rows[0][0]) if rows and rows[0][1] else None


def record_version(store: SqlStore, site: Site, frame: pl.DataFrame) -> bool:
    """Append ``frame`` (the rows just stored as in force) to the history when the catalogue
    differs from the last one recorded; True when it did. Loading the same file again, as
    every restart does, adds nothing."""
    version = version_of(site)
    if latest_version(store) == version:
        return False
    store.insert(HISTORY_TABLE, frame.with_columns(catalogue=pl.lit(version), path=pl.lit(site.path)))
    return True


def version_in_force(store: SqlStore, site: Site) -> dict[str, Any]:
    """What /health shows: the file, the version, when this version was first loaded, how many
    versions the history holds, and the entries per kind."""
    version = version_of(site)
    rows = store.rows(f"SELECT minIf(loaded_at, catalogue = {{v:String}}), "
                      f"countIf(catalogue = {{v:String}}), uniqExact(catalogue) FROM {HISTORY_TABLE}",
                      {"v": version})
    first, held, versions = rows[0] if rows else (None, 0, 0)
    return {"path": site.path, "version": version, "loaded_at": first if held else None,
            "versions": int(versions), "counts": site.counts()}


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
    rows = store.rows(f"SELECT loaded_at, name_zh, name_en FROM {HISTORY_TABLE} "
                      "WHERE kind = {k:String} AND code = {c:String} ORDER BY loaded_at",
                      {"k": kind, "c": code})
    out: list[tuple[datetime, str, str]] = []
    for at, zh, en in rows:
        if not out or out[-1][1:] != (zh, en):
            out.append((at, zh, en))
    return out
