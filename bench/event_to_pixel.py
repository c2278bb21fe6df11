"""Event → pixel: from posting an event to the ingest API until every open screen shows it.

Starts the real server (gunicorn, embedded engine, no demo; ``--redis`` adds a local
redis-server as the ingest buffer and fan-out), pairs ``--screens`` (4) wall screens for the
overview page and opens each in its own headless Chromium context (Debian's ``chromium``, as
the page tests use) at 1920×1080. Then, trial after trial, posts one gate pass (``ts`` = now)
to ``POST /api/v1/ingest/gate.pass`` and measures, on every screen, when the bound figure
``gate.today.in`` shows the new count.

The moment a screen shows it is taken in the page: a ``MutationObserver`` on the bound
element, armed with the expected text before the post, records ``performance.timeOrigin +
performance.now()`` when the text becomes it (the DOM is written; the next frame paints it).
The browser's clock is aligned to this script's per screen and per trial: of 5 round trips
(``time.time()`` before and after reading the page's clock) the shortest gives the offset, to
within half of it (printed: the largest such uncertainty of the run). The time of a trial on a
screen is then (shown − offset) − the moment just before the post was sent. The part that is
the screen's own — from the core publishing that version (its ``generated_at`` +
``compute_ms``, the server's clock, which is this machine's) to the screen showing it — is
printed too: it is what push changes, the rest is ingest and the core.

Both ways a screen learns of a new version are measured in the same run, ``--trials`` (30)
each, on the same screens and server: push (the page as shipped: a request held until the
next version) and the 1 s poll (the same page opened with ``?push=0``). Reported per mode:
p50/p95/max over trials of the time until *every* screen shows the event, and over all
(trial, screen) pairs; and the ingest 200's own time. Trials start at random points of the
core's tick. The machine's load average is printed before and after.

    .venv/bin/python bench/event_to_pixel.py [--trials 30] [--screens 4] [--redis] [--modes push,poll]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import screen_codes, wait_healthy  # noqa: E402
from bench.ingest import start_redis  # noqa: E402
from bench.wall_soak import ARGS, CHROMIUM, free_port, paired_page  # noqa: E402

SELECTOR = "[data-ioc-path='gate.today.in']"
MODES = {"push": "/", "poll": "/?push=0"}
LIVE = "() => document.querySelector('#ioc-badge')?.dataset.state === 'live'"
ARM = """([selector, expect]) => {
  const el = document.querySelector(selector);
  const b = window.__bench = {expect, at: null};
  const seen = () => {
    if (b.at === null && el.textContent.replace(/[^0-9]/g, '') === expect) {
      b.at = performance.timeOrigin + performance.now();
      const snap = (window.IOC || {}).snapshot || {};
      b.published = Date.parse(snap.generated_at) + (snap.compute_ms || 0);
    }
  };
  if (window.__benchObserver) window.__benchObserver.disconnect();
  window.__benchObserver = new MutationObserver(seen);
  window.__benchObserver.observe(el, {childList: true, characterData: true, subtree: true});
  seen();
}"""


def start(tmp: Path, redis: bool) -> tuple[list[subprocess.Popen], str, dict[str, str], str]:
    """The server (and Redis): its processes, URL, environment and an ingest token."""
    procs: list[subprocess.Popen] = []
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update(IOC_CLICKHOUSE_URL=f"chdb://{tmp / 'engine'}", IOC_TOKENS_FILE=str(tmp / "tokens.toml"),
               IOC_DEMO="0", IOC_PORT=str(port), PYTHONPATH=str(ROOT))
    if redis:
        redis_proc, env["IOC_REDIS_URL"] = start_redis(tmp)
        procs.append(redis_proc)
    token = subprocess.run([sys.executable, "-m", "ioc_app", "token", "create", "bench-pixel", "--streams",
                            "gate.pass"], env=env, cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.strip()
    procs.append(subprocess.Popen([sys.executable, "-m", "ioc_app", "run"], env=env, cwd=ROOT,
                                  stdout=open(tmp / "server.log", "w"), stderr=subprocess.STDOUT))
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, procs[-1], 120, tmp / "server.log")
    return procs, url, env, token


def stop(procs: list[subprocess.Popen], tmp: Path, wait_s: float = 40) -> None:
    """Stop what ``start`` started, newest first (the server before its redis-server), and
    remove its files."""
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def post(port: int, token: str, event_id: str) -> tuple[float, float]:
    """One gate pass; (the time just before it was sent, the time its 200 came)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()  # the connection is not part of the event's way
    event = {"event_id": event_id, "ts": int(time.time() * 1000) - 50, "campus": "main",
             "gate_id": "main-north", "lane": 1, "direction": "in", "person_type": "student",
             "method": "face", "result": "pass"}
    body = orjson.dumps([event])
    sent = time.time()
    conn.request("POST", "/api/v1/ingest/gate.pass", body=body,
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    r.read()
    acked = time.time()
    conn.close()
    if r.status != 200:
        raise SystemExit(f"ingest answered {r.status}")
    return sent, acked


def offset(page) -> tuple[float, float]:
    """(browser clock − this clock, ± uncertainty) in seconds, from the shortest of 5 round trips."""
    best = None
    for _ in range(5):
        t0 = time.time()
        at = page.evaluate("() => performance.timeOrigin + performance.now()") / 1000
        t1 = time.time()
        if best is None or t1 - t0 < best[1] * 2:
            best = (at - (t0 + t1) / 2, (t1 - t0) / 2)
    assert best is not None
    return best


def shown(page) -> int:
    text = page.locator(SELECTOR).first.inner_text()
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else -1


def settle(pages: list, timeout: float = 60) -> int:
    """Until every screen shows the same count (and it is a number): that count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = {shown(p) for p in pages}
        if len(counts) == 1 and min(counts) >= 0:
            return counts.pop()
        time.sleep(0.1)
    raise SystemExit(f"the screens do not agree: {[shown(p) for p in pages]}")


def run_mode(pages: list, port: int, token: str, mode: str, trials: int, tag: str) -> dict[str, list[float]]:
    every, pairs, acks, delivery, spread = [], [], [], [], 0.0
    for i in range(trials):
        time.sleep(random.uniform(0.3, 1.3))  # trials fall at random points of the tick
        expected = settle(pages) + 1
        offsets = []
        for p in pages:
            p.evaluate(ARM, [SELECTOR, str(expected)])
            offsets.append(offset(p))
        sent, acked = post(port, token, f"pixel-{tag}-{mode}-{i}")
        acks.append(acked - sent)
        got = []
        for p, (off, err) in zip(pages, offsets, strict=True):
            p.wait_for_function("() => window.__bench && window.__bench.at !== null", timeout=30_000,
                                polling=50)
            at, published = p.evaluate("() => [window.__bench.at, window.__bench.published]")
            got.append(at / 1000 - off - sent)
            delivery.append(at / 1000 - off - published / 1000)
            spread = max(spread, err)
        pairs.extend(got)
        every.append(max(got))
    return {"every": every, "pairs": pairs, "acks": acks, "delivery": delivery, "clock": [spread]}


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(name: str, samples: list[float]) -> str:
    return (f"{name}: n={len(samples)} p50={pct(samples, .5) * 1000:.0f} ms "
            f"p95={pct(samples, .95) * 1000:.0f} ms max={max(samples) * 1000:.0f} ms "
            f"mean={statistics.fmean(samples) * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--screens", type=int, default=4)
    ap.add_argument("--redis", action="store_true", help="Redis as the ingest buffer and fan-out")
    ap.add_argument("--modes", default="push,poll",
                    help="push (held requests), poll (?push=0), in this order")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise SystemExit(f"--modes: unknown {unknown}; choose from {', '.join(MODES)}")
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-pixel-"))
    procs, url, env, token = start(tmp, args.redis)
    port = int(url.rsplit(":", 1)[1])
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} cores); mode: {'redis' if args.redis else 'embedded'}", flush=True)
    tag = str(int(time.time()))
    try:
        post(port, token, f"pixel-{tag}-warm")  # the figure is a number on every screen from the start
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            codes = screen_codes(env, [f"pixel-{i}" for i in range(args.screens)], ("/",))
            pages = [paired_page(browser, url, code) for code in codes]
            results = {}
            for mode in modes:
                for page in pages:
                    page.goto(url + MODES[mode])
                    page.wait_for_function(LIVE, timeout=60_000)
                if mode == "push":  # push starts after a page's first polls
                    for page in pages:
                        page.wait_for_function("() => window.IOC.push.on === true", timeout=60_000)
                else:
                    time.sleep(2)
                results[mode] = run_mode(pages, port, token, mode, args.trials, tag)
                if mode == "push":
                    still = [page.evaluate("() => window.IOC.push.on") for page in pages]
                    received = sum(page.evaluate("() => window.IOC.push.received") for page in pages)
                    print(f"push: held requests on every screen at the end: {all(still)}, versions that came "
                          f"by push: {received}", flush=True)
            browser.close()
        for mode, r in results.items():
            print(line(f"{mode:>4} every screen shows it", r["every"]), flush=True)
            print(line(f"{mode:>4} per screen           ", r["pairs"]), flush=True)
            print(line(f"{mode:>4} ingest 200           ", r["acks"]), flush=True)
            print(line(f"{mode:>4} published → on screen", r["delivery"]), flush=True)
            print(f"{mode:>4} clock alignment within ±{r['clock'][0] * 1000:.1f} ms", flush=True)
        if "push" in results and "poll" in results:
            ratio = pct(results["poll"]["every"], .95) / max(pct(results["push"]["every"], .95), 1e-9)
            print(f"p95 every screen: poll / push = {ratio:.2f}", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    finally:
        stop(procs, tmp)


if __name__ == "__main__":
    main()
