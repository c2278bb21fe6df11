"""生源质量分析 through the real app on the real engine: the page, its year callback and its
files (``GET /api/v1/export/enrollment/quality``), for each role.

A season with known truth goes in through the ingest path — control lines (one corrected by
a re-import), Hubei with five admitted, Beijing with four, Shanghai with one candidate whose
score, 651.5, is nobody else's and neither the lowest nor the highest of the year, a
candidate admitted then returned, and the season before. The files' figures equal the
independent computation of ``tests/metrics/test_enrollment_quality.py`` over the events sent:
exact for the admissions role, under the small-cell rule for analysts (651.5 in no analyst's
answer); a viewer or an operator gets 403 on the page, its callback and the files, and each
file and view is on the audit trail.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import orjson
import polars as pl
import pytest

from ingest.enrollment import ENROLLMENT_ADMISSION, ENROLLMENT_CONTROL_LINE
from ingest.pipeline import Pipeline
from ingest.site import load_site
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app import permissions, read
from ioc_app.app import AUDIT_EXTENSION, create_app
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE, Settings
from ioc_app.storage import Store
from layouts.quality_tables import COLUMNS, TABLES
from tests.conftest import route_body, signed_in
from tests.metrics.test_enrollment_quality import expected

ZONE = ZoneInfo("Asia/Shanghai")
SITE = load_site(DEFAULT_SITE)
NOW = datetime.now(UTC)
YEAR = NOW.astimezone(ZONE).year  # the current admission year: what the page and the file show by default
T0 = NOW - timedelta(days=1)
URL = "/api/v1/export/enrollment/quality"
PAGE = "/enrollment/quality"
SECRET = "651.5"
#: (province, [(score, rank, first choice)]) of the season shown, and the season before
SEASON = {"42": [(600.0, 900, True), (610.0, 700, True), (620.0, 500, False), (630.0, 300, None),
                 (640.0, 100, True)],
          "11": [(580.0, 60, True), (590.0, 50, False), (700.0, 5, True), (710.0, 2, True)],
          "31": [(651.5, 40, True)]}
BEFORE = {"42": [(590.0, None, None), (600.0, None, None), (605.0, None, None)],
          "11": [(560.0, None, None), (570.0, None, None), (575.0, None, None)]}
#: (seasons before the one shown, province, control line)
LINES = [(0, "42", 560.0), (0, "11", 540.0), (0, "31", 600.0), (1, "42", 550.0), (1, "11", 530.0)]


def events(shown: int = YEAR, t0: datetime = T0) -> list[dict[str, Any]]:
    """The admissions sent (``shown``: the season the page shows; ``t0``: a day of it)."""
    out = []
    for year, season in ((shown, SEASON), (shown - 1, BEFORE)):
        for province, people in season.items():
            for i, (score, rank, first) in enumerate(people):
                key = f"{year}-{province}-{i}"
                at = t0 - timedelta(days=365 * (shown - year)) + timedelta(minutes=i)
                e = {"event_id": f"{key}-a", "ts": int(at.timestamp() * 1000), "year": year,
                     "candidate_key": key, "province": province, "batch": "regular", "category": "general",
                     "track": "physics", "college": "cs", "major": "070101" if province == "31" else "080901",
                     "status": "admitted", "score": score, "province_rank": rank, "first_choice": first}
                out.append({k: v for k, v in e.items() if v is not None})
    back = t0 + timedelta(hours=2)
    returned = {**out[0], "event_id": "r-a", "candidate_key": "r", "score": 999.0}
    out += [returned,
            {**returned, "event_id": "r-r", "status": "returned", "ts": int(back.timestamp() * 1000)}]
    return out


def lines(shown: int = YEAR) -> list[dict[str, Any]]:
    return [{"year": shown - back, "province": p, "batch": "regular", "category": "general",
             "track": "physics", "control_score": s} for back, p, s in LINES]


@pytest.fixture(scope="module")
def app(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("quality")
    store = Store(f"chdb://{engine_path}", database="t_quality_" + uuid.uuid4().hex[:8])
    migrate(store)
    wal = WriteAheadLog(tmp / "wal")
    pipeline, writer = Pipeline(store, wal), Writer(store, wal)
    wrong = [{**lines()[0], "control_score": 100.0}]  # imported first, corrected by the full file
    for stream, rows, at in ((ENROLLMENT_CONTROL_LINE, wrong, NOW - timedelta(days=3)),
                             (ENROLLMENT_CONTROL_LINE, lines(), NOW - timedelta(days=2)),
                             (ENROLLMENT_ADMISSION, events(), NOW)):
        receipt = pipeline.submit(stream, rows, source="t", now=at)
        assert receipt.errors == [] and receipt.accepted == len(rows)
        writer.flush_once(force=True)
    wal.close()
    settings = Settings(clickhouse_url=f"chdb://{tmp / 'store'}", demo=False,
                        tokens_file=str(tmp / "tokens.toml"), roles_file=str(tmp / "roles.toml"))
    application = create_app(settings, store=store, background=False)  # stores the site catalogue
    yield application
    application.server.extensions[read.EXTENSION].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


def as_role(app: Any, *roles: str, name: str | None = None) -> Any:
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.78.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    signed_in(app, client, roles=roles, name=name or "u" + uuid.uuid4().hex[:8])
    return client


def truth(min_cell: int) -> dict[str, Any]:
    frame = pl.DataFrame(events(), infer_schema_length=None).with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC"))
    return expected(frame, pl.DataFrame(lines()), SITE, YEAR, min_cell)


def text(data: bytes) -> str:
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return html.unescape("".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()))
    return data.decode("utf-8", "replace")


def plain(data: bytes) -> str:
    """A Dash answer as text (Dash escapes '/' and non-ASCII in its JSON)."""
    return orjson.dumps(orjson.loads(data)).decode()


def trail(app: Any, action: str) -> list[dict[str, Any]]:
    rt = app.server.extensions[read.EXTENSION]
    app.server.extensions[AUDIT_EXTENSION].drain()
    rt.writer.flush_once(force=True)
    frame = rt.store.query("SELECT actor, action, object, toString(result) AS result, detail FROM ioc_audit "
                           "WHERE action = {a:String} ORDER BY ts", {"a": action})
    return [{**r, "detail": orjson.loads(r["detail"])} for r in frame.to_dicts()]


def year_callback(app: Any, year: int) -> dict[str, Any]:
    output = next(o for o in app.callback_map if o.lstrip(".").startswith("quality-body"))
    ids = [part.rsplit(".", 1) for part in output.strip(".").split("...")]
    return {"output": output, "outputs": [{"id": i, "property": p} for i, p in ids],
            "inputs": [{"id": "quality-year", "property": "value", "value": year}],
            "state": [{"id": "quality-view", "property": "data", "value": {"lang": "zh", "theme": "light"}}],
            "changedPropIds": ["quality-year.value"]}


def check_rows(got: list[list[str]], table: str, want: list[dict[str, Any]]) -> None:
    """The file's rows are the independent computation's, column by column (a ranking's
    place is its row's order)."""
    assert len(got) == len(want), table
    for place, (row, w) in enumerate(zip(got, want, strict=True), start=1):
        w = {**w, "rank": place} if table.startswith("by_") else w
        for cell, (field, _, kind) in zip(row, COLUMNS[table], strict=True):
            value = w.get(field)
            if kind == "small":
                assert (cell != "") == (bool(w.get("small")) or 0 < w["admitted"] < 3), (table, w)
            elif value is None:
                assert cell == "", (table, field, cell)
            elif kind in ("score", "margin", "ratio"):
                assert float(cell) == pytest.approx(value), (table, field)
            elif kind in ("count", "rank", "year"):
                assert int(cell) == value, (table, field)
            elif kind == "text":
                assert cell == str(value), (table, field)


def csv_table(client: Any, table: str, year: int = YEAR) -> list[list[str]]:
    r = client.get(f"{URL}?table={table}&format=csv&year={year}")
    assert r.status_code == 200, r.data
    return list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))[1:]


