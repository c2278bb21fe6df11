"""``read.query``, the way the explore page asks analyst questions, on the real app and engine:
the same body as ``GET /api/v1/query/<domain>``, from the same cache entry, refusals as data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app import read
from ioc_app.app import create_app
from ioc_app.settings import Settings
from ioc_app.storage import Store
from tests.conftest import signed_in

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
ARGS = {"grain": ["hour"], "from": [T0.isoformat()], "to": [(T0 + timedelta(hours=2)).isoformat()],
        "measures": ["in,out"], "group_by": ["gate_id"]}


@pytest.fixture()
def app(migrated: Store, tmp_path: Path) -> Iterator[Any]:
    events = [{"event_id": f"r-{i}", "ts": int((T0 + timedelta(minutes=i)).timestamp() * 1000),
               "campus": "main", "gate_id": ("north", "south")[i % 2], "lane": 1,
               "direction": ("in", "in", "out")[i % 3], "person_type": "student", "method": "face",
               "result": "pass"} for i in range(120)]
    result = validate(GATE_PASS, events, source="t")
    migrated.insert(GATE_PASS.table, result.frame)
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False,
                        tokens_file=str(tmp_path / "tokens.toml"), roles_file=str(tmp_path / "roles.toml"))
    dash_app = create_app(settings, store=migrated, background=False)
    yield dash_app.server
    dash_app.server.extensions[read.EXTENSION].pipeline.buffer.close()


def test_the_page_gets_the_apis_answer_from_the_same_cache_entry(app: Any) -> None:
    with app.test_request_context():
        first = read.query("gate", ARGS, max_rows=1000)
    assert first["cache"] == "miss" and first["row_count"] == 4  # 2 hours × 2 gates
    assert sum(r["in"] for r in first["rows"]) == 80 and sum(r["out"] for r in first["rows"]) == 40
    analyst = app.test_client()
    signed_in(app, analyst)
    api = analyst.get("/api/v1/query/gate", query_string={k: v[0] for k, v in ARGS.items()})
    assert api.headers["X-IOC-Cache"] == "hit"  # the page's question filled the API's cache
    body = orjson.loads(api.data)
    assert {k: v for k, v in first.items() if k not in ("cache", "row_count")} == body
    with app.test_request_context():
        again = read.query("gate", {**ARGS, "measures": ["in,out"]}, max_rows=1000)
    assert again["cache"] == "hit" and again["rows"] == body["rows"]


def test_a_refusal_is_data_with_the_apis_message(app: Any) -> None:
    with app.test_request_context():
        refused = read.query("gate", {**ARGS, "grain": ["minute"], "group_by": ["method"]}, max_rows=1000)
        unknown = read.query("admissions", {}, max_rows=1000)
    assert refused["error"] == "bad_parameter" and "grain=hour" in refused["message"]
    assert unknown["error"] == "unknown_domain" and "enrollment" in unknown["message"]


def test_an_answer_longer_than_the_page_keeps_only_its_size(app: Any) -> None:
    with app.test_request_context():
        long = read.query("gate", ARGS, max_rows=3)
    assert long["rows"] is None and long["row_count"] == 4
    zone = app.extensions[read.EXTENSION].settings.zone
    assert long["from"] == T0.astimezone(zone).isoformat() and long["measures"] == ["in", "out"]


def test_the_whitelist_comes_from_metrics(app: Any) -> None:
    from metrics.query import DOMAINS, GRAINS

    described = read.query_whitelist()
    assert list(described["domains"]) == list(DOMAINS) and list(described["grains"]) == list(GRAINS)
    method = next(d for d in described["domains"]["gate"]["dimensions"] if d["name"] == "method")
    assert method["streams"] == {"minute": [], "hour": ["gate.pass"]}
    assert described["grains"]["minute"]["kept_s"] == 63 * 86_400
