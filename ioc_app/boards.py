"""Boards (专项指标大屏) from TOML files: the format, read into typed values with the line of
every key, so a mistake is reported as ``file:line: what to change``.

A board is one file under ``IOC_BOARDS`` (default ``./boards/``): a title in Chinese and
English, the roles that may open it, a grid laid on the 1920×1080 canvas and its tiles. A
tile shows either a snapshot path (live, no query: the browser writes it as on every
cockpit) or an analyst question in the query API's own vocabulary, answered by the server on
the tile's cadence (:mod:`ioc_app.boards_answers`). Whether the names in a file exist — paths,
measures, roles — and whether the tiles fit the canvas is judged by :mod:`ioc_app.boards_check`;
this module only reads the file's shape. The manual is ``docs/boards.md``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

#: the tile vocabulary (``docs/boards.md`` shows each)
KINDS = ("number", "trend", "bar", "ranking", "donut", "heatmap", "china_map", "table", "progress",
         "funnel", "alerts", "text")
#: the charts a number tile may draw under its cards (``chart = "trend"``)
CHARTS = ("trend", "bar")
#: how a number is written (the live layer's formats, ``assets/ioc_live.js``)
FORMATS = ("count", "ratio", "signed", "bps", "plain", "minutes", "decimal")
LEVELS = ("amber", "red")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
TILE_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
_RANGE = re.compile(r"^(\d{1,4})(m|h|d)$")
MIN_CADENCE_S = 10
DEFAULT_CADENCE_S = 60
GRID_MAX = 24


class BoardError(ValueError):
    """A board file that cannot be used: every problem, each as ``file:line: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


@dataclass(frozen=True)
class Problem:
    """One thing to change in a board file, at its line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Text:
    """A text in both languages (a board is read in either)."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Question:
    """An analyst question as the query API takes it; ``range`` is how far back from now
    (``90m``, ``24h``, ``7d``) or ``today`` (since local midnight)."""

    domain: str
    measures: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    range: str = "24h"
    grain: str | None = None
    compare: str | None = None

    def args(self, now: datetime, zone: ZoneInfo) -> dict[str, list[str]]:
        """The query API's parameters for the question asked at ``now``."""
        if self.range == "today":
            start = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        else:
            match = _RANGE.match(self.range)
            amount, unit = (int(match.group(1)), match.group(2)) if match else (24, "h")
            start = now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
        args: dict[str, list[str]] = {"from": [start.isoformat()], "measures": [",".join(self.measures)]}
        if self.grain:
            args["grain"] = [self.grain]
        if self.group_by:
            args["group_by"] = [",".join(self.group_by)]
        if self.compare:
            args["compare"] = [self.compare]
        for name, values in self.filters:
            args[name] = list(values)
        return args


@dataclass(frozen=True)
class Threshold:
    """A number at or past ``at`` turns ``level`` (amber, red); ``below`` for figures where
    less is worse (an answer rate)."""

    at: float
    level: str
    below: bool = False


