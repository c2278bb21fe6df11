"""End-to-end ingest: HTTP request → queryable in ClickHouse, in both buffer modes.

Starts the real server (gunicorn, embedded engine, no demo) on a loopback port — with the
embedded write-ahead log, or with a local redis-server (AOF, appendfsync always) as the
buffer — sends
gate events from concurrent clients in 1,000-event JSON requests, and reports:
- events/s from the first request to the last event being in the store (the writer's
  inserted-row counter on /metrics, polled every 20 ms);
- p50/p95 acknowledge-to-queryable latency: a request counts as queryable when the store
  holds as many rows as had been acknowledged when it was (the log is written in order);
- as the baseline, measured in the same run on the same rows: the raw clickhouse-connect
  Arrow insert rate into a fresh store with the rollups attached (20k-row inserts).

Also per request, as its client saw it: the round trip to the 200; the cores each process
kept busy over the run (server with its helpers, redis-server, this script's clients), and the
CPU seconds each spent per million events — on a shared machine the rate moves with the other
load, what an event costs much less. ``--before REF`` runs the server of an earlier revision
(``git archive``) alternately with this one and prints both ratios.

The client threads share the machine's 2 cores with the server: the figure is conservative.
The default 1,200,000 events make a run of about ten seconds, so the start (helpers and
engine warming up) and the final flush (the writer's last batch waits out its 0.5 s age)
weigh less than in a few-second run.

    .venv/bin/python bench/ingest.py [--events 1200000] [--clients 16] [--mode embedded|redis|both]
                                     [--views-before 13] [--before main --rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.validate import make_events  # noqa: E402

BASELINE = """
import sys, time
import polars as pl
from datetime import datetime, UTC
from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.migrations import MIGRATIONS
from ioc_app.storage import Store
from bench.validate import make_events
n = int(sys.argv[2])
store = Store(sys.argv[1])
migrate(store, tuple(m for m in MIGRATIONS if m.VERSION <= int(sys.argv[3])))
now = datetime.now(UTC)
frame = validate(GATE_PASS, make_events(n, int(now.timestamp() * 1000)), source="b", now=now).frame
t = time.perf_counter()
for off in range(0, n, 20_000):
    store.insert("gate_pass", frame.slice(off, 20_000))
