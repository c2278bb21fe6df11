"""Freshness: from an ingest 200 to the figure on the snapshot.

Starts the real server (gunicorn, embedded engine, no demo; in ``redis`` mode a local
redis-server is the buffer and fan-out), then, trial after trial, sends one gate pass with
``ts`` = now through ``POST /api/v1/ingest/gate.pass`` and polls ``/api/v1/snapshot`` (with
``If-None-Match``, every 20 ms) until ``gate.today.in`` has grown by one. Reports p50/p95/max
of the time from the 200 to the snapshot showing it, for each mode (``--mode``, default both)
with the previous path (``IOC_CORE_TRIGGER=tick``: the writer's 0.5 s batch age, then the
core's tick ``IOC_TICK_S``) and the commit-driven one (the writer inserts at once, the core
recomputes on the commit), one after the other in the same run, and the ratio of the p95s.

The snapshot is read as a signed-in person (the product is deny by default): a local
``viewer`` account is written into the product's access file before the server starts (what
``python -m ioc_app user add … --roles viewer`` does), and the script signs in once through
``POST /auth/login`` and sends the ``ioc_session`` cookie on every poll.

    .venv/bin/python bench/freshness.py [--trials 40] [--mode embedded|redis|both]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import add_person, session_header, sign_in, wait_healthy, wait_snapshot  # noqa: E402
from bench.ingest import free_port, start_redis  # noqa: E402
from ingest.writer import BATCH_AGE_S  # noqa: E402

VIEWER = "bench-viewer"


def measure(redis: bool, trigger: str, trials: int, tick: str) -> list[float]:
    """Seconds from each ingest 200 to the snapshot showing the event, ``trials`` times."""
    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-fresh-"))
    procs: list[subprocess.Popen] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    port = free_port()
    env.update(IOC_CLICKHOUSE_URL=f"chdb://{tmp / 'engine'}", IOC_TOKENS_FILE=str(tmp / "tokens.toml"),
               IOC_DEMO="0", IOC_PORT=str(port), IOC_TICK_S=tick, IOC_CORE_TRIGGER=trigger,
               PYTHONPATH=str(ROOT))
    try:
        if redis:
            redis_proc, env["IOC_REDIS_URL"] = start_redis(tmp)
            procs.append(redis_proc)
        token = subprocess.run([sys.executable, "-m", "ioc_app", "token", "create", "bench", "--streams",
                                "gate.pass"], env=env, cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.strip()
        password = add_person(env, VIEWER, ("viewer",))
        procs.append(subprocess.Popen([sys.executable, "-m", "ioc_app", "run"], env=env, cwd=ROOT,
                                      stdout=open(tmp / "server.log", "w"), stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, procs[-1], 90, tmp / "server.log")
        cookie = session_header(sign_in(url, VIEWER, password))
        wait_snapshot(url, cookie)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def snapshot(etag: str | None) -> tuple[str | None, dict | None]:
            headers = {**cookie, "If-None-Match": etag} if etag else cookie
            conn.request("GET", "/api/v1/snapshot", headers=headers)
            r = conn.getresponse()
            body = r.read()
            if r.status not in (200, 304):
                raise SystemExit(f"/api/v1/snapshot answered {r.status}")
            return r.headers.get("ETag"), (orjson.loads(body) if r.status == 200 else None)

        etag, snap = snapshot(None)
        latencies = []
        for i in range(trials):
            before = snap["gate"]["today"]["in"]
            event = {"event_id": f"fresh-{i}", "ts": int(datetime.now(UTC).timestamp() * 1000),
                     "campus": "main", "gate_id": "G01", "lane": 1, "direction": "in",
                     "person_type": "student", "method": "face", "result": "pass"}
            conn.request("POST", "/api/v1/ingest/gate.pass", body=orjson.dumps([event]),
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
            acked = time.monotonic()
            while True:
                tag, fresh = snapshot(etag)
                if fresh is not None:
                    etag, snap = tag, fresh
                    if snap["gate"]["today"]["in"] > before:
                        break
                if time.monotonic() - acked > 30:
                    raise SystemExit("the event never reached the snapshot")
                time.sleep(0.02)
            latencies.append(time.monotonic() - acked)
            time.sleep(0.37)  # trials fall at different points of the tick
        return latencies
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--mode", choices=("embedded", "redis", "both"), default="both")
    ap.add_argument("--redis", action="store_true", help="the same as --mode redis")
    ap.add_argument("--tick", default="1", help="IOC_TICK_S of the tick trigger")
    args = ap.parse_args()
    modes = ("redis",) if args.redis else ("embedded", "redis") if args.mode == "both" else (args.mode,)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]  # noqa: E731
    p95 = {}
    for mode in modes:
        for trigger in ("tick", "commit"):
            latencies = measure(mode == "redis", trigger, args.trials, args.tick)
            p95[(mode, trigger)] = q(latencies, .95)
            path = (f"tick {args.tick} s, writer batch age {BATCH_AGE_S} s" if trigger == "tick"
                    else "commit-driven core, adaptive writer")
            print(f"{mode} {trigger}: ingest 200 → on the snapshot, {len(latencies)} trials: "
                  f"p50={q(latencies, .5):.3f} s p95={q(latencies, .95):.3f} s max={max(latencies):.3f} s "
                  f"({path}; load {os.getloadavg()[0]:.2f})", flush=True)
        print(f"{mode}: p95 commit / tick = {p95[(mode, 'commit')] / p95[(mode, 'tick')]:.2f}", flush=True)


if __name__ == "__main__":
    main()
