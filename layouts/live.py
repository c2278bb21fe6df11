"""The live frame of every cockpit page and the widgets bound to snapshot paths.

A page is a 1920×1080 canvas (scaled to the screen by ``assets/ioc_live.js``, ``?fit=``) in
the dark wall theme, or a flowing page in the light tablet theme. Which one, when the URL does
not say (``?theme=``, ``?fit=``), follows the display the page is on (:func:`options`): a
paired wall screen and a desk get the canvas, a tablet — a touch screen or a narrow window, as
``assets/ioc_display.js`` detects it before the page is asked for — the flowing light page.

Numbers are *bound*: a span names its snapshot path and format, and the browser writes it when a new snapshot
arrives — no callback round trip, no re-render. Charts listen to the snapshot version
(``ids.VERSION``) and are patched by their page's callbacks.
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from layouts import ids
from layouts.drill import LINK_CLASS
from layouts.i18n import normalise_lang, t

FITS = ("contain", "width", "height")
THEMES = ("dark", "light")
#: where a page is shown: a paired wall screen, a desk, or a tablet (touch or narrow window)
DISPLAYS = ("wall", "desk", "tablet")
POLL_MS = 1000
HEARTBEAT_S = 30
#: the pages every header links to, in one place so no page forgets one (the wall canvas hides
#: the analyst page's link in CSS: nobody taps a wall)
NAV: tuple[tuple[str, str], ...] = (
    ("nav.overview", "/"), ("nav.gates", "/gates"), ("nav.network", "/network"),
    ("nav.enrollment", "/enrollment"), ("nav.service", "/service"), ("nav.health", "/health"),
    ("nav.explore", "/explore"), ("nav.quality", "/enrollment/quality"))


def options(lang: str | None, theme: str | None, fit: str | None,
            display: str = "desk") -> tuple[str, str, str]:
    """Normalised ``(lang, theme, fit)`` from the page's query string and the ``display`` the
    page is shown on. The URL wins: ``?theme=`` picks the theme, ``?fit=`` the scaled canvas
    (dark). Without either, a tablet gets the light theme — the flowing page, readable at arm's
    length — and a wall screen or a desk the dark canvas."""
    if theme not in THEMES:
        theme = "light" if display == "tablet" and fit not in FITS else "dark"
    return normalise_lang(lang), theme, fit if fit in FITS else "contain"


def bound(path: str, fmt: str = "count", initial: str = "—", cls: str = "") -> html.Span:
    """A number written by the browser from the snapshot at ``path`` (``fmt``: count, ratio,
    signed, bps, minutes, decimal). ``path`` may pick a list element: ``links[link_id=x].in_bps``."""
    return html.Span(initial, className=f"ioc-num ioc-flip-on {cls}".strip(),
                     **{"data-ioc-path": path, "data-ioc-fmt": fmt})


def tile(title: str, children: Any, *, stream: str | None = None, amber_s: int = 120,
         red_s: int = 600, cls: str = "", lang: str = "zh", action: Any = None) -> html.Section:
    """A framed tile with a title; with ``stream`` it shows that stream's data age, turns
    amber/red past the thresholds and greys out when the stream is stale. ``action`` (a link
    such as an export) sits at the right of the title row, where it takes no room from the
    tile's content."""
    head: list[Any] = [html.H2(title, className="ioc-tile-title")]
    if action is not None:
        head.append(action)
    attrs: dict[str, Any] = {}
    if stream:
        head.append(html.Span("—", className="ioc-age", title=t("live.data_age", lang)))
        attrs = {"data-ioc-stream": stream, "data-ioc-amber": str(amber_s), "data-ioc-red": str(red_s)}
    return html.Section([html.Div(head, className="ioc-tile-head"),
                         html.Div(children, className="ioc-tile-body")],
                        className=f"ioc-tile {cls}".strip(), **attrs)


