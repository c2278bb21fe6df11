"""Board files: each broken board is refused at the right line with what to change, the shipped
boards and the manual's example are fine, ``board check`` says so in one line per problem, and
a file that breaks keeps its last good board (marked) until it is fixed."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ioc_app.boards import read_board
from ioc_app.boards_check import check_file, path_type, row_keys
from ioc_app.boards_live import Library
from tests.conftest import ROOT, product_env, run_cli

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

GOOD = """\
title = { zh = "测试", en = "Test" }
grid = [12, 6]

[[tile]]
id = "gates"
kind = "number"
title = { zh = "闸机", en = "Gates" }
at = [1, 1]
size = [4, 2]
[[tile.item]]
label = { zh = "今日入校", en = "In" }
path = "gate.today.in"

[[tile]]
id = "rank"
kind = "ranking"
title = { zh = "排行", en = "Rank" }
at = [5, 1]
size = [4, 3]
[tile.query]
domain = "gate"
measures = ["in"]
group_by = ["gate_id"]
range = "today"
grain = "day"
"""

#: (what is broken, the text replaced, its replacement, the line of the problem, words of its message)
BROKEN = [
    ("unknown kind", 'kind = "ranking"', 'kind = "pie"', 16, "unknown tile kind 'pie'"),
    ("unknown path", 'path = "gate.today.in"', 'path = "gate.today.inn"', 12, "unknown snapshot path"),
    ("unknown measure", 'measures = ["in"]', 'measures = ["inn"]', 22, "unknown measure 'inn'"),
    ("unknown dimension", 'group_by = ["gate_id"]', 'group_by = ["colour"]', 23, "colour"),
    ("overlap", "at = [5, 1]", "at = [4, 1]", 18, "overlaps tile 'gates'"),
    ("off the canvas", "size = [4, 3]", "size = [4, 7]", 18, "off the canvas"),
    ("range the API refuses", 'range = "today"', 'range = "900d"', 24, "too long for grain=day"),
    ("grain the domain lacks", 'grain = "day"', 'grain = "season"', 25, "not a grain of gate"),
    ("one language", 'title = { zh = "排行", en = "Rank" }', 'title = "排行"', 17, "one language only"),
    (
        "no English",
        'label = { zh = "今日入校", en = "In" }',
        'label = { zh = "今日入校", en = "" }',
        11,
        "has no en text",
    ),
    ("twice the same id", 'id = "rank"', 'id = "gates"', 15, "used twice"),
    ("syntax", "grid = [12, 6]", "grid = [12 6]", 2, "not valid TOML"),
    ("unknown role", "grid = [12, 6]", 'grid = [12, 6]\nroles = ["janitor"]', 3, "unknown role 'janitor'"),
    (
        "scores per person",
        'domain = "gate"\nmeasures = ["in"]\ngroup_by = ["gate_id"]',
        'domain = "enrollment"\nmeasures = ["score_avg"]\ngroup_by = ["province"]',
        21,
        "small-cell rule",
    ),
    ("a chart on no number", 'kind = "ranking"', 'kind = "ranking"\nchart = "trend"', 17, "chart = 'trend'"),
    ("a chart without rows", "size = [4, 2]", 'size = [4, 2]\nchart = "bar"', 4, "tile 'gates' needs path"),
    (
        "a chart of an unknown key",
        "size = [4, 2]",
        'size = [4, 2]\nchart = "trend"\npath = "gate.last_60m"\nlabel = "minute"\nvalues = ["inn"]',
        13,
        "value 'inn' is not a key of gate.last_60m",
    ),
    (
        "complete off a trend",
        "size = [4, 3]",
        "size = [4, 3]\ncomplete = true",
        20,
        "complete = true: true or false, and only on a trend tile",
    ),
    (
        "a list drawn as a number",
        'path = "gate.today.in"',
        'path = "gate.today.by_gate"',
        12,
        "unknown snapshot path",
    ),
]


def _write(tmp_path: Path, text: str, name: str = "b.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_board_reads_whole() -> None:
    assert row_keys("gate.today.by_gate") == {"gate_id", "in", "out", "denied"}
    assert path_type("freshness.gate.pass.lag_s") is None  # a stream name holds a dot: not a path
    assert path_type("network.security.open_by_severity.high") is int


def test_good_board(tmp_path: Path) -> None:
    board, problems = check_file(_write(tmp_path, GOOD), zone=ZONE, now=NOW)
    assert problems == [] and board is not None
    assert (
        [t.id for t in board.tiles] == ["gates", "rank"] and board.slug == "b" and board.roles == ("viewer",)
    )
    assert board.questions[0].query.args(NOW, ZONE)["from"] == ["2026-03-02T00:00:00+08:00"]


@pytest.mark.parametrize("what,old,new,line,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_board_is_refused_at_its_line(
    tmp_path: Path, what: str, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    board, problems = check_file(path, zone=ZONE, now=NOW)
    assert board is None and problems, what
    assert any(p.line == line and words in p.message for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith(f"{path}:") for p in problems)


def test_shipped_boards_and_the_manuals_example_are_fine(tmp_path: Path) -> None:
    shipped = sorted((ROOT / "boards").glob("*.toml"))
    assert {p.stem for p in shipped} >= {"overview", "security-gates", "network-security"}
    for path in shipped:
        board, problems = check_file(path, zone=ZONE, now=NOW)
        assert problems == [] and board is not None and board.slug == path.stem, problems
    manual = (ROOT / "docs" / "boards.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(# boards/duty-desk\.toml.*?)```", manual, flags=re.S)
    assert example, "docs/boards.md has its complete example"
    board, problems = check_file(_write(tmp_path, example.group(1), "duty-desk.toml"), zone=ZONE, now=NOW)
    assert problems == [] and board is not None
    assert {t.kind for t in board.tiles} >= {"number", "trend", "ranking", "alerts", "text"}
    assert board.questions  # live paths and a question, as the manual explains


def test_board_check_command(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    good = _write(tmp_path, GOOD, "good.toml")
    bad = _write(
        tmp_path,
        GOOD.replace("at = [5, 1]", "at = [4, 1]").replace('kind = "number"', 'kind = "nr"'),
        "bad.toml",
    )
    ok = run_cli(env, "board", "check", str(good))
    assert ok.returncode == 0 and "board 'good' is fine" in ok.stdout, ok.stderr
    refused = run_cli(env, "board", "check", str(good), str(bad))
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert lines == [
        f"ioc: {bad}:6: unknown tile kind 'nr'; use one of: number, trend, bar, ranking, donut, "
        "heatmap, china_map, table, progress, funnel, alerts, text"
    ], lines
    assert "Traceback" not in refused.stderr


def _touch(path: Path, text: str) -> None:
    """Write ``text`` with a modification time surely later than the last one."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), max(time.time_ns(), before + 1_000_000)))


