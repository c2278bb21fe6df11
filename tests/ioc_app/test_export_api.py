"""``GET /api/v1/export/enrollment[/exact]`` through the real app on the real engine.

The definitions are checked on the admissions office's exact file (``/exact``: the same code
and parameters, every score shown); the small-cell rule of the plain one is checked in
``test_small_cells.py``.

A season with known truth goes in through the ingest path — two provinces, two batches,
three categories, plan rows of two tracks and a corrected re-import, candidates admitted,
admitted then returned or withdrawn, returned then admitted, sent out of order, one whose
event names another college than the catalogue, a major the catalogue does not list with a
college code that looks like a formula, and a candidate of the year before — then every row
of the CSV and XLSX files is compared with a computation of the same definitions
(metrics.md: the latest status per candidate, the latest import per plan row) done here in
plain Python over the events sent.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import openpyxl
import orjson
import polars as pl
import pytest

from ingest.enrollment import BATCHES, CATEGORIES, ENROLLMENT_ADMISSION, ENROLLMENT_PLAN, PROVINCES
from ingest.pipeline import Pipeline
from ingest.site import load_site
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app import read
from ioc_app.app import create_app
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE, Settings
from ioc_app.storage import Store, StoreError
from tests.conftest import signed_in

ZONE = ZoneInfo("Asia/Shanghai")
SITE = load_site(DEFAULT_SITE)
NOW = datetime.now(UTC)
YEAR = NOW.astimezone(ZONE).year  # the current admission year: what the export shows by default
T0 = NOW - timedelta(days=2)
URL = "/api/v1/export/enrollment/exact"
RANK = {"filed": 0, "admitted": 1, "returned": 2, "withdrawn": 3}  # the tie order at an equal ts

HEADERS_ZH = ["省份代码", "省份", "批次", "招生类别", "学院代码", "学院", "专业代码", "专业", "计划数",
              "录取数", "计划完成率", "最低分", "平均分", "最高分"]
HEADERS_EN = ["Province code", "Province", "Batch", "Category", "College code", "College", "Major code",
              "Major", "Plan", "Admitted", "Plan completion", "Lowest score", "Average score",
              "Highest score"]
BATCH_WORDS = {"zh": {"regular": "本科批", "early": "提前批"},
               "en": {"regular": "Undergraduate", "early": "Early"}}
CATEGORY_WORDS = {"zh": {"general": "普通类", "art": "艺术类", "national_special": "国家专项"},
                  "en": {"general": "General", "art": "Arts", "national_special": "National special"}}
EVIL = "=1+2"  # a college code a campus system sent: a spreadsheet must never run it


# --- the season sent ----------------------------------------------------------------------------

PLAN_KEY = ("year", "province", "batch", "category", "track", "major")
#: (province, batch, category, track, major, planned), imported first …
PLAN_FIRST = [
    ("42", "regular", "general", "physics", "080901", 10),
    ("42", "regular", "general", "history", "080901", 2),  # another track: the same row of the file
    ("42", "regular", "national_special", "physics", "080901", 3),
    ("42", "early", "art", "history", "130401", 4),
    ("11", "regular", "general", "physics", "080901", 5),  # corrected below
    ("11", "regular", "general", "physics", "070101", 4),  # nobody admitted
    ("42", "regular", "general", "physics", "999999", 2),  # a major the catalogue does not list
]
#: … then the office's correction (the latest import of a key wins)
PLAN_CORRECTION = [("11", "regular", "general", "physics", "080901", 6)]
PLAN_LAST_YEAR = [("42", "regular", "general", "physics", "080901", 9)]


def adm(key: str, status: str, hours: float, score: float = 600.0, year: int = YEAR, **fields: Any
        ) -> dict[str, Any]:
    base = {"year": year, "province": "42", "batch": "regular", "category": "general", "track": "physics",
            "college": "cs", "major": "080901", "score": score}
    ts = int((T0 + timedelta(hours=hours)).timestamp() * 1000)
    return {**base, **fields, "event_id": f"{year}-{key}-{status}-{hours}", "ts": ts, "candidate_key": key,
            "status": status}


ADMISSIONS = [
    adm("a1", "filed", 0), adm("a1", "admitted", 1, 600.0),
    adm("a2", "admitted", 1, 610.5),
    adm("a3", "admitted", 1, 620.0, track="history"),
    adm("a4", "admitted", 1, 630.0, college="not-cs"),  # the catalogue says cs
    adm("r1", "admitted", 1, 700.0), adm("r1", "returned", 2, 700.0),  # admitted, then returned
    adm("w1", "admitted", 1, 690.0), adm("w1", "withdrawn", 3, 690.0),  # admitted, then withdrew
    adm("f1", "filed", 1, 300.0),  # filed only
    adm("n1", "admitted", 1, 590.0, category="national_special"),
    adm("b1", "admitted", 1, 650.0, province="11"),
    adm("b2", "returned", 1, 641.0, province="11"), adm("b2", "admitted", 4, 640.0, province="11"),
    adm("b3", "admitted", 5, 645.0, province="11"), adm("b3", "filed", 1, 1.0, province="11"),  # out of order
    adm("e1", "admitted", 1, 580.5, batch="early", category="art", track="history", college="art",
        major="130401"),
    adm("x1", "admitted", 1, 555.0, college=EVIL, major="777777"),  # unknown major, formula-like college
    adm("old", "admitted", 1, 500.0, year=YEAR - 1),
]


def plan_rows(rows: list[tuple[Any, ...]], year: int = YEAR) -> list[dict[str, Any]]:
    return [dict(zip(PLAN_KEY, (year, *r[:5]), strict=True)) | {"planned": r[5]} for r in rows]


@pytest.fixture(scope="module")
def client(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The seeded store behind a real app (read only by the tests, so built once)."""
    tmp = tmp_path_factory.mktemp("export")
    store = DownStore(f"chdb://{engine_path}", database="t_export_" + uuid.uuid4().hex[:8])
    migrate(store)
    wal = WriteAheadLog(tmp / "wal")
    pipeline, writer = Pipeline(store, wal), Writer(store, wal)
    first_plan = plan_rows(PLAN_FIRST) + plan_rows(PLAN_LAST_YEAR, YEAR - 1)
    for stream, events, at in (
        (ENROLLMENT_PLAN, first_plan, NOW - timedelta(days=3)),
        (ENROLLMENT_PLAN, plan_rows(PLAN_CORRECTION), NOW - timedelta(days=2)),
        (ENROLLMENT_ADMISSION, ADMISSIONS, NOW),
    ):
        receipt = pipeline.submit(stream, events, source="t", now=at)
        assert receipt.errors == [] and receipt.accepted == len(events)
        writer.flush_once(force=True)
    wal.close()
    settings = Settings(clickhouse_url=f"chdb://{tmp / 'store'}", demo=False,
                        tokens_file=str(tmp / "tokens.toml"), roles_file=str(tmp / "roles.toml"))
    app = create_app(settings, store=store, background=False)  # loads the site catalogue into the store
    c = app.server.test_client()
    signed_in(app, c)
    c.store = store
    yield c
    app.server.extensions[read.EXTENSION].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


