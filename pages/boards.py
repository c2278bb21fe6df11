"""Boards from files (专项指标大屏): ``/boards`` lists the boards a person may open,
``/boards/<slug>`` shows one with the live machinery of every cockpit.

A board is laid out on the 1920×1080 canvas by its file's grid (on a tablet its tiles flow in
their ``order``). Numbers bound to snapshot paths are written by the browser; a chart or list
drawn from the snapshot is redrawn on the server only when a path it is drawn from moved (the
browser compares, ``assets/ioc_boards.js``); a question's tile is redrawn when the server holds
a new answer — asked once per the tile's cadence for every screen (``ioc_app.boards_live``).
``?preview=1`` lists the file's problems beside the board; a board whose file broke after it
was shown keeps its last good version, marked.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import dash
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)

from ioc_app import read
from layouts import ids
from layouts.i18n import t
from layouts.live import frame, options, tile
from layouts.parts import walk
from pages._boards.data import answer_number, answer_series, snapshot_series
from pages._boards.tiles import FIGURES, alert_items, answered_number, figure, graph, listing, numbers

PAGE = "boards"
SPEC = f"{PAGE}-spec"
HELD = f"{PAGE}-held"
CHANGED = f"{PAGE}-changed"
DRAWN = f"{PAGE}-drawn"
QHELD = f"{PAGE}-qheld"
QTICK = f"{PAGE}-qtick"
LIVE = f"{PAGE}-live"
QUERY = f"{PAGE}-query"
#: how often a screen asks whether a question's held answer is new (the answer itself is
#: computed on the tile's cadence, once for every screen)
QUERY_POLL_MS = 10_000

dash.register_page(__name__, path_template="/boards/<slug>", name="board", order=81, title="IOC")


def namer(tile_: Any, lang: str) -> Any:
    """A code → what a person reads, as every page names it (``read.names``): a catalogue's
    name (``catalogue = "gate"``), an enumeration's word (``severity``), an unknown code marked.
    Without ``catalogue`` the codes are named by the dimension they are (the question's first
    ``group_by``, or a snapshot list's ``label`` such as ``gate_id``): a board shows names even
    where its file forgot to ask for them."""
    names = read.names()
    kind = tile_.catalogue or ""
    if kind in names.kinds():
        return lambda code: names.label(kind, code, lang)
    query = tile_.query
    dimension = kind or (query.group_by[0] if query is not None and query.group_by else tile_.label or "")
    if not dimension:
        return str
    return lambda code: names.value_label(dimension, code, lang)


def draw(tile_: Any, snap: dict[str, Any] | None, body: dict[str, Any] | None, lang: str,
         theme: str) -> Any:
    """A tile's body from the snapshot (``body`` None) or from a held answer."""
    if tile_.kind == "alerts":
        return alert_items(snap, lang, tile_.limit)
    if tile_.query is not None and body is not None and body.get("error"):
        return html.Div(t("boards.unanswered", lang), className="boards-unanswered", role="alert",
                        title=str(body.get("message", ""))[:200])
    if tile_.kind == "number":
        return answered_number(tile_, *answer_number(tile_, body), lang)
    names = namer(tile_, lang)
    s = (answer_series(tile_, body, lang, names) if tile_.query is not None
         else snapshot_series(tile_, snap, lang, names))
    if tile_.kind in FIGURES:
        return graph(tile_.id, figure(tile_, s, theme))
    return listing(tile_, s, lang)


def tile_paths(tile_: Any) -> list[str]:
    """The snapshot paths a server-drawn snapshot tile is drawn from."""
    return ["alerts"] if tile_.kind == "alerts" else [tile_.path] if tile_.path else []


def placed(section: html.Section, tile_: Any) -> html.Section:
    section.style = {"gridColumn": f"{tile_.x} / span {tile_.w}", "gridRow": f"{tile_.y} / span {tile_.h}",
                     "order": tile_.order}
    section.className = f"{section.className} boards-tile boards-kind-{tile_.kind}"
    return section


def board_body(view: Any, snap: dict[str, Any] | None, lang: str, theme: str, at: str | None,
               home: bool = False) -> Any:
    board = view.board
    tiles: list[Any] = []
    live: dict[str, list[str]] = {}
    cards: list[list[Any]] = []
    qheld: dict[str, Any] = {}
    for tl in board.tiles:
        if tl.kind == "text":
            body: Any = html.P(tl.text.get(lang) if tl.text else "", className="boards-text")
        elif tl.kind == "number" and tl.query is None:
            body = numbers(tl, lang)
            cards += [[f"{tl.id}.{i}", it.path, [[th.at, th.level, th.below] for th in it.thresholds]]
                      for i, it in enumerate(tl.items)]
            if tl.chart is not None:  # the chart under the cards, redrawn when its path moves
                live[tl.id] = tile_paths(tl)
                body = html.Div([body, html.Div(draw(tl.as_chart(), snap, None, lang, theme),
                                                id={"type": LIVE, "tile": tl.id}, className="ioc-chart-box")],
                                className="ioc-stack")
        elif tl.query is None:
            live[tl.id] = tile_paths(tl)
            body = html.Div(draw(tl, snap, None, lang, theme), id={"type": LIVE, "tile": tl.id},
                            className="boards-box")
        else:
            answer = read.board_answer(board.slug, tl.id, at, home)
            qheld[tl.id] = (answer or {}).get("period")
            body = html.Div(draw(tl, snap, answer, lang, theme), id={"type": QUERY, "tile": tl.id},
                            className="boards-box", **{"data-period": str((answer or {}).get("period", ""))})
        stream = tl.stream
        tiles.append(placed(tile(tl.title.get(lang), body, stream=stream, amber_s=tl.stale_s[0],
                                 red_s=tl.stale_s[1], lang=lang), tl))
    paths = sorted({p for ps in live.values() for p in ps})
    spec = {"slug": board.slug, "home": home, "theme": theme, "version": (snap or {}).get("version"),
            "live": live, "drawn": {p: walk(snap, p) for p in paths}, "cards": cards}
    grid = html.Div(tiles, className="boards-grid", style={
        "gridTemplateColumns": f"repeat({board.columns}, minmax(0, 1fr))",
        "gridTemplateRows": f"repeat({board.rows}, minmax(0, 1fr))"})
    return [grid, dcc.Store(id=SPEC, data=spec), dcc.Store(id=HELD), dcc.Store(id=CHANGED),
            dcc.Store(id=DRAWN),
            dcc.Store(id=QHELD, data=qheld),
            dcc.Interval(id=QTICK, interval=QUERY_POLL_MS, disabled=not board.questions or bool(at))]


def problems_panel(view: Any, lang: str, preview: bool) -> Any:
    """The file's problems (``?preview=1``), and the mark of a last good version shown."""
    out: list[Any] = []
    if view.stale:
        out.append(html.Div(t("boards.stale", lang), className="boards-stale-mark", role="status"))
    if preview:
        # the file by its name: where the server keeps its files is not for every viewer
        items = [html.Li(f"{PurePath(p.file).name}:{p.line}: {p.message}", className="boards-problem")
                 for p in view.problems]
        out.append(html.Section([html.H2(t("boards.problems", lang), className="ioc-tile-title"),
                                 html.Ul(items) if items else html.P(t("boards.no_problems", lang))],
                                className="boards-problems", role="alert" if items else None))
    return out


def layout(slug: str | None = None, lang: str | None = None, theme: str | None = None,
           fit: str | None = None, at: str | None = None, preview: str | None = None,
           home: bool = False, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    view = read.board_view(slug or "", home)
    settings = read.settings()
    is_preview = preview in ("1", "true", "yes")
    kw = {"lang": lang, "theme": theme, "fit": fit, "at": at, "at_valid": read.at_is_valid(at),
          **read.viewer(), "zone": settings.zone.key}
    # ``/`` reports itself as the overview in its screens' heartbeats, as it always has
    name, title = ("overview", "overview.title") if home else (PAGE, "boards.title")
    if view is None or view.board is None:
        problems = problems_panel(view, lang, True) if view is not None and is_preview else []
        body = [html.Div([html.P(t("boards.not_found", lang), className="boards-missing"), *problems],
                         className="boards-missing-box")]
        return frame(name, title, body, flow=True, **kw)
    snap = read.snapshot_for(at)
    body = [*problems_panel(view, lang, is_preview), *board_body(view, snap, lang, theme, at, home)]
    page = frame(name, title, body, **kw)
    for node in _title_nodes(page):  # the board's own title in the header
        node.children = view.board.title.get(lang)
    return page


def _title_nodes(node: Any) -> list[Any]:
    found = []
    if "ioc-title" in str(getattr(node, "className", "") or "").split():
        found.append(node)
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found += _title_nodes(child)
    return found


def home(lang: str | None = None, theme: str | None = None, fit: str | None = None,
         at: str | None = None, preview: str | None = None, **_query: Any) -> html.Div:
    """``/``: the overview board (``boards/overview.toml``), open to whoever may open ``/``."""
    return layout(read.HOME_BOARD, lang, theme, fit, at, preview, home=True)


dash.register_page(f"{__name__}.home", path="/", name="overview", order=0, title="IOC", layout=home)


def index(lang: str | None = None, theme: str | None = None, fit: str | None = None,
          **_query: Any) -> html.Div:
    """``/boards``: the boards whoever is asking may open, each with its address."""
    lang, theme, fit = options(lang, theme, fit, read.display())
    query = f"?lang={lang}&theme={theme}"
    stale = t("boards.stale_short", lang)
    rows = [html.Li([html.A(v.board.title.get(lang), href=f"/boards/{v.slug}{query}",
                            className="boards-link"),
                     html.Span(f"/boards/{v.slug}", className="boards-slug"),
                     html.Span(stale, className="boards-stale-mark") if v.stale else None],
                    className="boards-entry")
            for v in read.boards_list() if v.board is not None]
    body = html.Section([html.P(t("boards.intro", lang), className="boards-intro"),
                         html.Ul(rows, className="boards-list") if rows else html.P(t("boards.none", lang))],
                        className="boards-index")
    return frame(PAGE, "boards.index_title", body, lang=lang, theme=theme, fit=fit, flow=True,
                 **read.viewer(), zone=read.settings().zone.key)


dash.register_page(f"{__name__}.index", path="/boards", name="boards", order=80, title="IOC", layout=index)


clientside_callback(
    ClientsideFunction(namespace="ioc_boards", function_name="moved"),
    Output(HELD, "data"),
    Output(CHANGED, "data"),
    Input(ids.VERSION, "data"),
    State(SPEC, "data"),
    State(HELD, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(DRAWN, "data"),
    Output({"type": LIVE, "tile": ALL}, "children"),
    Input(CHANGED, "data"),
    State(SPEC, "data"),
    State(ids.CONFIG, "data"),
    prevent_initial_call=True,
)
def redraw_live(changed: dict[str, Any] | None, spec: dict[str, Any] | None,
                cfg: dict[str, Any] | None) -> tuple[Any, list[Any]]:
    """The snapshot tiles whose paths moved, redrawn (the others are left as they are)."""
    outputs = dash.callback_context.outputs_list[1]
    wanted = set((changed or {}).get("tiles") or [])
    view = read.board_view(str((spec or {}).get("slug", "")), bool((spec or {}).get("home")))
    if not wanted or view is None or view.board is None:
        return no_update, [no_update] * len(outputs)
    lang, theme, at = (cfg or {}).get("lang", "zh"), (spec or {}).get("theme", "dark"), (cfg or {}).get("at")
    snap = read.snapshot_for(at)
    out = []
    for o in outputs:
        tl = view.board.tile(o["id"]["tile"])
        if tl is not None and tl.chart is not None:
            tl = tl.as_chart()
        out.append(draw(tl, snap, None, lang, theme) if tl is not None and tl.id in wanted else no_update)
    return (snap or {}).get("version"), out


@callback(
    Output(QHELD, "data"),
    Output({"type": QUERY, "tile": ALL}, "children"),
    Input(QTICK, "n_intervals"),
    State(SPEC, "data"),
    State(QHELD, "data"),
    State(ids.CONFIG, "data"),
    prevent_initial_call=True,
)
def redraw_questions(_n: int | None, spec: dict[str, Any] | None, held: dict[str, Any] | None,
                     cfg: dict[str, Any] | None) -> tuple[Any, list[Any]]:
    """The question tiles whose held answer is newer than the one on screen: every screen reads
    the answer held for the period, none asks the store itself."""
    outputs = dash.callback_context.outputs_list[1]
    home = bool((spec or {}).get("home"))
    view = read.board_view(str((spec or {}).get("slug", "")), home)
    if view is None or view.board is None:
        return no_update, [no_update] * len(outputs)
    lang, theme, at = (cfg or {}).get("lang", "zh"), (spec or {}).get("theme", "dark"), (cfg or {}).get("at")
    held = dict(held or {})
    out = []
    for o in outputs:
        tl = view.board.tile(o["id"]["tile"])
        answer = read.board_answer(view.board.slug, tl.id, at, home) if tl is not None else None
        period = (answer or {}).get("period")
        if tl is None or answer is None or held.get(tl.id) == period:
            out.append(no_update)
            continue
        held[tl.id] = period
        out.append(draw(tl, None, answer, lang, theme))
    return held, out
