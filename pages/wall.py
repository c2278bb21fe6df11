"""Wall rotation (大屏轮播): the pages of a playlist one after the other, unattended, in one
document — no reload between pages, so a wall never flashes white or loses its fit.

The shown page is rendered by its own ``layout`` from ``dash.page_registry`` into the wall's
stage (pages never import each other); its live machinery (config, version, poll) replaces
the previous page's, so exactly one set is on screen. Rotation timing, the progress line and
re-binding the numbers of a freshly shown page run in the browser (``assets/ioc_wall.js``),
which swaps only once nothing of the shown page is in flight.

``?pages=/,/gates&interval=30`` override the configured playlist (``IOC_WALL``): entries that
are no page are skipped, the interval is clamped to 10–600 s. ``lang``, ``theme``, ``fit``
and ``screen`` are passed on to every page; the playlist's nightly soft-reload time is put
into each page's live config.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from ioc_app import read
from layouts import ids
from layouts.i18n import t
from layouts.live import options

dash.register_page(__name__, path="/wall", name="wall", order=90, title="IOC")

log = logging.getLogger("ioc.pages.wall")
PAGE = "wall"
CONFIG = f"{PAGE}-config"
INDEX = f"{PAGE}-index"
SHOWN = f"{PAGE}-shown"
ACK = f"{PAGE}-ack"
TIMER = f"{PAGE}-timer"
STAGE = f"{PAGE}-stage"
PROGRESS = f"{PAGE}-progress"
CHECK_MS = 1000  # the browser compares the time shown with the interval once a second
BOARDS = "/boards/"  # the boards from files, each at its own address


def known_paths() -> set[str]:
    """The pages a wall may rotate through: not the ones registered with ``wall=False`` (a
    desk view such as the admissions office's exact figures)."""
    return {str(p.get("path")) for p in dash.page_registry.values() if p.get("wall", True)}


def _walk(node: Any) -> Any:
    """Every Dash component of a layout tree, depth first."""
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def _text(node: Any) -> str:
    children = getattr(node, "children", "")
    return children if isinstance(children, str) else ""


def render(path: str, opts: dict[str, Any], reload_at: str | None) -> tuple[Any, str]:
    """The page at ``path`` as the wall shows it, and its title (the page's heading).

    The page's live config gets the nightly reload time; a flowing tablet page becomes the
    scaled canvas, because a wall never scrolls (the theme's colours stay).
    """
    route, _, query = path.partition("?")
    params = {**dict(parse_qsl(query)), **{k: v for k, v in opts.items() if v}}
    if route.startswith(BOARDS):  # a board from a file: /boards/<slug>
        entry = next(p for p in dash.page_registry.values() if p.get("path_template") == f"{BOARDS}<slug>")
        params["slug"] = route[len(BOARDS):]
    else:
        entry = next(p for p in dash.page_registry.values() if p.get("path") == route)
    make = entry["layout"]
    tree = make(**params) if callable(make) else make
    title = str(entry.get("title") or "")
    for node in _walk(tree):
        if getattr(node, "id", None) == ids.CONFIG and isinstance(getattr(node, "data", None), dict):
            node.data = {**node.data, "reload_at": reload_at}
        classes = str(getattr(node, "className", "") or "")
        if "ioc-flow" in classes.split():
            node.className = classes.replace("ioc-flow", "ioc-canvas")
        elif "ioc-title" in classes.split() and _text(node):
            title = _text(node)
    return html.Div(tree, className="wall-slide", **{"data-wall-path": path}), title


def layout(pages: str | None = None, interval: str | None = None, lang: str | None = None,
           theme: str | None = None, fit: str | None = None, screen: str | None = None,
           **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit)
    playlist = read.screen_pages()  # a paired screen shows its own pages, whatever the URL says
    mayopen = {path for path in known_paths() if read.may_open(path)}  # nothing the viewer may not open
    mayopen |= {f"{BOARDS}{v.slug}" for v in read.boards_list()}
    paths, interval_s, reload_at = read.wall_rotation(",".join(playlist) if playlist else pages, interval,
                                                      mayopen)
    who = read.viewer()
    opts = {"lang": lang, "theme": theme, "fit": fit, "screen": who["screen"]}
    first, title = render(paths[0], opts, reload_at)
    log.info("event=wall.opened screen=%s pages=%s interval_s=%d", who["screen"] or "-", ",".join(paths),
             interval_s)
    cfg = {"pages": list(paths), "interval_s": interval_s, "opts": opts, "reload_at": reload_at,
           "brand": t("app.short", lang), "ids": {"tick": ids.TICK, "index": INDEX}}
    return html.Div([
        html.Div(first, id=STAGE, className="wall-stage"),
        html.Div(html.Div(className="wall-progress-bar"), id=PROGRESS, className="wall-progress"),
        html.Div([html.Span(className="wall-dot" + (" wall-dot-on" if i == 0 else ""))
                  for i in range(len(paths))] if len(paths) > 1 else [], className="wall-dots"),
        dcc.Store(id=CONFIG, data=cfg),
        dcc.Store(id=INDEX, data=0),
        dcc.Store(id=SHOWN, data={"index": 0, "title": title, "path": paths[0]}),
        dcc.Store(id=ACK),
        dcc.Interval(id=TIMER, interval=CHECK_MS, disabled=len(paths) < 2),
    ], className="wall-root", **{"data-wall-pages": ",".join(paths)})


@callback(
    Output(STAGE, "children"),
    Output(SHOWN, "data"),
    Input(INDEX, "data"),
    State(CONFIG, "data"),
    prevent_initial_call=True,
)
def show(index: int | None, cfg: dict[str, Any]) -> tuple[Any, Any]:
    """Render the next page of the rotation into the stage (on the server: its layout reads
    the snapshot and settings the same way as when it is opened on its own)."""
    paths = cfg["pages"]
    i = int(index or 0) % len(paths)
    if not read.may_open(paths[i].partition("?")[0]):  # the playlist comes from the browser
        return dash.no_update, dash.no_update
    opts = {**cfg["opts"], "screen": read.viewer()["screen"]}
    try:
        page, title = render(paths[i], opts, cfg.get("reload_at"))
    except Exception:  # one broken page must not stop the wall: it stays on the current page
        log.exception("event=wall.render_failed path=%s", paths[i])
        return dash.no_update, dash.no_update
    return page, {"index": i, "title": title, "path": paths[i]}


# once a second: is it time, and is the shown page quiet? The next index is then set from the
# browser (dash_clientside.set_props) after the page has drained, so this returns no_update
clientside_callback(
    ClientsideFunction(namespace="ioc_wall", function_name="advance"),
    Output(INDEX, "data"),
    Input(TIMER, "n_intervals"),
    State(INDEX, "data"),
    State(CONFIG, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="ioc_wall", function_name="shown"),
    Output(ACK, "data"),
    Input(SHOWN, "data"),
    State(CONFIG, "data"),
)