class DownStore(Store):
    """The real store, able to play an unreachable one."""

    down = False

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pl.DataFrame:
        if self.down:
            raise StoreError("connection refused (in a test)")
        return super().query(sql, parameters)


# --- the independent computation ----------------------------------------------------------------


def expected(year: int = YEAR, lang: str = "zh", **filters: list[str]) -> list[list[Any]]:
    """The file's rows, counted from the events and plan rows sent."""
    latest: dict[str, dict[str, Any]] = {}
    for e in ADMISSIONS:
        if e["year"] == year:
            held = latest.get(e["candidate_key"])
            if held is None or (e["ts"], RANK[e["status"]]) > (held["ts"], RANK[held["status"]]):
                latest[e["candidate_key"]] = e
    admitted = [e for e in latest.values() if e["status"] == "admitted"]
    plans: dict[tuple[Any, ...], int] = {}
    for rows, y in ((PLAN_FIRST, YEAR), (PLAN_LAST_YEAR, YEAR - 1), (PLAN_CORRECTION, YEAR)):
        for r in rows:
            if y == year:
                plans[r[:5]] = r[5]  # in import order: the latest wins
    catalogue = {m.code: m for m in SITE.majors}
    seen_college: dict[str, str] = {}
    for e in admitted:
        seen_college[e["major"]] = max(seen_college.get(e["major"], ""), e["college"])
    cells: dict[tuple[str, str, str, str], dict[str, Any]] = defaultdict(lambda: {"plan": 0, "scores": []})
    for (province, batch, category, _track, major), planned in plans.items():
        cells[(province, batch, category, major)]["plan"] += planned
    for e in admitted:
        cells[(e["province"], e["batch"], e["category"], e["major"])]["scores"].append(e["score"])

    def college_of(major: str) -> str | None:
        return catalogue[major].college if major in catalogue else seen_college.get(major)

    def name(kind: str, code: str | None) -> str | None:
        table = {"province": SITE.provinces, "college": SITE.colleges, "major": SITE.majors}[kind]
        hit = next((n for n in table if n.code == code), None)
        return code if hit is None else hit.name_zh if lang == "zh" else hit.name_en

    out = []
    for (province, batch, category, major), cell in cells.items():
        college = college_of(major)
        values = {"province": province, "batch": batch, "category": category, "college": college,
                  "major": major}
        if any(values[k] not in v for k, v in filters.items()):
            continue
        scores, plan = cell["scores"], cell["plan"]
        out.append([province, name("province", province), BATCH_WORDS[lang][batch],
                    CATEGORY_WORDS[lang][category], college,
                    name("college", college) if college else None, major, name("major", major),
                    plan, len(scores), len(scores) / plan if plan else None,
                    min(scores) if scores else None, sum(scores) / len(scores) if scores else None,
                    max(scores) if scores else None])
    return sorted(out, key=lambda r: (PROVINCES.index(r[0]), BATCHES.index(_code(r[2])),
                                      CATEGORIES.index(_code(r[3])), r[4] is None, r[4] or "", r[6]))


