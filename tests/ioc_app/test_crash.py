"""Accepted means durable: SIGKILL the server and redis-server at random moments and at the
fault points of the ingest path while clients send events; every event that got a 200 is in
ClickHouse exactly once, in the raw table and in the rollups the snapshot reads."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from bench import chaos
from ingest.gate import GATE_PASS
from tests.conftest import ROOT, Server, free_port, product_env, run_cli
from tests.ingest.strategies import random_events

COUNT = """
import sys
from ioc_app.storage import Store
s = Store(sys.argv[1])
print(*s.rows("SELECT count(), uniqExact(event_id), countIf(event_id LIKE 'crash-%') FROM gate_pass")[0])
print(s.rows("SELECT sum(attempts) FROM gate_pass_1m")[0][0])
"""

@pytest.mark.parametrize("mode", ["embedded", "redis"])
def test_kills_at_random_moments_and_fault_points_lose_and_duplicate_nothing(tmp_path: Path,
                                                                            mode: str) -> None:
    """The server (with its helpers and writer) and redis-server are SIGKILLed at random
    moments and at the fault points of the ingest path while four clients send; after a
    clean restart has replayed its buffer, every acknowledged id is stored once, nothing
    unknown is stored, and the minute and hour rollups count exactly the distinct events."""
    verdict = chaos.run(mode, tmp_path / "run", batches=120, clients=4, kills=8, seed=7,
                        interval=(1.5, 4.0), limit_s=600)
    assert sum(verdict.kills.values()) >= 8, verdict.line()
    assert verdict.acked == verdict.sent, verdict.line()
    assert (verdict.lost, verdict.twice, verdict.unknown) == (0, 0, 0), verdict.line()
    assert verdict.minute == verdict.hour == verdict.distinct == verdict.sent, verdict.line()
    assert verdict.replay_s is not None, verdict.line()

def test_redis_restarts_under_traffic_lose_nothing(tmp_path: Path, redis_server) -> None:
    """While Redis is down the API answers 503 (never 200); after each restart (AOF) the
    sender's retries go through and every acknowledged event is stored exactly once."""
    env = product_env(tmp_path, IOC_REDIS_URL=redis_server.url)
    token = run_cli(env, "token", "create", "rr", "--streams", "gate.pass").stdout.strip()
    now = datetime.now(UTC)
    template = random_events(GATE_PASS, 500, 31, now)
    batches = [orjson.dumps([{**e, "event_id": f"rr-{b}-{i}"} for i, e in enumerate(template)])
               for b in range(80)]
    server = Server(env, free_port())
    server.wait_ready(120)
    statuses: list[int] = []
    try:
        for k, body in enumerate(batches):
            if k in (20, 50):
                redis_server.stop()
                statuses.append(chaos.send(server.port, token, body))  # Redis is down now
                redis_server.start()
            deadline = time.monotonic() + 60
            while True:
                status = chaos.send(server.port, token, body)
                statuses.append(status)
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert statuses.count(200) == len(batches)
        assert 503 in statuses and set(statuses) <= {200, 503}
        server.wait_drained()
    finally:
        server.stop()
    done = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"]], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.split("\n")
    assert lines[0].split() == ["40000", "40000", "0"], done.stderr[-2000:]
