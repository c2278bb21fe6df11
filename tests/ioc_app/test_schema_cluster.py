"""Cluster DDL as text: no cluster runs here, so the emitted statements are pinned in golden
files and reviewed when they change (regenerate with UPDATE_GOLDEN=1)."""

from __future__ import annotations

import os
from pathlib import Path

from ioc_app.migrations import MIGRATIONS
from ioc_app.schema import Dialect

GOLDEN = Path(__file__).parent / "golden"


def render(dialect: Dialect) -> str:
    parts = []
    for m in MIGRATIONS:
        parts.append(f"-- {m.VERSION:04d}_{m.NAME}")
        parts.extend(s + ";" for s in m.statements(dialect))
    return "\n\n".join(parts) + "\n"


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.read_text() == text, f"DDL changed; review and regenerate {path.name}"


def test_cluster_ddl_matches_golden() -> None:
    text = render(Dialect("ioc", "campus_cluster"))
    check("cluster.sql", text)


def test_single_node_ddl_matches_golden() -> None:
    check("single.sql", render(Dialect("ioc")))


def test_cluster_ddl_shape() -> None:
    text = render(Dialect("ioc", "campus_cluster"))
    statements = [s for s in text.split(";\n") if s.strip().startswith("CREATE")]
    assert all(" ON CLUSTER campus_cluster" in s for s in statements)
    assert "ENGINE = MergeTree" not in text and "ENGINE = AggregatingMergeTree" not in text
    replicated = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
    assert f"ReplicatedAggregatingMergeTree({replicated})" in text
    # every data table has a Distributed table over its shard-local table
    local = {s.split()[5].split(".")[1] for s in statements if "_local" in s.split()[5] and "TABLE" in s}
    for name in local:
        base = name.removesuffix("_local")
        assert f"Distributed(campus_cluster, ioc, {name}," in text, base
    # materialized views read and write shard-local tables
    for s in statements:
        if "MATERIALIZED VIEW" in s:
            assert "TO ioc." in s and "_local\n" in s and "FROM ioc." in s
            assert s.split("FROM ioc.")[1].split()[0].endswith("_local")
    assert "cityHash64(event_id)" in text
