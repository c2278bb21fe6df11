"""Accepted means durable: SIGKILL the server at random moments while a client sends events;
every event that got a 200 is in ClickHouse exactly once."""

from __future__ import annotations

import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ingest.gate import GATE_PASS
from tests.conftest import ROOT, Server, free_port, product_env, run_cli
from tests.ingest.strategies import random_events

TOTAL = 200_000
PER_REQUEST = 1_000

COUNT = """
import sys
from ioc_app.storage import Store
s = Store(sys.argv[1])
print(*s.rows("SELECT count(), uniqExact(event_id), countIf(event_id LIKE 'crash-%') FROM gate_pass")[0])
print(s.rows("SELECT sum(attempts) FROM gate_pass_1m")[0][0])
"""


def send(port: int, token: str, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/api/v1/ingest/gate.pass", body=body,
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):  # killed mid-request: no answer
        return 0
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["embedded", "redis"])
def test_sigkill_loses_and_duplicates_nothing(tmp_path: Path, mode: str, request) -> None:
    extra = {}
    if mode == "redis":
        extra["IOC_REDIS_URL"] = request.getfixturevalue("redis_server").url
    env = product_env(tmp_path, **extra)
    made = run_cli(env, "token", "create", "crash", "--streams", "gate.pass")
    token = made.stdout.strip()
    now = datetime.now(UTC)
    template = random_events(GATE_PASS, PER_REQUEST, 9, now)
    batches = []
    for b in range(TOTAL // PER_REQUEST):
        batches.append(orjson.dumps([{**e, "event_id": f"crash-{b}-{i}"} for i, e in enumerate(template)]))
    rng = random.Random(5)
    port = free_port()
    state = {"server": Server(env, port), "kills": 0}
    state["server"].wait_ready(120)
    stop = threading.Event()
    killing = threading.Event()

    def killer() -> None:
        """Kill the server at random moments (mid-request included) and restart it."""
        while not stop.wait(rng.uniform(0.4, 1.5)) and state["kills"] < 8:
            killing.set()
            os.killpg(state["server"].proc.pid, signal.SIGKILL)
            state["server"].proc.wait()
            state["kills"] += 1
            state["server"] = Server(env, port)
            state["server"].wait_ready(120)
            killing.clear()

    acked = []
    unexpected: list[int] = []
    deadline = time.monotonic() + 600

    def sender(mine: list[bytes]) -> None:
        for j, body in enumerate(mine):
            # the traffic spans at least three kills, however fast the server takes it: each
            # quarter of the batches starts only after one more kill
            while state["kills"] < j * 4 // len(mine) and time.monotonic() < deadline:
                time.sleep(0.05)
            while time.monotonic() < deadline:
                status = send(port, token, body)
                if status == 200:
                    acked.append(len(body))
                    break
                if status not in (0, 429, 503):  # never a 4xx for good events, nor a 500
                    unexpected.append(status)
                    return
                time.sleep(0.1)

    threads = [threading.Thread(target=sender, args=(batches[i::2],)) for i in range(2)]
    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        kill_thread.join()
        server = state["server"]
        assert unexpected == [], server.output()
        assert len(acked) == len(batches), "some requests never got a 200"
        assert state["kills"] >= 3, state["kills"]
        time.sleep(3)  # let the writer drain, then stop cleanly and count from a fresh process
    finally:
        stop.set()
        kill_thread.join()
        state["server"].stop()
    done = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"]], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.split("\n")
    total, distinct, ours = map(int, lines[0].split())
    diagnostics = done.stderr[-2000:]
    if mode == "redis":
        import redis

        client = redis.Redis.from_url(extra["IOC_REDIS_URL"])
        diagnostics += (f" xlen={client.xlen('ioc:buffer:gate_pass')} "
                        f"pending={client.xpending('ioc:buffer:gate_pass', 'writers')} "
                        f"depth={client.get('ioc:depth:gate_pass')} "
                        f"intents={client.hgetall('ioc:intent:gate_pass')}")
    assert (total, distinct, ours) == (TOTAL, TOTAL, TOTAL), diagnostics
    assert int(lines[1]) == TOTAL  # and the rollups counted each event once


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
                statuses.append(send(server.port, token, body))  # Redis is down now
                redis_server.start()
            deadline = time.monotonic() + 60
            while True:
                status = send(server.port, token, body)
                statuses.append(status)
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert statuses.count(200) == len(batches)
        assert 503 in statuses and set(statuses) <= {200, 503}
        time.sleep(2)
    finally:
        server.stop()
    done = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"]], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.split("\n")
    assert lines[0].split() == ["40000", "40000", "0"], done.stderr[-2000:]