def _code(word: str) -> str:
    for table in (*BATCH_WORDS.values(), *CATEGORY_WORDS.values()):
        for code, w in table.items():
            if w == word:
                return code
    raise KeyError(word)


def totals(rows: list[list[Any]]) -> list[Any]:
    plan, admitted = sum(r[8] for r in rows), sum(r[9] for r in rows)
    score_sum = sum(r[12] * r[9] for r in rows if r[9])
    return [plan, admitted, admitted / plan if plan else None,
            min((r[11] for r in rows if r[9]), default=None), score_sum / admitted if admitted else None,
            max((r[13] for r in rows if r[9]), default=None)]


def close(got: list[Any], want: list[Any]) -> None:
    """Text exactly, counts exactly, ratios and scores to rounding."""
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        if isinstance(w, float):
            assert g == pytest.approx(w, abs=5e-3), (got, want)
        else:
            assert g == w, (got, want)


def xlsx(response: Any) -> openpyxl.Workbook:
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return openpyxl.load_workbook(io.BytesIO(response.data))


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def parsed(cell: str, want: Any) -> Any:
    """A CSV cell read back as the type of the expected value ('' = empty)."""
    if cell == "":
        return None
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return cell
    return int(cell) if isinstance(want, int) else float(cell)


# --- the files ----------------------------------------------------------------------------------


def test_the_truth_has_what_the_file_must_tell_apart() -> None:
    rows = expected()
    assert len(rows) == 7 and sum(r[9] for r in rows) == 10  # a1-a4, n1, b1-b3, e1, x1
    hubei = next(r for r in rows if r[0] == "42" and r[3] == "普通类" and r[6] == "080901")
    assert (hubei[8], hubei[9], hubei[13]) == (12, 4, 630.0)  # tracks folded; 700 (returned) is no score
    assert next(r for r in rows if r[0] == "11" and r[6] == "080901")[8:10] == [6, 3]


