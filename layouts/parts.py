"""The live parts of a cockpit page: one mechanism that decides what changed and patches it.

A page declares its parts — a chart, a board, a line of text — each with the component
property it fills, the snapshot paths it is drawn from and the function that renders it
from a snapshot. :func:`live_parts` wires them:

- in the browser, which already holds the snapshot (``assets/ioc_live.js`` polls
  ``/api/v1/snapshot``), a clientside function (``ioc.parts``) runs on every new version,
  fingerprints each part's paths and compares them with what the screen shows. When nothing
  a part draws from moved (most versions for most parts: the heat map moves once a minute,
  admissions seldom), nothing is asked of the server at all;
- only when some part moved does the server render exactly those parts (their names travel
  in the request), and of a figure only its values travel (the render functions return a
  ``Patch``); the others are ``no_update``.

The fingerprint is computed in one place, the browser. A layout records the version of the
snapshot it was drawn from and the values at its parts' paths: when the first version a screen
sees is another one (the core ticks every second, a page takes longer to open), the browser
fingerprints what the layout was drawn from and redraws only the parts that moved since —
not every chart a second time while the page is still opening.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, no_update

from layouts import ids

Snapshot = dict[str, Any] | None


@dataclass(frozen=True)
class View:
    """How a screen shows its page: what a part's render function may depend on besides the
    snapshot."""

    lang: str = "zh"
    theme: str = "dark"
    at: str | None = None


@dataclass(frozen=True)
class Trace:
    """One trace of a chart the browser draws by itself from the snapshot it holds: ``x`` and
    ``y`` read from each row of the list at ``rows``. ``y`` sums the named keys (a missing key
    counts ``default``); ``x_fmt`` shapes the x value: ``raw``, ``local`` (``2026-03-01T08:30:00+08:00``
    → ``2026-03-01 08:30``, the wall time a date axis reads unshifted) or ``time`` (``x_prefix``
    and the ``HH:MM``, to overlay days). ``drop_last`` leaves out the last row (a partial minute
    or slot would draw a dip)."""

    rows: str
    x: str
    y: tuple[str, ...]
    x_fmt: str = "raw"
    x_prefix: str = ""
    drop_last: bool = False
    default: int | None = None

    def __post_init__(self) -> None:
        if self.x_fmt not in ("raw", "local", "time"):
            raise ValueError(f"trace x_fmt {self.x_fmt!r}: use raw, local or time")

    def series(self, snap: Snapshot) -> tuple[list[Any], list[Any]]:
        """The trace's ``(x, y)`` from ``snap``, as the browser computes them (``ioc.parts``): the
        page's layout draws its first figure with it, so both draw the same."""
        rows = walk(snap, self.rows) or []
        if self.drop_last:
            rows = rows[:-1]
        x = [_x_text(r.get(self.x), self.x_fmt, self.x_prefix) for r in rows]
        if len(self.y) == 1:
            return x, [r.get(self.y[0], self.default) for r in rows]
        return x, [sum(r.get(k, self.default) or 0 for k in self.y) for r in rows]


def _x_text(value: Any, fmt: str, prefix: str) -> Any:
    if fmt == "raw" or not isinstance(value, str):
        return value
    if fmt == "local":
        return value[:10] + " " + value[11:16]
    return prefix + value[11:16]


def walk(snap: Snapshot, path: str) -> Any:
    """The value at a dotted snapshot path (None where the snapshot has none)."""
    node: Any = snap
    for key in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


@dataclass(frozen=True)
class Part:
    """One live part of a page: the component property it fills (``output``, ``prop``) and the
    snapshot paths it is drawn from (dotted, as :func:`layouts.live.bound` names them). Either
    ``render(snapshot, view)`` returns the property's new value on the server (a ``Patch`` for
    a figure, the rows for a board) — for a part that needs Python: names from the catalogue,
    labels, a figure builder — or ``traces`` lets the browser patch the figure's ``x``/``y`` by
    itself from the snapshot it already holds (no request at all)."""

    name: str
    output: str
    prop: str
    paths: tuple[str, ...]
    render: Callable[[Snapshot, View], Any] | None = None
    traces: tuple[Trace, ...] = ()

    def __post_init__(self) -> None:
        if (self.render is None) == (not self.traces):
            raise ValueError(f"part {self.name}: give either render (drawn on the server) or traces "
                             "(drawn in the browser)")
        if self.traces and not {t.rows for t in self.traces} <= set(self.paths):
            raise ValueError(f"part {self.name}: its paths must name each trace's rows")

    @property
    def in_browser(self) -> bool:
        """Whether the browser patches this part by itself."""
        return bool(self.traces)