@pytest.mark.parametrize(("role", "min_cell"), [("admissions", 1), ("analyst", 3)])
def test_every_table_equals_the_independent_computation(app: Any, role: str, min_cell: int) -> None:
    client = as_role(app, role)
    want = truth(min_cell)
    for table in TABLES[1:]:
        check_rows(csv_table(client, table), table, want[table])
    check_rows(csv_table(client, "season"), "season", [{"year": YEAR, **want["season"]}])
    shanghai = next(r for r in want["provinces"] if r["province"] == "31")
    assert (shanghai["avg_score"] == 651.5) is (role == "admissions")
    # Beijing is hidden with Shanghai from analysts (so that Shanghai cannot be worked out)
    assert len(want["by_change"]) == (2 if role == "admissions" else 1)
    assert want["season"]["admitted"] == 10  # the returned one is not admitted


def test_small_cells_are_hidden_from_analysts_and_exact_for_admissions(app: Any) -> None:
    analyst, office = as_role(app, "analyst"), as_role(app, "admissions")
    for table in TABLES:
        assert SECRET not in text(analyst.get(f"{URL}?table={table}&format=csv").data), table
    assert SECRET not in text(analyst.get(f"{URL}?format=xlsx").data)
    assert SECRET not in text(analyst.post("/_dash-update-component", json=route_body(PAGE)).data)
    assert SECRET not in text(analyst.post("/_dash-update-component", json=year_callback(app, YEAR)).data)
    assert "少于3人" in text(analyst.get(f"{URL}?table=provinces&format=csv").data)
    # the admissions office sees it everywhere on this page: the data holds it, the rule hides it
    assert SECRET in text(office.get(f"{URL}?table=provinces&format=csv").data)
    assert SECRET in text(office.get(f"{URL}?format=xlsx").data)
    assert SECRET in text(office.post("/_dash-update-component", json=route_body(PAGE)).data)


