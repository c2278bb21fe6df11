"""Ingest through helper processes (Redis mode): the same receipts, dedup, dead letters and
exactly-once store as in process, and a helper that dies costs a 503, not the service."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import orjson
import pytest
import redis

from ingest.gate import GATE_PASS
from ingest.offload import Offload, Request
from ingest.parse import BodyError
from ingest.pipeline import BUFFER_NAMES, Backpressure, Counters
from ingest.redis_buffer import RedisBuffer
from ingest.writer import Writer
from ioc_app.storage import Store
from metrics.deadletter import list_dead_letters
from tests.ingest.strategies import random_events

NOW = datetime.now(UTC).replace(microsecond=0)


def json_request(events: list, source: str = "t") -> Request:
    return Request(orjson.dumps(events), "application/json", None, source)


@pytest.fixture
def offload(redis_server):
    counters = Counters()
    off = Offload(redis_server.url, relaxed=False, processes=2, counters=counters)
    yield off
    off.close()


def drain(store: Store, url: str) -> None:
    buffer = RedisBuffer(redis.Redis.from_url(url), BUFFER_NAMES, "test-writer")
    Writer(store, buffer).flush_once(force=True)


def test_concurrent_requests_are_kept_once_with_their_receipts(migrated: Store, redis_server,
                                                               offload: Offload) -> None:
    batches = [random_events(GATE_PASS, 200, seed, NOW) for seed in range(24)]
    ndjson = b"\n".join(orjson.dumps(e) for e in random_events(GATE_PASS, 50, 99, NOW))
    bad = random_events(GATE_PASS, 10, 100, NOW)
    bad[3]["direction"] = "sideways"
    bad[7]["lane"] = True
    with ThreadPoolExecutor(12) as pool:
        receipts = list(pool.map(lambda b: offload.submit(GATE_PASS, json_request(b)), batches))
    assert [r.accepted for r in receipts] == [200] * 24
    nd = offload.submit(GATE_PASS, Request(ndjson, "application/x-ndjson", None, "t"))
    assert (nd.accepted, nd.rejected) == (50, 0)
    mixed = offload.submit(GATE_PASS, json_request(bad, "gatesys"))
    assert (mixed.accepted, mixed.rejected) == (8, 2)
    assert [(e["index"], e["field"], e["reason"]) for e in mixed.errors] == [
        (3, "direction", "bad_enum"), (7, "lane", "bad_type")]
    again = offload.submit(GATE_PASS, json_request(batches[5]))  # a client's retry
    assert (again.accepted, again.duplicates) == (0, 200)
    drain(migrated, redis_server.url)
    assert migrated.rows("SELECT count(), uniqExact(event_id) FROM gate_pass")[0] == (24 * 200 + 58,) * 2
    letters = list_dead_letters(migrated, "gate.pass")
    assert sorted(letters["reason"].to_list()) == ["bad_enum", "bad_type"]
    assert set(letters["source"].to_list()) == {"gatesys"}
    seen = offload.counters.snapshot()
    assert seen[("gate.pass", "accepted")] == 24 * 200 + 58
    assert seen[("gate.pass", "duplicate")] == 200
    assert seen[("gate.pass", "rejected")] == 2


def test_bad_bodies_are_refused_like_in_process(offload: Offload) -> None:
    with pytest.raises(BodyError) as err:
        offload.submit(GATE_PASS, Request(b'[{"event_id": "a",', "application/json", None, "t"))
    assert err.value.status == 400 and "line 1" in err.value.message
    csv = offload.submit(GATE_PASS, Request(b"event_id,ts\nx1,2020-01-01T00:00:00Z\n",
                                            "text/csv", None, "t"))
    assert csv.rejected == 1 and {e["reason"] for e in csv.errors} >= {"missing", "too_old"}


def test_a_helper_that_dies_costs_a_503_and_the_next_request_goes_in(offload: Offload) -> None:
    first = offload.submit(GATE_PASS, json_request(random_events(GATE_PASS, 5, 1, NOW)))
    assert first.accepted == 5
    pool = offload._executor()
    for pid in list(pool._processes):  # the helpers of the running pool
        os.kill(pid, signal.SIGKILL)
    outcomes = []
    for seed in (2, 3, 4):  # the first may still reach the dead pool
        try:
            outcomes.append(offload.submit(GATE_PASS, json_request(
                random_events(GATE_PASS, 5, seed, NOW))).accepted)
        except Backpressure as exc:
            assert exc.status == 503 and "send it again" in exc.message
            outcomes.append(503)
    assert outcomes[-1] == 5 and set(outcomes) <= {5, 503}


def test_helpers_end_when_their_web_process_is_killed(tmp_path, redis_server) -> None:
    import subprocess
    import sys
    import time

    script = tmp_path / "web.py"
    script.write_text(
        "import sys, orjson\n"
        "from ingest.gate import GATE_PASS\n"
        "from ingest.offload import Offload, Request\n"
        "if __name__ == '__main__':\n"
        f"    off = Offload({redis_server.url!r}, relaxed=False, processes=2)\n"
        "    ev = [{'event_id': 'k1', 'ts': 'now', 'campus': 'c'}]\n"
        "    off.submit(GATE_PASS, Request(orjson.dumps(ev), 'application/json', None, 't'))\n"
        "    print(*[p for p in off._executor()._processes], flush=True)\n"
        "    sys.stdin.read()\n")
    web = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True, cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    helpers = [int(p) for p in web.stdout.readline().split()]
    assert helpers and all(_alive(p) for p in helpers)
    web.kill()
    web.wait()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in helpers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (ended, not yet reaped by its new parent) is gone for our purpose
        return open(f"/proc/{pid}/stat").read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_a_pool_shut_down_by_the_other_stage_is_renewed_not_a_500(offload: Offload) -> None:
    """Two stages of a stream share the helpers' pool: when one meets a dead helper it shuts
    the pool down, and the other may be about to hand its group to that very pool. Nothing
    ran there, so the group must go to a fresh pool instead of failing with a 500."""
    assert offload.submit(GATE_PASS, json_request(random_events(GATE_PASS, 5, 11, NOW))).accepted == 5
    offload._executor().shutdown(wait=True)  # what the other stage did; this one still holds it
    receipt = offload.submit(GATE_PASS, json_request(random_events(GATE_PASS, 5, 12, NOW)))
    assert receipt.accepted == 5
