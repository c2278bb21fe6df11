"""Live updates: the server work one open screen causes per new snapshot version, per page.

Starts the real server (embedded engine, demo feed on), pairs one screen for the cockpit
pages, then opens each page in headless Chromium at 1080p and, for ``--seconds``, counts
the new snapshot versions the page received (``/api/v1/snapshot`` answered 200, not 304) and
the Dash callback requests it made (``/_dash-update-component``), with each request's time
from sending to the last byte of the answer (on a local server: the server's work). Reports
per page: versions, callback requests, requests per version, milliseconds per request and
callback milliseconds per version — the figures a page's live-update mechanism is judged by.

    .venv/bin/python bench/live_updates.py [--seconds 30] [--pages /,/gates,/network,/service,/enrollment]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import screen_codes  # noqa: E402
from bench.wall_soak import ARGS, CHROMIUM, demo_server, paired_page  # noqa: E402

PAGES = ("/", "/gates", "/network", "/service", "/enrollment")
CALLBACK = "/_dash-update-component"
SNAPSHOT = "/api/v1/snapshot"


def measure(browser, url: str, code: str, path: str, seconds: float) -> dict[str, float]:
    """Open ``path`` on a freshly paired screen, wait until it shows figures, then count."""
    page = paired_page(browser, url, code)
    page.goto(url + path)
    page.wait_for_function("() => window.IOC && window.IOC.snapshot !== null", timeout=60_000)
    time.sleep(2)  # the page's first render and its loading callbacks are over
    got = {"versions": 0, "requests": 0, "ms": 0.0, "bytes": 0}
    counting = {"on": True}

    def finished(request) -> None:
        if not counting["on"]:
            return
        if SNAPSHOT in request.url:
            response = request.response()
            if response is not None and response.status == 200:
                got["versions"] += 1
        elif CALLBACK in request.url:
            timing = request.timing
            got["requests"] += 1
            got["ms"] += max(0.0, timing["responseEnd"] - timing["requestStart"])
            response = request.response()
            got["bytes"] += len(response.body()) if response is not None else 0

    page.on("requestfinished", finished)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        page.wait_for_timeout(250)
    counting["on"] = False
    page.context.close()
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--pages", default=",".join(PAGES))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    paths = args.pages.split(",")
    with demo_server("ioc-live-") as (url, env, _server):
        codes = screen_codes(env, [f"live-{i}" for i in range(len(paths))], tuple(paths))
        print(f"{'page':<12} {'versions':>8} {'requests':>8} {'req/version':>11} {'ms/request':>10} "
              f"{'ms/version':>10} {'kB/version':>10}", flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for path, code in zip(paths, codes, strict=True):
                got = measure(browser, url, code, path, args.seconds)
                versions = max(got["versions"], 1)
                per_request = got["ms"] / got["requests"] if got["requests"] else 0.0
                print(f"{path:<12} {got['versions']:>8} {got['requests']:>8} "
                      f"{got['requests'] / versions:>11.2f} {per_request:>10.1f} "
                      f"{got['ms'] / versions:>10.1f} {got['bytes'] / versions / 1024:>10.1f}", flush=True)
            browser.close()


if __name__ == "__main__":
    main()