def chart(name: str, output: str, *traces: Trace) -> Part:
    """A figure the browser patches by itself from the snapshot (see :class:`Trace`)."""
    return Part(name, output, "figure", tuple(dict.fromkeys(t.rows for t in traces)), traces=traces)


def path(*keys: str) -> str:
    """A snapshot path from its keys: ``path("gate", "last_60m")``."""
    return ".".join(keys)


def under(section: str, *keys: str) -> tuple[str, ...]:
    """Snapshot paths below ``section`` (itself a path): ``under("gate", "last_60m", "today.by_gate")``."""
    return tuple(f"{section}.{key}" for key in keys)


def spec_id(page: str) -> str:
    """The store holding the page's declaration (parts → paths), its view and its version."""
    return f"{page}-live-parts"


def held_id(page: str) -> str:
    """The store holding the fingerprints of what the screen shows, kept by the browser."""
    return f"{page}-live-held"


def changed_id(page: str) -> str:
    """The store the browser writes the names of the parts that moved into (the server's cue)."""
    return f"{page}-live-changed"


class LiveParts:
    """A page's live parts, registered once at import: :meth:`stores` goes into its layout."""

    def __init__(self, page: str, parts: Sequence[Part], *, read_snapshot: Callable[[str | None], Snapshot]):
        names = [p.name for p in parts]
        if len(set(names)) != len(names):
            raise ValueError(f"page {page}: each live part needs a name of its own, got {names}")
        self.page = page
        self.parts = tuple(parts)
        self.browser = tuple(p for p in self.parts if p.in_browser)
        self.server = tuple(p for p in self.parts if not p.in_browser)
        self._read = read_snapshot
        clientside_callback(
            ClientsideFunction(namespace="ioc", function_name="parts"),
            Output(held_id(page), "data"),
            Output(changed_id(page), "data"),
            *(Output(p.output, p.prop) for p in self.browser),
            Input(ids.VERSION, "data"),
            State(spec_id(page), "data"),
            State(held_id(page), "data"),
            prevent_initial_call=True,
        )
        if self.server:
            callback(
                *(Output(p.output, p.prop) for p in self.server),
                Input(changed_id(page), "data"),
                State(ids.CONFIG, "data"),
                State(spec_id(page), "data"),
                prevent_initial_call=True,
            )(self.refresh)

    def stores(self, snap: Snapshot, view: View) -> list[dcc.Store]:
        """The page's declaration and the browser's bookkeeping, for its layout: ``snap`` is the
        snapshot the layout was drawn from (its version, and the values at the parts' paths,
        ``drawn``, tell the browser what is on screen)."""
        paths = dict.fromkeys(path for p in self.parts for path in p.paths)
        spec = {"page": self.page, "version": (snap or {}).get("version"), "theme": view.theme,
                "parts": {p.name: list(p.paths) for p in self.parts},
                "browser": [[p.name, [asdict(t) for t in p.traces]] for p in self.browser],
                "drawn": {path: walk(snap, path) for path in paths}}
        return [dcc.Store(id=spec_id(self.page), data=spec), dcc.Store(id=held_id(self.page), data=None),
                dcc.Store(id=changed_id(self.page), data=None)]

    def render(self, names: Iterable[str], snap: Snapshot, view: View) -> tuple[Any, ...]:
        """Each server-drawn part's new value when it is named in ``names``, ``no_update``
        otherwise."""
        wanted = set(names)
        return tuple(p.render(snap, view) if p.name in wanted and p.render else no_update
                     for p in self.server)

    def refresh(self, changed: dict[str, Any] | None, cfg: dict[str, Any] | None,
                spec: dict[str, Any] | None) -> tuple[Any, ...]:
        """The server's half: the browser names the parts that moved; only those are rendered
        (a name the page does not declare is ignored)."""
        cfg, spec = cfg or {}, spec or {}
        names = [str(n) for n in (changed or {}).get("parts") or []]
        if not names:
            return (no_update,) * len(self.server)
        view = View(lang=cfg.get("lang", "zh"), theme=spec.get("theme") or "dark", at=cfg.get("at"))
        return self.render(names, self._read(view.at), view)


def live_parts(page: str, parts: Sequence[Part], *,
               read_snapshot: Callable[[str | None], Snapshot]) -> LiveParts:
    """Declare and register a page's live parts (at the page module's import); the server's
    half reads the snapshot with ``read_snapshot(at)`` (the page's ``read.snapshot_for``)."""
    return LiveParts(page, parts, read_snapshot=read_snapshot)
