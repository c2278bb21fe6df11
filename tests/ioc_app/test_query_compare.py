"""Comparing periods and the analyst's Excel file, through the real app on the real engine.

Gate passes are stored in three periods — the question's three hours, the three hours before
and the same three hours a year earlier — with different counts per gate, so each
comparison column is checked against the counts that were stored. The XLSX file is opened
with openpyxl and compared with the JSON answer; its download leaves an audit row, and a
viewer (no analyst role) is refused. Bad input of every kind is a 400 that says what to
change, never a 500.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from openpyxl import load_workbook

from ioc_app.app import AUDIT_EXTENSION
from ioc_app.migrate import migrate
from ioc_app.storage import Store
from metrics.query import comparison_range, parse_spec
from metrics.query.compare import _local_year_earlier, _year_earlier, calendar_align, calendar_period
from tests.conftest import signed_in
from tests.ioc_app.test_query_api import GATES, CountingStore, make_client, store_events

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(UTC)
T0 = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)  # a closed past range
LAST_YEAR = _local_year_earlier(T0, ZONE)
#: passes per gate (``GATES``) in each of the three hours of each period
NOW_COUNTS = {"东门": [5, 6, 7], "=1+2": [1, 1, 1], "north": [9, 0, 4]}
PREVIOUS_COUNTS = {"东门": [2, 2, 2], "=1+2": [0, 3, 0], "north": [1, 1, 1]}
LAST_YEAR_COUNTS = {"东门": [4, 4, 4], "=1+2": [2, 0, 2], "north": [0, 0, 8]}
PAST = {"grain": "hour", "from": T0.isoformat(), "to": (T0 + timedelta(hours=3)).isoformat(),
        "measures": "in", "group_by": "gate_id"}


def period(start: datetime, counts: dict[str, list[int]], tag: str) -> list[dict[str, Any]]:
    out = []
    for gate, per_hour in counts.items():
        for h, n in enumerate(per_hour):
            for i in range(n):
                out.append({"event_id": f"{tag}-{GATES.index(gate)}-{h}-{i}",
                            "ts": int((start + timedelta(hours=h, minutes=i + 1)).timestamp() * 1000),
                            "campus": "main", "gate_id": gate, "lane": 1, "direction": "in",
                            "person_type": "student", "method": "face", "result": "pass"})
    return out


def events() -> list[dict[str, Any]]:
    return (period(T0, NOW_COUNTS, "now") + period(T0 - timedelta(hours=3), PREVIOUS_COUNTS, "prev")
            + period(LAST_YEAR, LAST_YEAR_COUNTS, "ly"))


def on_days(days: set[Any]) -> int:
    """Passes stored on these local dates (an independent count of a day answer)."""
    return sum(datetime.fromtimestamp(e["ts"] / 1000, ZONE).date() in days for e in events())


@pytest.fixture(scope="module")
def client(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app on one seeded database for the module (an app takes seconds to build)."""
    name = "t_" + uuid.uuid4().hex[:12]
    base = Store(f"chdb://{engine_path}", database=name)
    migrate(base)
    store = CountingStore(f"chdb://{engine_path}", database=name)
    store_events(store, events())
    c = make_client(store, tmp_path_factory.mktemp("compare"))
    yield c
    c.runtime.pipeline.buffer.close()
    base.command(f"DROP DATABASE IF EXISTS {name} SYNC")
    store.close()
    base.close()


def ask(client: Any, **extra: str) -> dict[str, Any]:
    r = client.get("/api/v1/query/gate", query_string={**PAST, **extra})
    assert r.status_code == 200, r.data
    return orjson.loads(r.data)


def expected(counts: dict[str, list[int]], base: dict[str, list[int]]) -> dict[tuple[int, str], tuple]:
    return {(h, g): (base[g][h], counts[g][h], base[g][h] - counts[g][h]) for g in GATES for h in range(3)}


def got(body: dict[str, Any]) -> dict[tuple[int, str], tuple]:
    hours = sorted({r["hour"] for r in body["rows"]})
    return {(hours.index(r["hour"]), r["gate_id"]): (r["in"], r["in_cmp"], r["in_diff"])
            for r in body["rows"]}


@pytest.mark.parametrize(("kind", "counts", "start"), [
    ("previous", PREVIOUS_COUNTS, T0 - timedelta(hours=3)), ("last_year", LAST_YEAR_COUNTS, LAST_YEAR)])
