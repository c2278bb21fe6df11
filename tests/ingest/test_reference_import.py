"""Reference files (control lines, the plan) are imported whole or not at all: the provinces'
published XLSX with Chinese headers goes in row for row, and a bad file — a missing column, a
key twice, a score out of range — is refused naming the spreadsheet's row and header, with
nothing stored and no dead letter."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.conftest import product_env, run_cli
from tests.ingest.test_importer import query

HEADER = ["年份", "省份", "批次", "类别", "科类", "省控线"]
ROWS = [
    [2026, "湖北省", "本科批", "普通类", "物理类", 437],
    [2026, "湖北省", "本科批", "普通类", "历史类", 432],
    [2026, "湖北", "提前批", "艺术类", "物理类", 310.5],
    [2026, "广东", "本科批", "普通类", "物理类", 442],
    [2026, "海南省", "本科批", "普通类", "综合", 482],
    [2026, "新疆维吾尔自治区", "本科批", "国家专项", "理科", 336],
]
COUNTS = ("SELECT count() FROM enrollment_control_line", "SELECT count() FROM ioc_deadletter")


def xlsx(path: Path, header: list[str], rows: list[list[object]], *, title_rows: int = 0) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(title_rows):  # a title above the table, then an empty row
        ws.append(["2026年普通高校招生录取控制分数线"])
        ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return product_env(tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize(("name", "header", "rows", "where"), [
    # no score column: a problem of the file, named on the header row (one message)
    ("missing", HEADER[:5], [r[:5] for r in ROWS],
     ("sheet 'Sheet', row 1: no column for control_score", "省控线", "nothing was imported")),
    # the sixth data row repeats the key of the second (sheet rows 3 and 7)
    ("duplicate", HEADER, [*ROWS[:5], [2026, "湖北", "本科批", "普通类", "历史类", 440]],
     ("row 7, column 年份, 省份, 批次, 类别, 科类:", "as row 3")),
    # a score of 1200 on the fourth data row (sheet row 5)
    ("range", HEADER, [*ROWS[:3], [2026, "广东", "本科批", "普通类", "物理类", 1200], *ROWS[4:]],
     ("row 5, column 省控线:", "control_score must be >= 0 and <= 1000; got '1200'")),
])
def test_a_bad_file_is_refused_whole(env, tmp_path: Path, name, header, rows, where) -> None:
    path = xlsx(tmp_path / f"{name}.xlsx", header, rows)
    done = run_cli(env, "import", "enrollment.control_line", str(path), "--quiet", timeout=300)
    assert done.returncode == 1, done.stdout
    if name != "missing":
        assert "refused, nothing imported" in done.stderr
    for text in where:
        assert text in done.stderr, done.stderr
    assert query(env, *COUNTS) == ["[(0,)]", "[(0,)]"]


def test_a_good_file_imports_every_row_and_rows_are_named_as_the_sheet_numbers_them(
        env, tmp_path: Path) -> None:
    # a title above the table: the header is the sheet's row 3, the data rows 4…
    bad = [*ROWS[:2], [2026, "湖北", "本科批", "普通类", "物理类", 437]]
    done = run_cli(env, "import", "enrollment.control_line",
                   str(xlsx(tmp_path / "titled.xlsx", HEADER, bad, title_rows=1)), "--quiet", timeout=300)
    assert done.returncode == 1 and "row 6, column 年份, 省份, 批次, 类别, 科类:" in done.stderr, done.stderr
    assert "as row 4" in done.stderr
    assert query(env, *COUNTS) == ["[(0,)]", "[(0,)]"]

    path = xlsx(tmp_path / "2026省控线.xlsx", HEADER, ROWS, title_rows=1)
    done = run_cli(env, "import", "enrollment.control_line", str(path), "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(ROWS)} rows — accepted {len(ROWS)}, duplicates 0, rejected 0" in done.stdout
    stored = query(env, "SELECT year, toString(province), toString(batch), toString(category), "
                        "toString(track), control_score FROM enrollment_control_line FINAL "
                        "ORDER BY province, batch, track")
    assert stored == ["[(2026, '42', 'early', 'art', 'physics', 310.5), "
                      "(2026, '42', 'regular', 'general', 'physics', 437.0), "
                      "(2026, '42', 'regular', 'general', 'history', 432.0), "
                      "(2026, '44', 'regular', 'general', 'physics', 442.0), "
                      "(2026, '46', 'regular', 'general', 'comprehensive', 482.0), "
                      "(2026, '65', 'regular', 'national_special', 'science', 336.0)]"]
    assert query(env, COUNTS[1]) == ["[(0,)]"]
