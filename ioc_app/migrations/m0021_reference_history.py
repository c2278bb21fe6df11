"""The site catalogue's history: every version of the reference rows, kept.

``ioc_reference`` holds the catalogue in force, which the walls list (links, gates…). Each
time a changed catalogue is loaded, its rows are also appended here with the version (the
sha256 of the file) and the file's path, and never deleted: an entry's earlier names, and the
names of entries since removed from the catalogue, stay readable for the figures stored
under their codes.
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
        engine="MergeTree",
        order_by="(kind, code, loaded_at)",
        shard_key="cityHash64(kind, code)",
    )
