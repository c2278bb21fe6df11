"""A first site catalogue, built from the lists the offices already keep in spreadsheets.

The network center keeps its gates (校门名称, 门岗编号, 校区, 通道数) and its exit links
(链路名称, 带宽 such as 10G or 1000M), the service hall its 服务事项 (事项编码, 部门), the
admissions office its majors (专业名称, 专业代码, 学院). Headers are matched in Chinese or
English (:data:`SHEETS`), codes are taken as given, or made from the name when a list has
none: from the English name when there is one, else a short fingerprint of the Chinese name
(no transliteration: the same name always gives the same code). Nothing is guessed: a gate
without a 校区, a service without a 部门, a link without a unit are errors naming the file,
the sheet and the row, and no file is written; where a value is filled in (an English name
missing), a note says so.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.site_check import CODE, MAX_LANES
from ingest.site_sheet import SheetError, SheetProblem, Table, read_table

__all__ = ["SHEETS", "SheetError", "build_catalogue", "parse_bandwidth"]

_CODE = ("编号", "代码", "编码", "code", "id")
_EN = ("英文名称", "英文名", "英文", "name_en", "english name", "name (en)")
_ALIASES = ("别名", "简称", "其他名称", "aliases", "alias")
#: per list: field → accepted headers (the first is the one messages name)
SHEETS: dict[str, dict[str, tuple[str, ...]]] = {
    "campuses": {
        "name": ("校区名称", "校区", "名称", "campus", "campus name", "name", "name_zh"),
        "code": ("校区代码", "校区编号", "校区编码", *_CODE),
        "name_en": _EN, "aliases": _ALIASES},
    "gates": {
        "name": ("校门名称", "门岗名称", "大门名称", "校门", "门岗", "名称", "gate", "gate name", "name",
                 "name_zh"),
        "code": ("门岗编号", "校门编号", "门岗代码", "校门代码", "gate id", "gate code", *_CODE),
        "campus": ("校区", "所属校区", "校区名称", "campus"),
        "lanes": ("通道数", "通道数量", "闸机数", "闸机数量", "通道", "lanes"),
        "weight": ("权重", "weight"), "name_en": _EN, "aliases": _ALIASES},
    "links": {
        "name": ("链路名称", "线路名称", "出口名称", "链路", "线路", "link", "link name", "name", "name_zh"),
        "code": ("链路编号", "线路编号", "链路代码", "link id", *_CODE),
        "capacity": ("带宽", "出口带宽", "链路带宽", "带宽容量", "容量", "bandwidth", "capacity",
                     "capacity_bps"),
        "name_en": _EN, "aliases": _ALIASES},
    "departments": {
        "name": ("部门名称", "部门", "单位名称", "单位", "department", "name", "name_zh"),
        "code": ("部门编码", "部门代码", "部门编号", *_CODE),
        "name_en": _EN, "aliases": _ALIASES},
    "services": {
        "name": ("服务事项", "事项名称", "服务名称", "事项", "service", "service name", "name", "name_zh"),
        "code": ("事项编码", "事项代码", "事项编号", "服务编码", *_CODE),
        "department": ("部门", "所属部门", "办理部门", "责任部门", "主管部门", "department"),
        "printable": ("可打印", "自助打印", "可自助打印", "printable"),
        "weight": ("权重", "weight"), "name_en": _EN, "aliases": _ALIASES},
    "majors": {
        "name": ("专业名称", "专业", "major", "major name", "name", "name_zh"),
        "code": ("专业代码", "专业编号", "专业编码", "major code", *_CODE),
        "college": ("学院", "所属学院", "院系", "学院名称", "college", "school"),
        "college_code": ("学院代码", "学院编号", "学院编码", "college code"),
        "college_en": ("学院英文名称", "college name_en", "college_en"),
        "name_en": _EN, "aliases": _ALIASES},
}
REQUIRED = {"campuses": ("name",), "gates": ("name", "campus", "lanes"), "links": ("name", "capacity"),
            "departments": ("name",), "services": ("name", "department"), "majors": ("name", "college")}
LABELS = {"campuses": "campus", "gates": "gate", "links": "link", "departments": "department",
          "services": "service", "majors": "major", "colleges": "college"}
_BANDWIDTH = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)\s*(?:bps|b/s|bit/s|b|e)?$", re.IGNORECASE)
_WORDS = {"十万兆": 100e9, "万兆": 10e9, "千兆": 1e9, "百兆": 100e6}
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_YES, _NO = {"是", "y", "yes", "true", "1", "√", "✓", "可"}, {"否", "n", "no", "false", "0", "×", "", "不可"}


def parse_bandwidth(text: str, header_unit: str = "") -> int | None:
    """``10G``, ``1000M``, ``2.5 Gbps``, ``万兆`` → bits per second; a bare number takes the unit
    written in the header (``带宽（Mbps）``); None when no unit can be read."""
    value = text.strip().replace("，", "").replace(",", "")
    if value in _WORDS:
        return int(_WORDS[value])
    match = _BANDWIDTH.fullmatch(value)
    if not match:
        return None
    unit = match.group(2).upper()
    if not unit and not re.search(r"[A-Za-z]", value):
        head = _BANDWIDTH.fullmatch("1" + header_unit.strip())
        if not header_unit or not head or not head.group(2):
            return None
        unit = head.group(2).upper()
    return int(float(match.group(1)) * _SCALE[unit])


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:48].strip("-")


def make_code(prefix: str, name_zh: str, name_en: str, scope: str = "") -> str:
    """A stable code from the names: the English name's slug (after ``scope``, the parent's
    code, when given), else ``prefix-`` and a fingerprint of the parent and the Chinese name."""
    base = slug(name_en) if name_en else slug(name_zh) if name_zh.isascii() else ""
    if base:
        return f"{scope}-{base}"[:64] if scope else base
    return f"{prefix}-{hashlib.sha256(f'{scope}/{name_zh}'.encode()).hexdigest()[:8]}"


@dataclass
class _Entry:
    code: str
    name_zh: str
    name_en: str
    row: int = 0
    aliases: tuple[str, ...] = ()
    props: dict[str, object] = field(default_factory=dict)


class _Build:
    def __init__(self) -> None:
        self.problems: list[SheetProblem] = []
        self.notes: list[str] = []

    def table(self, kind: str, path: Path | None) -> Table | None:
        if path is None:
            return None
        try:
            return read_table(path, SHEETS[kind], REQUIRED[kind])
        except SheetError as exc:
            self.problems += exc.problems
            return None

    def entries(self, kind: str, table: Table, parent: Callable[[dict[str, str], int], str | None],
                props: Callable[[dict[str, str], int], dict[str, object] | None],
                prefixed: bool = False) -> list[_Entry]:
        """One entry per data row. ``parent`` gives the code of the entry's parent ("" for none;
        None: the row is refused, the problem noted); ``prefixed``: a made code starts with it
        (two campuses may each have a 东门)."""
        out: list[_Entry] = []
        seen: dict[str, int] = {}
        made = no_en = 0
        label = LABELS[kind]
        for row, v in table.rows:
            zh = v["name"]
            if not zh:
                self.problems.append(table.problem(row, f"{label} without a name: fill "
                                                        f"{table.headers['name']} or delete the row"))
                continue
            where, extra = parent(v, row), props(v, row)
            if where is None or extra is None:
                continue
            extra["parent"] = where
            en = v.get("name_en", "")
            code = v.get("code", "")
            if not code:
                code, made = make_code(label, zh, en, where if prefixed else ""), made + 1
            elif not CODE.fullmatch(code):
                self.problems.append(table.problem(row, f"{label} {zh}: code {code!r} must be 1–64 of "
                                                        "A-Z a-z 0-9 . _ : - (no spaces or Chinese)"))
                continue
            if code in seen:
                self.problems.append(table.problem(row, f"{label} {zh}: code {code!r} is also on row "
                                                        f"{seen[code]}; give each {label} its own code "
                                                        "or name"))
                continue
            seen[code] = row
            no_en += not en
            aliases = tuple(a.strip() for a in re.split(r"[、,，;；/]", v.get("aliases", "")) if a.strip())
            out.append(_Entry(code, zh, en or zh, row, aliases, extra))
        if made:
            self.notes.append(f"{table.file}: {made} {label}(s) had no code; codes were made from "
                              "their names (the same name gives the same code); add a "
                              f"{SHEETS[kind]['code'][0]} column to choose them")
        if no_en:
            self.notes.append(f"{table.file}: {no_en} {label}(s) have no English name; the Chinese name is "
                              f"used on English pages until name_en is edited (or add a "
                              f"{_EN[0]} column)")
        return out

    def parents(self, kind: str, given: list[_Entry] | None, table: Table | None,
                column: str) -> tuple[list[_Entry], dict[str, str]]:
        """The entries a list refers to by name or code (campuses of gates…): from their own list
        when given, else one per distinct value of the column, and a name/code → code map."""
        entries = list(given or [])
        if given is None and table is not None:
            names: dict[str, None] = {v[column]: None for _, v in table.rows if v.get(column)}
            entries = [_Entry(make_code(LABELS[kind], n, n if n.isascii() else ""), n, n) for n in names]
            if entries:
                self.notes.append(f"{len(entries)} {kind} taken from the {table.headers[column]} column of "
                                  f"{table.file} "
                                  f"(give --{kind} to set their codes and English names)")
        lookup: dict[str, str] = {}
        for e in entries:
            for label in (e.code, e.name_zh, e.name_en, *e.aliases):
                lookup.setdefault(label.casefold(), e.code)
        return entries, lookup


def build_catalogue(sheets: dict[str, Path], *, name_zh: str, name_en: str,
                    timezone: str = "Asia/Shanghai") -> tuple[str, list[str]]:
    """The catalogue's TOML text and the notes on what was filled in; raises :class:`SheetError`
    with every problem found (all lists are read before giving up)."""
    b = _Build()
    t = {kind: b.table(kind, sheets.get(kind)) for kind in SHEETS}

    def none(_v: dict[str, str], _row: int) -> dict[str, object] | None:
        return {}

    def anywhere(_v: dict[str, str], _row: int) -> str | None:
        return ""

    given_campuses = b.entries("campuses", t["campuses"], anywhere, none) if t["campuses"] else None
    campuses, campus_of = b.parents("campuses", given_campuses, t["gates"], "campus")
    given_depts = b.entries("departments", t["departments"], anywhere, none) if t["departments"] else None
    departments, dept_of = b.parents("departments", given_depts, t["services"], "department")

    def resolve(table: Table, lookup: dict[str, str], column: str, source: str
                ) -> Callable[[dict[str, str], int], str | None]:
        """The parent's code of a row, by the name or code written in ``column``."""
        def parent(v: dict[str, str], row: int) -> str | None:
            value = v.get(column, "")
            if not value:
                b.problems.append(table.problem(row, f"{v['name']} has no {table.headers[column]}: "
                                                     "fill it in"))
                return None
            code = lookup.get(value.casefold())
            if code is None:
                b.problems.append(table.problem(row, f"{v['name']}: {table.headers[column]} {value!r} is not "
                                                     f"in {source}; use one of its names or codes"))
            return code
        return parent

    def gate_props(v: dict[str, str], row: int) -> dict[str, object] | None:
        assert t["gates"] is not None
        lanes = v.get("lanes", "")
        if not lanes.isdigit() or not 1 <= int(lanes) <= MAX_LANES:
            b.problems.append(t["gates"].problem(row, f"gate {v['name']}: {t['gates'].headers['lanes']} "
                                                      f"must be a whole number from 1 to {MAX_LANES}, "
                                                      f"got {lanes!r}"))
            return None
        return {"lanes": int(lanes), **_weight(b, t["gates"], v, row)}

    def link_props(v: dict[str, str], row: int) -> dict[str, object] | None:
        assert t["links"] is not None
        bps = parse_bandwidth(v.get("capacity", ""), t["links"].unit("capacity"))
        if not bps:
            b.problems.append(t["links"].problem(row, f"link {v['name']}: {t['links'].headers['capacity']} "
                                                      f"{v.get('capacity', '')!r} is not a bandwidth; write "
                                                      "e.g. 10G, 1000M or 万兆 (or the unit in the header: "
                                                      "带宽（Mbps）)"))
            return None
        return {"capacity_bps": bps}

    def service_props(v: dict[str, str], row: int) -> dict[str, object] | None:
        assert t["services"] is not None
        flag = v.get("printable", "").casefold()
        if flag not in _YES | _NO:
            header = t["services"].headers["printable"]
            b.problems.append(t["services"].problem(row, f"service {v['name']}: {header} must be 是 or 否, "
                                                         f"got {flag!r}"))
            return None
        return {"printable": flag in _YES, **_weight(b, t["services"], v, row)}

    gates: list[_Entry] = []
    links: list[_Entry] = []
    services: list[_Entry] = []
    majors: list[_Entry] = []
    if t["gates"]:
        source = sheets["campuses"].name if given_campuses is not None else "the 校区 of this list"
        gates = b.entries("gates", t["gates"], resolve(t["gates"], campus_of, "campus", source), gate_props,
                          prefixed=True)
    if t["links"]:
        links = b.entries("links", t["links"], anywhere, link_props)
    if t["services"]:
        source = sheets["departments"].name if given_depts is not None else "the 部门 of this list"
        services = b.entries("services", t["services"], resolve(t["services"], dept_of, "department", source),
                             service_props)
    colleges: dict[str, _Entry] = {}
    if t["majors"]:
        for _, v in t["majors"].rows:
            name = v.get("college", "")
            code = v.get("college_code") or make_code("college", name, v.get("college_en", ""))
            if name and code not in colleges:
                colleges[code] = _Entry(code, name, v.get("college_en") or name)
        lookup = {k: c for c, e in colleges.items() for k in (c.casefold(), e.name_zh.casefold())}
        majors = b.entries("majors", t["majors"], resolve(t["majors"], lookup, "college", "this list"), none)
    for kind in ("gates", "services", "majors", "links"):
        if kind not in sheets:
            b.problems.append(SheetProblem("site init", "", 0, f"no {kind} list given (--{kind} FILE)"))
    if b.problems:  # in the order the lists were given, row by row
        order = {str(path): i for i, path in enumerate(sheets.values())}
        raise SheetError(sorted(b.problems, key=lambda p: (order.get(p.file, len(order)), p.row)))
    return _toml(name_zh, name_en, timezone, sheets, campuses, gates, links, departments, services,
                 list(colleges.values()), majors), b.notes