print(n / (time.perf_counter() - t))
"""


def env_for(tmp: Path, port: int, root: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update({"IOC_CLICKHOUSE_URL": f"chdb://{tmp / 'clickhouse'}", "IOC_DEMO": "0",
                "IOC_TOKENS_FILE": str(tmp / "tokens.toml"), "IOC_PORT": str(port),
                "PYTHONPATH": str(root)})
    env.update({k[6:]: v for k, v in os.environ.items() if k.startswith("BENCH_IOC_")})
    return env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    m = re.search(r"^ioc_writer_rows_total ([0-9.e+]+)$", text, re.M)
    return int(float(m.group(1))) if m else 0


def group_cpu_s(pgid: int) -> float:
    """CPU seconds used so far by every process of a process group (Linux /proc)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    import redis

    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir",
                             str(tmp), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                             "--maxmemory-policy", "noeviction"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def checkout(ref: str) -> Path:
    """The product as of git revision ``ref``, in a temporary directory (``git archive``): the
    server of ``--before`` runs from there, with the same interpreter and packages."""
    where = Path(tempfile.mkdtemp(prefix="ioc-bench-before-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def run(events_n: int, clients: int, per_request: int, mode: str, trigger: str = "commit",
        root: Path = ROOT) -> tuple[float, float]:
    """One run; returns (end-to-end events/s, the server's CPU seconds per million events)."""
    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-"))
    port = free_port()
    env = env_for(tmp, port, root)
    env["IOC_CORE_TRIGGER"] = trigger  # tick: the writer's previous batching by age
    redis_proc = None
    if mode == "redis":
        redis_proc, env["IOC_REDIS_URL"] = start_redis(tmp)
    py = sys.executable
    token = subprocess.run([py, "-m", "ioc_app", "token", "create", "bench", "--streams", "*"],
                           env=env, cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    events = make_events(events_n, now_ms)
    bodies = [orjson.dumps(events[i:i + per_request]) for i in range(0, events_n, per_request)]
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen([py, "-m", "ioc_app", "run"], env=env, cwd=root, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(600):
            try:
                scrape(port)
                break
            except OSError:
                time.sleep(0.2)
        acked_at: list[tuple[float, int]] = []  # (time, cumulative rows acknowledged)
        request_s: list[float] = []  # each request's round trip, as its client saw it
        lock = threading.Lock()
        queue = list(reversed(bodies))
        rows_acked = 0
        progress: list[tuple[float, int]] = []
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                progress.append((time.perf_counter(), scrape(port)))
                time.sleep(0.02)

        def client() -> None:
            nonlocal rows_acked
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            while True:
                with lock:
                    if not queue:
                        break
                    body = queue.pop()
                sent = time.perf_counter()
                conn.request("POST", "/api/v1/ingest/gate.pass", body=body, headers=headers)
                resp = conn.getresponse()
                payload = orjson.loads(resp.read())
                request_s.append(time.perf_counter() - sent)
                assert resp.status == 200 and payload["accepted"] == per_request, payload
                with lock:
                    rows_acked += payload["accepted"]
                    acked_at.append((time.perf_counter(), rows_acked))
            conn.close()

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        pgids = {"server": server.pid, "redis": redis_proc.pid if redis_proc else None}
        cpu_before = {k: group_cpu_s(v) for k, v in pgids.items() if v}
        own_before = time.process_time()
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        acked_all = time.perf_counter()
        while scrape(port) < events_n:
            time.sleep(0.02)
        queryable_all = time.perf_counter()
        cpu = {k: group_cpu_s(pgids[k]) - v for k, v in cpu_before.items()}
        cpu["bench clients"] = time.process_time() - own_before
        done.set()
        poller.join()
        progress.append((queryable_all, events_n))
        latencies = []
        j = 0
        for t_ack, cum in acked_at:
            while progress[j][1] < cum or progress[j][0] < t_ack:
                j += 1
            latencies.append(progress[j][0] - t_ack)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(30)
    e2e = events_n / (queryable_all - started)
    print(f"bench=ingest mode={mode} trigger={trigger} events={events_n} clients={clients} "
          f"per_request={per_request} cpus={os.cpu_count()}"
          + ("" if root == ROOT else f" revision=before ({root})"))
    print(f"end-to-end (request → queryable)  {e2e:>12,.0f} events/s  ({queryable_all - started:.2f} s)")
    print(f"acknowledged (request → 200)      {events_n / (acked_all - started):>12,.0f} events/s")
    print(f"ack → queryable latency           p50 {percentile(latencies, 0.5) * 1000:.0f} ms   "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms   max {max(latencies) * 1000:.0f} ms")
    print(f"request → 200 (per request)       p50 {percentile(request_s, 0.5) * 1000:.0f} ms   "
          f"p95 {percentile(request_s, 0.95) * 1000:.0f} ms")
    wall = queryable_all - started
    print("cpu over the run (cores busy)     " + "   ".join(
        f"{k} {v / wall:.2f}" for k, v in cpu.items()) + f"   of {os.cpu_count()}")
    # what an event costs, whatever the machine's other load did to the wall clock
    print("cpu per 1 M events (CPU-s)         " + "   ".join(
        f"{k} {v * 1_000_000 / events_n:.2f}" for k, v in cpu.items()))
    print(f"machine load average (1 min)      {os.getloadavg()[0]:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)
    return e2e, cpu["server"] * 1_000_000 / events_n


def baseline(events_n: int, upto: int = 9999) -> float:
    """Raw Arrow insert rate into a fresh store migrated up to migration ``upto``."""
    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-base-"))
    env = env_for(tmp, 8050)  # the port is not used
    rate = float(subprocess.run([sys.executable, "-c", BASELINE, f"chdb://{tmp / 'ch'}", str(events_n),
                                 str(upto)],
                                env=env, cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip())
    shutil.rmtree(tmp, ignore_errors=True)
    return rate


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_200_000)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--per-request", type=int, default=1_000)
    p.add_argument("--mode", choices=("embedded", "redis", "both"), default="both")
    p.add_argument("--trigger", choices=("commit", "tick", "both"), default="both",
                   help="commit: adaptive flushing (the default); tick: the previous batching "
                        "by age; both: one after the other, in this run")
    p.add_argument("--views-before", type=int, default=13, metavar="VERSION",
                   help="also time the raw insert into a store without the migrations from VERSION on "
                        "(13: the gate board's people rollups), against the full schema; 0 for none")
    p.add_argument("--before", default="", metavar="REF",
                   help="also run the server of git revision REF (e.g. main), alternating with this "
                        "one, and compare the server's CPU per event (less sensitive to the machine's "
                        "other load than events/s)")
    p.add_argument("--rounds", type=int, default=1,
                   help="with --before: how many alternating pairs of runs per mode (best of each)")
    args = p.parse_args()
    modes = ("embedded", "redis") if args.mode == "both" else (args.mode,)
    triggers = ("tick", "commit") if args.trigger == "both" else (args.trigger,)
    old_root = checkout(args.before) if args.before else None
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    results_before: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds if old_root else 1):
        for m in modes:
            for tr in triggers:
                if old_root is not None:
                    results_before.setdefault((m, tr), []).append(
                        run(args.events, args.clients, args.per_request, m, tr, old_root))
                results.setdefault((m, tr), []).append(
                    run(args.events, args.clients, args.per_request, m, tr))
    rates = {k: max(r for r, _ in v) for k, v in results.items()}
    base = baseline(args.events)
    print(f"baseline raw Arrow insert (rollups on, same rows) {base:>12,.0f} rows/s")
    for (m, tr), r in rates.items():
        cpu = min(c for _, c in results[(m, tr)])
        print(f"{m} {tr}: {r:,.0f} events/s end-to-end; / raw insert = {r / base:.2f}; "
              f"server {cpu:.2f} CPU-s per 1 M events")
        if (m, tr) in results_before:
            old_rate = max(r for r, _ in results_before[(m, tr)])
            old_cpu = min(c for _, c in results_before[(m, tr)])
            print(f"{m} {tr} before ({args.before}): {old_rate:,.0f} events/s, server {old_cpu:.2f} CPU-s "
                  f"per 1 M events; now / before: events/s {r / old_rate:.2f}, CPU per event "
                  f"{cpu / old_cpu:.2f} (best of {len(results[(m, tr)])} each, alternating)")
    for m in modes:
        if len(triggers) == 2:
            print(f"{m}: adaptive / by-age = {rates[(m, 'commit')] / rates[(m, 'tick')]:.2f}")
    if old_root is not None:
        shutil.rmtree(old_root, ignore_errors=True)
    if args.views_before:
        # the same insert without the views of migration ``views_before`` and later: what
        # those views cost an insert, measured alternately in this run
        pairs = [(baseline(args.events, args.views_before - 1), baseline(args.events)) for _ in range(2)]
        without, with_ = max(p[0] for p in pairs), max(p[1] for p in pairs)
        print(f"raw Arrow insert without the views of migrations >= {args.views_before}: {without:>12,.0f} "
              f"rows/s, with them {with_:>12,.0f} rows/s (best of 2 each) = {with_ / without:.2f}x")


if __name__ == "__main__":
    main()