def test_xlsx_default_is_this_year_in_chinese(client: Any) -> None:
    wb = xlsx(client.get(URL))
    assert wb.sheetnames == ["招生录取明细", "说明"]
    ws = wb["招生录取明细"]
    got = [list(r) for r in ws.iter_rows(values_only=True)]
    want = expected()
    assert got[0] == HEADERS_ZH
    for row, exp in zip(got[1:-1], want, strict=True):
        close(row, exp)
    assert got[-1][0] == "合计" and got[-1][1:8] == [None] * 7
    close(got[-1][8:], totals(want))
    # a proper sheet: bold frozen header with a filter, widths that fit, typed numbers
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:N{len(want) + 1}"
    assert all(c.font.b for c in ws[1]) and all(c.font.b for c in ws[len(want) + 2])
    assert ws.column_dimensions["H"].width >= 2 * len("计算机科学与技术")
    first = ws[2]
    assert [first[i].data_type for i in (0, 8, 10, 11)] == ["s", "n", "n", "n"]
    assert [first[i].number_format for i in (8, 10, 12)] == ["#,##0", "0.0%", "0.0"]
    # what the file holds, stated beside it
    about = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True) if r[0]}
    assert about["招生年度"] == YEAR and about["省份"] == about["专业"] == "全部"
    assert about["明细行数"] == len(want) and about["数据来源"] == "智慧校园运营中心"
    stamp, zone = about["生成时间"].split(" (")
    made = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZONE)
    assert abs(made - datetime.now(UTC)) < timedelta(minutes=5) and zone == "Asia/Shanghai, UTC+08:00)"
    assert "退档" in about["统计口径"]


def test_csv_has_the_same_rows(client: Any) -> None:
    rows = csv_rows(client.get(URL, query_string={"format": "csv", "year": str(YEAR)}))
    assert rows[0] == HEADERS_ZH
    want = expected()
    assert len(rows) == 1 + len(want)  # data rows only: no totals for a program to trip on
    for row, exp in zip(rows[1:], want, strict=True):
        exp = [f"'{v}" if v == EVIL else v for v in exp]  # guarded text cells
        close([parsed(c, e) for c, e in zip(row, exp, strict=True)], exp)


def test_english(client: Any) -> None:
    r = client.get(URL, query_string={"lang": "en", "province": "42"})
    wb = xlsx(r)
    assert wb.sheetnames == ["Admissions", "About"]
    got = [list(row) for row in wb["Admissions"].iter_rows(values_only=True)]
    assert got[0] == HEADERS_EN
    want = expected(lang="en", province=["42"])
    for row, exp in zip(got[1:-1], want, strict=True):
        close(row, exp)
    assert got[-1][0] == "Total" and ("Hubei", "School of Computer Science") in {(x[1], x[5]) for x in got}
    about = {row[0]: row[1] for row in wb["About"].iter_rows(values_only=True) if row[0]}
    assert about["Province"] == "Hubei (42)" and about["Batch"] == "All"
    assert r.headers["Content-Disposition"] == (
        f"attachment; filename=\"enrollment-{YEAR}-province-42.xlsx\"; "
        f"filename*=UTF-8''admissions-{YEAR}-Hubei.xlsx")
    rows = csv_rows(client.get(URL, query_string={"lang": "en", "format": "csv"}))
    assert rows[0] == HEADERS_EN and rows[1][1] == "Beijing"


FILTERS = [
    {"province": ["42"]},
    {"province": ["11", "42"], "batch": ["regular"]},
    {"batch": ["early"]},
    {"category": ["national_special", "art"]},
    {"college": ["cs"]},  # the plan rows of its majors too
    {"college": ["math"], "province": ["11"]},  # planned, nobody admitted
    {"major": ["080901", "777777"]},
    {"college": [EVIL]},  # a college only the candidates' events name
    {"province": ["11"], "batch": ["early"]},  # nothing: a file with the header and a zero total
]


@pytest.mark.parametrize("filters", FILTERS,
                         ids=lambda f: "&".join(f"{k}={'+'.join(v)}" for k, v in f.items()))
def test_filters(client: Any, filters: dict[str, list[str]]) -> None:
    want = expected(**filters)
    got = [list(r) for r in xlsx(client.get(URL, query_string=filters)).active.iter_rows(values_only=True)]
    assert len(got) == len(want) + 2
    for row, exp in zip(got[1:-1], want, strict=True):
        close(row, exp)
    close(got[-1][8:], totals(want))
    rows = csv_rows(client.get(URL, query_string={**filters, "format": "csv"}))
    assert [r[6] for r in rows[1:]] == [r[6] for r in want]