def test_compare_adds_the_aligned_period(client: Any, kind: str, counts: dict[str, list[int]],
                                         start: datetime) -> None:
    body = ask(client, compare=kind)
    assert body["compare"] == {"kind": kind, "from": start.astimezone(ZONE).isoformat(),
                               "to": (start + timedelta(hours=3)).astimezone(ZONE).isoformat()}
    assert list(body["rows"][0]) == ["hour", "gate_id", "gate_id_name", "in", "in_cmp", "in_diff"]
    assert got(body) == expected(counts, NOW_COUNTS)
    # a day answer lines up whole local days: the passes stored on the days of each period
    q = {k: v for k, v in PAST.items() if k != "group_by"}
    r = client.get("/api/v1/query/gate", query_string={**q, "grain": "day", "compare": kind})
    days = orjson.loads(r.data)
    plain = orjson.loads(client.get("/api/v1/query/gate", query_string={**q, "grain": "day"}).data)
    shown = {date.fromisoformat(row["day"]) for row in plain["rows"]}
    first = min(shown) - timedelta(days=len(shown))
    width = len(shown)
    compared = {first + timedelta(days=i) for i in range(width)} if kind == "previous" else {
        _year_earlier(d) for d in shown}
    if on_days(compared) == 0:  # the day before held nothing (the three hours before were today)
        assert r.status_code == 400 and "holds no gate data on" in orjson.loads(r.data)["message"]
        return
    assert sum(row["in"] for row in days["rows"]) == on_days(shown)
    assert sum(row["in_cmp"] for row in days["rows"]) == on_days(compared)
    assert all(row["in_diff"] == row["in"] - row["in_cmp"] for row in days["rows"])


def test_compare_is_part_of_the_cache_key_and_the_files_carry_it(client: Any) -> None:
    client.state.cache.clear()  # the module's earlier tests asked these questions
    plain = client.get("/api/v1/query/gate", query_string=PAST)
    compared = client.get("/api/v1/query/gate", query_string={**PAST, "compare": "previous"})
    assert compared.headers["X-IOC-Cache"] == "miss" and "in_cmp" not in orjson.loads(plain.data)["rows"][0]
    again = client.get("/api/v1/query/gate", query_string={**PAST, "compare": "previous"})
    assert again.headers["X-IOC-Cache"] == "hit" and again.data == compared.data
    ly = client.get("/api/v1/query/gate", query_string={**PAST, "compare": "last_year"})
    assert ly.headers["X-IOC-Cache"] == "miss" and ly.data != compared.data
    csv_text = client.get("/api/v1/query/gate", query_string={**PAST, "compare": "previous",
                                                              "format": "csv"}).data.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "hour,gate_id,gate_id_name,in,in_cmp,in_diff"
    body = orjson.loads(compared.data)
    assert len(csv_text.splitlines()) == 1 + len(body["rows"])


