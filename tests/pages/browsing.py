"""What the browser tests of the pages share: a seeded server, a watched page, and checks of
how a page looks (text outside its box, scrollbars)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import ROOT, Server, app_on, free_port, pairing_code, signed_in


def seed(env: dict[str, str], *command: str) -> str:
    """Run a seeding script (``-c SCRIPT args…`` or ``-m module args…``) with the product's
    settings, before the server owns the store; returns what it printed."""
    run = subprocess.run([sys.executable, *command], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.strip()


@contextmanager
def serving(env: dict[str, str]) -> Iterator[Server]:
    """The real server on a free loopback port, ready, and stopped afterwards."""
    srv = Server(env, free_port())
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@contextmanager
def in_process(store: Any, tmp_path: Any) -> Iterator[tuple[str, Any, str]]:
    """``(url, runtime, session)``: the app served from this process on ``store`` (a loopback
    port), so a test can drive its core; ``session`` is the tests' person's session cookie.
    Held push requests are answered before the server stops, so it stops at once."""
    from werkzeug.serving import make_server

    from ioc_app import read

    app = app_on(store, tmp_path)
    runtime = app.server.extensions[read.EXTENSION]
    session = signed_in(app, app.server.test_client())
    httpd = make_server("127.0.0.1", free_port(), app.server, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", runtime, session
    finally:
        runtime.feed.push.close()
        httpd.shutdown()
        runtime.pipeline.buffer.close()


def paired_screen(browser: Any, server: Server, name: str, pages: tuple[str, ...], width: int,
                  height: int) -> Any:
    """A browser context that is the wall screen ``name`` (showing ``pages``): paired the way a
    wall is, by opening ``/wall/pair?code=`` with a code ``screen add`` gives; no person's session."""
    context = browser.anonymous(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{server.url}/wall/pair?code={pairing_code(server.env, name, pages)}")
    assert page.url == server.url + "/wall", page.url  # redeemed: on to the screen's wall
    assert any(c["name"] == "ioc_screen" for c in context.cookies())
    page.close()
    return context


def failure_of(request: Any) -> str | None:
    """What a failed request says, or None when it did not really fail: Chromium reports the
    empty body of a 304 (snapshot unchanged) to fetch() as aborted."""
    response = request.response()
    if response and response.status == 304:
        return None
    return f"{request.url} {request.failure}"


class Watched:
    """A page with every request, failure and console error it caused (in ``context`` when
    given: a paired screen, say; else a new signed-in one of ``browser``)."""

    def __init__(self, browser: Any, url: str, width: int, height: int, context: Any = None) -> None:
        if context is not None:
            self.page = context.new_page()
            self.page.set_viewport_size({"width": width, "height": height})
        else:
            self.page = browser.new_page(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", self._failed)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(url, wait_until="networkidle")
        self.ready()

    def _failed(self, request: Any) -> None:
        if (failure := failure_of(request)) is not None:
            self.failed.append(failure)

    def ready(self) -> None:
        """Wait until the page shows live figures (its freshness badge says so)."""
        self.page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")

    def goto(self, url: str) -> None:
        """Open ``url`` in the watched page. The requests the old page still had in flight are
        cancelled by the browser (``net::ERR_ABORTED``); that is leaving a page, not a failure,
        so only those are forgiven, and only for this navigation."""
        before = len(self.failed)
        self.page.goto(url, wait_until="networkidle")
        self.failed[before:] = [f for f in self.failed[before:] if not f.endswith("net::ERR_ABORTED")]
        self.ready()

    def clean(self, origin: str) -> None:
        """No error, no failed request, and every request went to the app at ``origin``."""
        assert self.errors == [] and self.failed == [], (self.errors, self.failed)
        assert self.requests and all(r.startswith(origin) for r in self.requests), [
            r for r in self.requests if not r.startswith(origin)]

    def text_of(self, selector: str) -> str:
        return self.page.locator(selector).first.inner_text()

# Text nodes that stick out of a box that clips them (overflow not visible), or out of the
# window: cut-off, overlapping or ellipsised text.
OVERFLOW_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const W = window.innerWidth, H = window.innerHeight, flow = !!document.querySelector('.ioc-flow');
  let n;
  while ((n = walker.nextNode())) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el || el.closest('script,style,noscript,svg')) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const text = n.textContent.trim().slice(0, 40);
    if (r.left < -1 || r.right > W + 1 || (!flow && r.bottom > H + 1)) {
      out.push({text, why: 'outside the window'}); continue;
    }
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const b = a.getBoundingClientRect();
      // sideways by a pixel is cut-off text; up or down, a font's line box is taller than its
      // glyphs, so only a third of the line outside counts
      const v = Math.max(b.top - r.top, r.bottom - b.bottom);
      if (r.left < b.left - 1 || r.right > b.right + 1 || v > r.height / 3) {
        out.push({text, why: 'clipped by ' + a.tagName + '.' + a.className,
                  box: [b.left, b.top, b.right, b.bottom].map(Math.round),
                  text_box: [r.left, r.top, r.right, r.bottom].map(Math.round)});
        break;
      }
    }
  }
  return out;
}"""


def scroll_sizes(page: Any) -> tuple[int, int, int, int]:
    """``(scrollWidth, scrollHeight, innerWidth, innerHeight)``: a scrollbar is a size past the window."""
    return tuple(page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement"
                               ".scrollHeight, window.innerWidth, window.innerHeight]"))


#: the page's scroll size against the window (a scrollbar is a size past it)
SCROLL = """() => { const s = document.scrollingElement;
  return {h: s.scrollHeight, w: s.scrollWidth, ih: innerHeight, iw: innerWidth}; }"""


def geometry_js(extra: str) -> str:
    """A check of a canvas page's text boxes — the tiles' titles, labels, numbers and ranking
    rows, and the page's own ``extra`` selectors: none cut, none outside its tile, no tile body
    overflowing, no tile off the canvas. Evaluated, it returns what is wrong (empty: nothing)."""
    selectors = (".ioc-tile-title, .ioc-kpi-label, .ioc-num, .ioc-rank-row, .ioc-rank-name, .ioc-rank-value, "
                 + extra)
    return """() => {
  const sel = '""" + selectors + """';
  const bad = [];
  for (const el of document.querySelectorAll(sel)) {
    if (!el.textContent.trim() || !el.getClientRects().length) continue;
    const what = el.className + ' «' + el.textContent.trim().slice(0, 30) + '»';
    if (el.scrollWidth > el.clientWidth + 1) bad.push('cut ' + what);
    const tile = el.closest('.ioc-tile');
    if (!tile) continue;
    const r = el.getBoundingClientRect(), t = tile.getBoundingClientRect();
    if (r.left < t.left - 1 || r.right > t.right + 1 || r.top < t.top - 1 || r.bottom > t.bottom + 1)
      bad.push('outside its tile ' + what);
  }
  for (const body of document.querySelectorAll('.ioc-canvas .ioc-tile-body')) {
    if (body.scrollHeight > body.clientHeight + 1 || body.scrollWidth > body.clientWidth + 1)
      bad.push('tile overflows: ' + body.parentElement.querySelector('.ioc-tile-title').textContent);
  }
  const canvas = document.querySelector('.ioc-canvas');
  if (canvas) {
    const c = canvas.getBoundingClientRect();
    for (const tile of document.querySelectorAll('.ioc-tile')) {
      const t = tile.getBoundingClientRect();
      if (t.right > c.right + 1 || t.bottom > c.bottom + 1) bad.push('tile off the canvas');
    }
  }
  return bad;
}"""
