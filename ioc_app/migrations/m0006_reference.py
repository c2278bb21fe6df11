"""Reference data of the site catalogue (names of campuses, gates, services, majors …),
so figures can be joined with names in ClickHouse."""

from __future__ import annotations

from ioc_app.schema import Dialect

VERSION = 6
NAME = "reference"


def statements(d: Dialect) -> list[str]:
    return d.table(
        "ioc_reference",
        [
            ("kind", "LowCardinality(String)"),
            ("code", "String"),
            ("name_zh", "String"),
            ("name_en", "String"),
            ("parent", "LowCardinality(String)"),
            ("value", "Float64"),
            ("flag", "Bool"),
            ("loaded_at", "DateTime64(3, 'UTC')"),
        ],
        engine="ReplacingMergeTree",
        engine_args="loaded_at",
        order_by="(kind, code)",
        shard_key="cityHash64(kind, code)",
    )
