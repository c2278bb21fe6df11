"""What the boards page may know (re-exported by :mod:`ioc_app.read`): the boards whoever is
asking may open, one board with its problems, and the held answer to one of its questions.

A board names the roles that may open it: a person holding one of them — or a role that
includes everything one of them may do (an analyst may open a ``viewer`` board) — may; a paired
screen may open the boards of its playlist (as any page); nobody else. The gate lets only
page viewers reach ``/boards``; this is the board's own rule on top, applied to the page and
to every callback of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from ioc_app.boards import Board, Problem
from ioc_app.boards_live import Entry, Library, answers
from ioc_app.runtime import EXTENSION

_libraries: dict[int, Library] = {}
_shipped: dict[int, Library] = {}
#: the board ``/`` shows: the overview cockpit written as a board
HOME_BOARD = "overview"
#: the boards shipped with IOC: ``/`` falls back on their overview when ``IOC_BOARDS`` has none
SHIPPED = Path(__file__).resolve().parents[1] / "boards"
#: the most rows a tile's answer may have (a wall shows far fewer)
MAX_ROWS = 5000


@dataclass(frozen=True)
class BoardView:
    """A board as a page shows it: the board (None when it never read well), the file's
    problems, and whether it is an earlier version kept while the file is broken."""

    slug: str
    board: Board | None
    problems: tuple[Problem, ...]
    stale: bool


def library() -> Library:
    """The board folder of the running app (``IOC_BOARDS``)."""
    rt = current_app.extensions[EXTENSION]
    lib = _libraries.get(id(rt))
    if lib is None:
        lib = _libraries[id(rt)] = Library(rt.settings.boards, rt.settings.zone)
    return lib


def may_open_board(board: Board) -> bool:
    """May whoever is asking open ``board`` (its roles; a screen: its playlist)?"""
    from ioc_app.access import principal
    from ioc_app.roles import permissions

    who = principal()
    if who.kind == "screen":
        return who.may_open(f"/boards/{board.slug}")
    if who.kind != "person" or not who.may("page"):
        return False
    return any(permissions((held,)) >= permissions((role,)) for held in who.roles for role in board.roles)


def boards_list() -> list[BoardView]:
    """The boards whoever is asking may open, by slug (broken files that never read as a board
    are left out; ``board check`` shows them)."""
    out = []
    for slug, entry in sorted(library().entries().items()):
        if entry.board is not None and may_open_board(entry.board):
            out.append(_view(slug, entry))
    return out


def home_entry() -> Entry | None:
    """The overview board ``/`` shows: the boards folder's (so an installation may change its
    front page), else the one shipped with IOC (a folder of department boards only keeps ``/``)."""
    entry = library().entry(HOME_BOARD)
    if entry is not None and entry.board is not None:
        return entry
    rt = current_app.extensions[EXTENSION]
    lib = _shipped.get(id(rt))
    if lib is None:
        lib = _shipped[id(rt)] = Library(SHIPPED, rt.settings.zone)
    return lib.entry(HOME_BOARD)


def board_view(slug: str, home: bool = False) -> BoardView | None:
    """The board at ``/boards/<slug>``, or None when there is none the asker may open (a board
    the asker may not open is answered as one that does not exist: its name is not revealed).

    ``home``: the overview board as ``/`` shows it, opened by whoever may open ``/`` (a viewer,
    a screen with ``/`` in its playlist), whatever roles the file names for ``/boards/overview``;
    no other board is ever shown under that rule."""
    if home:
        from ioc_app.access import principal

        entry = home_entry() if slug == HOME_BOARD and principal().may_open("/") else None
        return _view(slug, entry) if entry is not None else None
    entry = library().entry(slug)
    if entry is None:
        return None
    if entry.board is not None and not may_open_board(entry.board):
        return None
    return _view(slug, entry)


def _view(slug: str, entry: Entry) -> BoardView:
    return BoardView(slug, entry.board, tuple(entry.problems), entry.stale)


def board_answer(slug: str, tile_id: str, at: str | None = None, home: bool = False) -> dict[str, Any] | None:
    """The held answer to a query tile of a board the asker may open (computed once per the
    tile's cadence for every screen), or None. With ``at`` (a replay) the question is asked as
    of that time, for this screen only. ``home``: as :func:`board_view`."""
    view = board_view(slug, home)
    tile = view.board.tile(tile_id) if view is not None and view.board is not None else None
    if view is None or view.board is None or tile is None or tile.query is None:
        return None
    rt = current_app.extensions[EXTENSION]
    if at:
        from metrics.times import TimeError, parse_time

        try:
            when = parse_time("at", at, rt.settings.zone)
        except TimeError:
            return None
        return {**ask(tile.query.domain, tile.query.args(when, rt.settings.zone)), "period": at}
    return answers(rt, view.board, tile, ask, rt.settings.zone)


def ask(domain: str, args: dict[str, list[str]]) -> dict[str, Any]:
    """The query service's answer as a document (the API's body), or ``{"error", "message"}``:
    a refused question or a store that is away is shown on the tile, never raised."""
    from ioc_app.query_service import answer, document
    from ioc_app.storage import StoreError
    from ioc_app.web import logged_failure
    from metrics.query import QueryError

    try:
        result = answer(domain, args, via="board")
    except QueryError as exc:
        return {"error": exc.code, "message": exc.message}
    except StoreError as exc:  # the tile shows a reference; the store's message goes to the log
        return {"error": "unavailable", "message": logged_failure("store_unavailable", exc, where="board")}
    if result.frame.height > MAX_ROWS:
        return {"error": "too_many_rows", "message": f"more than {MAX_ROWS} rows: narrow the question"}
    return document(result)