def test_another_year(client: Any) -> None:
    got = [list(r) for r in xlsx(client.get(URL, query_string={"year": str(YEAR - 1)})).active.iter_rows(
        values_only=True)]
    assert got[1:-1] == [["42", "湖北", "本科批", "普通类", "cs", "计算机学院", "080901", "计算机科学与技术",
                          9, 1, 1 / 9, 500, 500, 500]]
    empty = [list(r) for r in xlsx(client.get(URL, query_string={"year": "2031"})).active.iter_rows(
        values_only=True)]
    assert empty[0] == HEADERS_ZH and empty[1][0] == "合计" and empty[1][8:] == [0, 0, None, None, None, None]


def test_text_never_runs_as_a_formula(client: Any) -> None:
    ws = xlsx(client.get(URL, query_string={"college": EVIL})).active
    cell = ws["E2"]
    assert cell.value == EVIL and cell.data_type == "s" and cell.quotePrefix  # a string, kept as sent
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    rows = csv_rows(client.get(URL, query_string={"college": EVIL, "format": "csv"}))
    assert rows[1][4] == rows[1][5] == f"'{EVIL}"


def test_filename_says_what_is_in_the_file(client: Any) -> None:
    r = client.get(URL, query_string={"province": ["42", "11"], "batch": "regular", "format": "csv"})
    value = r.headers["Content-Disposition"]
    ascii_part, star = value.split("; filename*=UTF-8''")
    assert ascii_part == f'attachment; filename="enrollment-{YEAR}-province-11+42-batch-regular.csv"'
    assert unquote(star) == f"招生录取明细-{YEAR}-北京+湖北-本科批.csv"
    assert client.get(URL).headers["Content-Disposition"] == (
        f"attachment; filename=\"enrollment-{YEAR}.xlsx\"; filename*=UTF-8''"
        f"%E6%8B%9B%E7%94%9F%E5%BD%95%E5%8F%96%E6%98%8E%E7%BB%86-{YEAR}.xlsx")


ERRORS = [  # (query, what the message must say)
    ("provnce=42", ["unknown parameter 'provnce'",
                    "allowed: year, province, batch, category, college, major, format, lang"]),
    ("year=26", ["year='26' is not a year", "four digits", f"year={YEAR}"]),
    ("year=1999", ["outside", "2000–2100"]),
    ("year=2025&year=2026", ["year is given 2 times"]),
    ("format=pdf", ["format='pdf'", "xlsx, csv"]),
    ("lang=fr", ["lang='fr'", "zh, en"]),
    ("province=99", ["province='99' is not a province code", "11, 12"]),
    ("batch=first", ["batch='first'", "early, regular, second, special, junior_college"]),
    ("category=arts", ["category='arts'", "general, art, sport"]),
    ("college=nope", ["college='nope' is neither in the site catalogue nor in the plan or admissions of",
                      "art, bio"]),
    ("major=0809", ["major='0809'", "080901"]),
    (f"college=cs'%20OR%201=1%20--&year={YEAR}", ["college=\"cs' OR 1=1 --\" is neither"]),
]


def test_errors_say_what_to_change(client: Any) -> None:
    for query, needles in ERRORS:
        r = client.get(f"{URL}?{query}")
        assert r.status_code == 400 and r.mimetype == "application/json", query
        body = orjson.loads(r.data)
        assert body["error"] == "bad_parameter", query
        for needle in needles:
            assert needle in body["message"], (query, body["message"])
    assert client.store.rows("SELECT count() FROM enrollment_admission")[0][0] == len(ADMISSIONS)


def test_unreachable_store_is_503(client: Any) -> None:
    client.store.down = True
    try:
        r = client.get(URL)
    finally:
        client.store.down = False
    assert r.status_code == 503 and r.headers["Retry-After"] == "10"
    body = orjson.loads(r.data)  # a code and a correlation id, never the store's message
    assert body["error"] == "store_unavailable" and set(body) == {"error", "id"}