def test_a_broken_file_keeps_the_last_good_board_marked(tmp_path: Path) -> None:
    folder = tmp_path / "boards"
    folder.mkdir()
    lib = Library(folder, ZONE)
    path = folder / "gates.toml"
    _touch(path, GOOD)
    entry = lib.entry("gates")
    assert entry is not None and entry.board is not None and not entry.stale
    good = entry.board
    _touch(path, GOOD.replace('kind = "ranking"', 'kind = "pie"'))
    entry = lib.entry("gates")
    assert entry is not None and entry.board == good and entry.stale  # still shown, marked
    assert entry.problems and entry.problems[0].line == 16
    _touch(path, GOOD.replace('title = { zh = "测试", en = "Test" }', 'title = { zh = "新", en = "New" }'))
    entry = lib.entry("gates")
    assert entry is not None and entry.board is not None and not entry.stale and entry.board.title.zh == "新"
    # a file that never read well is listed with its problems and shows no board
    _touch(folder / "new.toml", "title = 'x'\n")
    assert lib.entry("new") is not None and lib.entry("new").board is None  # type: ignore[union-attr]
    # two files claiming one address: the second is refused, the first stays
    _touch(folder / "z.toml", 'slug = "gates"\n' + GOOD)
    entries = lib.entries()
    assert entries["gates"].file == str(path)
    assert any("slug 'gates' is taken" in str(p) for e in entries.values() for p in e.problems)


def test_read_board_keeps_lines_of_items_and_questions(tmp_path: Path) -> None:
    board, problems = read_board(_write(tmp_path, GOOD))
    assert board is not None and problems == []
    assert board.tiles[0].items[0].line == 12 and board.tiles[1].lines["query.measures"] == 22
