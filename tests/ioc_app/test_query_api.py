"""``GET /api/v1/query/<domain>`` through the real app on the real engine: JSON and CSV
answers, error bodies, and the cache (in-process and on a real Redis).

The store is a counting subclass of the real one, so "the second call did not reach
ClickHouse" is observed, not assumed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import polars as pl
import pytest
import redis
from flask import g

from ingest.enrollment import ENROLLMENT_ADMISSION
from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app import read
from ioc_app.access import principal
from ioc_app.app import create_app
from ioc_app.permissions import Principal
from ioc_app.query_service import EXTENSION, KEY_PREFIX, LIVE_TIMEOUT_S, PAST_TIMEOUT_S, cache_timeout
from ioc_app.settings import Settings
from ioc_app.storage import Store, StoreError
from metrics.query import parse_spec
from tests.conftest import signed_in

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(UTC)
T0 = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)  # a closed past range
GATES = ("东门", "=1+2", "north")


class CountingStore(Store):
    """The real store, counting the analyst queries (their SQL names the ``p_*`` parts) and
    able to play an unreachable store."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.analyst_queries = 0
        self.down = False

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pl.DataFrame:
        if " AS p_" in sql:
            if self.down:
                raise StoreError("connection refused (in a test)")
            self.analyst_queries += 1
        return super().query(sql, parameters)


def passes(n: int, start: datetime, seed: int) -> list[dict[str, Any]]:
    """``n`` gate passes, one per minute from ``start``, cycling through gates and directions."""
    out = []
    for i in range(n):
        out.append({"event_id": f"q{seed}-{i}", "ts": int((start + timedelta(minutes=i)).timestamp() * 1000),
                    "campus": "main", "gate_id": GATES[i % 3], "lane": 1,
                    "direction": ("in", "out")[i % 2], "person_type": "student", "method": "face",
                    "result": "pass"})
    return out


def store_events(store: Store, events: list[dict[str, Any]]) -> None:
    result = validate(GATE_PASS, events, source="t")
    assert result.errors == []
    store.insert(GATE_PASS.table, result.frame)


def make_client(store: Store, tmp_path: Path, redis_url: str = "") -> Any:
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False,
                        tokens_file=str(tmp_path / "tokens.toml"), roles_file=str(tmp_path / "roles.toml"),
                        redis_url=redis_url)
    app = create_app(settings, store=store, background=False)
    c = app.server.test_client()
    signed_in(app, c)
    c.runtime = app.server.extensions[read.EXTENSION]
    c.state = app.server.extensions[EXTENSION]
    return c


@pytest.fixture()
def counting(migrated: Store, engine_path: Path) -> Iterator[CountingStore]:
    s = CountingStore(f"chdb://{engine_path}", database=migrated.database)
    yield s
    s.close()


@pytest.fixture()
def client(counting: CountingStore, tmp_path: Path) -> Iterator[Any]:
    store_events(counting, passes(180, T0, 1))  # 3 hours, 60 per hour, 20 per gate
    c = make_client(counting, tmp_path)
    yield c
    c.runtime.pipeline.buffer.close()


PAST = {"grain": "hour", "from": T0.isoformat(), "to": (T0 + timedelta(hours=3)).isoformat()}


