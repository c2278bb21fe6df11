"""Snapshot cost as history grows, and the snapshot API under many screens.

Part 1 — compute time. A fresh embedded store is filled with synthetic events generated
inside ClickHouse (``INSERT … SELECT … FROM numbers()``, so the materialized views fill the
rollups exactly as ingest would) spread over the last 400 days with a realistic share today,
up to 1 M, 10 M and 100 M stored events. At each size it times the core's live snapshot
(every figure of every domain, freshness and alerts; per domain too) and, as the baseline in
the same run, the gate, service-hall and freshness figures computed from the raw tables
beside the same figures as the metrics compute them.

Part 2 — HTTP (``--http``). The real server (gunicorn, embedded engine, Redis for the
snapshot fan-out and the ingest buffer, no demo) is polled by paired wall screens: each of
``--screens`` (200) is paired through ``/wall/pair?code=`` with a code written into the
product's access file (what ``python -m ioc_app screen add`` does) and sends its own
``ioc_screen`` cookie (the product is deny by default):
- open loop: every screen one request per second (200 req/s, scheduled times; the
  latency counts from the scheduled time, so a stall is not hidden), as screens do it —
  with ``If-None-Match`` — and without it (full body every time), ``--seconds`` (20) each;
- closed loop: ``--clients`` (16) screens as fast as they can, for the saturation throughput,
  ``--closed-seconds`` (10) each;
- the baseline, same run: the same closed loop on ``/healthz`` (public: the cheapest answer
  through the same server and gate) without a cookie, and with a screen cookie (the cookie
  check alone); the snapshot's throughput is printed as a ratio of it;
- store work per request: the server's ClickHouse statements of origin ``request``
  (``ioc_store_statements_total`` on ``/metrics``) over each snapshot run, divided by the
  requests of the run — the snapshot and the screen-cookie check (the access file, not the
  store) must cost 0; one ``/readyz`` at the end (it pings the store) shows the counter counts.
The load generator shares the machine's 2 cores with the server: the figures are conservative.

    .venv/bin/python bench/snapshot.py [--sizes 1,10,100] [--mix site|heavy] [--repeat 30]
                                       [--profile] [--keep DIR] [--http] [--http-only]
                                       [--screens 200] [--seconds 20] [--clients 16] [--closed-seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import (  # noqa: E402
    SCREEN_COOKIE,
    pair_screens,
    screen_header,
    store_statements,
    wait_healthy,
    wait_snapshot,
)
from bench.before import load as load_before  # noqa: E402
from bench.before import revision  # noqa: E402
from ingest.site import load_site, store_reference  # noqa: E402
from ioc_app.core import SnapshotCore  # noqa: E402
from ioc_app.migrate import migrate  # noqa: E402
from ioc_app.settings import DEFAULT_ALERTS, DEFAULT_SITE  # noqa: E402
from ioc_app.storage import Store  # noqa: E402
from metrics import gate, service  # noqa: E402
from metrics.alerts import load_rules  # noqa: E402
from metrics.freshness import freshness  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
DAYS = 400
TODAY_SHARE = 0.004  # about what one day of 400 holds, a little more for a busy day

#: Two mixes of streams, each a share of the stored events per stream plus the entity keys
#: (how many findings per security incident, events per admission candidate):
#: - ``site`` (default): one university as sized in the domain notes — gates ~125 k passes a
#:   day, 4 links every 10 s, online users per campus and access every minute, security
#:   findings ~100 a day, ~800 service cases a weekday of 3–6 events, ~50 k admission
#:   candidates a year of 2–3 events each and as many admission notice events. 100 M events is
#:   then about a year and a half.
#: - ``heavy``: the same event count with 4–10× the entities (≈ 0.8 M candidates and ≈ 0.8 M
#:   cases at 100 M events) — the worst case for the latest-state reads.
MIXES = {
    "site": ({"gate_pass": 0.7071, "network_link": 0.196, "network_online": 0.073,
              "service_workflow": 0.0146, "service_print": 0.0028, "service_call": 0.0017,
              "network_security": 0.0006, "enrollment_admission": 0.0019, "enrollment_notice": 0.0019},
             {"incident": "intDiv({base} + number, 2)",
              "candidate": "intDiv({base} + number, 3)"}),
    "heavy": ({"gate_pass": 0.609, "network_link": 0.24, "network_online": 0.10, "service_workflow": 0.025,
               "service_print": 0.002, "service_call": 0.001, "network_security": 0.001,
               "enrollment_admission": 0.011, "enrollment_notice": 0.011},
              {"incident": "rand(3) % 20000", "candidate": "rand(3) % 2000000"}),
}
SHARES = MIXES["site"][0]
TS = ("if(rand(1) % 1000 < {today}, {now} - toIntervalMillisecond(rand(2) % {since_midnight}), "
      "{now} - toIntervalMillisecond(rand64(2) % ({days} * 86400000)))")
GENERATE = {
    "gate_pass": """
        SELECT concat('g', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            ['main', 'east', 'south'][1 + rand(3) % 3] AS campus,
            concat('G', leftPad(toString(1 + rand(4) % 11), 2, '0')) AS gate_id, 1 + rand(5) % 5 AS lane,
            if(rand(6) % 2 = 0, 'in', 'out') AS direction,
            ['student', 'staff', 'resident', 'visitor', 'contractor', 'other'][1 + rand(7) % 6]
                AS person_type,
            ['face', 'card', 'qr', 'manual'][1 + rand(8) % 4] AS method,
            if(rand(9) % 50 = 0, 'deny', 'pass') AS result,
            if(result = 'deny', ['unauthorized', 'expired', 'temperature', 'blacklist', 'unrecognized',
               'other'][1 + rand(10) % 6], NULL) AS deny_reason,
            if(rand(11) % 3 = 0, 36 + (rand(12) % 25) / 10, NULL) AS temperature_c,
            NULL AS person_key, ts AS received_at
        FROM numbers({n})""",
    "network_link": """
        SELECT concat('l', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            ['cernet', 'telecom', 'unicom', 'mobile'][1 + rand(3) % 4] AS link_id,
            rand(4) % 10000000000 AS in_bps, rand(5) % 5000000000 AS out_bps, NULL AS capacity_bps,
            ts AS received_at
        FROM numbers({n})""",
    "network_online": """
        SELECT concat('o', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            ['main', 'east', 'south'][1 + rand(3) % 3] AS campus,
            ['wired', 'wireless', 'vpn'][1 + rand(4) % 3] AS access,
            rand(5) % 20000 AS users, toUInt64(users * 0.3) AS ipv6_users, ts AS received_at
        FROM numbers({n})""",
    "network_security": """
        SELECT concat('s', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            concat('inc', toString({incident})) AS incident_key,
            ['info', 'low', 'medium', 'high', 'critical'][1 + rand(4) % 5] AS severity,
            ['weak_password', 'intrusion', 'ddos', 'malware', 'other'][1 + rand(5) % 5] AS category,
            'portal' AS target_system, NULL AS src_ip,
            ['open', 'handled', 'false_positive'][1 + rand(6) % 3] AS status, ts AS received_at
        FROM numbers({n})""",
    "service_workflow": """
        SELECT concat('w', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            concat('c', toString(intDiv({base} + number, 3))) AS case_id,
            concat('S', leftPad(toString(1 + rand(3) % 123), 3, '0')) AS service_id,
            'D01' AS department,
            ['student', 'staff', 'alumni', 'external'][1 + rand(4) % 4] AS applicant_type,
            ['web', 'mobile', 'wechat', 'kiosk'][1 + rand(5) % 4] AS channel,
            ['submitted', 'approved', 'completed'][1 + (number % 3)] AS action, number % 3 AS node,
            ts AS received_at
        FROM numbers({n})""",
    "service_print": """
        SELECT concat('p', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            concat('T', toString(1 + rand(3) % 16)) AS terminal_id,
            ['enrollment_certificate', 'transcript_zh', 'transcript_en', 'other'][1 + rand(4) % 4]
                AS document,
            1 + rand(5) % 10 AS pages, if(rand(6) % 30 = 0, 'failed', 'ok') AS result, ts AS received_at
        FROM numbers({n})""",
    "service_call": """
        SELECT concat('k', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            'it' AS queue, rand(3) % 300 AS wait_s, rand(4) % 600 AS talk_s,
            ['answered', 'abandoned', 'callback'][1 + rand(5) % 3] AS outcome, ts AS received_at
        FROM numbers({n})""",
    "enrollment_admission": """
        SELECT concat('a', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            toYear(ts) AS year, concat('k', toString({candidate})) AS candidate_key,
            ['11', '31', '32', '33', '37', '41', '42', '44', '51', '61'][1 + rand(4) % 10] AS province,
            ['early', 'regular', 'second'][1 + rand(5) % 3] AS batch, 'general' AS category,
            'physics' AS track, 'C01' AS college, concat('M', toString(1 + rand(6) % 60)) AS major,
            ['filed', 'admitted', 'returned'][1 + rand(7) % 3] AS status, 400 + rand(8) % 300 AS score,
            NULL AS province_rank, rand(9) % 100 < 85 AS first_choice, ts AS received_at
        FROM numbers({n})""",
    "enrollment_notice": """
        SELECT concat('n', toString({base} + number)) AS event_id, {ts} AS ts, 'bench' AS source,
            toYear(ts) AS year, concat('k', toString({candidate})) AS candidate_key,
            ['printed', 'mailed', 'delivered', 'returned'][1 + rand(4) % 4] AS status,
            if(status = 'mailed', concat('EB', toString(rand(5) % 1000000000), 'CN'), NULL) AS tracking_no,
            if(status = 'mailed', 'EMS', NULL) AS carrier, ts AS received_at
        FROM numbers({n})""",
}

#: the raw-table baseline: the same gate, service and freshness figures without rollups
RAW = [
    """SELECT countIf(result = 'pass' AND direction = 'in'), countIf(result = 'pass' AND direction = 'out'),
              countIf(result = 'deny'), count(), countIf(temperature_c >= 37.3)
       FROM gate_pass WHERE ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')}""",
    """SELECT gate_id, countIf(result = 'pass' AND direction = 'in'),
              countIf(result = 'pass' AND direction = 'out'),
              countIf(result = 'deny') FROM gate_pass
       WHERE ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')} GROUP BY gate_id""",
    """SELECT person_type, countIf(direction = 'in'), countIf(direction = 'out') FROM gate_pass
       WHERE result = 'pass' AND ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')}
       GROUP BY person_type""",
    """SELECT deny_reason, count() FROM gate_pass WHERE result = 'deny'
       AND ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')} GROUP BY deny_reason""",
    """SELECT toStartOfMinute(ts) AS m, countIf(direction = 'in'), countIf(direction = 'out') FROM gate_pass
       WHERE result = 'pass' AND ts >= {now:DateTime64(3, 'UTC')} - INTERVAL 61 MINUTE GROUP BY m""",
    """SELECT action, count() FROM service_workflow
       WHERE ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')} GROUP BY action""",
    """SELECT service_id, count() AS n FROM service_workflow WHERE action = 'submitted'
       AND ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')}
       GROUP BY service_id ORDER BY n DESC LIMIT 20""",
    """SELECT count(), sum(pages), countIf(result = 'failed') FROM service_print
       WHERE ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')}""",
    """SELECT count(), countIf(outcome = 'answered'), avg(wait_s) FROM service_call
       WHERE ts >= {start:DateTime64(3, 'UTC')} AND ts < {now:DateTime64(3, 'UTC')}""",
    *(f"SELECT max(ts), argMax(received_at, ts) FROM {t}" for t in SHARES),
]


def fill(store: Store, total: int, have: int, now: datetime, mix: str = "site") -> None:
    """Top the store up from ``have`` to ``total`` events of ``mix``, in inserts of ≤ 5 M rows."""
    shares, keys = MIXES[mix]
    midnight = now.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    since = max(int((now - midnight).total_seconds() * 1000), 1)
    ts = TS.format(today=int(TODAY_SHARE * 1000), now="{now:DateTime64(3, 'UTC')}",
                   since_midnight=since, days=DAYS)
    for table, share in shares.items():
        want = int((total - have) * share)
        done = 0
        while done < want:
            n = min(5_000_000, want - done)
            sql = GENERATE[table].replace("{ts}", ts).replace("{n}", str(n))
            for name, expr in keys.items():
                sql = sql.replace("{" + name + "}", expr)
            sql = sql.replace("{base}", str(have * 10 + done))
            store.command(f"INSERT INTO {table} {sql}", {"now": now},
                          settings={"max_insert_threads": 2, "max_threads": 2})
            done += n
    # the provinces' control lines (reference data, a few hundred rows): one per cell the
    # admissions were generated in, re-imported whole at each fill as the office would
    store.command("""
        INSERT INTO enrollment_control_line (year, province, batch, category, track, control_score, source,
                                             imported_at)
        SELECT year, province, batch, category, track, 450 + cityHash64(year, province, batch) % 100, 'bench',
               now64(3)
        FROM (SELECT DISTINCT year, province, batch, category, track FROM enrollment_admission)""")


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and p95 in ms."""
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def statements(store: Store, core: SnapshotCore, now: datetime, top: int = 8) -> None:
    """The live snapshot's costliest statements, each run alone (median of 5): where to look next."""
    took: dict[str, list[float]] = {}
    run = store._run

    def timed_run(fn, statement: str, *args, **kwargs):
        t = time.perf_counter()
        try:
            return run(fn, statement, *args, **kwargs)
        finally:
            took.setdefault(statement, []).append((time.perf_counter() - t) * 1000)

    store._run = timed_run
    try:
        for _ in range(5):
            for d in core.domains:
                d.live(store, ZONE, now)
    finally:
        store._run = run
    ranked = sorted(((statistics.median(v), k) for k, v in took.items()), reverse=True)[:top]
    for ms, sql in ranked:
        print(f"    {ms:7.1f} ms  {' '.join(sql.split())[:150]}")


def _kept(keep: Path | None, mix: str) -> tuple[Path, datetime, int]:
    """The store directory, the ``now`` its events were generated around and how many it
    holds: a kept store (``--keep``) is reused as it was left, with its own ``now`` (its
    "today" stays the day it was filled), a fresh one starts empty at the current time."""
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="ioc-bench-snapshot-")), datetime.now(UTC), 0
    keep.mkdir(parents=True, exist_ok=True)
    state = keep / "bench.json"
    if state.exists():
        got = json.loads(state.read_text())
        if got["mix"] != mix:
            raise SystemExit(f"{keep} holds the {got['mix']!r} mix; pass --mix {got['mix']} "
                             "or another --keep")
        return keep, datetime.fromisoformat(got["now"]), int(got["have"])
    return keep, datetime.now(UTC), 0


def _remember(keep: Path | None, now: datetime, have: int, mix: str) -> None:
    if keep is not None:
        (keep / "bench.json").write_text(json.dumps({"now": now.isoformat(), "have": have, "mix": mix,
                                                     "settled": True}))


def _settled(keep: Path | None) -> bool:
    state = keep / "bench.json" if keep else None
    return bool(state and state.exists() and json.loads(state.read_text()).get("settled"))


def settle(store: Store) -> None:
    """Merge every table's parts as the background merges of a store running for days would
    have (each partition into one part): a store filled in minutes by large inserts holds
    hundreds of parts, and how many are left when the timing starts would otherwise decide
    the figures. Today's partitions of a live store keep a few more parts than this."""
    t = time.perf_counter()
    tables = [name for name, in store.rows(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'")]
    for name in tables:
        store.command(f"OPTIMIZE TABLE {name} FINAL", settings={"max_threads": 2})
    print(f"settled: merged the parts of {len(tables)} tables in {time.perf_counter() - t:.1f} s", flush=True)


def alternating(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Median and p95 in ms of each run, the runs taking turns (so a burst of load from
    elsewhere falls on all of them alike)."""
    samples: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeat):
        for k, fn in runs.items():
            t = time.perf_counter()
            fn()
            samples[k].append((time.perf_counter() - t) * 1000)
    out = {}
    for k, v in samples.items():
        v.sort()
        out[k] = statistics.median(v), v[min(len(v) - 1, int(0.95 * len(v)))]
    return out


def compute_part(sizes: list[int], repeat: int, mix: str = "site", profile: bool = False,
                 keep: Path | None = None, before: str = "") -> None:
    tmp, now, have = _kept(keep, mix)
    try:
        store = Store(f"chdb://{tmp / 'engine'}")
        t = time.perf_counter()
        applied = migrate(store)
        if have and applied:
            print(f"migrated the kept store of {have:,} events: "
                  + ", ".join(f"{a.version:04d}_{a.name}" for a in applied)
                  + f" in {time.perf_counter() - t:.1f} s", flush=True)
        store_reference(store, load_site(DEFAULT_SITE))
        core = SnapshotCore(store, ZONE, rules=load_rules(DEFAULT_ALERTS), keep_history=False)
        old_core = (SnapshotCore(store, ZONE, rules=load_rules(DEFAULT_ALERTS), keep_history=False,
                                 domains=load_before(before, tuple(d.name for d in core.domains)))
                    if before else None)
        start = now.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
        print(f"mix of streams: {mix}" + (f"; kept store {tmp} ({have:,} events, now={now.isoformat()})"
                                          if keep else ""))
        print(f"{'stored events':>14} {'fill s':>7} {'snapshot ms p50':>15} {'p95':>7} {'slow ms':>8} "
              f"{'same figures: rollups ms':>24} {'raw tables ms':>13} {'raw/rollups':>11}   per domain ms")
        for millions in sizes:
            total = millions * 1_000_000
            t = time.perf_counter()
            if total > have:
                fill(store, total, have, now, mix)
                have = total
                settle(store)
                _remember(keep, now, have, mix)
            elif applied or not _settled(keep):
                settle(store)
                _remember(keep, now, have, mix)
            elif total < have:
                print(f"{total:>14,} skipped: the kept store already holds {have:,} events", flush=True)
                continue
            filled = time.perf_counter() - t
            core.warm()
            slow_ms, _ = timed(lambda: core.slow_tick(now), 3)
            runs: dict[str, Callable[[], object]] = {"snapshot": lambda: core.compute(now)}
            runs |= {d.name: (lambda d=d: d.live(store, ZONE, now)) for d in core.domains}
            runs["freshness"] = lambda: freshness(store, now)
            if old_core is not None:
                old_core._slow = core._slow
                runs["snapshot before"] = lambda: old_core.compute(now)
                runs |= {f"{d.name} before": (lambda d=d: d.live(store, ZONE, now)) for d in old_core.domains}
            took = alternating(runs, repeat)
            live = took["snapshot"]
            per = {d.name: took[d.name][0] for d in core.domains} | {"freshness": took["freshness"][0]}
            same = timed(lambda: (gate.live(store, ZONE, now), service.live(store, ZONE, now),
                                  freshness(store, now)), repeat)
            raw = timed(lambda: [store.rows(q, {"start": start, "now": now}) for q in RAW],
                        max(3, repeat // 5))
            print(f"{total:>14,} {filled:>7.1f} {live[0]:>15.1f} {live[1]:>7.1f} {slow_ms:>8.1f} "
                  f"{same[0]:>24.1f} {raw[0]:>13.1f} {raw[0] / same[0]:>10.1f}x   "
                  + " ".join(f"{k}={v:.0f}" for k, v in per.items()), flush=True)
            print("    p50/p95 ms " + " ".join(f"{k}={v[0]:.0f}/{v[1]:.0f}" for k, v in took.items()
                                               if not k.endswith(" before")), flush=True)
            if old_core is not None:
                print(f"    before ({before} {revision(before)}, same store, alternating with the above): "
                      + " ".join(f"{k.removesuffix(' before')}={v[0]:.0f}/{v[1]:.0f}" for k, v in took.items()
                                 if k.endswith(" before")), flush=True)
                print("    after/before p95: " + " ".join(
                    f"{k}={took[k][1] / took[f'{k} before'][1]:.2f}" for k in took if f"{k} before" in took),
                    flush=True)
            if profile:
                statements(store, core, now)
        store.close()
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


# -- HTTP -------------------------------------------------------------------------------
def start_server(tmp: Path) -> tuple[subprocess.Popen, subprocess.Popen, int, dict[str, str]]:
    import socket

    def port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    rport, wport = port(), port()
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", str(tmp),
                              "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                              "--maxmemory-policy", "noeviction"], stdout=subprocess.DEVNULL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update(IOC_CLICKHOUSE_URL=f"chdb://{tmp / 'engine'}", IOC_TOKENS_FILE=str(tmp / "tokens.toml"),
               IOC_DEMO="0", IOC_PORT=str(wport), IOC_REDIS_URL=f"redis://127.0.0.1:{rport}/0",
               PYTHONPATH=str(ROOT))
    web = subprocess.Popen([sys.executable, "-m", "ioc_app", "run"], env=env, cwd=ROOT,
                           stdout=open(tmp / "server.log", "w"), stderr=subprocess.STDOUT)
    wait_healthy(f"http://127.0.0.1:{wport}", web, 90, tmp / "server.log")
    return web, redis, wport, env


def _get(conn: http.client.HTTPConnection, etag: str | None, cookie: dict[str, str],
         path: str = "/api/v1/snapshot") -> str | None:
    conn.request("GET", path, headers={**cookie, "If-None-Match": etag} if etag else cookie)
    r = conn.getresponse()
    r.read()
    if r.status not in (200, 304):
        raise RuntimeError(f"GET {path} answered {r.status}")
    return r.headers.get("ETag")


def open_loop(port: int, cookies: list[dict[str, str]], seconds: float, conditional: bool) -> list[float]:
    """``len(cookies)`` screens, each one request per second at its own scheduled time, each
    with its own screen cookie."""
    rate = len(cookies)
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    workers = min(40, rate)  # each worker serves rate/workers screens, in schedule order

    def run(w: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        etags: dict[int, str | None] = {}
        schedule = sorted((start + s + (i / rate), i) for s in range(int(seconds))
                          for i in range(w, rate, workers))
        mine = []
        for due, screen in schedule:
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            tag = _get(conn, etags.get(screen) if conditional else None, cookies[screen])
            etags[screen] = tag
            mine.append((time.monotonic() - due) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies)


def closed_loop(port: int, cookies: list[dict[str, str]], clients: int, seconds: float, conditional: bool,
                path: str = "/api/v1/snapshot") -> tuple[float, int]:
    """Requests per second of ``clients`` as fast as they can (client i holds ``cookies[i]``,
    ``{}`` for none), and how many were made."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        etag = None
        while time.monotonic() < stop:
            tag = _get(conn, etag if conditional else None, cookies[i % len(cookies)], path)
            etag = tag
            counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0), sum(counts)


def pct(samples: list[float], q: float) -> float:
    return samples[min(len(samples) - 1, int(q * len(samples)))]


class StoreCount:
    """ClickHouse statements the server ran for requests between two readings of ``/metrics``
    (origin ``request``: what serving requests cost the store; the core's ticks and the writer
    count under their own origins)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.before = store_statements(url)

    def per_request(self, requests: int) -> str:
        after = store_statements(self.url)
        got = {k: after.get(k, 0) - self.before.get(k, 0) for k in after}
        asked = got.get("request", 0)
        others = " ".join(f"{k}={v}" for k, v in sorted(got.items()) if k != "request")
        return (f"store statements for requests: {asked} in {requests:,} requests = "
                f"{asked / max(requests, 1):.4f} per request (meanwhile {others or 'none'})")


def http_part(screens: int = 200, seconds: float = 20, clients: int = 16, closed_s: float = 10) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-http-"))
    web, redis, port, env = start_server(tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        t = time.perf_counter()
        cookies = [screen_header(c) for c in
                   pair_screens(env, url, [f"bench-{i}" for i in range(screens)], ("/",))]
        print(f"paired {screens} screens through /wall/pair in {time.perf_counter() - t:.1f} s "
              f"(each its own {SCREEN_COOKIE} cookie)", flush=True)
        wait_snapshot(url, cookies[0])
        time.sleep(2)
        for conditional in (True, False):
            kind = "If-None-Match (screens)" if conditional else "full body every time"
            count = StoreCount(url)
            lat = open_loop(port, cookies, seconds, conditional)
            print(f"open loop {screens} req/s, {kind}: n={len(lat)} p50={pct(lat, .5):.1f} ms "
                  f"p95={pct(lat, .95):.1f} ms p99={pct(lat, .99):.1f} ms max={lat[-1]:.1f} ms", flush=True)
            print(f"  {count.per_request(len(lat))}", flush=True)
        # the baseline, same run: the cheapest answer through the same server and gate
        # (/healthz, public) without a cookie, and with a screen cookie (the check alone)
        base, n = closed_loop(port, [{}], clients, closed_s, False, "/healthz")
        print(f"baseline: closed loop {clients} clients, /healthz without a cookie: {base:,.0f} req/s",
              flush=True)
        checked, n = closed_loop(port, cookies, clients, closed_s, False, "/healthz")
        print(f"closed loop {clients} clients, /healthz with a screen cookie (the check alone): "
              f"{checked:,.0f} req/s = {checked / base:.2f}x the baseline", flush=True)
        for conditional in (True, False):
            kind = "If-None-Match" if conditional else "full body"
            count = StoreCount(url)
            rps, n = closed_loop(port, cookies, clients, closed_s, conditional)
            print(f"closed loop {clients} clients, snapshot, {kind}, screen cookies: {rps:,.0f} req/s "
                  f"= {rps / base:.2f}x the baseline", flush=True)
            print(f"  {count.per_request(n)}", flush=True)
        # the counter is live: /readyz pings the store from the request (one statement)
        count = StoreCount(url)
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("GET", "/readyz")
        c.getresponse().read()
        print(f"check of the counter, one /readyz (it pings the store): {count.per_request(1)}")
        c.request("GET", "/api/v1/snapshot", headers=cookies[0])
        print(f"snapshot body: {len(c.getresponse().read()):,} bytes")
    finally:
        web.terminate()
        web.wait(30)
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,10,100", help="stored events, in millions")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--mix", choices=tuple(MIXES), default="site",
                    help="site: one university's mix of streams; heavy: 4-10x the cases and candidates")
    ap.add_argument("--profile", action="store_true", help="list the costliest statements at each size")
    ap.add_argument("--before", default="main", metavar="REF",
                    help="also time the snapshot and each domain as the metrics of git revision REF "
                         "compute them, on the same store, alternating with the current ones "
                         "(default main; '' for none)")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="keep the generated store in DIR and reuse it on the next run (topped up to "
                         "--sizes, migrated to the current schema); its events keep the time they were "
                         "generated around")
    ap.add_argument("--http", action="store_true", help="also measure the HTTP API")
    ap.add_argument("--http-only", action="store_true")
    ap.add_argument("--screens", type=int, default=200, help="paired screens of the open loop (req/s)")
    ap.add_argument("--seconds", type=float, default=20, help="duration of each open-loop run")
    ap.add_argument("--clients", type=int, default=16, help="closed-loop clients")
    ap.add_argument("--closed-seconds", type=float, default=10, help="duration of each closed-loop run")
    args = ap.parse_args()
    if not args.http_only:
        compute_part([int(s) for s in args.sizes.split(",")], args.repeat, args.mix, args.profile,
                     args.keep, args.before)
    if args.http or args.http_only:
        http_part(args.screens, args.seconds, args.clients, args.closed_seconds)


if __name__ == "__main__":
    main()