def test_the_workbook_has_a_sheet_per_table(app: Any) -> None:
    r = as_role(app, "admissions").get(f"{URL}?year={YEAR}&lang=en")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert len(book.sheetnames) == len(TABLES) + 1 and book.sheetnames[-1] == "About"
    provinces = book.worksheets[list(TABLES).index("provinces")]
    assert [c.value for c in provinces[1]][:3] == ["Province code", "Province", "Admitted"]
    assert [c.value for c in provinces[2]][:3] == ["11", "Beijing", 4]
    assert f"enrollment-quality-{YEAR}.xlsx" in r.headers["Content-Disposition"]


@pytest.mark.parametrize("role", ["viewer", "operator", "secadmin", "auditor"])
def test_without_the_permission_the_page_its_callback_and_the_files_are_refused(app: Any, role: str) -> None:
    client = as_role(app, role)
    assert client.get(PAGE).status_code == 403
    assert client.post("/_dash-update-component", json=route_body(PAGE)).status_code == 403
    assert client.post("/_dash-update-component", json=year_callback(app, YEAR)).status_code == 403
    for query in ("?format=xlsx", "?table=provinces&format=csv"):
        assert client.get(URL + query).status_code == 403
    assert app.server.test_client().get(f"{URL}?format=xlsx").status_code == 401


def test_the_refusal_is_the_permission_tables(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switching the protection off (the tables' entries given to every page viewer) lets a
    viewer in: the refusals above come from the tables, not from an accident."""
    viewer = as_role(app, "viewer")
    monkeypatch.setitem(permissions.ROUTES, URL, "page")
    monkeypatch.setitem(permissions.PAGES, PAGE, "page")
    assert viewer.get(f"{URL}?table=provinces&format=csv").status_code == 200
    assert viewer.post("/_dash-update-component", json=route_body(PAGE)).status_code == 200


@pytest.mark.parametrize("role", ["admissions", "analyst"])
def test_the_holders_open_the_page_and_choose_a_year(app: Any, role: str) -> None:
    client = as_role(app, role)
    assert client.get(PAGE).status_code == 200
    page = plain(client.post("/_dash-update-component", json=route_body(PAGE)).data)
    assert "生源质量分析" in page and "湖北" in page and f"{URL}?year={YEAR}" in page
    before = client.post("/_dash-update-component", json=year_callback(app, YEAR - 1))
    assert before.status_code == 200 and f"?year={YEAR - 1}" in plain(before.data)


def test_files_and_views_are_audited(app: Any) -> None:
    office = as_role(app, "admissions", name="office-q")
    analyst = as_role(app, "analyst", name="analyst-q")
    exact = office.get(f"{URL}?table=cells&format=csv")
    ruled = analyst.get(f"{URL}?format=xlsx&year={YEAR - 1}")
    office.post("/_dash-update-component", json=route_body(PAGE))
    analyst.post("/_dash-update-component", json=year_callback(app, YEAR - 1))
    rows = [r for r in trail(app, "export.download") if r["object"] == "enrollment_quality"]
    mine = {r["actor"]: r for r in rows if r["actor"] in ("office-q", "analyst-q")}
    assert mine["office-q"]["detail"] | {"bytes": 0} == {
        "year": YEAR, "table": "cells", "filters": {"table": ["cells"]}, "format": "csv", "lang": "zh",
        "rows": len(exact.data.decode("utf-8-sig").splitlines()) - 1, "bytes": 0, "exact": True,
        "sha256": hashlib.sha256(exact.data).hexdigest()}
    assert mine["analyst-q"]["detail"]["exact"] is False and mine["analyst-q"]["detail"]["year"] == YEAR - 1
    assert mine["analyst-q"]["detail"]["sha256"] == hashlib.sha256(ruled.data).hexdigest()
    assert mine["analyst-q"]["detail"]["filters"] == {"table": list(TABLES)}
    views = {r["actor"]: r["detail"] for r in trail(app, "enrollment.quality_view")}
    assert views["office-q"] == {"year": YEAR, "exact": True, "min_cell": 1}
    assert views["analyst-q"] == {"year": YEAR - 1, "exact": False, "min_cell": 3}


@pytest.mark.parametrize(("query", "says"), [
    ("?format=csv", "a CSV file holds one table"), ("?table=people&format=csv", "table='people'"),
    ("?year=25", "year='25'"), ("?format=pdf", "format='pdf'"), ("?province=42", "unknown parameter"),
    ("?table=cells&table=majors", "table is given 2 times"),
])
def test_errors_say_what_to_change(app: Any, query: str, says: str) -> None:
    r = as_role(app, "analyst").get(URL + query)
    assert r.status_code == 400 and says in r.json["message"], r.json
