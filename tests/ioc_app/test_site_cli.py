"""The ``site`` commands: check lists every problem with its line, diff says what a change
does, init builds a catalogue from office spreadsheets (made here with openpyxl, as offices
make them: a merged title row, a blank row, the header, merged 校区 cells, a 合计 row, a note
and a second sheet of notes) that check accepts and the app starts with — and a catalogue
change keeps history: after a rename the past is still answered, under the new name."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from ingest.site import load_site, store_reference
from ioc_app.cli import main
from ioc_app.storage import Store
from metrics.catalogue_history import names_in_history, names_of
from tests.ingest.test_site_check import EXAMPLE

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["site", *args])
    out, err = capsys.readouterr()
    return code, out, err


def book(path: Path, title: str, header: list[str], rows: list[list[Any]],
         merge_down: tuple[int, int, int] | None = None) -> Path:
    """An office list: title merged over the columns, a blank row, the header, the rows (with
    ``merge_down`` = (column, first row, last row) of the data merged into one cell), a 合计
    row, a note, and a second sheet of notes."""
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append([])
    ws.append(header)
    for r in rows:
        ws.append(r)
    if merge_down:
        col, first, last = merge_down
        ws.merge_cells(start_row=3 + first, start_column=col, end_row=3 + last, end_column=col)
    ws.append(["合计", "", "", len(rows)])
    ws.append(["注：本表由各单位于每学期初更新。"])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=len(header))
    notes = wb.create_sheet("填表说明")
    notes.append(["填表说明"])
    notes.append(["1. 请勿修改表头。"])
    wb.save(path)
    return path


def office_lists(tmp: Path, gate_rows: list[list[Any]] | None = None,
                 link_rows: list[list[Any]] | None = None) -> dict[str, Path]:
    gates = gate_rows or [
        [1, "北门（学府大道）", "main-north", "本部校区", 10, "North Gate"],
        [2, "南门", None, None, 6, None],  # 校区 merged down from the row above
        [3, "东门", None, "东校区", "4", "East Gate"],
    ]
    return {
        "gates": book(tmp / "门岗.xlsx", "2026年校门门岗一览表",
                      ["序号", "校门名称", "门岗编号", "校区", "通道数", "英文名称"],
                      gates, merge_down=(4, 1, 2) if gate_rows is None else None),
        "services": book(tmp / "服务事项.xlsx", "网上办事大厅服务事项清单",
                         ["服务事项", "事项编码", "办理部门", "可打印"],
                         [["入校备案申请", "visitor-registration", "保卫处", "否"],
                          ["在读证明开具", "enrollment-certificate", "教务处", "是"],
                          ["成绩单打印", None, "教务处", "是"]]),
        "majors": book(tmp / "招生专业.xlsx", "2026年本科招生专业目录",
                       ["专业名称", "专业代码", "所属学院", "学院代码"],
                       [["计算机科学与技术", "080901", "计算机学院", "cs"],
                        ["软件工程", "080902", "计算机学院", "cs"],
                        ["数学与应用数学", "070101", "数学与统计学院", "math"]]),
        "links": book(tmp / "出口链路.xlsx", "出口链路", ["链路名称", "链路编号", "带宽（Mbps）"],
                      link_rows or [["教育网", "cernet", "10G"], ["中国电信", "telecom", 1000],
                                    ["中国联通", "unicom", "万兆"]]),
    }


def init_args(lists: dict[str, Path], out: Path) -> list[str]:
    return ["init", *(a for k, p in lists.items() for a in (f"--{k}", str(p))),
            "--name-zh", "示例大学", "--name-en", "Example University", "-o", str(out)]


def test_check_lists_every_problem_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "site.toml"
    path.write_text(EXAMPLE.replace("lanes = 6", "lanes = 0").replace('campus = "east"', 'campus = "west"'),
                    encoding="utf-8")
    code, out, err = run(capsys, "check", str(path))
    lines = err.splitlines()
    assert code == 1 and out == ""
    text = path.read_text(encoding="utf-8").splitlines()
    at = [str(text.index("lanes = 0") + 1), str(text.index('campus = "west"') + 1)]
    assert [re.match(r"(.*): line (\d+): ", line).groups() for line in lines[:2]] == [  # type: ignore[union-attr]
        (str(path), at[0]), (str(path), at[1])]
    assert lines[2] == (f"ioc: {path}: 2 errors in the site catalogue; fix each line above and run "
                        "'site check' again") and len(lines) == 3
    path.write_text(EXAMPLE, encoding="utf-8")
    code, out, err = run(capsys, "check", str(path))
    assert code == 0 and err == ""
    assert out.startswith(f"{path}: ok (2 campus, 3 gate, 2 link, 1 terminal, 2 department, 3 service, "
                          "2 college, 3 major, 34 province; version ")


def test_check_of_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "nope.toml"))
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[0].startswith(f"{tmp_path / 'nope.toml'}: line 1: cannot read the site catalogue")
    assert err.splitlines()[-1].startswith("ioc: ")


def test_diff_says_what_a_change_adds_renames_removes_and_changes(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(EXAMPLE, encoding="utf-8")
    gym = ('[[gates]]\nid = "main-gym"\ncampus = "main"\nname_zh = "体育馆门"\nname_en = "Gym Gate"\n'
           'lanes = 2\n\n')
    changed = (EXAMPLE.replace('name_zh = "南门"', 'name_zh = "南大门"')
               .replace("capacity_bps = 10_000_000_000", "capacity_bps = 20_000_000_000")
               .replace("[[links]]", gym + "[[links]]", 1)
               .replace('{ code = "080902", name_zh = "软件工程", name_en = "Software Engineering" }',
                        '{ code = "080903", name_zh = "网络工程", name_en = "Network Engineering" }'))
    new.write_text(changed, encoding="utf-8")
    code, out, err = run(capsys, "diff", str(old), str(new))
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "~ gate main-south renamed: 南门 / South Gate → 南大门 / South Gate",
        "+ gate main-gym added: 体育馆门 / Gym Gate (campus main, lanes 2, weight 1)",
        "~ link cernet changed: capacity 10G → 20G",
        "+ major 080903 added: 网络工程 / Network Engineering (college cs)",
        "- major 080902 removed: 软件工程 / Software Engineering (its stored events stay; the catalogue "
        "history keeps its name)",
        f"# 2 added, 1 renamed, 1 removed, 1 changed ({old} → {new})",
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.replace("lanes = 6", "lanes = 0"), encoding="utf-8")
    code, out, err = run(capsys, "diff", str(old), str(bad))
    line = bad.read_text(encoding="utf-8").splitlines().index("lanes = 0") + 1
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"ioc: {bad}: line {line}: ")


def test_init_builds_a_catalogue_check_accepts_and_the_app_starts_with(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], migrated: Store) -> None:
    out = tmp_path / "site.toml"
    code, stdout, err = run(capsys, *init_args(office_lists(tmp_path), out))
    assert code == 0, err
    assert stdout.splitlines()[0] == f"wrote {out}" and f"{out}: ok (" in stdout
    site = load_site(out)
    # campuses from the gates' 校区 (the merged cell gives 南门 its campus), codes as given or made
    main_campus = next(c for c in site.campuses if c.name_zh == "本部校区")
    assert {g.code: (g.campus, g.lanes) for g in site.gates} == {
        "main-north": (main_campus.code, 10),
        next(g.code for g in site.gates if g.name_zh == "南门"): (main_campus.code, 6),
        next(g.code for g in site.gates if g.name_zh == "东门"): (
            next(c.code for c in site.campuses if c.name_zh == "东校区"), 4)}
    assert next(g for g in site.gates if g.name_zh == "东门").code == (
        next(c.code for c in site.campuses if c.name_zh == "东校区") + "-east-gate")
    assert {lk.code: lk.capacity_bps for lk in site.links} == {
        "cernet": 10**10, "telecom": 10**9, "unicom": 10**10}  # 1000 under 带宽（Mbps）
    departments = {d.code: d.name_zh for d in site.departments}
    assert {s.name_zh: (s.printable, departments[s.department]) for s in site.services} == {
        "入校备案申请": (False, "保卫处"), "在读证明开具": (True, "教务处"), "成绩单打印": (True, "教务处")}
    assert {s.code for s in site.services} >= {"visitor-registration", "enrollment-certificate"}
    assert {m.code: m.college for m in site.majors} == {"080901": "cs", "080902": "cs", "070101": "math"}
    assert [c.name_zh for c in site.colleges] == ["计算机学院", "数学与统计学院"]
    assert len(site.provinces) == 34
    # what was filled in is said, not hidden
    assert "南门" not in err and "have no English name" in err and "had no code" in err
    # the same lists again give the same codes
    again = tmp_path / "again.toml"
    assert run(capsys, *init_args(office_lists(tmp_path), again))[0] == 0
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")

    app = start_app(tmp_path, out, migrated)
    with app.server.test_request_context("/"):
        from ioc_app import read

        assert read.site().gates == site.gates
        shown = read.site_version()
    assert shown["version"] == site.digest and shown["path"] == str(out) and shown["versions"] == 1
    assert shown["loaded_at"] is not None and shown["counts"]["gate"] == 3


def test_init_names_what_is_missing_and_writes_nothing(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    lists = office_lists(tmp_path, gate_rows=[[1, "北门", "main-north", "本部校区", 10, "North Gate"],
                                              [2, "西门", "main-west", None, 4, "West Gate"],
                                              [3, "南门", "main-south", "本部校区", "四", "South Gate"]])
    lists["links"] = book(tmp_path / "links.xlsx", "出口链路", ["链路名称", "链路编号", "带宽"],
                          [["教育网", "cernet", "10G"], ["电信", "telecom", 1000]])
    lists["services"] = book(tmp_path / "services.xlsx", "服务事项", ["服务事项", "事项编码"],
                             [["入校备案", "v"]])
    out = tmp_path / "site.toml"
    code, stdout, err = run(capsys, *init_args(lists, out))
    assert code == 1 and stdout == "" and not out.exists()
    gates, links = lists["gates"], lists["links"]
    assert err.splitlines() == [
        f"{gates}: sheet '名单': row 5: 西门 has no 校区: fill it in",
        f"{gates}: sheet '名单': row 6: gate 南门: 通道数 must be a whole number from 1 to 32, got '四'",
        f"{lists['services']}: sheet '名单': row 3: the header lacks 部门 (accepted: name: 服务事项 / "
        "事项名称 / 服务名称 / 事项; department: 部门 / 所属部门 / 办理部门 / 责任部门)",
        f"{links}: sheet '名单': row 5: link 电信: 带宽 '1000' is not a bandwidth; write e.g. 10G, 1000M or "
        "万兆 (or the unit in the header: 带宽（Mbps）)",
        "ioc: 4 problems in the spreadsheets; nothing was written: fix each row above and run "
        "'site init' again",
    ]


def test_init_reads_csv_as_offices_save_it_and_refuses_a_list_without_header(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lists = office_lists(tmp_path)
    lists["links"] = tmp_path / "links.csv"
    lists["links"].write_bytes("出口链路一览\n\n线路名称,带宽\n教育网,10Gbps\n移动,2.5G\n".encode("gb18030"))
    out = tmp_path / "site.toml"
    assert run(capsys, *init_args(lists, out))[0] == 0
    assert sorted(lk.capacity_bps for lk in load_site(out).links) == [2_500_000_000, 10_000_000_000]
    lists["majors"] = tmp_path / "majors.csv"
    lists["majors"].write_text("计算机,080901\n", encoding="utf-8")
    code, _, err = run(capsys, *init_args(lists, tmp_path / "other.toml"))
    assert code == 1 and err.splitlines()[0] == (
        f"{lists['majors']}: no header row in the first 20 rows; expected columns name: 专业名称 / 专业 / "
        "major / major name; college: 学院 / 所属学院 / 院系 / 学院名称")
    code, _, err = run(capsys, *init_args(office_lists(tmp_path), out))  # out exists
    assert code == 1 and err == f"ioc: {out} exists; give another -o path, or --force to replace it\n"


def start_app(tmp_path: Path, site: Path, store: Store) -> Any:
    """The product's app with ``IOC_SITE`` naming ``site`` (no background jobs), its files under
    ``tmp_path`` (one directory per app: each owns its ingest buffer)."""
    from ioc_app.app import create_app
    from ioc_app.settings import load_settings

    settings = load_settings({"IOC_CLICKHOUSE_URL": f"chdb://{tmp_path / 'store'}", "IOC_DEMO": "0",
                              "IOC_TOKENS_FILE": str(tmp_path / "tokens.toml"),
                              "IOC_ROLES_FILE": str(tmp_path / "roles.toml"), "IOC_SITE": str(site)},
                             dotenv=None)
    return create_app(settings, store=store, background=False)


def test_a_rename_keeps_history_under_the_new_name(tmp_path: Path, migrated: Store) -> None:
    """Events of a gate stored under v1 of the catalogue; v2 renames it and removes another:
    after a restart the past is still counted, the new name shows, the old names and the
    removed gate's stay readable in the history, and /health names the new version."""
    from ingest.gate import GATE_PASS
    from ingest.validate import validate
    from metrics.gate import Window, window_counts

    v1, v2 = tmp_path / "v1.toml", tmp_path / "v2.toml"
    v1.write_text(EXAMPLE, encoding="utf-8")
    v2.write_text(EXAMPLE.replace('name_zh = "北门"', 'name_zh = "北门（学府路）"')
                  .replace('name_en = "North Gate"', 'name_en = "North Gate (Xuefu Road)"')
                  .replace('[[gates]]\nid = "main-south"\ncampus = "main"\nname_zh = "南门"\n'
                           'name_en = "South Gate"\nlanes = 4\n\n', ""), encoding="utf-8")
    start_app(tmp_path / "before", v1, migrated)
    yesterday = NOW - timedelta(days=1)
    base = {"campus": "main", "lane": 1, "person_type": "student", "method": "face", "direction": "in",
            "result": "pass"}
    ms = int(yesterday.timestamp() * 1000)
    events = [{**base, "gate_id": gate, "event_id": f"{gate}-{i}", "ts": ms + i}
              for gate, n in (("main-north", 5), ("main-south", 3)) for i in range(n)]
    checked = validate(GATE_PASS, events, source="test")
    assert not checked.errors
    migrated.insert("gate_pass", checked.frame)

    app = start_app(tmp_path / "after", v2, migrated)  # the restart with the changed file
    day = yesterday.replace(hour=0, minute=0)
    window = Window("day", day, day + timedelta(days=1))
    counts = window_counts(migrated, [window], ["gate_id"], NOW)
    assert dict(zip(counts["gate_id"], counts["attempts"], strict=True)) == {"main-north": 5, "main-south": 3}
    with app.server.test_request_context("/"):
        from ioc_app import read

        assert {g.code: g.name_zh for g in read.site().gates}["main-north"] == "北门（学府路）"
        assert "main-south" not in {g.code for g in read.site().gates}
        shown = read.site_version()
    assert shown["version"] == load_site(v2).digest and shown["versions"] == 2
    in_force = migrated.rows("SELECT name_zh FROM ioc_reference FINAL WHERE code = 'main-north'")
    assert in_force == [("北门（学府路）",)]
    assert [(zh, en) for _, zh, en in names_of(migrated, "gate", "main-north")] == [
        ("北门", "North Gate"), ("北门（学府路）", "North Gate (Xuefu Road)")]
    history = {r["code"]: r for r in names_in_history(migrated, "gate").to_dicts()}
    assert (history["main-south"]["name_zh"], history["main-south"]["removed"]) == ("南门", True)
    assert history["main-north"]["removed"] is False
    # a restart with the same file adds no version (nor, once merged, any row)
    store_reference(migrated, load_site(v2))
    assert migrated.rows("SELECT uniqExact(catalogue), count() FROM ioc_reference_history FINAL")[0] == (
        2, 2 * len(load_site(v1).reference_frame()) - 1)


