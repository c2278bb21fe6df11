"""The scaled mode's ``ingest`` process: it drains what web processes buffered in Redis,
and a replacement takes over the batches of one killed mid-insert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import redis

from ingest.gate import GATE_PASS
from ingest.pipeline import BUFFER_NAMES, Pipeline
from ingest.redis_buffer import RedisBuffer
from ingest.redis_seen import RedisSeenSet
from tests.conftest import ROOT, product_env, run_cli
from tests.ingest.strategies import random_events

COUNT = """
import sys
from ioc_app.storage import Store
print(*Store(sys.argv[1]).rows("SELECT count(), uniqExact(event_id) FROM gate_pass")[0])
"""


def start_ingest(env: dict[str, str], name: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ioc_app", "ingest", "--consumer", name, "--claim-idle-s", "1"],
        env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def test_ingest_process_drains_and_replacement_takes_over(tmp_path: Path, migrated, redis_server) -> None:
    env = product_env(tmp_path, IOC_REDIS_URL=redis_server.url)
    client = redis.Redis.from_url(redis_server.url)
    web = Pipeline(migrated, RedisBuffer(client, BUFFER_NAMES, "web"), RedisSeenSet(client))
    now = datetime.now(UTC)
    first = start_ingest(env, "ingest-a", tmp_path / "a.log")
    stream = "ioc:buffer:gate_pass"
    pending_at_kill = 0
    for seed in range(60):  # web processes accept while the ingest process writes
        web.submit(GATE_PASS, random_events(GATE_PASS, 1000, 100 + seed, now), source="web", now=now)
        if seed == 40:
            deadline = time.monotonic() + 60
            while not pending_at_kill and time.monotonic() < deadline:
                # the first ingest process has read batches it has not acknowledged yet
                try:
                    pending_at_kill = client.xpending(stream, "writers")["pending"]
                except redis.ResponseError:  # its consumer group does not exist yet
                    time.sleep(0.01)
            os.killpg(first.pid, signal.SIGKILL)  # dies with batches read but not acknowledged
            first.wait()
    assert pending_at_kill > 0
    second = start_ingest(env, "ingest-b", tmp_path / "b.log")
    deadline = time.monotonic() + 120
    while int(client.get("ioc:depth:gate_pass") or 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(second.pid, signal.SIGTERM)
    assert second.wait(60) == 0, (tmp_path / "b.log").read_text()[-2000:]
    assert client.xlen(stream) == 0
    assert "event=redis.claimed" in (tmp_path / "b.log").read_text()
    done = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"]], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["60000", "60000"], done.stderr[-2000:]


def test_ingest_process_needs_redis(tmp_path: Path) -> None:
    done = run_cli(product_env(tmp_path), "ingest")
    assert done.returncode == 2 and "IOC_REDIS_URL" in done.stderr
