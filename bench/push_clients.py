"""200 push clients: what screens holding a request until the next version cost the server.

Starts the real server (gunicorn, embedded engine, no demo; ``--redis`` adds a local
redis-server as the ingest buffer and fan-out) and pairs ``--screens`` (200) wall screens
through ``/wall/pair`` (each its own ``ioc_screen`` cookie: the product is deny by default).
A feeder posts ``--rate`` (2) gate passes a second through the ingest API in every phase, so
the core publishes new versions at the same pace throughout (``--rate 0``: a quiet campus, where
push costs next to nothing and polling still 1 request a second per screen). Then, ``--seconds`` (20) each, in
one run:

1. no screen (the baseline: the feeder, the writer and the core alone);
2. 1 push client: ``GET /api/v1/snapshot?wait=15`` with ``If-None-Match`` of the version it
   holds, again at once after each answer (what ``assets/ioc_live.js`` does);
3. ``--screens`` push clients, the same;
4. ``--screens`` polling screens: one ``GET /api/v1/snapshot`` a second each with
   ``If-None-Match`` (the screens before push, and the fallback).

Reported per phase: the server's CPU (user + system of the gunicorn master and worker, from
``/proc``) in % of one core and, above the baseline, per screen; requests answered and
versions received per client per second (push: at most 4 a second per screen by design);
the store's statements per second by origin from ``/metrics`` — ``request`` must stay 0: a
screen costs the store nothing however it reads — and the server's parked requests at the
end of the phase (``ioc_push_held``). The load generator shares the machine with the server:
its own CPU is printed too, and the load average before and after.

    .venv/bin/python bench/push_clients.py [--screens 200] [--seconds 20] [--rate 2] [--redis]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import pair_screens, screen_header, wait_snapshot  # noqa: E402
from bench.event_to_pixel import post, start  # noqa: E402
from bench.event_to_pixel import stop as stop_server  # noqa: E402
from bench.wall_soak import cpu_seconds, server_pids  # noqa: E402

WAIT_S = 15


def scrape(port: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    out = {f"statements:{o}": float(v) for o, v in
           re.findall(r'^ioc_store_statements_total\{origin="([^"]+)"\} (\S+)$', text, re.M)}
    held = re.search(r"^ioc_push_held (\S+)$", text, re.M)
    out["held"] = float(held.group(1)) if held else 0.0
    return out


class Clients:
    """``cookies`` screens, pushing (held requests) or polling once a second, until stopped."""

    def __init__(self, port: int, cookies: list[dict[str, str]], push: bool) -> None:
        self.port, self.cookies, self.push = port, cookies, push
        self.stop = threading.Event()
        self.answers = [0] * len(cookies)
        self.versions = [0] * len(cookies)
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(len(cookies))]
        for t in self.threads:
            t.start()

    def _run(self, i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT_S + 30)
        etag = None
        time.sleep(i / max(len(self.cookies), 1))  # screens are not synchronised
        path = f"/api/v1/snapshot?wait={WAIT_S}" if self.push else "/api/v1/snapshot"
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                conditional = {"If-None-Match": etag} if etag else {}
                conn.request("GET", path, headers={**self.cookies[i], **conditional})
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT_S + 30)
                time.sleep(1)
                continue
            if r.status not in (200, 304):
                self.errors.append(f"HTTP {r.status}")
                time.sleep(1)
                continue
            self.answers[i] += 1
            if r.status == 200:
                self.versions[i] += 1
                etag = r.headers.get("ETag")
            if not self.push:
                self.stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    def close(self) -> None:
        self.stop.set()


def feeder(port: int, token: str, rate: float, stop: threading.Event, tag: str) -> None:
    if rate <= 0:  # a quiet campus: no new version but at minute boundaries
        return
    n = 0
    while not stop.wait(1.0 / rate):
        post(port, token, f"push-{tag}-{n}")
        n += 1


def phase(name: str, port: int, pids: list[int], seconds: float, clients: Clients | None) -> dict:
    if clients is not None:
        time.sleep(min(3.0, seconds / 4))  # past the clients' start (their first answers)
        answered0 = sum(clients.answers)
        versions0 = sum(clients.versions)
    before, cpu0, own0, t0 = scrape(port), cpu_seconds(pids), _own_cpu(), time.monotonic()
    time.sleep(seconds)
    after, cpu1, own1, t1 = scrape(port), cpu_seconds(pids), _own_cpu(), time.monotonic()
    elapsed = t1 - t0
    out = {"name": name, "cpu": (cpu1 - cpu0) / elapsed * 100, "own": (own1 - own0) / elapsed * 100,
           "held": after["held"], "n": len(clients.cookies) if clients else 0,
           "statements": {k.split(":", 1)[1]: (after.get(k, 0) - before.get(k, 0)) / elapsed
                          for k in after if k.startswith("statements:")}}
    if clients is not None:
        out["answers"] = (sum(clients.answers) - answered0) / elapsed / out["n"]
        out["versions"] = (sum(clients.versions) - versions0) / elapsed / out["n"]
        out["errors"] = len(clients.errors)
        clients.close()
    return out


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(results: list[dict]) -> None:
    base = results[0]["cpu"]
    for r in results:
        per = (r["cpu"] - base) / r["n"] if r["n"] else 0.0
        stmts = " ".join(f"{k}={v:.2f}/s" for k, v in sorted(r["statements"].items()))
        extra = (f" answers/client/s={r['answers']:.2f} versions/client/s={r['versions']:.2f} "
                 f"errors={r['errors']}") if r["n"] else ""
        print(f"{r['name']:<24} server CPU {r['cpu']:5.1f} % of a core, per screen above the baseline "
              f"{per:6.3f} %{extra} | parked at the end: {r['held']:.0f} | store statements: {stmts} "
              f"| load generator {r['own']:.1f} %", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--screens", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=2.0, help="events posted per second in every phase")
    ap.add_argument("--redis", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-push-"))
    procs, url, env, token = start(tmp, args.redis)
    port = int(url.rsplit(":", 1)[1])
    pids = server_pids(procs[-1].pid)
    stop = threading.Event()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores); "
          f"mode: {'redis' if args.redis else 'embedded'}; server processes {pids}", flush=True)
    try:
        started = time.perf_counter()
        names = [f"push-{i}" for i in range(args.screens)]
        cookies = [screen_header(c) for c in pair_screens(env, url, names)]
        print(f"paired {args.screens} screens in {time.perf_counter() - started:.1f} s", flush=True)
        wait_snapshot(url, cookies[0])
        post(port, token, "push-warm")
        feed = threading.Thread(target=feeder, args=(port, token, args.rate, stop, str(int(time.time()))),
                                daemon=True)
        feed.start()
        time.sleep(3)
        results = [phase("no screen (baseline)", port, pids, args.seconds, None)]
        results.append(phase("1 push client", port, pids, args.seconds, Clients(port, cookies[:1], True)))
        time.sleep(1)
        results.append(phase(f"{args.screens} push clients", port, pids, args.seconds,
                             Clients(port, cookies, True)))
        time.sleep(WAIT_S + 2)  # the held requests of the last phase end
        results.append(phase(f"{args.screens} polling screens", port, pids, args.seconds,
                             Clients(port, cookies, False)))
        report(results)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/snapshot", headers=cookies[0])
        body = conn.getresponse().read()
        print(f"snapshot body: {len(body):,} bytes, version {orjson.loads(body)['version']}", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    finally:
        stop.set()
        stop_server(procs, tmp)


if __name__ == "__main__":
    main()
