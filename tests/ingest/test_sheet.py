"""Office spreadsheets read as they are: the header found below a title, merged cells filled,
totals and notes skipped, the sheet chosen, problems of the file named with file, sheet and
row — and names read through the catalogue."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from ingest.enrollment import ENROLLMENT_ADMISSION, ENROLLMENT_PLAN
from ingest.gate import GATE_PASS
from ingest.sheet import ImportError_, is_header
from ingest.sheet_files import open_csv, open_xlsx
from ingest.site_codes import Entry, SiteCodes

ZONE = ZoneInfo("Asia/Shanghai")
HEADER = ["年份", "省份", "批次", "类别", "科类", "专业名称", "计划数（人）"]


def office_plan(path: Path) -> Path:
    """The admissions office's plan as it is printed: a title merged across, a blank row, the
    header, a province merged down its rows, a subtotal under it, a total, notes, and a
    second sheet of explanations."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "招生计划"
    ws.append(["2026年本科招生计划（分省分专业）"])                                    # 1
    ws.merge_cells("A1:G1")
    ws.append([])                                                                 # 2
    ws.append(HEADER)                                                             # 3
    ws.append([2026, "广东省", "本科批", "普通类", "物理类", "计算机科学与技术", 30])  # 4
    ws.append([2026, None, "本科批", "普通类", "物理类", "软件工程", 20.0])           # 5
    ws.append([2026, None, "本科批", "普通类", "历史类", "汉语言文学", 10])           # 6
    ws.append([2026, None, "小计", None, None, None, 60])                         # 7
    ws.merge_cells("B4:B7")
    ws.append([])                                                                 # 8
    ws.append([2026, "北京", "提前批", "国家专项", "物理类", "软件工程", 8])           # 9
    ws.append(["合 计", None, None, None, None, None, 68])                        # 10
    ws.merge_cells("A10:F10")
    ws.append(["注：计划数以教育部最终公布为准。"])                                    # 11
    ws.merge_cells("A11:G11")
    ws.append(["以省级招生考试机构公布为准"])                                        # 12
    notes = wb.create_sheet("填表说明")
    notes.append(["省份写全称或简称"])
    notes.append(["专业写名称或代码"])
    wb.save(path)
    return path


def read_all(table) -> tuple[list[dict], list[int]]:
    rows, numbers = [], []
    for frame, nums in table.chunks():
        rows += frame.to_dicts()
        numbers += nums
    return rows, numbers


def test_an_office_plan_reads_as_its_data_rows(tmp_path: Path) -> None:
    table = open_xlsx(office_plan(tmp_path / "plan.xlsx"), ENROLLMENT_PLAN, ZONE)
    assert (table.sheet, table.header_row) == ("招生计划", 3)  # the notes sheet has no header
    assert table.headers["planned"] == "计划数（人）" and table.headers["major"] == "专业名称"
    rows, numbers = read_all(table)
    assert numbers == [4, 5, 6, 9]
    as_read = [(r["年份"], r["省份"], r["批次"], r["专业名称"], r["计划数"]) for r in rows]
    assert as_read == [
        ("2026", "广东省", "本科批", "计算机科学与技术", "30"),
        ("2026", "广东省", "本科批", "软件工程", "20"),       # the merged province, on each row
        ("2026", "广东省", "本科批", "汉语言文学", "10"),
        ("2026", "北京", "提前批", "软件工程", "8"),
    ]
    assert table.skipped == [(7, "total"), (10, "total"), (11, "note"), (12, "note")]
    assert table.blank == 1


def test_the_sheet_is_chosen_or_asked_for(tmp_path: Path) -> None:
    path = office_plan(tmp_path / "two.xlsx")
    wb = openpyxl.load_workbook(path)
    copy = wb.copy_worksheet(wb["招生计划"])
    copy.title = "2025"
    wb.save(path)
    with pytest.raises(ImportError_) as err:
        open_xlsx(path, ENROLLMENT_PLAN, ZONE)
    assert str(err.value) == (f"{path}: sheets '招生计划', '2025' all have the column headers of "
                              f"enrollment.plan; choose one with --sheet NAME; nothing was imported")
    assert open_xlsx(path, ENROLLMENT_PLAN, ZONE, sheet="2025").sheet == "2025"
    with pytest.raises(ImportError_) as err:
        open_xlsx(path, ENROLLMENT_PLAN, ZONE, sheet="2026")
    assert f"{path}: no sheet '2026'; its sheets are: 招生计划, 填表说明, 2025" in str(err.value)
    with pytest.raises(ImportError_) as err:
        open_xlsx(path, ENROLLMENT_PLAN, ZONE, sheet="填表说明")
    assert f"{path}, sheet '填表说明', rows 1–20: no row holds the column headers of enrollment.plan" \
        in str(err.value)