@dataclass(frozen=True)
class Item:
    """One figure of a number tile (a tile may hold a row or grid of them)."""

    label: Text
    path: str | None
    format: str = "count"
    unit: Text | None = None
    compare: str | None = None
    compare_label: Text | None = None
    thresholds: tuple[Threshold, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Tile:
    """One tile: where it sits on the grid (``x``, ``y`` from 1; ``w``×``h`` cells), its
    place in a tablet's flow (``order``), what it shows and where its data come from."""

    id: str
    kind: str
    title: Text
    x: int
    y: int
    w: int
    h: int
    order: int
    line: int
    path: str | None = None
    label: str | None = None
    values: tuple[str, ...] = ()
    names: tuple[Text, ...] = ()
    catalogue: str | None = None
    items: tuple[Item, ...] = ()
    query: Question | None = None
    cadence_s: int = DEFAULT_CADENCE_S
    format: str = "count"
    stream: str | None = None
    stale_s: tuple[int, int] = (120, 600)
    text: Text | None = None
    area: bool = False
    #: a trend's last row left out: the bucket still filling (the current minute) would draw a dip
    complete: bool = False
    #: a number tile's chart under its cards (``trend`` or ``bar``), drawn from the tile's
    #: ``path``/``label``/``values`` as a tile of that kind would be
    chart: str | None = None
    limit: int = 10
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def live(self) -> bool:
        """Drawn from the snapshot (no query)."""
        return self.query is None

    def as_chart(self) -> Tile:
        """A number tile's chart as the tile of its kind it is drawn and checked as."""
        return replace(self, kind=self.chart or self.kind, chart=None, items=())


@dataclass(frozen=True)
class Board:
    """A board as its file describes it."""

    slug: str
    title: Text
    roles: tuple[str, ...]
    columns: int
    rows: int
    tiles: tuple[Tile, ...]
    file: str
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def tile(self, tile_id: str) -> Tile | None:
        return next((t for t in self.tiles if t.id == tile_id), None)

    @property
    def questions(self) -> tuple[Tile, ...]:
        return tuple(t for t in self.tiles if t.query is not None)


# ---- where each key is written -------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\s\"]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\"-]+)\s*=")


def key_lines(text: str) -> tuple[dict[str, int], list[tuple[int, dict[str, int]]]]:
    """``(top-level keys → line, [(tile header line, its keys → line)])``: TOML readers keep no
    positions, so the lines are found in the text (keys of a tile's sub-tables are kept under
    ``query.measures``, ``item.2.path`` …)."""
    top: dict[str, int] = {}
    tiles: list[tuple[int, dict[str, int]]] = []
    section = ""
    items = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header and not raw.strip().startswith("#"):
            section = re.sub(r"\s+", "", header.group(1)).replace('"', "")
            if section == "tile":
                tiles.append((n, {}))
                items = 0
            elif section == "tile.item" and tiles:
                items += 1
                tiles[-1][1][f"item.{items}"] = n
            elif section.startswith("tile.") and tiles:
                tiles[-1][1][section[5:]] = n
            continue
        key = _KEY.match(raw)
        if not key or raw.strip().startswith("#"):
            continue
        name = key.group(1).strip('"')
        if section == "":
            top.setdefault(name, n)
        elif tiles and section == "tile":
            tiles[-1][1].setdefault(name, n)
        elif tiles and section == "tile.item":
            tiles[-1][1].setdefault(f"item.{items}.{name}", n)
        elif tiles and section.startswith("tile."):
            tiles[-1][1].setdefault(f"{section[5:]}.{name}", n)
    return top, tiles


# ---- reading the file ----------------------------------------------------------------------


class _Reader:
    """Reads values of one file, collecting problems instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def text(self, raw: Any, line: int, what: str, required: bool = True) -> Text | None:
        if raw is None:
            if required:
                self.fail(line, f"{what} is missing: write {what} = {{ zh = \"…\", en = \"…\" }}")
            return None
        if isinstance(raw, str):
            self.fail(line, f"{what} is in one language only: write {what} = {{ zh = \"…\", en = \"…\" }} "
                            "(a board is read in Chinese and English)")
            return None
        if not isinstance(raw, dict) or set(raw) - {"zh", "en"}:
            self.fail(line, f"{what} takes zh and en only: {what} = {{ zh = \"…\", en = \"…\" }}")
            return None
        zh, en = raw.get("zh"), raw.get("en")
        missing = [k for k, v in (("zh", zh), ("en", en)) if not isinstance(v, str) or not v.strip()]
        if missing:
            self.fail(line, f"{what} has no {missing[0]} text: give both zh and en (a board is read "
                            "in Chinese and English)")
            return None
        return Text(str(zh), str(en))

    def int_pair(self, raw: Any, line: int, what: str, default: tuple[int, int] | None) -> tuple[int, int]:
        if raw is None and default is not None:
            return default
        if (not isinstance(raw, list) or len(raw) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw)):
            self.fail(line, f"{what} is two whole numbers, e.g. {what} = [1, 1]")
            return (1, 1)
        return int(raw[0]), int(raw[1])

    def names(self, raw: Any, line: int, what: str) -> tuple[str, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
            self.fail(line, f"{what} is a list of names, e.g. {what} = [\"in\", \"out\"]")
            return ()
        return tuple(raw)


def read_board(path: str | Path) -> tuple[Board | None, list[Problem]]:
    """The board in ``path`` as written, or None, and the problems of its shape (the names it
    uses are checked by :func:`ioc_app.boards_check.check`)."""
    p = Path(path)
    file = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, 1, f"cannot read the board file ({exc}); give a UTF-8 TOML file")]
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 1
        return None, [Problem(file, line, f"not valid TOML ({exc}); fix the syntax on that line")]
    top, tile_lines = key_lines(text)
    r = _Reader(file)
    known_top = {"slug", "title", "roles", "grid", "tile"}
    for key in sorted(set(doc) - known_top):
        r.fail(top.get(key, 1), f"unknown key {key!r}; a board takes {', '.join(sorted(known_top))}")
    slug = doc.get("slug", p.stem)
    if not isinstance(slug, str) or not SLUG.match(slug):
        r.fail(top.get("slug", 1), f"slug {slug!r}: use lower-case letters, digits and '-' (it is the "
                                   "address /boards/<slug>)")
        slug = "invalid"
    title = r.text(doc.get("title"), top.get("title", 1), "title")
    roles = r.names(doc.get("roles", ["viewer"]), top.get("roles", 1), "roles") or ("viewer",)
    columns, rows = r.int_pair(doc.get("grid"), top.get("grid", 1), "grid", (12, 6))
    if not (1 <= columns <= GRID_MAX and 1 <= rows <= GRID_MAX):
        r.fail(top.get("grid", 1), f"grid = [{columns}, {rows}]: columns and rows are 1–{GRID_MAX}")
    raw_tiles = doc.get("tile", [])
    if not isinstance(raw_tiles, list) or not raw_tiles:
        r.fail(top.get("tile", 1), "a board needs tiles: add [[tile]] tables")
        raw_tiles = []
    tiles = []
    for i, raw in enumerate(raw_tiles):
        header, lines = tile_lines[i] if i < len(tile_lines) else (1, {})
        tile = _tile(r, raw, i, header, lines)
        if tile is not None:
            tiles.append(tile)
    if r.problems or title is None:
        return None, r.problems
    return Board(slug, title, roles, columns, rows, tuple(tiles), file, top), []


_TILE_KEYS = {"id", "kind", "title", "at", "size", "order", "path", "label", "values", "names", "catalogue",
              "item", "query", "cadence_s", "format", "stream", "stale_s", "text", "area", "complete",
              "chart", "limit"}


def _tile(r: _Reader, raw: Any, index: int, header: int, lines: dict[str, int]) -> Tile | None:
    def at(key: str) -> int:
        return lines.get(key, header)

    if not isinstance(raw, dict):
        r.fail(header, "a [[tile]] is a table of keys")
        return None
    for key in sorted(set(raw) - _TILE_KEYS):
        r.fail(at(key), f"unknown tile key {key!r}; a tile takes {', '.join(sorted(_TILE_KEYS))}")
    kind = raw.get("kind")
    if kind not in KINDS:
        r.fail(at("kind"), f"unknown tile kind {kind!r}; use one of: {', '.join(KINDS)}")
        return None
    tile_id = raw.get("id", f"t{index + 1}")
    if not isinstance(tile_id, str) or not TILE_ID.match(tile_id):
        r.fail(at("id"), f"tile id {tile_id!r}: lower-case letters, digits and '_' (at most 32)")
    title = r.text(raw.get("title"), at("title"), "title")
    x, y = r.int_pair(raw.get("at"), at("at"), "at", None)
    w, h = r.int_pair(raw.get("size"), at("size"), "size", (4, 2))
    fmt = raw.get("format", "count")
    if fmt not in FORMATS:
        r.fail(at("format"), f"format {fmt!r}: use one of: {', '.join(FORMATS)}")
    items = tuple(_item(r, it, n, lines, header) for n, it in enumerate(raw.get("item", []) or [], start=1))
    query = _question(r, raw.get("query"), lines, header) if "query" in raw else None
    cadence = raw.get("cadence_s", DEFAULT_CADENCE_S)
    if not isinstance(cadence, int) or cadence < MIN_CADENCE_S:
        r.fail(at("cadence_s"), f"cadence_s = {cadence!r}: a question is asked again every "
                                f"{MIN_CADENCE_S} s at most; write a whole number ≥ {MIN_CADENCE_S}")
        cadence = DEFAULT_CADENCE_S
    stale = r.int_pair(raw.get("stale_s"), at("stale_s"), "stale_s", (120, 600))
    names = tuple(t for n in raw.get("names", []) or [] if (t := r.text(n, at("names"), "names")) is not None)
    text = r.text(raw.get("text"), at("text"), "text", required=kind == "text")
    limit = raw.get("limit", 10)
    if not isinstance(limit, int) or not 1 <= limit <= 50:
        r.fail(at("limit"), f"limit = {limit!r}: a whole number of rows, 1–50")
        limit = 10
    chart = raw.get("chart")
    if chart is not None and (kind != "number" or chart not in CHARTS):
        r.fail(at("chart"), f"chart = {chart!r}: a number tile may draw a chart under its cards: "
                            f"chart = {' or '.join(repr(c) for c in CHARTS)}, with path, label and values")
        chart = None
    complete = raw.get("complete", False)
    if not isinstance(complete, bool) or (complete and "trend" not in (kind, chart)):
        shown = str(complete).lower() if isinstance(complete, bool) else repr(complete)
        r.fail(at("complete"), f"complete = {shown}: true or false, and only on a trend tile "
                               "(it leaves out the bucket still filling)")
        complete = False
    order = raw.get("order", index + 1)
    return Tile(
        id=str(tile_id), kind=kind, title=title or Text("", ""), x=x, y=y, w=w, h=h,
        order=order if isinstance(order, int) else index + 1, line=header,
        path=raw.get("path") if isinstance(raw.get("path"), str) else None,
        label=raw.get("label") if isinstance(raw.get("label"), str) else None,
        values=r.names(raw.get("values"), at("values"), "values"), names=names,
        catalogue=raw.get("catalogue") if isinstance(raw.get("catalogue"), str) else None,
        items=tuple(i for i in items if i is not None), query=query, cadence_s=cadence,
        format=fmt if fmt in FORMATS else "count",
        stream=raw.get("stream") if isinstance(raw.get("stream"), str) else None, stale_s=stale,
        text=text, area=bool(raw.get("area", False)), complete=complete, chart=chart,
        limit=limit, lines=dict(lines))


def _item(r: _Reader, raw: Any, n: int, lines: dict[str, int], header: int) -> Item | None:
    def at(key: str) -> int:
        return lines.get(f"item.{n}.{key}", lines.get(f"item.{n}", header))

    if not isinstance(raw, dict):
        r.fail(at(""), "a [[tile.item]] is a table: label, path, format, unit …")
        return None
    known = {"label", "path", "format", "unit", "compare", "compare_label", "thresholds"}
    for key in sorted(set(raw) - known):
        r.fail(at(key), f"unknown item key {key!r}; an item takes {', '.join(sorted(known))}")
    fmt = raw.get("format", "count")
    if fmt not in FORMATS:
        r.fail(at("format"), f"format {fmt!r}: use one of: {', '.join(FORMATS)}")
    label = r.text(raw.get("label"), at("label"), "label")
    unit = r.text(raw.get("unit"), at("unit"), "unit", required=False)
    compare_label = r.text(raw.get("compare_label"), at("compare_label"), "compare_label",
                           required="compare" in raw)
    thresholds = []
    for t in raw.get("thresholds", []) or []:
        if (not isinstance(t, dict) or t.get("level") not in LEVELS
                or not isinstance(t.get("at"), int | float) or isinstance(t.get("at"), bool)):
            r.fail(at("thresholds"), "a threshold is { at = <number>, level = \"amber\" | \"red\" } "
                                     "(add below = true where less is worse)")
            continue
        thresholds.append(Threshold(float(t["at"]), str(t["level"]), bool(t.get("below", False))))
    return Item(label or Text("", ""), raw.get("path") if isinstance(raw.get("path"), str) else None,
                fmt if fmt in FORMATS else "count", unit,
                raw.get("compare") if isinstance(raw.get("compare"), str) else None, compare_label,
                tuple(thresholds), at("path"))


def _question(r: _Reader, raw: Any, lines: dict[str, int], header: int) -> Question | None:
    def at(key: str) -> int:
        return lines.get(f"query.{key}", lines.get("query", header))

    if not isinstance(raw, dict):
        r.fail(at(""), "query is a table: [tile.query] with domain, measures, group_by, filters, "
                       "range, grain")
        return None
    known = {"domain", "measures", "group_by", "filters", "range", "grain", "compare"}
    for key in sorted(set(raw) - known):
        r.fail(at(key), f"unknown query key {key!r}; a question takes {', '.join(sorted(known))}")
    domain = raw.get("domain")
    if not isinstance(domain, str):
        r.fail(at("domain"), "the question needs domain = \"gate\" (a query API domain)")
        return None
    measures = r.names(raw.get("measures"), at("measures"), "measures")
    if not measures:
        r.fail(at("measures"), "the question needs measures = [\"…\"] (what to count)")
    rng = raw.get("range", "24h")
    if not isinstance(rng, str) or not (rng == "today" or _RANGE.match(rng)):
        r.fail(at("range"), f"range = {rng!r}: write how far back, e.g. \"90m\", \"24h\", \"7d\", "
                            "or \"today\"")
        rng = "24h"
    filters_raw = raw.get("filters", {}) or {}
    filters: list[tuple[str, tuple[str, ...]]] = []
    if not isinstance(filters_raw, dict):
        r.fail(at("filters"), "filters is a table: filters = { gate_id = [\"main-north\"] }")
    else:
        for name, values in sorted(filters_raw.items()):
            filters.append((name, r.names(values, at("filters"), f"filters.{name}")))
    grain = raw.get("grain")
    compare = raw.get("compare")
    return Question(domain, measures, r.names(raw.get("group_by"), at("group_by"), "group_by"),
                    tuple(filters), rng, grain if isinstance(grain, str) else None,
                    compare if isinstance(compare, str) else None)