def _weight(b: _Build, table: Table, v: dict[str, str], row: int) -> dict[str, object]:
    text = v.get("weight", "")
    if not text:
        return {}
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        b.problems.append(table.problem(row, f"{table.headers['weight']} must be a number ≥ 0, got {text!r}"))
        return {}
    return {"weight": value}


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _names(e: _Entry) -> str:
    aliases = f", aliases = [{', '.join(_q(a) for a in e.aliases)}]" if e.aliases else ""
    return f"name_zh = {_q(e.name_zh)}, name_en = {_q(e.name_en)}{aliases}"


def _toml(name_zh: str, name_en: str, timezone: str, sheets: dict[str, Path], campuses: list[_Entry],
          gates: list[_Entry], links: list[_Entry], departments: list[_Entry], services: list[_Entry],
          colleges: list[_Entry], majors: list[_Entry]) -> str:
    out = ["# Site catalogue made from " + ", ".join(p.name for p in sheets.values()) + ".",
           "# Its format is described in docs/site.md; check it with: python -m ioc_app site check FILE",
           "", "[site]", f"name_zh = {_q(name_zh)}", f"name_en = {_q(name_en)}", f"timezone = {_q(timezone)}"]

    def block(section: str, key: str, e: _Entry, extra: list[str]) -> None:
        out.extend(["", f"[[{section}]]", f"{key} = {_q(e.code)}", *extra,
                    f"name_zh = {_q(e.name_zh)}", f"name_en = {_q(e.name_en)}"])
        if e.aliases:
            out.append(f"aliases = [{', '.join(_q(a) for a in e.aliases)}]")

    for e in campuses:
        block("campuses", "code", e, [])
    for e in gates:
        lines = [f"campus = {_q(str(e.props['parent']))}", f"lanes = {e.props['lanes']}"]
        block("gates", "id", e, lines + ([f"weight = {e.props['weight']}"] if "weight" in e.props else []))
    for e in links:
        block("links", "id", e, [f"capacity_bps = {e.props['capacity_bps']}"])
    out += ["", "[departments]", *(f"{_q(e.code)} = {{ {_names(e)} }}" for e in departments)]
    out += ["", "[services]"]
    for e in services:
        extra = f", weight = {e.props['weight']}" if "weight" in e.props else ""
        out.append(f"{_q(e.code)} = {{ {_names(e)}, department = {_q(str(e.props['parent']))}, "
                   f"printable = {str(e.props['printable']).lower()}{extra} }}")
    for c in colleges:
        out += ["", f"[colleges.{_q(c.code)}]", f"name_zh = {_q(c.name_zh)}", f"name_en = {_q(c.name_en)}",
                "majors = ["]
        out += [f"  {{ code = {_q(m.code)}, {_names(m)} }}," for m in majors if m.props["parent"] == c.code]
        out.append("]")
    return "\n".join(out) + "\n"