def test_missing_and_unknown_columns_are_one_message_naming_the_header_row(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026年计划"])
    ws.append(["序号", "年份", "省份", "批次", "类别", "科类", "专业", "学院"])
    ws.append([1, 2026, "北京", "本科批", "普通类", "物理类", "080901", "cs"])
    path = tmp_path / "cols.xlsx"
    wb.save(path)
    with pytest.raises(ImportError_) as err:
        open_xlsx(path, ENROLLMENT_PLAN, ZONE)
    message = str(err.value)
    assert message.startswith(f"{path}, sheet 'Sheet', row 2: column H '学院': enrollment.plan has no "
                              f"such field; ")
    assert "; no column for planned (required by enrollment.plan); add one headed planned or 计划数" \
        in message
    assert message.endswith("nothing was imported") and "\n" not in message


def test_a_title_or_a_data_row_is_no_header() -> None:
    assert not is_header(["2026年本科招生计划（分省分专业）"], ENROLLMENT_PLAN)
    assert not is_header(["2026", "北京", "本科批", "普通类", "物理类", "080901", "8"], ENROLLMENT_PLAN)
    assert not is_header(["计划数", "说明", "备用一", "备用二", "备用三"], ENROLLMENT_PLAN)
    assert is_header(["序号", "年 份", "省份", "专业名称", "计划数(人)", "备注"], ENROLLMENT_PLAN)


def test_a_csv_file_with_a_title_and_a_total(tmp_path: Path) -> None:
    text = ("2026年9月1日 北门通行记录,,,,,,,,\n"
            ",,,,,,,,\n"
            "事件编号,时间,校区,门,通道,方向,人员类别,通行方式,结果\n"
            "g1,2026-09-01T08:00:00+08:00,main,北门(学府大道),1,进,student,face,通过\n"
            "\n"
            "g2,2026-09-01T08:00:05+08:00,main,南门,2,出,staff,card,通过\n"
            "合计,,,,,,,,2\n"
            "制表：保卫处,,,,,,,,\n")
    path = tmp_path / "gates.csv"
    path.write_bytes(text.encode("gb18030"))
    table = open_csv(path, GATE_PASS)
    try:
        rows, numbers = read_all(table)
    finally:
        table.cleanup()
    assert table.header_row == 3 and numbers == [4, 6]
    assert [(r["事件编号"], r["门"]) for r in rows] == [("g1", "北门(学府大道)"), ("g2", "南门")]
    assert table.skipped == [(7, "total"), (8, "note")] and table.blank == 1


def test_no_header_in_a_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ImportError_) as err:
        open_csv(path, ENROLLMENT_ADMISSION)
    assert str(err.value).startswith(f"{path}, rows 1–20: no row holds the column headers of "
                                     f"enrollment.admission")


CODES = SiteCodes({
    "major": [Entry("080901", "计算机科学与技术", "Computer Science and Technology", ("计科",)),
              Entry("080902", "软件工程", "Software Engineering"),
              Entry("x1", "软件工程（中外合作）", "Software Engineering (joint)", ("合作软工",)),
              Entry("x2", "合作软工", "Joint SE")],
    "gate": [Entry("main-north", "北门（学府大道）", "North Gate")],
}, "site.toml")


@pytest.mark.parametrize(("kind", "value", "code", "reason"), [
    ("major", "080901", "080901", None),                       # a code stays
    ("major", "计算机科学与技术", "080901", None),               # the zh name
    ("major", " Computer  Science and Technology ", "080901", None),  # the en name, spaces squeezed
    ("major", "计科", "080901", None),                          # an alias
    ("major", "软件 工程", "080902", None),                      # no space beside a Chinese character
    ("major", "软件工程(中外合作)", "x1", None),                  # full-width brackets as half-width
    ("gate", "北门(学府大道)", "main-north", None),
    ("major", "合作软工", "x2", None),                           # a code-less match: x2's name…
    ("major", "机器人工程", None, "unknown_name"),               # a name nobody has
    ("major", "Robotics Engineering", None, "unknown_name"),
    ("major", "080999", "080999", None),                        # code-shaped: taken as it is
    ("major", "80901", "080901", None),                         # a number cell dropped the 0
])
def test_names_become_codes(kind, value, code, reason) -> None:
    got = CODES.lookup(kind, value)
    if value == "合作软工":  # …and x1's alias: two entries → ambiguous
        assert got == (None, "ambiguous_name")
        assert "(x1, x2); write the code" in CODES.message(kind, "专业", value, "ambiguous_name")
        return
    assert got == (code, reason)


def test_an_unknown_name_refuses_its_row_and_says_what_to_do() -> None:
    import polars as pl

    frame = pl.DataFrame({"major": ["计科", "计算机科学与技", None, "软件工程"],
                          "year": ["2026"] * 4})
    out, errors = CODES.resolve(ENROLLMENT_PLAN, frame, {"major": "专业名称"})
    assert out["major"].to_list() == ["080901", "计算机科学与技", None, "080902"]
    assert [(e["index"], e["field"], e["reason"]) for e in errors] == [(1, "major", "unknown_name")]
    assert errors[0]["message"].startswith(
        "专业名称 '计算机科学与技' is no 专业 (major) of site.toml: did you mean 计算机科学与技术?")
    assert "add this spelling to the entry's aliases" in errors[0]["message"]


def test_services_and_departments_by_name_through_the_demo_catalogue() -> None:
    import polars as pl

    from ingest.registry import get_stream
    from ingest.site import load_site
    from tests.conftest import ROOT

    codes = SiteCodes.of_site(load_site(ROOT / "ioc_app" / "sites" / "demo.toml"))
    workflow = get_stream("service.workflow")
    assert codes.coded_columns(workflow, ["service_id", "department", "node"]) == {
        "service_id": "service", "department": "department"}
    frame = pl.DataFrame({"service_id": ["在读证明开具", "Vehicle entry permit", "办个证"],
                          "department": ["教务处", "保卫处", "security"]})
    out, errors = codes.resolve(workflow, frame, {"service_id": "事项", "department": "部门"})
    assert out.rows() == [("enrollment-certificate", "academic"), ("vehicle-entry", "security"),
                          ("办个证", "security")]
    assert [(e["index"], e["field"], e["reason"]) for e in errors] == [(2, "service_id", "unknown_name")]
