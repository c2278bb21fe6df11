"""The site catalogue's history: every version of the reference rows, kept.

``ioc_reference`` holds the catalogue in force, which the walls list (links, gates…). Each
time a catalogue is loaded, its rows are also written here with its version (the sha256 of
the file) and the file's path, and never deleted: an entry's earlier names, and the names of
entries since removed from the catalogue, stay readable for the figures stored under their
codes. Loading one version again (every restart does) replaces its rows, keeping the last
load's time: one row per entry and version.
"""

from __future__ import annotations

from ioc_app.schema import Dialect

VERSION = 21
NAME = "reference_history"


def statements(d: Dialect) -> list[str]:
    return d.table(
        "ioc_reference_history",
        [
            ("kind", "LowCardinality(String)"),
            ("code", "String"),
            ("name_zh", "String"),
            ("name_en", "String"),
            ("parent", "LowCardinality(String)"),
            ("value", "Float64"),
            ("flag", "Bool"),
            ("catalogue", "LowCardinality(String)"),
            ("path", "String"),
            ("loaded_at", "DateTime64(3, 'UTC')"),
        ],
        engine="ReplacingMergeTree",
        engine_args="loaded_at",
        order_by="(kind, code, catalogue)",
        shard_key="cityHash64(kind, code)",
    )
