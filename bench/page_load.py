"""Page load: how long every page takes to settle in a browser, at wall, 4K and tablet size.

Starts the real server (embedded engine, demo feed on; ``bench.wall_soak.demo_server``), gives
a local account the roles that together open every page (``viewer``, ``admissions``,
``analyst``: none needs a second factor) and signs it in once through the real form. Then, in
headless Chromium, it opens every page of the product — the paths of the product's page
table, ``ioc_app.permissions.PAGES`` — at each size:

- ``1080p``: 1920×1080, the wall canvas at its own size;
- ``4k``: 3840×2160 at device scale 1, the canvas scaled up twice;
- ``tablet``: 1180×820 at device scale 2, mobile, touch (an iPad in landscape).

Each page and size is loaded *cold* — in a new browser context, so nothing is cached and no
connection is open — and then *warm*: a second page of the same context, so Dash's
fingerprinted scripts come from the cache as for someone who has opened IOC before.

A load is timed from navigation start (``performance.timeOrigin``) to the moment the page has
*settled*, as a script injected before any of the page's own checks every 20 ms (in the
page, so the clock is the browser's and Playwright's round trips do not count):

1. the document has loaded (``readyState`` ``complete``) and Dash's "Loading..." placeholder
   is gone;
2. Dash's renderer holds the layout and the page's content (``#_pages_content`` has children:
   the page routing callback has answered and its answer is rendered);
3. no callback is pending in the renderer's store (``window.store``: requested, prioritized,
   blocked, executing, watched, executed or stored) other than the one-a-second snapshot
   poll, whose output is ``ioc-live-version.data`` — it never stops, and it is not loading
   the page — and other pages' callbacks (none of their outputs is in the layout: Dash drops
   them); a part the first snapshot makes the server redraw *is* counted;
4. no element carries ``data-dash-is-loading`` (Dash's own "a component is waiting for a
   callback" mark) and every ``dcc.Graph`` has drawn (holds a ``.main-svg``: the graph
   component and plotly.js are loaded lazily, and until then the box is empty);
5. a page with the live badge shows figures (the badge has left ``connecting``: the first
   snapshot is bound).

The settle time is the first moment all of these held *and kept holding for 300 ms* (a page
between two callbacks of a chain is not settled) — or until a newer snapshot version arrived:
the callbacks a new version starts are the page staying live, not loading (a version comes
about every second, and would otherwise keep pushing the end of a settled page's quiet time).
The sign-in page (``/auth/login``, static, the same checks pass at once) is timed the same way
as the run's baseline: what loading anything from this server costs in this browser on this
machine at that moment.

Printed per load: the settle time, the time the page's main thread was busy until then
(Chrome's ``TaskDuration``: on a machine shared with other work the settle time also counts
waiting for a core, this one much less), when the HTML arrived, the Dash callbacks the page sent
(count and the slowest one's time from request to last byte, i.e. the server's work on
loopback), kilobytes transferred (0 from cache), and the last reason the page was not
settled. Then per mode the median, the maximum and how many loads took over ``--limit``
seconds (2 s). ``--detail`` prints each load's requests.

    .venv/bin/python bench/page_load.py [--pages /,/service] [--sizes 1080p,4k,tablet]
                                        [--modes cold,warm] [--repeat 1] [--limit 2] [--detail]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import SESSION_COOKIE, add_person, sign_in  # noqa: E402
from bench.wall_soak import ARGS, CHROMIUM, demo_server  # noqa: E402

SIZES: dict[str, dict[str, Any]] = {
    "1080p": {"viewport": {"width": 1920, "height": 1080}},
    "4k": {"viewport": {"width": 3840, "height": 2160}},
    "tablet": {"viewport": {"width": 1180, "height": 820}, "device_scale_factor": 2, "is_mobile": True,
               "has_touch": True},
}
MODES = ("cold", "warm")
#: roles that together may open every page, none of them needing a second factor to sign in
ROLES = ("viewer", "admissions", "analyst")
BASELINE = "/auth/login"
CALLBACK = "/_dash-update-component"
QUIET_MS = 300
TIMEOUT_MS = 60_000

SETTLE_JS = """
(() => {
  const QUIET = %(quiet)d;
  const PERIODIC = new Set(["ioc-live-version.data"]);  // the snapshot poll: every second, forever
  const QUEUES = ["requested", "prioritized", "blocked", "executing", "watched", "executed", "stored"];
  const out = window.__iocSettle = {done: false, at: null, seen: {}};
  let since = null;
  // a callback of another page (its outputs are not in the layout) is dropped by Dash: it is
  // not this page loading. Outputs: "id.prop" or "..id.prop...id.prop.."; a pattern id is JSON
  function shown(output, here) {
    const outs = output.startsWith("..") ? output.slice(2, -2).split("...") : [output];
    return outs.some(o => o.startsWith("{") || here[o.slice(0, o.lastIndexOf("."))] !== undefined);
  }
  function busy() {
    if (document.readyState !== "complete") return "document";
    if (document.querySelector("._dash-loading")) return "renderer";
    if (!document.getElementById("react-entry-point")) return null;  // not a Dash page
    const store = window.store;
    if (!store) return "renderer";
    const s = store.getState();
    if (!s.layout || !s.graphs) return "layout";
    const content = document.getElementById("_pages_content");
    if (content && !content.firstElementChild) return "page";
    const cbs = s.callbacks || {};
    const here = (s.paths && s.paths.strs) || {};
    for (const q of QUEUES) {
      for (const c of cbs[q] || []) {
        const o = (c && c.callback && c.callback.output) || "";
        if (!PERIODIC.has(o) && shown(o, here)) return "callback " + o.slice(0, 60);
      }
    }
    if (document.querySelector("[data-dash-is-loading]")) return "component";
    for (const g of document.querySelectorAll(".dash-graph")) {
      if (!g.querySelector(".main-svg")) return "graph";
    }
    const badge = document.getElementById("ioc-badge");
    if (badge && badge.dataset.state === "connecting") return "figures";
    return null;
  }
  const version = () => (window.IOC ? window.IOC.version : null);
  let sinceVersion = null;
  const timer = setInterval(() => {
    const now = performance.now();
    let why;
    try { why = busy(); } catch (e) { why = "error " + e; }
    if (why && since !== null && version() !== sinceVersion) why = null;  // a live update, see above
    if (why) { since = null; out.last = why; out.seen[why.split(" ")[0]] = now; return; }
    if (since === null) { since = now; sinceVersion = version(); }
    if (now - since >= QUIET || version() !== sinceVersion) {
      out.done = true; out.at = since; clearInterval(timer);
    }
  }, 20);
})();
""".replace("%(quiet)d", str(QUIET_MS))


@dataclass
class Load:
    """One load of one page: its settle time and what it cost."""

    path: str
    size: str
    mode: str
    settle_ms: float
    main_ms: float  # the renderer's main thread busy (Chrome's TaskDuration) until settled
    html_ms: float
    kb: float
    last: str
    seen: dict[str, float] = field(default_factory=dict)  # why the page was busy → when last, ms
    callbacks: list[tuple[str, float]] = field(default_factory=list)  # (output, ms)
    requests: list[tuple[str, float, float, int]] = field(default_factory=list)  # (url, start, end, bytes)


def pages_of(raw: str | None) -> list[str]:
    """``raw`` (comma-separated) or every page of the product's page table."""
    from ioc_app.permissions import PAGES

    return raw.split(",") if raw else list(PAGES)