def test_init_of_a_file_that_is_no_spreadsheet_is_one_line(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    lists = office_lists(tmp_path)
    lists["gates"] = tmp_path / "gates.xlsx"
    lists["gates"].write_bytes(b"\xd0\xcf\x11\xe0 an old .xls saved under a new name")
    code, _, err = run(capsys, *init_args(lists, tmp_path / "site.toml"))
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[0].startswith(f"{lists['gates']}: cannot read it as .xlsx or .csv (")
    code, _, err = run(capsys, *init_args(office_lists(tmp_path), tmp_path / "no" / "such" / "site.toml"))
    assert code == 1 and err.splitlines()[-1].startswith(f"ioc: cannot write {tmp_path / 'no' / 'such'}")


def test_init_with_the_campus_and_department_lists_takes_their_codes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lists = office_lists(tmp_path)
    lists["campuses"] = book(tmp_path / "校区.xlsx", "校区一览", ["校区名称", "校区代码", "英文名称"],
                             [["本部校区", "main", "Main campus"], ["东校区", "east", "East campus"]])
    lists["departments"] = book(tmp_path / "部门.xlsx", "部门一览",
                                ["部门名称", "部门编码", "英文名称", "简称"],
                                [["保卫处", "security", "Security Office", "保卫"],
                                 ["教务处", "academic", "Academic Affairs Office", "教务"]])
    out = tmp_path / "site.toml"
    code, _, err = run(capsys, *init_args(lists, out))
    assert code == 0, err
    site = load_site(out)
    assert [(c.code, c.name_en) for c in site.campuses] == [("main", "Main campus"), ("east", "East campus")]
    assert {g.code: g.campus for g in site.gates}["main-north"] == "main"
    assert next(g for g in site.gates if g.name_zh == "东门").code == "east-east-gate"
    assert {d.code: d.aliases for d in site.departments} == {"security": ("保卫",), "academic": ("教务",)}
    assert {s.code: s.department for s in site.services if s.code.startswith(("visitor", "enrollment"))} == {
        "visitor-registration": "security", "enrollment-certificate": "academic"}
    assert "campuses taken from" not in err and "departments taken from" not in err
    # a 校区 the campus list does not have is named, with the list it is missing from
    lists["campuses"] = book(tmp_path / "校区.xlsx", "校区一览", ["校区名称", "校区代码"],
                             [["本部校区", "main"]])
    code, _, err = run(capsys, *init_args(lists, tmp_path / "other.toml"))
    assert code == 1
    assert err.splitlines()[0] == (f"{lists['gates']}: sheet '名单': row 6: 东门: 校区 '东校区' is not in "
                                   "校区.xlsx; use one of its names or codes")