def test_xlsx_equals_the_json_answer_and_is_audited(client: Any) -> None:
    body = ask(client, compare="last_year")
    audit = client.application.extensions[AUDIT_EXTENSION]
    r = client.get("/api/v1/query/gate", query_string={**PAST, "compare": "last_year", "format": "xlsx"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert r.headers["X-IOC-Cache"] == "hit"  # the JSON's entry: one question, one cache entry
    book = load_workbook(io.BytesIO(r.data))
    sheet, info = book.worksheets
    assert sheet.title == "查询结果" and info.title == "查询说明"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["时间（小时）", "校门代码", "校门", "入校", "入校（去年同期）", "入校（差值）"]
    columns = ("hour", "gate_id", "gate_id_name", "in", "in_cmp", "in_diff")
    assert rows[1:] == [[r[c] for c in columns] for r in body["rows"]]
    assert sheet.cell(row=2, column=4).number_format == "#,##0"
    about = {row[0]: row[1] for row in info.iter_rows(values_only=True) if row[0]}
    assert about["数据域"] == "门禁通行 (gate)"
    assert about["对比"] == "去年同期 (last_year)" and "时间范围" in about and "数据截至（导出时间）" in about
    assert about["指标定义"] == "入校 (in): 方向为入校且结果为通过的次数"
    assert about["对比期"].startswith(LAST_YEAR.astimezone(ZONE).isoformat())
    # in English: the headers, the sheets and the definitions
    en = load_workbook(io.BytesIO(client.get("/api/v1/query/gate", query_string={
        **PAST, "compare": "last_year", "format": "xlsx", "lang": "en"}).data))
    assert [c.value for c in en.worksheets[0][1]] == [
        "Hour", "Gate code", "Gate", "Entries", "Entries (same period last year)", "Entries (change)"]
    en_about = {row[0]: row[1] for row in en.worksheets[1].iter_rows(values_only=True) if row[0]}
    assert en_about["Definitions"] == "Entries (in): attempts with result=pass and direction=in"
    # the formula-looking gate code is text in the file
    codes = [row[1] for row in rows[1:]]
    assert "=1+2" in codes and sheet.cell(row=1 + codes.index("=1+2") + 1, column=2).data_type == "s"
    # the download is on the audit trail, with the digest of the file sent
    audit.drain()
    client.runtime.writer.flush_once(force=True)
    trail = client.runtime.store.query(
        "SELECT actor, detail FROM ioc_audit WHERE action = 'query.download' ORDER BY ts").to_dicts()
    details = [orjson.loads(row["detail"]) for row in trail]
    assert any(d["format"] == "xlsx" and d["compare"] == "last_year" and d["rows"] == len(body["rows"])
               for d in details), details


def test_a_viewer_may_not_download(client: Any, tmp_path: Path) -> None:
    viewer = client.application.test_client()
    signed_in(client.application, viewer, roles=("viewer",), name="leader")
    r = viewer.get("/api/v1/query/gate", query_string={**PAST, "format": "xlsx"})
    assert r.status_code == 403


LY_END = (LAST_YEAR + timedelta(hours=3)).isoformat()
BAD = [  # (extra parameters, what the message must say)
    ({"measures": "entries"}, ["unknown measure 'entries'", "attempts, in, out"]),
    ({"group_by": "lane"}, ["cannot group by 'lane'"]),
    ({"gate_id": "x" * 80}, ["1–64 printable characters"]),
    ({"result": "maybe"}, ["use one of: pass, deny"]),
    ({"grain": "hour", "from": "2020-01-01"}, ["too long for grain=hour", "at most 92 days"]),
    ({"compare": "yesterday"}, ["compare='yesterday'", "previous, last_year"]),
    ({"compare": "last_year", "grain": "minute", "from": T0.isoformat(),
      "to": (T0 + timedelta(minutes=30)).isoformat()}, ["kept 63 days", "grain=hour"]),
    # the comparison period lies before the first stored pass (a year ago): across a gap
    ({"compare": "last_year", "from": LAST_YEAR.isoformat(), "to": LY_END},
     ["holds gate.pass data from", "choose a later range", "compare=previous"]),
    ({"compare": "previous", "from": LAST_YEAR.isoformat(), "to": LY_END},
     ["holds gate.pass data from", "leave compare out"]),
    # … or covers whole days on which nothing at all was stored (ten days before the last ten)
    ({"compare": "previous", "grain": "day", "from": (T0 - timedelta(days=10)).isoformat()},
     ["holds no gate data on", "days)", "compare=last_year"]),
    ({"format": "xlsx", "lang": "fr"}, ["lang='fr'", "zh, en"]),
]


def test_bad_input_is_a_400_that_says_what_to_change(client: Any) -> None:
    for extra, needles in BAD:
        r = client.get("/api/v1/query/gate", query_string={**PAST, **extra})
        assert r.status_code == 400 and r.mimetype == "application/json", (extra, r.data)
        message = orjson.loads(r.data)["message"]
        for needle in needles:
            assert needle in message, (extra, message)


def test_calendar_rules() -> None:
    """Days, leap days and the period before, by the civil calendar in the site's zone."""
    now = datetime(2028, 3, 10, 12, tzinfo=UTC)
    week = parse_spec("gate", {"grain": ["day"], "from": ["2028-02-27"], "to": ["2028-03-02"],
                               "compare": ["last_year"]}, ZONE, now)
    first, last = comparison_range(week, ZONE)
    assert (first.astimezone(ZONE).date().isoformat(), last.astimezone(ZONE).date().isoformat()) == (
        "2027-02-27", "2027-03-02")
    leap = datetime(2028, 2, 29).date()
    assert calendar_align("last_year", leap, week.start, first, "day", ZONE).isoformat() == "2027-02-28"
    prev = calendar_period("previous", week.start, week.end, "day", ZONE)
    assert prev[0].astimezone(ZONE).date().isoformat() == "2028-02-23" and prev[1] == week.start
    hour = datetime(2028, 2, 29, 9, tzinfo=ZONE)
    assert calendar_align("last_year", hour, week.start, first, "hour", ZONE) == datetime(2027, 2, 28, 9,
                                                                                          tzinfo=ZONE)


def test_an_excel_file_too_long_is_refused_saying_to_use_csv(client: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A styled cell costs CPU of the web process: beyond the limit the CSV is the way."""
    from ioc_app import query_file

    monkeypatch.setattr(query_file, "XLSX_MAX_ROWS", 5)
    r = client.get("/api/v1/query/gate", query_string={**PAST, "format": "xlsx"})  # 9 rows
    assert r.status_code == 400 and orjson.loads(r.data)["error"] == "too_many_rows"
    message = orjson.loads(r.data)["message"]
    assert "holds at most 5" in message and "format=csv" in message
    assert client.get("/api/v1/query/gate", query_string={**PAST, "format": "csv"}).status_code == 200
