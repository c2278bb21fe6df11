"""The ingest and dead-letter API through the real Flask app on the real engine."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ingest.gate import GATE_PASS
from ingest.parse import MAX_BYTES, MAX_EVENTS
from ingest.registry import BY_NAME
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app import auth, read
from ioc_app.app import create_app
from ioc_app.settings import Settings
from ioc_app.storage import Store
from tests.ingest.strategies import random_events

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture()
def client(migrated: Store, tmp_path: Path):
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False,
                        tokens_file=str(tmp_path / "tokens.toml"))
    app = create_app(settings, store=migrated, background=False)
    runtime = app.server.extensions[read.EXTENSION]
    tokens = {
        "gate": auth.create_token(settings.tokens_file, "gate-sys", ["gate.pass"], set(BY_NAME)),
        "admin": auth.create_token(settings.tokens_file, "ops", ["*"], set(BY_NAME)),
    }
    c = app.server.test_client()
    c.runtime, c.tokens = runtime, tokens
    yield c
    runtime.pipeline.buffer.close()


def post(client, body: bytes, ctype: str = "application/json", token: str = "gate",
         stream: str = "gate.pass", **headers: str):
    hdrs = {"Content-Type": ctype, **headers}
    if token:
        hdrs["Authorization"] = f"Bearer {client.tokens.get(token, token)}"
    return client.post(f"/api/v1/ingest/{stream}", data=body, headers=hdrs)


def flush(client) -> None:
    client.runtime.writer.flush_once(force=True)


def stored(client) -> int:
    return client.runtime.store.rows("SELECT count() FROM gate_pass")[0][0]


def test_json_array_partial_acceptance(client) -> None:
    events = random_events(GATE_PASS, 5, 1, NOW)
    events[2]["direction"] = "sideways"
    r = post(client, orjson.dumps(events))
    assert r.status_code == 200
    body = r.get_json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (4, 0, 1)
    assert body["errors"][0]["index"] == 2 and body["errors"][0]["reason"] == "bad_enum"
    flush(client)
    assert stored(client) == 4


def test_single_object_ndjson_csv_and_gzip(client) -> None:
    ev = random_events(GATE_PASS, 4, 2, NOW)
    assert post(client, orjson.dumps(ev[0])).get_json()["accepted"] == 1
    nd = b"\n".join(orjson.dumps(e) for e in ev[1:3]) + b"\n"
    assert post(client, nd, "application/x-ndjson").get_json()["accepted"] == 2
    csv = ("event_id,ts,campus,gate_id,lane,direction,person_type,method,result\n"
           f"csv-1,{int(NOW.timestamp() * 1000)},main,g1,1,in,student,face,pass\n").encode()
    assert post(client, csv, "text/csv; charset=utf-8").get_json()["accepted"] == 1
    gz = gzip.compress(orjson.dumps([ev[3]]))
    assert post(client, gz, **{"Content-Encoding": "gzip"}).get_json()["accepted"] == 1
    flush(client)
    assert stored(client) == 5


def test_same_request_three_times_counts_once(client) -> None:
    body = orjson.dumps(random_events(GATE_PASS, 50, 3, NOW))
    got = [post(client, body).get_json() for _ in range(3)]
    assert [(g["accepted"], g["duplicates"]) for g in got] == [(50, 0), (0, 50), (0, 50)]
    flush(client)
    assert stored(client) == 50


@pytest.mark.parametrize(
    ("token", "stream", "status", "code"),
    [("", "gate.pass", 401, "unauthorized"), ("not-a-token", "gate.pass", 401, "unauthorized"),
     ("gate", "service.call", 403, "forbidden"), ("gate", "gate.passes", 404, "unknown_stream")],
)
def test_auth_errors(client, token: str, stream: str, status: int, code: str) -> None:
    r = post(client, b"[]", token=token, stream=stream)
    assert r.status_code == status
    assert r.get_json()["error"] == code and r.get_json()["message"]


@pytest.mark.parametrize(
    ("body", "ctype", "headers", "status", "needle"),
    [
        (b"[1,2", "application/json", {}, 400, "line 1, column 5"),
        (b'{"a": NaN}', "application/json", {}, 400, "not valid JSON"),
        (b'[{"lane": Infinity}]', "application/json", {}, 400, "NaN and Infinity are not JSON"),
        (b"[" * 2000 + b"]" * 2000, "application/json", {}, 400, "not valid JSON"),
        (b'{"a":1}\n{oops}\n', "application/x-ndjson", {}, 400, "line 2"),
        (b"\xff\xfe\x00bad", "application/json", {}, 400, "not valid JSON"),
        (b"a,b\n\xff\xfe,1\n", "text/csv", {}, 400, "not UTF-8"),
        (b'a,b\n"unclosed,1\n', "text/csv", {}, 400, "CSV"),
        (b"<xml/>", "application/xml", {}, 415, "application/json"),
        (b"[]", "", {}, 415, "Content-Type"),
        (b"not gzip", "application/json", {"Content-Encoding": "gzip"}, 400, "gzip"),
        (b"[]", "application/json", {"Content-Encoding": "br"}, 415, "gzip"),
    ],
)
def test_malformed_bodies(client, body, ctype, headers, status, needle) -> None:
    r = post(client, body, ctype, **headers)
    assert r.status_code == status, r.get_json()
    assert needle in r.get_json()["message"]


def test_size_and_count_limits(client) -> None:
    big = b"[" + b" " * (MAX_BYTES + 10) + b"]"
    assert post(client, big).status_code == 413
    bomb = gzip.compress(b"[" + b" " * (MAX_BYTES * 4) + b"]")
    r = post(client, bomb, **{"Content-Encoding": "gzip"})
    assert r.status_code == 413 and "after decompression" in r.get_json()["message"]
    many = orjson.dumps([{}] * (MAX_EVENTS + 1))
    r = post(client, many)
    assert r.status_code == 413 and "100,000" in r.get_json()["message"]


def test_bad_events_corpus_every_one_kept_with_its_reason(client) -> None:
    good = random_events(GATE_PASS, 12, 10, NOW)
    for ev in good:
        ev.pop("deny_reason", None)
        ev["result"] = "pass"
    corpus = [
        ({**good[0], "lane": 33}, "out_of_range"),
        ({**good[1], "person_key": "x" * 1_000_000}, "too_long"),
        ({**good[2], "campus": "联系人13912345678"}, "pii_not_allowed"),
        ({**good[3], "ts": int(NOW.timestamp() * 1000) + 3_600_000}, "in_future"),
        ({**good[4], "method": "telepathy"}, "bad_enum"),
        ({**good[5], "gate": "typo"}, "unknown_field"),
        ({**good[6], "lane": {"nested": [1, 2, {"deep": True}]}}, "bad_type"),
        ({**good[7], "event_id": ""}, "missing"),
        ("just a string", "not_an_object"),
    ]
    body = [good[8], *(ev for ev, _ in corpus), good[9]]
    r = post(client, orjson.dumps(body)).get_json()
    assert (r["accepted"], r["rejected"]) == (2, len(corpus))
    got = {e["index"]: e["reason"] for e in r["errors"]}
    assert got == {i + 1: reason for i, (_, reason) in enumerate(corpus)}
    flush(client)
    admin = {"Authorization": f"Bearer {client.tokens['admin']}"}
    letters = client.get("/api/v1/deadletter?stream=gate.pass&limit=100", headers=admin).get_json()
    assert sorted(lt["reason"] for lt in letters["letters"]) == sorted(r for _, r in corpus)
    assert stored(client) == 2


def test_injection_strings_are_data_not_code(client) -> None:
    ev = random_events(GATE_PASS, 2, 4, NOW)
    ev[0]["person_key"] = "'; DROP TABLE gate_pass; --"
    ev[1]["person_key"] = "=cmd|' /C calc'!A0"
    assert post(client, orjson.dumps(ev)).get_json()["accepted"] == 2
    flush(client)
    keys = {r[0] for r in client.runtime.store.rows("SELECT person_key FROM gate_pass")}
    assert keys == {ev[0]["person_key"], ev[1]["person_key"]}


def test_dead_letters_listed_and_replayed(client) -> None:
    ev = random_events(GATE_PASS, 2, 5, NOW)
    ev[1]["lane"] = 99
    post(client, orjson.dumps(ev))
    flush(client)
    admin = {"Authorization": f"Bearer {client.tokens['admin']}"}
    assert client.get("/api/v1/deadletter", headers={
        "Authorization": f"Bearer {client.tokens['gate']}"}).status_code == 403
    listed = client.get("/api/v1/deadletter?stream=gate.pass&limit=10", headers=admin).get_json()
    assert listed["count"] == 1
    letter = listed["letters"][0]
    assert letter["reason"] == "out_of_range" and letter["raw"]["lane"] == 99
    assert client.get("/api/v1/deadletter?strem=x", headers=admin).status_code == 400
    fixed = {**letter["raw"], "lane": 9}
    r = client.post("/api/v1/deadletter/replay", headers=admin,
                    json={"fixes": {letter["id"]: fixed}})
    assert r.status_code == 200 and r.get_json()["accepted"] == 1
    flush(client)
    assert stored(client) == 2
    again = client.get("/api/v1/deadletter?stream=gate.pass", headers=admin).get_json()
    assert again["count"] == 0


def test_backpressure_answers_429_then_503(client) -> None:
    pipeline = client.runtime.pipeline
    pipeline.high_water_rows = 1
    assert post(client, orjson.dumps(random_events(GATE_PASS, 2, 6, NOW))).status_code == 200
    r = post(client, orjson.dumps(random_events(GATE_PASS, 1, 7, NOW)))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    pipeline.set_store_down(True)
    r = post(client, orjson.dumps(random_events(GATE_PASS, 1, 8, NOW)))
    assert r.status_code == 503 and r.headers["Retry-After"]


def test_metrics_expose_ingest_counters_and_buffer(client) -> None:
    ev = random_events(GATE_PASS, 3, 9, NOW)
    ev[0]["lane"] = 0
    post(client, orjson.dumps(ev))
    post(client, orjson.dumps(ev[1:]))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'ioc_ingest_events_total{outcome="accepted",stream="gate.pass"} 2.0' in text
    assert 'ioc_ingest_events_total{outcome="duplicate",stream="gate.pass"} 2.0' in text
    assert 'ioc_ingest_events_total{outcome="rejected",stream="gate.pass"} 1.0' in text
    assert "ioc_buffer_depth_events 3.0" in text  # 2 events + 1 dead letter, not yet written
    flush(client)
    text = client.get("/metrics").get_data(as_text=True)
    assert "ioc_buffer_depth_events 0.0" in text and "ioc_writer_rows_total 3.0" in text


def test_readyz_and_health_say_when_the_restart_replay_is_complete(client, engine_path: Path) -> None:
    """A restart whose store is away cannot write what its buffer held: /readyz says the
    replay is not complete (and /health shows it) until the writer has written it."""
    post(client, orjson.dumps(random_events(GATE_PASS, 5, 41, NOW)))
    rt = client.runtime
    assert client.get("/readyz").get_json()["parts"]["buffer"]["replay"] is None  # no writer yet
    rt.pipeline.buffer.close()  # the process stops with the events buffered, and starts again
    rt.pipeline.buffer = WriteAheadLog(rt.settings.wal_dir)
    store = rt.writer.store
    away = Store(f"chdb://{engine_path}", database="absent_" + NOW.strftime("%H%M%S"))
    writer = rt.writer = Writer(away, rt.pipeline.buffer).start()
    try:
        deadline = time.monotonic() + 30
        while not writer.failures and time.monotonic() < deadline:
            time.sleep(0.05)
        replay = client.get("/readyz").get_json()["parts"]["buffer"]["replay"]
        assert replay == {"complete": False, "rows_at_start": 5, "seconds": None}
        with client.application.app_context():
            assert read.pipeline_state()["replaying"] is True
        writer.store = store  # the store is back: the replay completes
        while not writer.replay.complete and time.monotonic() < deadline + 30:
            time.sleep(0.05)
        replay = client.get("/readyz").get_json()["parts"]["buffer"]["replay"]
        assert replay["complete"] is True and replay["seconds"] > 0
        assert stored(client) == 5
        with client.application.app_context():
            assert read.pipeline_state()["replaying"] is False
    finally:
        writer.stop(drain=False)