def check_roles(paths: list[str]) -> None:
    """Stop with a message when ``ROLES`` do not open every page asked for."""
    from ioc_app.permissions import PAGES
    from ioc_app.roles import permissions

    held = permissions(ROLES)
    missing = sorted(p for p in paths if PAGES.get(p, "page") not in held)
    if missing:
        raise SystemExit(f"roles {', '.join(ROLES)} may not open {', '.join(missing)}: add a role to ROLES "
                         "that holds their permission (ioc_app/permissions.PAGES)")


def timed(context: Any, url: str, path: str, size: str, mode: str) -> Load:
    """Open ``path`` in a new page of ``context`` and wait until it has settled."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    callbacks: list[tuple[str, float]] = []

    def finished(request: Any) -> None:
        if CALLBACK in request.url:
            timing = request.timing
            try:
                output = str(json.loads(request.post_data or "{}").get("output", "?"))
            except ValueError:
                output = "?"
            callbacks.append((output, max(0.0, timing["responseEnd"] - timing["requestStart"])))

    page.on("requestfinished", finished)
    page.goto(url + path, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.__iocSettle && window.__iocSettle.done", timeout=TIMEOUT_MS,
                           polling=100)
    got = page.evaluate("""() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const res = performance.getEntriesByType("resource").map(r => [
        r.name.replace(location.origin, ""), r.startTime, r.responseEnd, r.transferSize]);
      return {settle: window.__iocSettle, html: nav ? nav.responseEnd : 0,
              bytes: (nav ? nav.transferSize : 0) + res.reduce((a, r) => a + r[3], 0), res: res};
    }""")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.close()
    settle = got["settle"]
    return Load(path, size, mode, settle["at"], metrics.get("TaskDuration", 0.0) * 1000, got["html"],
                got["bytes"] / 1024, settle.get("last", "-"), settle.get("seen", {}), callbacks,
                [tuple(r) for r in got["res"]])


def row(load: Load) -> str:
    slowest = max(load.callbacks, key=lambda c: c[1], default=("-", 0.0))
    return (f"{load.path:<18} {load.size:<7} {load.mode:<5} {load.settle_ms / 1000:>7.2f} "
            f"{load.main_ms:>7.0f} {load.html_ms:>7.0f} {len(load.callbacks):>4} {slowest[1]:>8.0f} "
            f"{load.kb:>8.0f}  {load.last[:40]}")


def detail(load: Load) -> str:
    """The load's requests (start and end, ms after navigation start), when each reason for not
    being settled was last seen, and its callbacks."""
    lines = [f"    {start:>7.0f} {end:>7.0f} {got / 1024:>7.1f} kB  {name[:90]}"
             for name, start, end, got in sorted(load.requests, key=lambda r: r[1])]
    lines.append("    busy until: " + ", ".join(f"{why} {ms:.0f}" for why, ms in
                                             sorted(load.seen.items(), key=lambda s: s[1])))
    lines += [f"    callback {ms:>6.0f} ms  {output[:100]}" for output, ms in load.callbacks]
    return "\n".join(lines)


def summary(label: str, loads: list[Load], limit_s: float) -> str:
    times = [x.settle_ms / 1000 for x in loads]
    if not times:
        return f"{label:<22} no loads"
    over = sum(1 for s in times if s > limit_s)
    main = [x.main_ms / 1000 for x in loads]
    return (f"{label:<22} median {statistics.median(times):.2f} s   max {max(times):.2f} s   "
            f"over {limit_s:g} s: {over} of {len(times)}   main thread median "
            f"{statistics.median(main):.2f} s, max {max(main):.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", default=None, help="paths, comma-separated (default: every page)")
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--limit", type=float, default=2.0, help="seconds a load may take")
    ap.add_argument("--detail", action="store_true", help="print each load's requests")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    paths = pages_of(args.pages)
    sizes = [s for s in args.sizes.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    unknown = [s for s in sizes if s not in SIZES] + [m for m in modes if m not in MODES]
    if unknown:
        raise SystemExit(f"unknown size or mode {', '.join(unknown)}: sizes are {', '.join(SIZES)}, "
                         f"modes {', '.join(MODES)}")
    check_roles(paths)
    with demo_server("ioc-pload-") as (url, env, _server):
        cookie = sign_in(url, "bench-pages", add_person(env, "bench-pages", ROLES))
        session = [{"name": SESSION_COOKIE, "value": cookie, "url": url}]
        loads: list[Load] = []
        baseline: list[Load] = []
        print(f"{'page':<18} {'size':<7} {'mode':<5} {'settle s':>7} {'main ms':>7} {'html ms':>7} "
              f"{'cbs':>4} {'slowest':>8} {'kB':>8}  last busy", flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _ in range(max(1, args.repeat)):
                for size in sizes:
                    for path in [BASELINE, *paths]:
                        context = browser.new_context(**SIZES[size])
                        context.add_init_script(SETTLE_JS)
                        if path != BASELINE:
                            context.add_cookies(session)
                        for mode in modes:
                            if mode == "warm" and "cold" not in modes:
                                timed(context, url, path, size, "cold")  # fill the cache, not counted
                            load = timed(context, url, path, size, mode)
                            (baseline if path == BASELINE else loads).append(load)
                            print(row(load), flush=True)
                            if args.detail:
                                print(detail(load), flush=True)
                        context.close()
            browser.close()
    print()
    for mode in modes:
        print(summary(f"baseline {BASELINE} {mode}", [x for x in baseline if x.mode == mode], args.limit))
    for mode in modes:
        print(summary(f"pages {mode}", [x for x in loads if x.mode == mode], args.limit))
        for size in sizes:
            print(summary(f"  {size} {mode}", [x for x in loads if x.mode == mode and x.size == size],
                          args.limit))
    print(summary("pages, every load", loads, args.limit))
    worst = sorted(loads, key=lambda x: -x.settle_ms)[:5]
    print("slowest: " + ", ".join(f"{x.path} {x.size} {x.mode} {x.settle_ms / 1000:.2f} s" for x in worst))


if __name__ == "__main__":
    main()
