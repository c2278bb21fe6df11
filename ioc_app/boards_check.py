"""Whether a board file can be shown: every name it uses exists and every tile fits.

Snapshot paths are judged against the snapshot's declared shape (``metrics.snapshot_types``,
the contract every screen reads), questions by the query API's own validation
(``metrics.query.parse_spec``: a question a board may ask is one the API would answer), roles
by the roles table, and the tiles' places by the board's grid: inside the canvas, none on
another. Every problem names the file and line to change.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ioc_app.boards import Board, Problem, Tile, read_board

#: tiles drawn from a list of rows (``path`` names the list; ``label``/``values`` its keys)
LIST_KINDS = ("trend", "bar", "ranking", "donut", "table", "progress", "funnel", "heatmap", "china_map")
#: catalogue kinds a tile's codes may be named by (``catalogue = "gate"``)
#: tiles comparing groups: a question for them names group_by (they show its last bucket)
GROUP_KINDS = ("bar", "ranking", "donut", "china_map")
#: the key of a question a refusal of the query API is about, by the words of its message
CULPRITS = (("measures", ("measure",)), ("group_by", ("group by", "group_by")),
            ("range", ("range", "from", "minute buckets")), ("grain", ("grain",)),
            ("compare", ("compare",)), ("domain", ("domain",)), ("filters", ("filter", "value")))
CATALOGUES = ("campus", "gate", "link", "terminal", "department", "service", "college", "major",
              "province")


def catalogues() -> tuple[str, ...]:
    """What a tile's codes may be named by: the site catalogue's kinds, and the query API's
    dimensions with a fixed list of values (severity, category, person_type …)."""
    from metrics.query import describe

    domains: dict[str, Any] = describe()
    fixed = {d["name"] for domain in domains.values() for d in domain["dimensions"] if d["values"]}
    return (*CATALOGUES, *sorted(fixed - set(CATALOGUES)))


def _hints(tp: Any) -> dict[str, Any] | None:
    """The keys of a ``TypedDict`` (None for any other type)."""
    if isinstance(tp, type) and hasattr(tp, "__annotations__") and hasattr(tp, "__total__"):
        return typing.get_type_hints(tp)
    return None


def _strip(tp: Any) -> Any:
    """``X | None`` and ``NotRequired[X]`` → ``X``."""
    origin = typing.get_origin(tp)
    if origin is typing.NotRequired:
        return _strip(typing.get_args(tp)[0])
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _strip(args[0])
    return tp


def path_type(path: str) -> Any:
    """The declared type at a dotted snapshot path, or None when the snapshot has no such path
    (a ``dict[str, X]`` section — ``freshness`` — takes any key)."""
    from metrics.snapshot_types import Snapshot

    node: Any = Snapshot
    for key in path.split("."):
        node = _strip(node)
        hints = _hints(node)
        if hints is not None:
            if key not in hints:
                return None
            node = hints[key]
        elif typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]
        else:
            return None
    return _strip(node)


def row_keys(path: str) -> set[str] | None:
    """The keys of each row of the list at ``path`` (None when it is no list of rows)."""
    tp = path_type(path)
    if typing.get_origin(tp) is not list:
        return None
    hints = _hints(_strip(typing.get_args(tp)[0]))
    return set(hints) if hints is not None else None


def _paths_hint(path: str) -> str:
    top = path.split(".", 1)[0]
    from metrics.snapshot_types import Snapshot

    keys = sorted(typing.get_type_hints(Snapshot))
    return (f"see docs/snapshot.md for the paths under {top!r}" if top in keys
            else f"a path starts with one of: {', '.join(keys)}")


def check(board: Board, *, zone: ZoneInfo | None = None, now: datetime | None = None) -> list[Problem]:
    """Every problem of a board that reads as a board (its shape is :func:`read_board`'s)."""
    from ingest.registry import BY_NAME
    from ioc_app.roles import ROLES

    out: list[Problem] = []

    def fail(line: int, message: str) -> None:
        out.append(Problem(board.file, line, message))

    for role in board.roles:
        if role not in ROLES:
            fail(board.lines.get("roles", 1), f"unknown role {role!r}; the roles are: {', '.join(ROLES)}")
    seen: dict[str, int] = {}
    cells: dict[tuple[int, int], Tile] = {}
    for tile in board.tiles:
        if tile.id in seen:
            fail(tile.lines.get("id", tile.line),
                 f"tile id {tile.id!r} is used twice (line {seen[tile.id]}); give each tile its own id")
        seen.setdefault(tile.id, tile.line)
        _place(board, tile, cells, fail)
        if tile.stream is not None and tile.stream not in BY_NAME:
            fail(tile.lines.get("stream", tile.line),
                 f"unknown stream {tile.stream!r}; use one of: {', '.join(BY_NAME)}")
        if tile.catalogue is not None and tile.catalogue not in catalogues():
            fail(tile.lines.get("catalogue", tile.line),
                 f"catalogue {tile.catalogue!r}: use one of: {', '.join(catalogues())}")
        _data(tile, fail, zone or ZoneInfo("Asia/Shanghai"), now or datetime.now(UTC))
    return out


def _place(board: Board, tile: Tile, cells: dict[tuple[int, int], Tile], fail: Any) -> None:
    line = tile.lines.get("at", tile.line)
    if tile.x < 1 or tile.y < 1 or tile.w < 1 or tile.h < 1:
        fail(line, f"tile {tile.id!r}: at starts at [1, 1] and size is at least [1, 1]")
        return
    if tile.x + tile.w - 1 > board.columns or tile.y + tile.h - 1 > board.rows:
        fail(line, f"tile {tile.id!r} at [{tile.x}, {tile.y}] size [{tile.w}, {tile.h}] is off the canvas "
                   f"(grid = [{board.columns}, {board.rows}]); move it or make it smaller")
        return
    for cx in range(tile.x, tile.x + tile.w):
        for cy in range(tile.y, tile.y + tile.h):
            other = cells.get((cx, cy))
            if other is not None:
                fail(line, f"tile {tile.id!r} overlaps tile {other.id!r} (line {other.line}) at cell "
                           f"[{cx}, {cy}]; move one of them")
                return
    for cx in range(tile.x, tile.x + tile.w):
        for cy in range(tile.y, tile.y + tile.h):
            cells[(cx, cy)] = tile


def _data(tile: Tile, fail: Any, zone: ZoneInfo, now: datetime) -> None:
    at = tile.lines.get
    if tile.kind == "text":
        return
    if tile.kind == "alerts":
        if tile.query is not None:
            fail(at("query", tile.line), "an alerts tile shows the live alerts: it takes no query")
        return
    if tile.query is not None:
        if tile.chart is not None:
            fail(at("chart", tile.line), f"tile {tile.id!r}: a number tile with a question draws no chart; "
                                         "give the chart a tile of its own")
        if tile.kind == "number" and len(tile.items) != 1:
            fail(tile.line, f"number tile {tile.id!r} with a question needs one [[tile.item]] for its label, "
                            "unit and thresholds (the item takes no path)")
        if tile.path is not None or (tile.items and any(i.path for i in tile.items)):
            fail(at("path", tile.line), f"tile {tile.id!r} has both a path and a query: a tile's data is "
                                        "either a snapshot path or a question")
        _question(tile, fail, zone, now)
        return
    if tile.kind == "number":
        if not tile.items:
            fail(tile.line, f"number tile {tile.id!r} needs [[tile.item]] tables, each with a label and "
                            "a path (or give the tile a [tile.query])")
        for item in tile.items:
            for name, p in (("path", item.path), ("compare", item.compare)):
                if name == "path" and p is None:
                    fail(item.line, "an item needs path = \"gate.today.in\" (a snapshot path)")
                elif p is not None and _scalar(p) is None:
                    fail(item.line, f"unknown snapshot path {p!r}: {_paths_hint(p)}")
        if tile.chart is not None:  # the chart under the cards: checked as a tile of its kind
            _data(tile.as_chart(), fail, zone, now)
        return
    if tile.path is None:
        fail(tile.line, f"{tile.kind} tile {tile.id!r} needs path = \"…\" (a list in the snapshot) or a "
                        "[tile.query]")
        return
    keys = row_keys(tile.path)
    record = _hints(path_type(tile.path))
    if tile.kind == "funnel" and record is not None:  # the steps of one record, in order
        for v in tile.values or ("",):
            if v not in record:
                fail(at("values", tile.line), f"funnel step {v!r} is not a key of {tile.path}; use some of: "
                                              f"{', '.join(record)}")
        return
    if keys is None:
        why = "is not a list of rows" if path_type(tile.path) is not None else "does not exist"
        fail(at("path", tile.line), f"snapshot path {tile.path!r} {why}; {tile.kind} tiles draw a list "
                                    f"such as gate.today.by_gate ({_paths_hint(tile.path)})")
        return
    if tile.label is not None and tile.label not in keys:
        fail(at("label", tile.line), f"label {tile.label!r} is not a key of {tile.path}'s rows; use one of: "
                                     f"{', '.join(sorted(keys))}")
    for v in tile.values:
        if v not in keys:
            fail(at("values", tile.line), f"value {v!r} is not a key of {tile.path}'s rows; use one of: "
                                          f"{', '.join(sorted(keys))}")
    if not tile.values or tile.label is None:
        fail(tile.line, f"{tile.kind} tile {tile.id!r} needs label = \"<key>\" and values = [\"<key>\", …] "
                        f"of {tile.path}'s rows ({', '.join(sorted(keys))})")
    if tile.names and len(tile.names) != len(tile.values):
        fail(at("names", tile.line), f"names gives {len(tile.names)} names for {len(tile.values)} values: "
                                     "one name per value")


def _scalar(path: str) -> Any:
    tp = path_type(path)
    return tp if tp is not None and typing.get_origin(tp) not in (list, dict) and _hints(tp) is None else None


def _question(tile: Tile, fail: Any, zone: ZoneInfo, now: datetime) -> None:
    """The question as the query API would judge it, asked now."""
    from metrics.query import QueryError, parse_spec, small_cells_apply

    q = tile.query
    assert q is not None
    line = tile.lines.get("query", tile.line)
    try:
        spec = parse_spec(q.domain, q.args(now, zone), zone, now)
    except QueryError as exc:
        culprit = next((key for key, words in CULPRITS if any(w in exc.message for w in words)), "")
        fail(tile.lines.get(f"query.{culprit}", line), f"the query API refuses this question: {exc.message}")
        return
    if small_cells_apply(spec):
        fail(tile.lines.get("query.domain", line), f"{q.domain} answers follow the small-cell rule per "
                                                   "person; a board is shared by everybody: show the "
                                                   "snapshot's enrollment paths instead")
    if tile.kind in GROUP_KINDS and not q.group_by:
        fail(tile.lines.get("query.group_by", line), f"a {tile.kind} tile compares groups: give the "
                                                     "question group_by = [\"<dimension>\"]")
    if tile.kind == "china_map" and q.group_by != ("province",):
        fail(tile.lines.get("query.group_by", line), "a china_map question is grouped by province: "
                                                     "group_by = [\"province\"]")


def check_file(path: str | Path, *, zone: ZoneInfo | None = None,
               now: datetime | None = None) -> tuple[Board | None, list[Problem]]:
    """``(board, problems)`` of one file: the board only when it has no problem at all."""
    board, problems = read_board(path)
    if board is None:
        return None, problems
    problems = check(board, zone=zone, now=now)
    return (board if not problems else None), problems
