"""Importing office files as the offices keep them, end to end: a real CLI process on a real
store. A printed plan (title merged across, blank row, header, province merged down, 合计,
notes, a notes sheet) and an admission list with majors and colleges by name go in row for
row; a name the catalogue does not know is one dead letter; a broken file — no header, a
column missing, an unknown sheet, several sheets, a second file broken — stores nothing and
leaves no dead letter; ``--dry-run`` stores nothing."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT, Server, free_port, product_env, run_cli
from tests.ingest.test_importer import query

TS = "2026-07-20T10:00:00+08:00"
#: the plan's data rows as the office writes them, and the codes each name stands for
#: (province, batch, category, track, major name → code, planned)
PLAN = [
    ("广东省", "本科批", "普通类", "物理类", ("计算机科学与技术", "080901"), 30),
    ("广东省", "本科批", "普通类", "物理类", ("Software Engineering", "080902"), 20),
    ("广东省", "本科批", "普通类", "历史类", ("计科", "080901"), 10),  # an alias in the catalogue
    ("北京", "提前批", "国家专项", "物理类", ("汉语言文学", "050101"), 8),
]
CODES = {"广东省": "44", "北京": "11", "本科批": "regular", "提前批": "early", "普通类": "general",
         "国家专项": "national_special", "物理类": "physics", "历史类": "history"}


def site_with_aliases(path: Path) -> Path:
    """The demo catalogue with the spellings the offices use added as aliases."""
    text = (ROOT / "ioc_app" / "sites" / "demo.toml").read_text(encoding="utf-8")
    major = '{ code = "080901", name_zh = "计算机科学与技术", name_en = "Computer Science and Technology" }'
    college = 'cs = { name_zh = "计算机学院", name_en = "School of Computer Science", '
    assert major in text and college in text
    text = text.replace(major, major[:-2] + ', aliases = ["计科"] }').replace(
        college, college + 'aliases = ["计算机系"], ')
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("office")
    env = product_env(tmp, IOC_SITE=str(site_with_aliases(tmp / "site.toml")))
    done = run_cli(env, "migrate", timeout=300)
    assert done.returncode == 0, done.stderr
    return env


def office_plan(path: Path, *, header: list[str] | None = None, sheets: int = 1) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "招生计划"
    ws.append(["2026年本科招生计划（分省分专业）"])
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(header or ["年份", "省份", "批次", "类别", "科类", "专业名称", "计划数（人）"])
    for province, batch, category, track, (major, _), planned in PLAN:
        ws.append([2026, province, batch, category, track, major, planned])
    ws.merge_cells("B4:B6")  # 广东省 once, merged down its three rows
    for r in (5, 6):
        assert ws.cell(row=r, column=2).value is None
    ws.append(["合计", None, None, None, None, None, sum(p[-1] for p in PLAN)])
    ws.merge_cells(f"A{ws.max_row}:F{ws.max_row}")
    ws.append(["注：计划数以教育部最终公布为准。"])
    ws.append(["制表人：招生办公室"])
    notes = wb.create_sheet("填表说明")
    notes.append(["说明"])
    notes.append(["省份、专业写名称即可"])
    for k in range(1, sheets):
        wb.copy_worksheet(ws).title = f"副本{k}"
    wb.save(path)
    return path


def counts(env: dict[str, str]) -> list[str]:
    return query(env, "SELECT count() FROM enrollment_plan", "SELECT count() FROM enrollment_admission",
                 "SELECT count() FROM ioc_deadletter")


def test_a_printed_plan_is_stored_row_for_row(env, tmp_path: Path) -> None:
    path = office_plan(tmp_path / "2026招生计划.xlsx")
    done = run_cli(env, "import", "enrollment.plan", str(path), "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{path}: 4 rows — accepted 4, duplicates 0, rejected 0" in done.stdout
    assert "sheet '招生计划'; header row 3; not imported: row 8 (total), row 9 (note), row 10 (note)" \
        in done.stdout
    stored = query(env, "SELECT toString(province), toString(batch), toString(category), "
                        "toString(track), major, planned FROM enrollment_plan FINAL "
                        "ORDER BY 1, 4, 5")
    expected = sorted((CODES[p], CODES[b], CODES[c], CODES[t], code, n)
                      for p, b, c, t, (_, code), n in PLAN)
    assert stored == [str(expected)]
    assert query(env, "SELECT count() FROM ioc_deadletter") == ["[(0,)]"]


def admissions(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "录取名单"
    ws.append(["2026年本科录取名单"])
    ws.merge_cells("A1:L1")
    ws.append(["事件编号", "时间", "考生号", "年份", "省份", "批次", "类别", "科类", "学院名称", "专业名称",
               "录取状态", "投档成绩"])
    for r in rows:
        ws.append(r)
    ws.append(["合计", None, None, None, None, None, None, None, None, None, None, len(rows)])
    ws.append(["注：成绩为投档成绩"])
    wb.save(path)
    return path


def test_majors_and_colleges_by_name_and_an_unknown_name_is_one_dead_letter(env, tmp_path: Path) -> None:
    good = [
        ["a1", TS, "26440101000001", 2026, "广东", "本科批", "普通类", "物理类", "计算机学院", "软件工程",
         "录取", 612],
        ["a2", TS, "26440101000002", 2026, "广东", "本科批", "普通类", "物理类", "计算机系",
         "Computer Science and Technology", "录取", 608.5],
        ["a3", TS, "26440101000003", 2026, "广东", "本科批", "普通类", "历史类", "School of Chinese "
         "Language and Literature", "汉语言文学", "录取", 590],
    ]
    unknown = ["a4", TS, "26440101000004", 2026, "广东", "本科批", "普通类", "物理类", "计算机学院",
               "机器人工程", "录取", 600]
    before = counts(env)
    path = admissions(tmp_path / "录取.xlsx", [*good, unknown])
    done = run_cli(env, "import", "enrollment.admission", str(path), "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "4 rows — accepted 3, duplicates 0, rejected 1" in done.stdout
    assert "row 6: major: unknown_name: 专业名称 '机器人工程' is no 专业 (major)" in done.stdout
    stored = query(env, "SELECT event_id, college, major, score FROM enrollment_admission ORDER BY event_id")
    assert stored == ["[('a1', 'cs', '080902', 612.0), ('a2', 'cs', '080901', 608.5), "
                      "('a3', 'lit', '050101', 590.0)]"]
    letters = query(env, "SELECT count(), any(field), any(reason), any(message) FROM ioc_deadletter "
                         "WHERE stream = 'enrollment.admission'")
    assert int(counts(env)[2][2:-3]) == int(before[2][2:-3]) + 1  # the one row, not the 合计 or note
    assert letters[0].startswith("[(1, 'major', 'unknown_name', \"专业名称 '机器人工程' is no 专业")
    assert "26440101000004" not in query(env, "SELECT raw FROM ioc_deadletter")[0]  # pseudonymised


def test_dry_run_shows_everything_and_stores_nothing(env, tmp_path: Path) -> None:
    before = counts(env)
    rows = [["d1", TS, "26440101000011", 2026, "北京", "本科批", "普通类", "物理类", "计算机学院", "计科",
             "录取", 640],
            ["d2", TS, "26440101000012", 2026, "北京", "本科批", "普通类", "物理类", "计算机学院", "机器人",
             "录取", 1200]]
    path = admissions(tmp_path / "dry.xlsx", rows)
    done = run_cli(env, "import", "enrollment.admission", str(path), "--dry-run", timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "dry run: nothing is stored (enrollment.admission)" in out
    assert f"{path}: 2 rows — 1 would be imported, 1 refused" in out
    assert "not imported: row 5 (total), row 6 (note)" in out
    assert '"event_id":"d1"' in out and '"major":"080901"' in out and '"college":"cs"' in out
    assert "row 4, 专业名称: unknown_name: 专业名称 '机器人' is no 专业 (major)" in out
    assert "26440101000011" not in out  # the exam number appears only as its pseudonym
    assert counts(env) == before
    plan = office_plan(tmp_path / "plan.xlsx")
    done = run_cli(env, "import", "enrollment.plan", str(plan), "--dry-run", timeout=300)
    assert done.returncode == 0 and "4 rows — 4 would be imported, 0 refused" in done.stdout, done.stdout
    assert counts(env) == before


@pytest.mark.parametrize(("name", "make", "args", "message"), [
    ("no header", lambda p: office_plan(p, header=["年", "省", "批", "类", "科", "名", "数"]), [],
     "{p}: no sheet has the column headers of enrollment.plan within its first 20 rows (sheets: 招生计划, "
     "填表说明)"),
    ("missing column", lambda p: office_plan(p, header=["年份", "省份", "批次", "类别", "科类", "专业名称",
                                                        "人数"]), [],
     "{p}, sheet '招生计划', row 3: column G '人数': enrollment.plan has no such field"),
    ("unknown sheet", office_plan, ["--sheet", "计划"],
     "{p}: no sheet '计划'; its sheets are: 招生计划, 填表说明 (give one of them to --sheet)"),
    ("several sheets", lambda p: office_plan(p, sheets=2), [],
     "{p}: sheets '招生计划', '副本1' all have the column headers of enrollment.plan; choose one"),
    ("unreadable", lambda p: p.write_bytes(b"PK\x03\x04 not really a workbook") and p, [],
     "{p}: not a readable .xlsx workbook"),
])
def test_a_broken_file_imports_nothing_and_leaves_no_dead_letter(env, tmp_path: Path, name, make, args,
                                                                 message) -> None:
    before = counts(env)
    good = office_plan(tmp_path / "good.xlsx")
    if args:  # the good file has the sheet asked for
        wb = openpyxl.load_workbook(good)
        wb["招生计划"].title = args[1]
        wb.save(good)
    bad = make(tmp_path / "bad.xlsx")
    for dry in ([], ["--dry-run"]):
        # the good file first: it is not imported either (every file is opened first)
        done = run_cli(env, "import", "enrollment.plan", str(good), str(bad), "--quiet", *args, *dry,
                       timeout=300)
        assert done.returncode == 1, done.stdout
        lines = [ln for ln in done.stderr.splitlines() if ln.startswith("ioc: ")]
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0].startswith("ioc: " + message.format(p=bad)), lines[0]
        assert counts(env) == before


def test_an_event_file_with_a_bad_second_file_imports_nothing(env, tmp_path: Path) -> None:
    before = counts(env)
    row = ["b1", TS, "26440101000021", 2026, "广东", "本科批", "普通类", "物理类", "计算机学院", "软件工程",
           "录取", 612]
    good = admissions(tmp_path / "good.xlsx", [row])
    wb = openpyxl.load_workbook(good)
    wb.active.delete_cols(10)  # no 专业名称 column
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    done = run_cli(env, "import", "enrollment.admission", str(good), str(bad), "--quiet", timeout=300)
    assert done.returncode == 1
    assert f"ioc: {bad}, sheet '录取名单', row 2: no column for major (required by enrollment.admission)" \
        in done.stderr
    assert counts(env) == before


def test_through_a_running_server_a_row_with_an_unknown_name_is_not_sent(env, tmp_path: Path) -> None:
    token = run_cli(env, "token", "create", "admissions-office", "--streams", "enrollment.admission"
                    ).stdout.strip()
    rows = [["s1", TS, "26440101000031", 2026, "湖北", "本科批", "普通类", "物理类", "计算机学院", "计科",
             "录取", 620],
            ["s2", TS, "26440101000032", 2026, "湖北", "本科批", "普通类", "物理类", "计算机学院", "机器人",
             "录取", 610]]
    path = admissions(tmp_path / "via-server.xlsx", rows)
    before = counts(env)
    server = Server(env, free_port())
    try:
        server.wait_ready()
        done = run_cli(env, "import", "enrollment.admission", str(path), "--quiet", "--url", server.url,
                       "--token", token, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "2 rows — accepted 1, duplicates 0, rejected 1" in done.stdout
        assert "1 rows with names the catalogue does not know were not sent" in done.stdout
    finally:
        server.stop()
    stored = query(env, "SELECT event_id, major FROM enrollment_admission WHERE event_id LIKE 's%'")
    assert stored == ["[('s1', '080901')]"]  # the name never reached the server as a code
    assert counts(env)[2] == before[2]
