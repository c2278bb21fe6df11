"""Wall soak: screens left open on live data, as on the ops-center wall.

Starts the real server (gunicorn, embedded engine, demo feed on: live events every 5 s),
measures the server's CPU with no screen open (the baseline, same run), then opens
``--screens`` Chromium pages on ``--page`` (default ``/wall``) and, every ``--sample-s``
seconds for ``--minutes``, samples each page's JS heap and DOM node count (Chrome DevTools
Protocol ``Performance.getMetrics``) and the server's CPU time.

Every page is a paired wall screen, as on the wall (the product is deny by default): a
pairing code for ``soak-<i>`` is written into the product's access file (what ``python -m
ioc_app screen add`` does), and each page's own browser context redeems it at
``/wall/pair?code=`` before opening ``--page``, so it holds its own ``ioc_screen`` cookie.
A paired wall rotates through its screen's pages: ``--pages``, by default the product's
playlist for today (``ioc_app/wall.toml`` with its seasons), plus ``--page`` when that is
not ``/wall``. Reports:
- first render of ``/``: navigation start → the first figures bound on screen (a screen
  ``first-render`` paired for ``/`` in a fresh context, so the browser's cache is cold);
- JS heap (after a forced garbage collection) and DOM nodes over time, and the heap growth
  after the first 5 minutes;
- server CPU per open screen: (CPU with screens − baseline CPU) / screens, in % of one core,
  the baseline being the mean of the no-screen load before and after (the demo's traffic
  follows the time of day).

    .venv/bin/python bench/wall_soak.py [--minutes 30] [--screens 4] [--page /wall] [--pages /,/gates]
                                        [--sample-s 60] [--baseline-s 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import screen_codes, wait_healthy  # noqa: E402

VIEWPORT = {"width": 1920, "height": 1080}
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-precise-memory-info"]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (the gunicorn master and its worker)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def server_pids(root_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(root_pid)], capture_output=True, text=True).stdout.split()
    return [root_pid, *(int(p) for p in out)]


def metrics(cdp) -> dict[str, float]:
    got = cdp.send("Performance.getMetrics")["metrics"]
    return {m["name"]: m["value"] for m in got}


def screen_pages(env: dict[str, str], raw: str | None, page: str) -> tuple[str, ...]:
    """The pages the soak's screens are paired for: ``raw`` or today's playlist, and ``page``."""
    from ioc_app.pairing import SCREEN_PAGES, check_pages
    from ioc_app.settings import load_settings
    from ioc_app.wall import load_wall

    settings = load_settings(env, dotenv=None)
    today = datetime.now(settings.zone).date()
    pages = raw.split(",") if raw else list(load_wall(settings.wall).pages_on(today))
    path = page.split("?", 1)[0]
    if path.rstrip("/") != "/wall":
        pages.append(path)
    return check_pages(pages, SCREEN_PAGES)


def paired_page(browser, url: str, code: str):
    """A page in a browser context of its own that redeemed ``code`` at ``/wall/pair`` (the
    context keeps the ``ioc_screen`` cookie; nothing is rendered yet, the cache stays cold)."""
    context = browser.new_context(viewport=VIEWPORT)
    r = context.request.get(f"{url}/wall/pair?code={code}", max_redirects=0)
    if r.status != 303 or not any(c["name"] == "ioc_screen" for c in context.cookies()):
        raise SystemExit(f"pairing with code {code} failed: HTTP {r.status}")
    return context.new_page()


def wait_snapshot(url: str, server: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Until ``/readyz`` (answered to this host) shows a snapshot: the core has ticked."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=5) as r:
                if json.loads(r.read())["parts"]["snapshot"] is not None:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("server did not start: " + log.read_text()[-2000:])
        time.sleep(0.5)



@contextmanager
def demo_server(prefix: str) -> Iterator[tuple[str, dict[str, str], subprocess.Popen]]:
    """``(url, env, process)`` of the product run with demo data on its own engine and a free
    port, once it is healthy and has a snapshot; stopped and its files removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update(IOC_CLICKHOUSE_URL=f"chdb://{tmp / 'engine'}", IOC_TOKENS_FILE=str(tmp / "tokens.toml"),
               IOC_DEMO="1", IOC_PORT=str(free_port()), PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "ioc_app", "run"], env=env, cwd=ROOT,
                              stdout=open(tmp / "server.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['IOC_PORT']}"
    try:
        wait_healthy(url, server, 180, tmp / "server.log")
        wait_snapshot(url, server, tmp / "server.log")
        yield url, env, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--screens", type=int, default=4)
    ap.add_argument("--page", default="/wall")
    ap.add_argument("--pages", default=None, help="the screens' pages, comma-separated (default: the "
                                                  "product's playlist for today)")
    ap.add_argument("--sample-s", type=float, default=60)
    ap.add_argument("--baseline-s", type=float, default=60)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with demo_server("ioc-soak-") as (url, env, server):
        pages_of = screen_pages(env, args.pages, args.page)
        codes = screen_codes(env, ["first-render"], ("/",))
        codes += screen_codes(env, [f"soak-{i}" for i in range(args.screens)], pages_of)
        print(f"pairing codes for screens soak-0…soak-{args.screens - 1} showing {','.join(pages_of)}",
              flush=True)
        time.sleep(5)
        pids = server_pids(server.pid)
        c0 = cpu_seconds(pids)
        time.sleep(args.baseline_s)
        baseline = (cpu_seconds(pids) - c0) / args.baseline_s
        print(f"server CPU with no screen: {baseline * 100:.1f}% of one core (demo feed and core ticks)",
              flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            first = paired_page(browser, url, codes[0])
            t = time.monotonic()
            first.goto(url + "/")
            first.wait_for_function("() => window.IOC && window.IOC.snapshot !== null", timeout=60_000)
            print(f"first render of /: {time.monotonic() - t:.2f} s (navigation → figures on screen)",
                  flush=True)
            first.context.close()
            pages, sessions = [], []
            for i in range(args.screens):
                page = paired_page(browser, url, codes[1 + i])
                page.goto(url + args.page)
                # a screen the gate refused would show the sign-in or pairing page: never figures
                page.wait_for_function("() => window.IOC && window.IOC.snapshot !== null", timeout=60_000)
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                pages.append(page)
                sessions.append(cdp)
            started = time.monotonic()
            c1 = cpu_seconds(pids)
            samples: list[tuple[float, float, float]] = []
            print(f"{'minute':>6} {'JS heap MB (mean)':>18} {'DOM nodes (mean)':>17} "
                  f"{'server CPU/screen':>18}")
            last_cpu, last_t = c1, started
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(args.sample_s)
                for cdp in sessions:  # what the page holds on to, not garbage not yet collected
                    cdp.send("HeapProfiler.collectGarbage")
                got = [metrics(s) for s in sessions]
                heap = sum(m["JSHeapUsedSize"] for m in got) / len(got) / 2**20
                nodes = sum(m["Nodes"] for m in got) / len(got)
                now_cpu, now_t = cpu_seconds(pids), time.monotonic()
                per = ((now_cpu - last_cpu) / (now_t - last_t) - baseline) / args.screens
                last_cpu, last_t = now_cpu, now_t
                minute = (now_t - started) / 60
                samples.append((minute, heap, nodes))
                print(f"{minute:>6.1f} {heap:>18.1f} {nodes:>17.0f} {per * 100:>17.2f}%", flush=True)
            busy = (cpu_seconds(pids) - c1) / (time.monotonic() - started)
            for page in pages:
                page.context.close()
            # the demo's traffic changes with the time of day: the no-screen load is measured
            # again after the screens closed, and the two baselines averaged
            time.sleep(5)
            c2 = cpu_seconds(pids)
            time.sleep(args.baseline_s)
            after = (cpu_seconds(pids) - c2) / args.baseline_s
            total = (busy - (baseline + after) / 2) / args.screens
            # a wall rotates pages, so one sample depends on the page shown: compare the mean
            # of the first five samples after minute 5 with the mean of the last five
            after5 = [s for s in samples if s[0] >= 5] or samples
            k = max(1, min(5, len(after5) // 2))
            early = sum(s[1] for s in after5[:k]) / k
            late = sum(s[1] for s in after5[-k:]) / k
            growth = (late - early) / early * 100
            print(f"heap growth after the first 5 minutes (mean of {k} samples, after GC): {growth:+.1f}% "
                  f"({early:.1f} → {late:.1f} MB); DOM nodes {after5[0][2]:.0f} → {after5[-1][2]:.0f}")
            print(f"server CPU with no screen after the run: {after * 100:.1f}% of one core; "
                  f"per open screen over the run: {total * 100:.2f}% of one core")
            browser.close()


if __name__ == "__main__":
    main()
