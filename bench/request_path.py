"""The ingest request path in one process: CPU per event, stage by stage, before and after.

In embedded mode one process parses, validates, deduplicates, logs and inserts every event,
so what an event costs there in CPU — much of it under the interpreter lock — bounds the
ingest rate. Wall-clock rates move with whatever else the machine runs; CPU per event much
less, so this bench reports CPU (the process's, every thread included: Polars' and the
engine's pools too) per event:

- ``parse``: the JSON bodies (1,000 gate events each) into events (``ingest.parse``);
- ``path, one at a time``: parse + ``Pipeline.submit`` (validation, dedup, the write-ahead
  log with its fsync) for one request after the other — each validated alone;
- ``path, N threads``: the same from concurrent request threads, so requests are validated
  in groups as under load;
- ``write``: the writer draining that log into the store (chDB, rollups on).

``--before REF`` runs the same measurements on the product as of git revision REF (its
``ingest``/``ioc_app`` packages, from ``git archive``), alternating with the current tree,
and prints the ratios.

    .venv/bin/python bench/request_path.py [--events 200000] [--threads 16] [--before main]
                                           [--rounds 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(root: Path, events_n: int, per_request: int, threads: int) -> dict[str, float]:
    """Measure in this process, importing the product from ``root``."""
    sys.path.insert(0, str(root))
    from datetime import UTC, datetime

    import orjson

    from bench.validate import make_events
    from ingest.parse import parse_body
    from ingest.pipeline import build_ingest
    from ingest.registry import BY_NAME
    from ioc_app.migrate import migrate
    from ioc_app.storage import Store

    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-path-"))
    try:
        store = Store(f"chdb://{tmp / 'ch'}")
        migrate(store)
        pipeline, writer = build_ingest(store, wal_dir=tmp / "wal")
        stream = BY_NAME["gate.pass"]
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        events = make_events(events_n, now_ms)

        def bodies(phase: str) -> list[bytes]:
            for i, ev in enumerate(events):
                ev["event_id"] = f"{phase}-{i}"
            return [orjson.dumps(events[i:i + per_request]) for i in range(0, events_n, per_request)]

        def timed(fn) -> float:  # type: ignore[no-untyped-def]
            cpu = time.process_time()
            fn()
            return (time.process_time() - cpu) * 1e6 / events_n  # µs per event

        def submit(body: bytes) -> None:
            receipt = pipeline.submit(stream, parse_body(body, "application/json", None), source="bench")
            assert receipt.accepted == per_request, receipt.body()

        warm = bodies("warm")
        for b in warm[:5]:
            submit(b)
        writer.flush_once(force=True)
        out: dict[str, float] = {}
        one = bodies("one")
        out["parse"] = timed(lambda: [parse_body(b, "application/json", None) for b in one])
        out["path, one at a time"] = timed(lambda: [submit(b) for b in one])
        out["write"] = timed(lambda: writer.flush_once(force=True))
        queue = bodies("many")
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                submit(body)

        def concurrent() -> None:
            pool = [threading.Thread(target=worker) for _ in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()

        out[f"path, {threads} threads"] = timed(concurrent)
        writer.flush_once(force=True)
        store.close()
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def checkout(ref: str) -> Path:
    where = Path(tempfile.mkdtemp(prefix="ioc-bench-before-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def measure(root: Path, args: argparse.Namespace) -> dict[str, float]:
    """One measurement in a fresh interpreter (no state shared between the trees)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, __file__, "--child", str(root), "--events", str(args.events),
                          "--per-request", str(args.per_request), "--threads", str(args.threads)],
                         env=env, cwd=root, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--per-request", type=int, default=1_000)
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--before", default="", metavar="REF")
    p.add_argument("--rounds", type=int, default=2, help="alternating runs per tree (best of each)")
    p.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child), args.events, args.per_request, args.threads)))
        return
    old = checkout(args.before) if args.before else None
    runs: dict[str, list[dict[str, float]]] = {"now": [], "before": []}
    try:
        for _ in range(args.rounds):
            if old is not None:
                runs["before"].append(measure(old, args))
            runs["now"].append(measure(ROOT, args))
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    best = {k: {s: min(r[s] for r in v) for s in v[0]} for k, v in runs.items() if v}
    print(f"bench=request_path events={args.events} per_request={args.per_request} threads={args.threads} "
          f"cpus={os.cpu_count()} rounds={args.rounds} load_avg_1m={os.getloadavg()[0]:.2f}")
    print("CPU µs per event (process, all threads; best of the rounds)")
    for stage, now in best["now"].items():
        line = f"  {stage:24s} now {now:7.2f}"
        if "before" in best:
            before = best["before"][stage]
            line += f"   before ({args.before}) {before:7.2f}   now / before {now / before:.2f}"
        print(line)


if __name__ == "__main__":
    main()