def test_json_answer(client: Any) -> None:
    r = client.get("/api/v1/query/gate", query_string={**PAST, "group_by": "gate_id",
                                                       "measures": "in,out,deny_rate"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = orjson.loads(r.data)
    assert body["domain"] == "gate" and body["grain"] == "hour" and body["zone"] == "Asia/Shanghai"
    assert body["from"] == T0.astimezone(ZONE).isoformat()
    assert body["to"] == (T0 + timedelta(hours=3)).astimezone(ZONE).isoformat()
    assert body["measures"] == ["in", "out", "deny_rate"] and body["group_by"] == ["gate_id"]
    rows = body["rows"]
    assert len(rows) == 9  # 3 hours × 3 gates
    assert rows[0]["hour"] == T0.astimezone(ZONE).isoformat() and rows[0]["hour"].endswith("+08:00")
    assert sum(row["in"] for row in rows) == 90 and sum(row["out"] for row in rows) == 90
    assert {row["gate_id"] for row in rows} == set(GATES)
    assert all(row["deny_rate"] == 0.0 for row in rows)
    assert r.headers["X-IOC-Cache"] == "miss"


def test_days_and_minutes_are_local(client: Any) -> None:
    day = client.get("/api/v1/query/gate", query_string={"grain": "day", "from": T0.isoformat(),
                                                         "to": (T0 + timedelta(hours=3)).isoformat()})
    rows = orjson.loads(day.data)["rows"]
    assert [r["day"] for r in rows] == sorted({(T0 + timedelta(hours=h)).astimezone(ZONE).date().isoformat()
                                               for h in range(3)})
    assert sum(r["attempts"] for r in rows) == 180
    minute = client.get("/api/v1/query/gate", query_string={
        "grain": "minute", "from": T0.isoformat(), "to": (T0 + timedelta(minutes=30)).isoformat()})
    rows = orjson.loads(minute.data)["rows"]
    assert len(rows) == 30 and rows[1]["minute"] == (T0 + timedelta(minutes=1)).astimezone(ZONE).isoformat()


def test_second_identical_call_is_served_from_the_cache(client: Any, counting: CountingStore) -> None:
    url = "/api/v1/query/gate"
    first = client.get(url, query_string={**PAST, "measures": "attempts", "gate_id": ["north", "东门"]})
    assert first.headers["X-IOC-Cache"] == "miss" and counting.analyst_queries == 1
    again = client.get(url, query_string={**PAST, "measures": "attempts", "gate_id": ["north", "东门"]})
    assert again.headers["X-IOC-Cache"] == "hit" and again.data == first.data
    # the same question in another order, or in the other format, is the same entry
    reordered = client.get(url, query_string={"gate_id": ["东门", "north"], "measures": "attempts", **PAST})
    as_csv = client.get(url, query_string={**PAST, "measures": "attempts", "gate_id": ["north", "东门"],
                                           "format": "csv"})
    assert reordered.headers["X-IOC-Cache"] == "hit" and as_csv.headers["X-IOC-Cache"] == "hit"
    assert counting.analyst_queries == 1  # ClickHouse was asked once
    # new events in the range are not seen while the answer is cached …
    store_events(counting, passes(6, T0, 2))
    stale = client.get(url, query_string={**PAST, "measures": "attempts", "gate_id": ["north", "东门"]})
    assert stale.data == first.data and counting.analyst_queries == 1
    # … and are once it is gone
    client.state.cache.clear()
    fresh = client.get(url, query_string={**PAST, "measures": "attempts", "gate_id": ["north", "东门"]})
    assert fresh.headers["X-IOC-Cache"] == "miss" and counting.analyst_queries == 2
    total = sum(row["attempts"] for row in orjson.loads(fresh.data)["rows"])
    assert total == 120 + 4  # 2 of 3 gates, 4 of the 6 new passes


def test_a_different_question_is_a_different_entry(client: Any, counting: CountingStore) -> None:
    client.get("/api/v1/query/gate", query_string={**PAST, "measures": "in"})
    other = client.get("/api/v1/query/gate", query_string={**PAST, "measures": "out"})
    assert other.headers["X-IOC-Cache"] == "miss" and counting.analyst_queries == 2
    assert orjson.loads(other.data)["measures"] == ["out"]


def test_csv_answer_opens_in_excel(client: Any) -> None:
    r = client.get("/api/v1/query/gate", query_string={**PAST, "group_by": "gate_id",
                                                       "measures": "in,out", "format": "csv"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv; charset=utf-8"
    start = T0.astimezone(ZONE).strftime("%Y%m%dT%H%M")
    end = (T0 + timedelta(hours=3)).astimezone(ZONE).strftime("%Y%m%dT%H%M")
    assert r.headers["Content-Disposition"] == f'attachment; filename="ioc-gate-hour-{start}-{end}.csv"'
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["hour", "gate_id", "gate_id_name", "in", "out"]
    assert len(rows) == 1 + 9
    gates = {row[1] for row in rows[1:]}
    assert gates == {"东门", "'=1+2", "north"}  # a formula-looking code is text, not a formula
    # beside each code its catalogue name; these codes are not in it, so they are marked
    assert {row[2] for row in rows[1:]} == {"东门（未登记）", "'=1+2（未登记）", "north（未登记）"}
    assert rows[1][0] == T0.astimezone(ZONE).isoformat()
    assert sum(int(row[3]) for row in rows[1:]) == 90


ERRORS = [  # (query, status, code, what the message must say)
    ("gate?frm=2026-09-01", 400, "bad_parameter", ["unknown parameter 'frm'", "format", "gate_id"]),
    ("gate?grain=week", 400, "bad_parameter", ["minute, hour, day"]),
    ("gate?measures=entries", 400, "bad_parameter", ["unknown measure 'entries'", "attempts, in, out"]),
    ("gate?group_by=lane", 400, "bad_parameter", ["cannot group by 'lane'", "campus, gate_id"]),
    ("gate?result=maybe", 400, "bad_parameter", ["use one of: pass, deny"]),
    ("gate?grain=minute&group_by=method", 400, "bad_parameter", ["grain=hour or grain=day"]),
    ("gate?from=2026-09-01T08:00:99", 400, "bad_parameter", ["not an RFC 3339 time"]),
    ("gate?grain=minute&from=2020-01-01T00:00:00Z", 400, "bad_parameter", ["at most 2 days"]),
    ("gate?format=pdf", 400, "bad_parameter", ["use one of: json, csv, xlsx"]),
    ("gate?format=csv&format=json", 400, "bad_parameter", ["format is given 2 times"]),
    ("gate?group_by=gate_id%3B%20DROP%20TABLE%20gate_pass", 400, "bad_parameter", ["cannot group by"]),
    ("admissions", 404, "unknown_domain", ["gate", "network", "service", "enrollment"]),
    ("gate?grain=season", 400, "bad_parameter", ["grain=season is not a grain of gate", "minute, hour, day"]),
    ("enrollment?grain=hour", 400, "bad_parameter", ["takes grain day, season"]),
    ("enrollment?measures=admitted&group_by=campus", 400, "bad_parameter",
     ["campus does not apply to measure admitted"]),
    ("enrollment?province=99", 400, "bad_parameter", ["use one of: 11, 12"]),
    ("enrollment?grain=season&from=1990-01-01", 400, "bad_parameter", ["at most 20 seasons"]),
]


def test_errors_say_what_to_change(client: Any, counting: CountingStore) -> None:
    for query, status, code, needles in ERRORS:  # one app for all: building one takes seconds
        r = client.get(f"/api/v1/query/{query}")
        assert r.status_code == status and r.mimetype == "application/json", query
        body = orjson.loads(r.data)
        assert body["error"] == code, query
        for needle in needles:
            assert needle in body["message"], (query, body["message"])
    assert counting.analyst_queries == 0


def test_injection_in_a_filter_value_is_data(client: Any, counting: CountingStore) -> None:
    r = client.get("/api/v1/query/gate", query_string={**PAST, "measures": "attempts",
                                                       "gate_id": "north' OR 1=1; DROP TABLE gate_pass --"})
    assert r.status_code == 200
    assert sum(row["attempts"] for row in orjson.loads(r.data)["rows"]) == 0
    assert counting.rows("SELECT count() FROM gate_pass")[0][0] == 180


def test_unreachable_store_is_503_and_not_cached(client: Any, counting: CountingStore) -> None:
    counting.down = True
    r = client.get("/api/v1/query/gate", query_string=PAST)
    assert r.status_code == 503 and r.headers["Retry-After"]
    body = orjson.loads(r.data)  # a code and a correlation id, never the store's message
    assert body["error"] == "store_unavailable" and set(body) == {"error", "id"}
    counting.down = False
    r = client.get("/api/v1/query/gate", query_string=PAST)
    assert r.status_code == 200 and r.headers["X-IOC-Cache"] == "miss"


def test_timeout_is_short_while_the_range_is_filling_up() -> None:
    now = datetime(2026, 9, 1, 10, 17, 42, tzinfo=UTC)
    live = parse_spec("gate", {}, ZONE, now)  # up to now
    recent = parse_spec("gate", {"grain": ["minute"], "to": ["2026-09-01T10:14:00Z"]}, ZONE, now)
    past = parse_spec("gate", {"to": ["2026-09-01T09:00:00Z"]}, ZONE, now)
    assert cache_timeout(live, now) == LIVE_TIMEOUT_S and cache_timeout(recent, now) == LIVE_TIMEOUT_S
    assert cache_timeout(past, now) == PAST_TIMEOUT_S


def test_redis_cache_shared_and_expiring(counting: CountingStore, tmp_path: Path, redis_server: Any) -> None:
    store_events(counting, passes(180, T0, 1))
    c = make_client(counting, tmp_path, redis_url=redis_server.url)
    try:
        assert c.state.backend == "redis"
        first = c.get("/api/v1/query/gate", query_string={**PAST, "group_by": "direction"})
        second = c.get("/api/v1/query/gate", query_string={**PAST, "group_by": "direction"})
        assert (first.headers["X-IOC-Cache"], second.headers["X-IOC-Cache"]) == ("miss", "hit")
        assert first.data == second.data and counting.analyst_queries == 1
        r = redis.Redis.from_url(redis_server.url)
        keys = r.keys(KEY_PREFIX + "*")
        assert len(keys) == 1
        assert LIVE_TIMEOUT_S < r.ttl(keys[0]) <= PAST_TIMEOUT_S  # a closed past range
        live = c.get("/api/v1/query/gate", query_string={"grain": "minute"})  # the last hour, up to now
        assert live.status_code == 200 and live.headers["X-IOC-Cache"] == "miss"
        live_keys = set(r.keys(KEY_PREFIX + "*")) - set(keys)
        assert len(live_keys) == 1 and 0 < r.ttl(live_keys.pop()) <= LIVE_TIMEOUT_S
        # another app on the same Redis (another worker) finds the answer there
        other = make_client(counting, tmp_path / "other", redis_url=redis_server.url)
        try:
            shared = other.get("/api/v1/query/gate", query_string={**PAST, "group_by": "direction"})
            assert shared.headers["X-IOC-Cache"] == "hit" and counting.analyst_queries == 2
        finally:
            other.runtime.pipeline.buffer.close()
        r.close()
    finally:
        c.runtime.pipeline.buffer.close()


# --- enrollment: latest states and the small-cell rule ------------------------------------------

def admissions(year: int, at: datetime) -> list[dict[str, Any]]:
    """Four candidates admitted in Hubei (42) and one alone in Beijing (11), whose score would
    be that one person's."""
    base = {"year": year, "batch": "regular", "category": "general", "track": "physics", "college": "cs",
            "major": "080901", "status": "admitted"}
    out = [{**base, "event_id": f"e-{i}", "ts": int(at.timestamp() * 1000), "candidate_key": f"c{i}",
            "province": "42", "score": 600.0 + 2 * i} for i in range(4)]
    out.append({**base, "event_id": "e-alone", "ts": int(at.timestamp() * 1000), "candidate_key": "alone",
                "province": "11", "score": 601.5})
    return out


def test_enrollment_scores_are_exact_only_for_the_admissions_role(client: Any,
                                                                   counting: CountingStore) -> None:
    year = NOW.astimezone(ZONE).year
    result = validate(ENROLLMENT_ADMISSION, admissions(year, NOW - timedelta(hours=2)), source="t")
    assert result.errors == []
    counting.insert(ENROLLMENT_ADMISSION.table, result.frame)
    question = {"grain": "season", "group_by": "province", "measures": "admitted,score_avg,score_max"}

    def scores(body: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
        return {r["province"]: (r["admitted"], r["score_avg"], r["score_max"]) for r in body["rows"]
                if r["season"] == str(year)}

    signed_in(client.application, client, roles=("analyst",), name="analyst-only")
    hidden = client.get("/api/v1/query/enrollment", query_string=question)
    assert hidden.status_code == 200, hidden.data
    # the lone candidate's score is hidden, and Hubei's with it (else the year's total would tell it)
    assert scores(orjson.loads(hidden.data)) == {"11": (1, None, None), "42": (4, None, None)}
    assert b"601.5" not in hidden.data
    signed_in(client.application, client, roles=("analyst", "admissions"), name="office")
    exact = client.get("/api/v1/query/enrollment", query_string=question)
    assert exact.headers["X-IOC-Cache"] == "miss"  # another entry than the rule's answer
    # the season before is not stored: a comparison with it is refused, not read as zeros
    before = client.get("/api/v1/query/enrollment", query_string={**question, "compare": "last_year"})
    assert before.status_code == 400 and "compare=last_year" in orjson.loads(before.data)["message"]
    assert scores(orjson.loads(exact.data)) == {"11": (1, 601.5, 601.5), "42": (4, 603.0, 606.0)}
    # /explore asks through read.query: a viewer sees the rule's answer, the office the exact one
    args = {k: [v] for k, v in question.items()}
    for roles, want in ((("viewer",), (1, None, None)), (("viewer", "admissions"), (1, 601.5, 601.5))):
        with client.application.test_request_context():
            g.principal = Principal.person("someone", roles, "local")
            assert principal().roles == roles
            body = read.query("enrollment", args, max_rows=1000)
        assert scores(body)["11"] == want, roles
        assert body["cache"] == "hit"  # the API's answers above, per rule
