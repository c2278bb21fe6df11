"""Keeping every version of the site catalogue in the store.

Figures are stored under codes, never names, so a catalogue change never rewrites history:
a rename (same code, new name) shows the new name on every past figure, and a removed code's
events stay stored. ``ioc_reference`` holds the rows in force; ``ioc_reference_history``
(migration 21) gets the rows of each version loaded (at start-up or ``migrate``) with the
version, so the names an entry had, and those of entries since removed, stay readable
(``metrics/catalogue_history.py`` reads them).
"""

from __future__ import annotations

import hashlib

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


def record_version(store: SqlStore, site: Site, frame: pl.DataFrame) -> int:
    """Write ``frame`` (the rows just made the ones in force) to the history under the
    catalogue's version. The table keeps one row per entry and version (the last load's), so
    loading the same file again, as every restart does, adds nothing but the time."""
    return store.insert(HISTORY_TABLE, frame.with_columns(catalogue=pl.lit(version_of(site)),
                                                          path=pl.lit(site.path)))