def kpi(label: str, path: str, fmt: str = "count", unit: str = "", href: str | None = None) -> Any:
    """A label over a big bound number and its unit; with ``href`` (``layouts.drill``) the
    whole card is a link to the number's breakdown."""
    children = [
        html.Div(label, className="ioc-kpi-label"),
        html.Div([bound(path, fmt, cls="ioc-kpi-value"),
                  html.Span(unit, className="ioc-kpi-unit") if unit else None],
                 className="ioc-kpi-body"),
    ]
    if href:
        return html.A(children, href=href, className=f"ioc-kpi {LINK_CLASS}")
    return html.Div(children, className="ioc-kpi")


def graph(page: str, name: str, figure: dict[str, Any], cls: str = "") -> dcc.Graph:
    """A chart that fills its box; no mode bar, no hover-only information needed to read it."""
    return dcc.Graph(id=ids.graph(page, name), figure=figure, className=f"ioc-graph {cls}".strip(),
                     config={"displayModeBar": False, "responsive": True, "staticPlot": False},
                     style={"height": "100%", "width": "100%"})


def frame(page: str, title_key: str, body: Any, *, lang: str, theme: str, fit: str,
          at: str | None = None, at_valid: bool = True, screen: str | None = None,
          zone: str = "Asia/Shanghai", reload_at: str | None = None,
          nav: tuple[tuple[str, str], ...] = NAV, flow: bool = False, user: str = "") -> html.Div:
    """The page: header (title, clock, freshness badge), the body, and the live machinery.

    ``flow`` keeps a page flowing (and scrolling) in the dark theme too: a page read at a
    desk, with a form to fill in, must not shrink to fit a wall's canvas. ``nav`` holds only
    the links the viewer may open; ``user`` (a signed-in person) adds the sign-out control.
    ``at_valid`` False (``read.at_is_valid``: the product's one time reader, which a building
    block may not import) shows that ``at`` is not a time, instead of empty figures.
    """
    cfg = {
        "page": page, "lang": lang, "zone": zone, "at": at, "screen": screen or "",
        "heartbeat_s": HEARTBEAT_S, "reload_at": reload_at,
        "version_id": ids.VERSION,  # a pushed version is handed to the page's callbacks through it
        "text": {k: t(f"live.{k}", lang) for k in ("as_of", "reconnecting", "store_down", "replay")},
    }
    query = f"?lang={lang}&theme={theme}" + (f"&fit={fit}" if fit != "contain" else "")
    header = html.Header([
        html.Div(t("app.title", lang), className="ioc-brand"),
        html.H1(t(title_key, lang), className="ioc-title"),
        html.Div([
            html.Nav([html.A(t(k, lang), href=f"{href}{query}", className="ioc-nav-link")
                      for k, href in nav], className="ioc-nav"),
            html.Form([html.Span(user, className="ioc-user"),
                       html.Button(t("auth.sign_out", lang), type="submit", className="ioc-signout",
                                   id="ioc-signout")],
                      method="post", action="/auth/logout", className="ioc-user-box") if user else None,
            html.Span("", id=ids.CLOCK, className="ioc-clock"),
            html.Span(t("live.connecting", lang), id=ids.BADGE, className="ioc-badge",
                      **{"data-state": "connecting"}),
        ], className="ioc-header-right"),
    ], className="ioc-header")
    machinery = [
        dcc.Store(id=ids.CONFIG, data=cfg),
        dcc.Store(id=ids.VERSION, data=None),
        dcc.Interval(id=ids.TICK, interval=POLL_MS),
    ]
    canvas_cls = "ioc-canvas" if theme == "dark" and not flow else "ioc-flow"
    problem = None
    if at and not at_valid:
        problem = html.Div(t("live.bad_at", lang).format(at=at[:64]), id=ids.BAD_AT, role="alert",
                           className="ioc-bad-at")
    return html.Div(
        html.Div([header, problem, html.Main(body, className="ioc-body"), *machinery],
                 className=canvas_cls, **{"data-fit": fit}),
        className=f"ioc-screen ioc-theme-{theme}" + (" ioc-screen-flow" if flow else ""),
        lang="zh-CN" if lang == "zh" else "en",
    )


clientside_callback(
    ClientsideFunction(namespace="ioc", function_name="poll"),
    Output(ids.VERSION, "data"),
    Input(ids.TICK, "n_intervals"),
    State(ids.CONFIG, "data"),
)
