"""``/api/v1/snapshot``, ``/readyz`` and ``/metrics`` through the real app on the real engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ioc_app import read
from ioc_app.storage import Store
from tests.conftest import app_on, signed_in
from tests.ioc_app.test_core import add_gate_events


@pytest.fixture()
def client(migrated: Store, tmp_path: Path):
    app = app_on(migrated, tmp_path)
    c = app.server.test_client()
    signed_in(app, c)
    c.runtime = app.server.extensions[read.EXTENSION]
    yield c
    c.runtime.pipeline.buffer.close()


def test_etag_and_304_until_a_new_version(client) -> None:
    first = client.get("/api/v1/snapshot")
    assert first.status_code == 200 and first.mimetype == "application/json"
    body = orjson.loads(first.data)
    assert first.headers["ETag"] == f'"{body["version"]}"'
    same = client.get("/api/v1/snapshot", headers={"If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304 and same.data == b""
    client.runtime.core.tick()  # the same figures: still the same version
    again = client.get("/api/v1/snapshot", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    add_gate_events(client.runtime.store, datetime.now(UTC), 4)
    client.runtime.core.tick()
    newer = client.get("/api/v1/snapshot", headers={"If-None-Match": first.headers["ETag"]})
    assert newer.status_code == 200
    assert orjson.loads(newer.data)["version"] > body["version"]


def test_replay_a_stored_minute(client) -> None:
    core = client.runtime.core
    t0 = datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=5)
    a = core.tick(t0)
    b = core.tick(t0 + timedelta(minutes=1))
    at = (t0 + timedelta(seconds=50)).astimezone().isoformat()
    r = client.get("/api/v1/snapshot", query_string={"at": at})
    assert r.status_code == 200 and r.data == a.body
    r = client.get("/api/v1/snapshot", query_string={"at": (t0 + timedelta(minutes=1)).isoformat()})
    assert r.data == b.body
    early = client.get("/api/v1/snapshot", query_string={"at": "2000-01-01T00:00:00Z"})
    assert early.status_code == 404 and "later time" in early.json["message"]
    bad = client.get("/api/v1/snapshot", query_string={"at": "yesterday"})
    assert bad.status_code == 400 and "RFC 3339" in bad.json["message"]


def test_unknown_parameters_name_the_allowed_ones(client) -> None:
    r = client.get("/api/v1/snapshot?verison=3")
    assert r.status_code == 400
    assert r.json["error"] == "unknown_parameter" and "at, year" in r.json["message"]
    assert client.get("/api/v1/snapshot?year=20x6").status_code == 400


def test_another_admission_year(client) -> None:
    r = client.get("/api/v1/snapshot?year=2024")
    assert r.status_code == 200
    data = orjson.loads(r.data)
    assert data["enrollment"]["year"] == 2024
    assert data["gate"] == orjson.loads(client.get("/api/v1/snapshot").data)["gate"]


def test_readyz_reports_each_part_and_metrics_the_core(client) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["status"] == "ready"
    parts = r.json["parts"]
    assert parts["store"]["ok"] is True and parts["snapshot"]["version"] >= 1
    assert set(parts["streams"]) >= {"gate.pass", "network.link"}
    assert parts["scheduler"]["runs_here"] is True
    text = client.get("/metrics").data.decode()
    for name in ("ioc_snapshot_version", "ioc_snapshot_age_seconds", "ioc_core_ticks_total",
                 "ioc_snapshot_compute_seconds_bucket", 'ioc_store_statements_total{origin="core"}',
                 'ioc_http_request_seconds_count{method="GET",route="/readyz",status="200"}'):
        assert name in text, name


def test_readyz_503_without_store_and_snapshot(client) -> None:
    client.runtime.core.feed._current = None  # a process that never computed one
    client.runtime.store.command(f"DROP DATABASE {client.runtime.store.database}")
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json["parts"]["store"]["ok"] is False
    assert client.get("/api/v1/snapshot").status_code == 503
