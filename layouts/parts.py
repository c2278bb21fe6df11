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
snapshot it was drawn from, so the first version a screen sees tells it whether the layout
is already current (nothing to send) or every part must be drawn again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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
class Part:
    """One live part of a page: the component property it fills (``output``, ``prop``), the
    snapshot paths it is drawn from (dotted, as :func:`layouts.live.bound` names them) and
    ``render(snapshot, view)``, which returns the property's new value (a ``Patch`` for a
    figure, the rows for a board)."""

    name: str
    output: str
    prop: str
    paths: tuple[str, ...]
    render: Callable[[Snapshot, View], Any]


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
        self._read = read_snapshot
        clientside_callback(
            ClientsideFunction(namespace="ioc", function_name="parts"),
            Output(held_id(page), "data"),
            Output(changed_id(page), "data"),
            Input(ids.VERSION, "data"),
            State(spec_id(page), "data"),
            State(held_id(page), "data"),
            prevent_initial_call=True,
        )
        callback(
            *(Output(p.output, p.prop) for p in self.parts),
            Input(changed_id(page), "data"),
            State(ids.CONFIG, "data"),
            State(spec_id(page), "data"),
            prevent_initial_call=True,
        )(self.refresh)

    def stores(self, snap: Snapshot, view: View) -> list[dcc.Store]:
        """The page's declaration and the browser's bookkeeping, for its layout: ``snap`` is the
        snapshot the layout was drawn from (its version tells the browser what is on screen)."""
        spec = {"version": (snap or {}).get("version"), "theme": view.theme,
                "parts": {p.name: list(p.paths) for p in self.parts}}
        return [dcc.Store(id=spec_id(self.page), data=spec), dcc.Store(id=held_id(self.page), data=None),
                dcc.Store(id=changed_id(self.page), data=None)]

    def render(self, names: Iterable[str], snap: Snapshot, view: View) -> tuple[Any, ...]:
        """Each part's new value when it is named in ``names``, ``no_update`` otherwise."""
        wanted = set(names)
        return tuple(p.render(snap, view) if p.name in wanted else no_update for p in self.parts)

    def refresh(self, changed: dict[str, Any] | None, cfg: dict[str, Any] | None,
                spec: dict[str, Any] | None) -> tuple[Any, ...]:
        """The server's half: the browser names the parts that moved; only those are rendered
        (a name the page does not declare is ignored)."""
        cfg, spec = cfg or {}, spec or {}
        names = [str(n) for n in (changed or {}).get("parts") or []]
        if not names:
            return (no_update,) * len(self.parts)
        view = View(lang=cfg.get("lang", "zh"), theme=spec.get("theme") or "dark", at=cfg.get("at"))
        return self.render(names, self._read(view.at), view)


def live_parts(page: str, parts: Sequence[Part], *,
               read_snapshot: Callable[[str | None], Snapshot]) -> LiveParts:
    """Declare and register a page's live parts (at the page module's import); the server's
    half reads the snapshot with ``read_snapshot(at)`` (the page's ``read.snapshot_for``)."""
    return LiveParts(page, parts, read_snapshot=read_snapshot)
