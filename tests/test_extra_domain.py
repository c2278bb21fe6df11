"""A domain added from test code alone reaches every layer, with no shared module edited.

``parking`` (car-park barrier passes) is declared here the way a domain's own modules declare
it — the ingest half as ``ingest/<name>.py`` does (contract, raw table, spreadsheet headers,
this module as its simulator), the metrics half as ``metrics/<name>.py`` does (rollups, query
whitelist, an anomaly measure, a catalogue reference, staleness, this module's figures), its
labels as ``layouts/i18n/<name>.py`` does — and each half is registered with its layer. Its
migration is the one its declaration describes (``ioc_app.declared``), run on the real engine
after the shipped ones. Then its table and rollups exist and fill, the
ingest registry validates its events, the query service answers it, an anomaly rule may
watch it, data quality reports its unknown codes, freshness follows it, the snapshot core
computes its section, the simulator generates it, and the UI catalogue labels it. It is
unregistered afterwards, and every shared view forgets it.
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import ingest.registry
import layouts.i18n
import metrics.registry
from ingest.contracts import Field, event_stream
from ingest.registry import BY_NAME, STREAMS, get_stream
from ingest.sim import Simulator, World
from ingest.site import load_site
from ingest.tables import IngestDomain, Table
from ingest.validate import validate
from ioc_app import declared, domains, read
from ioc_app.app import create_app
from ioc_app.migrate import migrate
from ioc_app.migrations import MIGRATIONS
from ioc_app.settings import DEFAULT_SITE, Settings
from ioc_app.storage import Store
from layouts.i18n import CATALOGUE, t
from metrics import alerts, query
from metrics.domain import (
    Col,
    Dimension,
    MetricsDomain,
    Queryable,
    Referenced,
    Rollup,
    Source,
    Watched,
    both_grains,
    count,
    count_of,
)
from metrics.freshness import STALE_AFTER_S, freshness
from metrics.quality import REFERENCED, unknown_references

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(UTC).replace(second=0, microsecond=0)

PARKING_ENTRY = event_stream(
    name="parking.entry", domain="parking", title_zh="停车场道闸", title_en="Car park barriers",
    retention_days=90, expected_interval_s=900,
    fields=(Field("lot_id", "code", max_len=64, reference="lot"),
            Field("direction", "enum", values=("in", "out"))),
)


# this module is the domain's figures (``live``/``slow``) and its simulator (``hour_events``)
def live(store: Store, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    rows = store.rows("SELECT toUInt64(sum(cars)) FROM parking_entry_1m WHERE minute >= {s:DateTime('UTC')}",
                      {"s": now - timedelta(hours=1)})
    return {"cars_last_hour": int(rows[0][0])}


def slow(store: Store, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    return {"lots": ["p1", "p2"]}


MAX_DELAY_H = 0


def hour_events(world: World, hour: int) -> list[tuple[int, str, dict[str, Any]]]:
    start = hour * 3_600_000
    return [(start + k * 600_000, "parking.entry",
             {"event_id": f"pk-{hour}-{k}", "ts": start + k * 600_000, "lot_id": f"p{k % 2 + 1}",
              "direction": ("in", "out")[k % 2]}) for k in range(6)]


# the ingest half (``ingest/<name>.py``)
PARKING_INGEST = IngestDomain(
    "parking", 90, (PARKING_ENTRY,),
    tables=(Table("parking.entry", ("lot_id", "ts")),),
    header_aliases={"车场": "lot_id", "进出": "direction"},
    value_aliases={"direction": {"进": "in", "出": "out"}},
    simulator=__name__,
)

# the metrics half (``metrics/<name>.py``)
ENTRIES = "sumIf(cars, direction = 'in')"
PARKING_METRICS = MetricsDomain(
    "parking", 90, live, slow,
    stale_after_s={"parking.entry": 3600},
    rollups=both_grains("parking.entry", ("lot_id", "direction"), (count("cars"),)),
    query=Queryable(
        "parking",
        dimensions=(Dimension("lot_id", "car park code"),
                    Dimension("direction", "direction of the car", ("in", "out"))),
        sources=(Source("parking.entry", "parking_entry", minute=("lot_id", "direction"),
                        hour=("lot_id", "direction"),
                        parts=(("cars", "sum(cars)"), ("entries", ENTRIES))),),
        measures=(count_of("cars", "parking.entry", "cars", "barrier passes"),
                  count_of("entries", "parking.entry", "entries", "cars driving in")),
    ),
    watched={"entries": Watched("parking_entry_1m", ENTRIES, None, ("lot_id",), "cars driving in")},
    references=(Referenced("parking.entry", "lot_id", "lot", "parking_entry_1h", "hour", "sum(cars)"),),
)

# its labels (``layouts/i18n/<name>.py``)
LABELS = "tests/test_extra_domain.py (parking)"
PARKING_LABELS = {
    "explore.domain.parking": {"zh": "停车场", "en": "Car parks"},
    "explore.m.parking.cars": {"zh": "过闸车辆", "en": "Barrier passes"},
    "explore.m.parking.entries": {"zh": "入场车辆", "en": "Cars in"},
    "explore.d.lot_id": {"zh": "停车场编号", "en": "Car park"},
    "health.stream.parking.entry": {"zh": "停车场道闸", "en": "Car park barriers"},
}


def _events(n: int) -> list[dict[str, Any]]:
    """``n`` cars at two car parks over the last few minutes, two in three driving in."""
    return [{"event_id": f"e-{i}", "ts": int((NOW - timedelta(minutes=1 + i % 5)).timestamp() * 1000),
             "lot_id": ("p1", "p2")[i % 2], "direction": ("in", "in", "out")[i % 3]} for i in range(n)]


@pytest.fixture(scope="module")
def parking(engine_path: Path) -> Iterator[Store]:
    """The domain registered, its migration run after the shipped ones, 60 events stored."""
    ingest.registry.register(PARKING_INGEST)
    metrics.registry.register(PARKING_METRICS)
    layouts.i18n.register(LABELS, PARKING_LABELS)
    store = Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12])
    try:
        migration = types.SimpleNamespace(
            VERSION=max(m.VERSION for m in MIGRATIONS) + 1, NAME="parking",
            statements=lambda d: declared.statements(domains.Domain(PARKING_INGEST, PARKING_METRICS), d,
                                                     freshness=True))
        migrate(store, (*MIGRATIONS, migration))
        result = validate(get_stream("parking.entry"), _events(60), source="t", now=NOW)
        assert result.errors == []
        store.insert("parking_entry", result.frame)
        yield store
    finally:
        ingest.registry.unregister("parking")
        metrics.registry.unregister("parking")
        layouts.i18n.unregister(LABELS)
        store.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
        store.close()


def test_its_tables_exist_and_its_rollups_fill(parking: Store) -> None:
    tables = {r[0] for r in parking.rows("SELECT name FROM system.tables WHERE database = currentDatabase()")}
    assert {"parking_entry", "parking_entry_1m", "parking_entry_1h"} <= tables
    assert parking.rows("SELECT toUInt64(sum(cars)) FROM parking_entry_1h")[0][0] == 60
    assert parking.rows("SELECT toUInt64(sum(cars)) FROM parking_entry_1m WHERE direction = 'in'")[0][0] == 40


def test_the_ingest_registry_has_its_stream(parking: Store) -> None:
    assert BY_NAME["parking.entry"] is PARKING_ENTRY and PARKING_ENTRY in STREAMS
    bad = validate(PARKING_ENTRY, [{**_events(1)[0], "direction": "sideways"}], source="t", now=NOW)
    assert [e["reason"] for e in bad.errors] == ["bad_enum"]


def test_file_import_reads_its_spreadsheet_headers(parking: Store) -> None:
    import polars as pl

    from ingest.headers import map_headers

    sheet = pl.DataFrame({"车场": ["p1"], "进出": ["进"], "时间": ["2026-01-05T08:00:00+08:00"]})
    assert map_headers(sheet, PARKING_ENTRY).to_dicts() == [
        {"lot_id": "p1", "direction": "in", "ts": "2026-01-05T08:00:00+08:00"}]


def test_the_query_service_answers_it(parking: Store, tmp_path: Path) -> None:
    assert "parking" in query.DOMAINS and "parking" in query.describe()
    assert "#### `parking`" in query.whitelist_markdown()
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False,
                        tokens_file=str(tmp_path / "tokens.toml"), roles_file=str(tmp_path / "roles.toml"))
    server = create_app(settings, store=parking, background=False).server
    try:
        args = {"grain": ["hour"], "from": [(NOW - timedelta(hours=2)).isoformat()],
                "to": [NOW.isoformat()], "group_by": ["lot_id"]}
        with server.test_request_context():
            answer = read.query("parking", args, max_rows=100)
            refused = read.query("parking", {**args, "group_by": ["gate_id"]}, max_rows=100)
    finally:
        server.extensions[read.EXTENSION].pipeline.buffer.close()
    assert answer["measures"] == ["cars", "entries"], answer
    by_lot = {lot: sum(r["cars"] for r in answer["rows"] if r["lot_id"] == lot) for lot in ("p1", "p2")}
    assert by_lot == {"p1": 30, "p2": 30}
    assert sum(r["entries"] for r in answer["rows"]) == 40
    assert refused["error"] == "bad_parameter" and "lot_id, direction" in refused["message"]


def test_an_anomaly_rule_may_watch_it(parking: Store, tmp_path: Path) -> None:
    assert "parking.entries" in alerts.MEASURES and "parking" in alerts.DOMAINS
    path = tmp_path / "alerts.toml"
    path.write_text('[[rule]]\nid = "parking_surge"\nkind = "anomaly"\nseverity = "info"\n'
                    'domain = "parking"\ntitle_zh = "入场激增 {key}"\ntitle_en = "Surge at {key}"\n'
                    'measure = "parking.entries"\nby = "lot_id"\nop = ">="\nthreshold = 3.0\n'
                    'window_min = 10\nweeks = 1\n', encoding="utf-8")
    rules = alerts.load_rules(path)
    baselines = alerts.anomaly_baselines(parking, ZONE, NOW + timedelta(seconds=30), rules)
    current = {key: v["current"] for key, v in baselines["parking_surge"].items()}
    assert current == {"p1": 20.0, "p2": 20.0}
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(path.read_text().replace('by = "lot_id"', 'by = "gate_id"'), encoding="utf-8")
    with pytest.raises(alerts.AlertRulesError, match=r"parking\.entries can be split by lot_id"):
        alerts.load_rules(wrong)


def test_data_quality_reports_its_unknown_codes(parking: Store) -> None:
    assert any(r.stream == "parking.entry" for r in REFERENCED)
    unknown = unknown_references(parking, NOW + timedelta(minutes=1))
    rows = unknown.filter(unknown["stream"] == "parking.entry").sort("code").to_dicts()
    assert [(r["field"], r["kind"], r["code"], r["rows"]) for r in rows] == [
        ("lot_id", "lot", "p1", 30), ("lot_id", "lot", "p2", 30)]


def test_freshness_follows_it(parking: Store) -> None:
    assert STALE_AFTER_S["parking.entry"] == 3600
    fresh = freshness(parking, NOW)["parking.entry"]
    assert fresh["stale"] is False and fresh["last_event_ts"] is not None


def test_the_snapshot_core_computes_its_section(parking: Store) -> None:
    from ioc_app import core

    sections = core.domains()
    assert [d.name for d in sections][-1] == "parking"
    snapshots = core.SnapshotCore(parking, ZONE, domains=sections, keep_history=False)
    try:
        snapshots.slow_tick(NOW)
        snapshot = snapshots.compute(NOW + timedelta(seconds=30))
    finally:
        snapshots.close()
    assert snapshot["parking"] == {"cars_last_hour": 60, "lots": ["p1", "p2"]}
    assert "parking.entry" in snapshot["freshness"]


def test_the_simulator_generates_it(parking: Store) -> None:
    sim = Simulator(World(load_site(DEFAULT_SITE), ZONE), only=("parking",))
    hour = int(NOW.timestamp()) // 3600 * 3_600_000
    sent = sim.sent_between(hour, hour + 3_600_000)
    assert list(sent) == ["parking.entry"] and len(sent["parking.entry"]) == 6
    checked = validate(PARKING_ENTRY, sent["parking.entry"], source="sim", now=NOW + timedelta(hours=1))
    assert checked.errors == []


def test_the_catalogue_labels_it(parking: Store) -> None:
    assert t("explore.m.parking.entries", "en") == "Cars in"
    assert t("health.stream.parking.entry") == "停车场道闸"
    assert t("explore.d.lot_id", "en") == "Car park" and t("explore.domain.parking", "en") == "Car parks"
    assert domains.unlabelled(domains.get("parking")) == []  # every measure, dimension, value, stream


def test_its_halves_are_joined_and_checked(parking: Store) -> None:
    """The joined domain has both halves; a metrics half that names a rollup, a dimension or
    an enumeration the ingest half does not declare is refused, naming the file to change."""
    joined = domains.get("parking")
    assert joined.ingest is PARKING_INGEST and joined.metrics is PARKING_METRICS
    wrong = replace(PARKING_METRICS, stale_after_s={}, watched={"entries": Watched(
        "parking_entry_1m", ENTRIES, None, ("gate_id",), "cars driving in")}, references=(), query=replace(
        PARKING_METRICS.query, dimensions=(Dimension("lot_id", "car park code"),
                                           Dimension("direction", "", ("in", "out", "sideways")))))
    found = domains.problems((PARKING_INGEST,), (wrong,))
    assert [p.split(":")[0] for p in found] == ["domain parking"] * len(found)
    text = "\n".join(found)
    assert "metrics/parking.py stale_after_s must name exactly its event streams (parking.entry)" in text
    assert "dimension 'direction' lists (in, out, sideways), but parking.entry.direction" in text
    assert "watched 'entries' splits by gate_id, but parking_entry_1m keeps only lot_id, direction" in text
    assert "references lack parking.entry.lot_id (reference='lot' in its contract)" in text
    alone = domains.problems((PARKING_INGEST,), ())
    assert alone == ["domain parking: ingest/parking.py declares it but no metrics module does; add "
                     "metrics/parking.py ending in DOMAIN = MetricsDomain(...)"]
    layouts.i18n.unregister(LABELS)
    try:
        with pytest.raises(domains.DomainMismatch, match=r"no label 'explore.domain.parking'; add it to "
                                                         r"layouts/i18n/parking\.py"):
            domains.registered()
    finally:
        layouts.i18n.register(LABELS, PARKING_LABELS)
    assert [d.name for d in domains.registered()][-1] == "parking"


def test_its_rollups_come_with_its_metrics_half(parking: Store) -> None:
    """The rollups (and their SQL) are the metrics half's: one that reads a column the contract
    lacks, or a stream without a raw table, is refused naming metrics/parking.py, and a query
    source or watched measure over a rollup it does not declare is refused too."""
    joined = domains.get("parking")
    assert declared.table_names(joined) == ("parking_entry", "parking_entry_1m", "parking_entry_1h")
    assert domains.problems((PARKING_INGEST,), (PARKING_METRICS,)) == []
    minute, hour = PARKING_METRICS.rollups
    wrong = replace(PARKING_METRICS, rollups=(
        minute, replace(hour, dims=("lot_id", "direction", "gate_id")),
        Rollup("parking.exit", "1m", ("lot_id",), (count("cars"),))))
    found = domains.problems((PARKING_INGEST,), (wrong,), labelled=False)
    assert found == [
        "domain parking: metrics/parking.py rollup parking_entry_1h reads column gate_id, which "
        "parking.entry in ingest/parking.py has not; name a field of its contract",
        "domain parking: metrics/parking.py declares a 1m rollup of parking.exit, which has no raw "
        "table in ingest/parking.py (TABLES); declare it there or drop the rollup",
    ], found
    fever = replace(minute, measures=(*minute.measures, Col("hot", "SimpleAggregateFunction(sum, UInt64)",
                                                            "countIf(temperature_c >= 37.3)")))
    assert domains.problems((PARKING_INGEST,), (replace(PARKING_METRICS, rollups=(fever, hour)),),
                            labelled=False) == [
        "domain parking: metrics/parking.py rollup parking_entry_1m reads column temperature_c, which "
        "parking.entry in ingest/parking.py has not; name a field of its contract"]
    only_hour = domains.problems((PARKING_INGEST,), (replace(PARKING_METRICS, rollups=(hour,)),),
                                 labelled=False)
    assert only_hour == [
        "domain parking: metrics/parking.py query source parking.entry needs the rollup "
        "parking_entry_1m, which its rollups= do not declare",
        "domain parking: metrics/parking.py watched 'entries' reads parking_entry_1m, which is no "
        "minute rollup its rollups= declare",
    ], only_hour
    with pytest.raises(ValueError, match=r"declares the 1m rollup of parking\.entry twice"):
        replace(PARKING_METRICS, rollups=(minute, minute, hour))


def test_unregistered_it_is_gone_everywhere(parking: Store) -> None:
    extra = IngestDomain("parking_copy", 95, ())
    ingest.registry.register(extra)
    with pytest.raises(ValueError, match="registered in ingest already"):
        ingest.registry.register(extra)
    ingest.registry.unregister("parking_copy")
    copy = {"explore.domain.parking_copy": {"zh": "停车场副本", "en": "Car park copy"}}
    layouts.i18n.register("a copy", copy)
    assert "explore.domain.parking_copy" in CATALOGUE
    with pytest.raises(ValueError, match="declared in both a copy and another copy"):
        layouts.i18n.register("another copy", {"explore.domain.parking_copy": {"zh": "副本", "en": "Copy"}})
    layouts.i18n.unregister("a copy")
    assert "explore.domain.parking_copy" not in CATALOGUE
    assert [d.name for d in domains.registered()] == ["gate", "network", "service", "enrollment", "parking"]


def test_the_two_registries_are_the_same_code() -> None:
    """Metrics may not import ingest, so each keeps its own registry; they stay one design."""
    root = Path(__file__).resolve().parent.parent

    def registry_code(rel: str) -> str:
        text = (root / rel).read_text(encoding="utf-8")
        start = text.index("class Registry(Generic[D]):")
        return text[start:text.index("\n\n# --- the ", start)]

    assert registry_code("ingest/registry.py") == registry_code("metrics/registry.py")
