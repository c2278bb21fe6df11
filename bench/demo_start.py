"""Demo start: ``./dev run`` on a fresh var dir — time to the first page, the history fill's
time and rate, and page latency while it fills against after it.

Starts ``./dev run`` (migrate, then the server with demo data) on a free loopback port with an
empty store (after ``./dev migrate`` on a throwaway one, so a first install is not timed),
signs in with the one-time link it prints, and measures:

- the time from the start of the command until the overview page answers 200 (target ≤ 10 s),
- the background fill of the past (``/readyz`` ``parts.demo_history``): events, seconds,
  events/s, with the machine's load average at its start and end,
- the latency of a page (``/gates``) and of the snapshot API while the fill runs and after it,
  p50/p95 and their ratio (after = the baseline of the same run).

    .venv/bin/python bench/demo_start.py [--days 35] [--seasons 3] [--samples 40]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import free_port  # noqa: E402


def get(port: int, path: str, cookie: str = "", timeout: float = 30) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def history(port: int) -> dict[str, Any]:
    return json.loads(get(port, "/readyz")[1])["parts"]["demo_history"] or {}


def latency(port: int, cookie: str, path: str) -> float:
    started = time.perf_counter()
    status, _, _ = get(port, path, cookie)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return time.perf_counter() - started


def sample(port: int, cookie: str, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"/gates": [], "/api/v1/snapshot": []}
    for _ in range(n):
        for path in out:
            out[path].append(latency(port, cookie, path))
        time.sleep(0.25)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=35)
    p.add_argument("--seasons", type=int, default=3)
    p.add_argument("--samples", type=int, default=40, help="requests per path, during and after")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-demo-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update({"IOC_CLICKHOUSE_URL": f"chdb://{tmp / 'clickhouse'}",
                "IOC_TOKENS_FILE": str(tmp / "tokens.toml"), "IOC_PORT": str(port), "IOC_DEMO": "1",
                "IOC_DEMO_HISTORY_DAYS": str(args.days),
                "IOC_DEMO_HISTORY_SEASONS": str(args.seasons)})
    log = open(tmp / "server.log", "w")
    # installs what the lock file asks (once per lock change) on a throwaway store: not timed
    warm = {**env, "IOC_CLICKHOUSE_URL": f"chdb://{tmp / 'warm'}"}
    subprocess.run(["./dev", "migrate"], cwd=ROOT, env=warm,
                   stdout=subprocess.DEVNULL, stderr=log, check=True)
    load_start = os.getloadavg()
    started = time.perf_counter()
    proc = subprocess.Popen(["./dev", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log,
                            text=True, start_new_session=True)
    try:
        link = ""
        assert proc.stdout is not None
        for line in proc.stdout:
            if m := re.search(r"http://\S+/auth/link/\S+", line):
                link = m.group(0)
                break
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
        path = "/" + link.split("/", 3)[3]
        cookie = ""
        while not cookie:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited: {(tmp / 'server.log').read_text()[-3000:]}")
            try:
                status, _, headers = get(port, path, timeout=10)
            except OSError:
                time.sleep(0.05)
                continue
            cookie = headers.get("set-cookie", "").split(";", 1)[0] if status in (302, 303) else ""
            if not cookie:
                raise SystemExit(f"the sign-in link answered {status}")
        while get(port, "/", cookie)[0] != 200:
            time.sleep(0.05)
        first_page = time.perf_counter() - started
        state = history(port)
        print(f"bench=demo_start days={args.days} seasons={args.seasons} cpus={os.cpu_count()} "
              f"load_at_start={load_start[0]:.2f}")
        print(f"  first page (overview) answered 200     {first_page:8.1f} s after ./dev run"
              f"  (target ≤ 10 s; fill {state.get('phase')} at {state.get('pct')} %)")
        during = sample(port, cookie, args.samples)
        fill_load = os.getloadavg()
        while (state := history(port)).get("phase") not in ("done", "failed", None):
            time.sleep(1)
        filled = time.perf_counter() - started
        load_end = os.getloadavg()
        after = sample(port, cookie, args.samples)
        print(f"  fill: {state.get('phase')}, {state.get('events', 0):,} events in "
              f"{state.get('elapsed_s')} s "
              f"= {state.get('rate', 0):,} events/s; done {filled:.0f} s after start "
              f"(load {fill_load[0]:.2f} while sampling, {load_end[0]:.2f} at the end)")
        for path in during:
            d50, d95 = pct(during[path], 0.5), pct(during[path], 0.95)
            a50, a95 = pct(after[path], 0.5), pct(after[path], 0.95)
            print(f"  {path:<18} during fill p50 {d50:6.0f} ms p95 {d95:6.0f} ms | after p50 {a50:6.0f} ms "
                  f"p95 {a95:6.0f} ms | ratio p50 {d50 / a50:4.2f} p95 {d95 / a95:4.2f}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
        log.close()


if __name__ == "__main__":
    main()
