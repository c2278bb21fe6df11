"""The notice tracker through the real app on the real engine: who may see the exception
lists and their tracking numbers, the export and its audit rows, the settings.

One season (2025, explicit times long past, so the lists do not depend on today's date) goes
in through the ingest path: in Hubei a notice delivered, one returned, one mailed and never
delivered, a candidate never printed; in Beijing one candidate admitted then returned (退档)
after their notice was printed. The courier tracking numbers are personal data: they must be
in the admissions role's page and file only — never in the snapshot, a cockpit, or any answer
to a viewer, an analyst, an operator or a wall screen, each of whom gets 403 on the page,
its routing callback and the export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest

from ingest.enrollment import ENROLLMENT_ADMISSION, ENROLLMENT_NOTICE
from ingest.pipeline import Pipeline
from ingest.site import load_site, store_reference
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app import read
from ioc_app.app import create_app
from ioc_app.migrate import migrate
from ioc_app.permissions import PAGES, ROUTES
from ioc_app.settings import DEFAULT_SITE, Settings, SettingsError, load_settings
from ioc_app.storage import Store
from tests.conftest import route_body
from tests.ioc_app.test_small_cells import as_role, as_screen, fresh_client, trail

YEAR = 2025
T0 = datetime(2025, 7, 20, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PAGE = "/enrollment/notices"
EXPORT = "/api/v1/export/enrollment/notices"
#: every tracking number the season's notices carry
TRACKING = ("EB100000001CN", "EB100000002CN", "EB100000003CN", "EB100000004CN")


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def admissions() -> list[dict[str, Any]]:
    out = []
    for key, province, status, at in (
            ("h-delivered", "42", "admitted", T0), ("h-returned", "42", "admitted", T0),
            ("h-lost", "42", "admitted", T0), ("h-unprinted", "42", "admitted", T0),
            ("b-dropped", "11", "admitted", T0), ("b-dropped", "11", "returned", T0 + 4 * DAY)):
        out.append({"event_id": f"a-{key}-{status}", "ts": ms(at), "year": YEAR, "candidate_key": key,
                    "province": province, "batch": "regular", "category": "general", "track": "physics",
                    "college": "cs", "major": "080901", "status": status, "score": 600.0})
    return out


def notices() -> list[dict[str, Any]]:
    steps = (("h-delivered", "printed", 1, None), ("h-delivered", "mailed", 2, TRACKING[0]),
             ("h-delivered", "delivered", 4, None),
             ("h-returned", "printed", 1, None), ("h-returned", "mailed", 2, TRACKING[1]),
             ("h-returned", "returned", 6, None),
             ("h-lost", "printed", 1, None), ("h-lost", "mailed", 2, TRACKING[2]),
             ("b-dropped", "printed", 1, None), ("b-dropped", "mailed", 2, TRACKING[3]))
    out = []
    for i, (key, status, day, tracking) in enumerate(steps):
        event = {"event_id": f"n-{i}", "ts": ms(T0 + day * DAY), "year": YEAR, "candidate_key": key,
                 "status": status}
        if tracking:
            event |= {"tracking_no": tracking, "carrier": "EMS"}
        out.append(event)
    return out


def make_app(store: Store, tmp: Path) -> Any:
    conf = Settings(clickhouse_url=f"chdb://{tmp / 'store'}", demo=False,
                    tokens_file=str(tmp / "tokens.toml"), roles_file=str(tmp / "roles.toml"))
    return create_app(conf, store=store, background=False)


@pytest.fixture(scope="module")
def app(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("notices")
    store = Store(f"chdb://{engine_path}", database="t_notices_" + uuid.uuid4().hex[:8])
    migrate(store)
    store_reference(store, load_site(DEFAULT_SITE))
    wal = WriteAheadLog(tmp / "wal")
    pipeline, writer = Pipeline(store, wal), Writer(store, wal)
    now = datetime.now(UTC)
    for stream, events in ((ENROLLMENT_ADMISSION, admissions()), (ENROLLMENT_NOTICE, notices())):
        receipt = pipeline.submit(stream, events, source="t", now=now)
        assert receipt.errors == [] and receipt.accepted == len(events)
        writer.flush_once(force=True)
    wal.close()
    application = make_app(store, tmp)
    application.server.extensions[read.EXTENSION].core.tick()
    yield application
    application.server.extensions[read.EXTENSION].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


def plain(data: bytes) -> str:
    return orjson.dumps(orjson.loads(data)).decode()


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)


# --- who may ------------------------------------------------------------------------------------


def test_the_page_and_its_file_are_the_admissions_roles_alone(app: Any) -> None:
    assert PAGES[PAGE] == "admissions_tools" and ROUTES[EXPORT] == "admissions_tools"
    for client in (as_role(app, "viewer"), as_role(app, "analyst"), as_role(app, "operator"),
                   as_screen(app, ("/enrollment", PAGE))):
        assert client.get(PAGE).status_code == 403
        routed = client.post("/_dash-update-component", json=route_body(PAGE, f"?year={YEAR}"))
        assert routed.status_code == 403
        for fmt in ("csv", "xlsx"):
            assert client.get(f"{EXPORT}?year={YEAR}&format={fmt}").status_code == 403
    assert fresh_client(app).get(f"{EXPORT}?year={YEAR}").status_code == 401
    office = as_role(app, "admissions")
    assert office.get(PAGE).status_code == 200


def test_tracking_numbers_are_nowhere_else(app: Any) -> None:
    """The snapshot (any year), the cockpits and every page a non-admissions role may render."""
    for who in ("viewer", "analyst", "operator", "admissions", "screen"):
        client = (as_screen(app, ("/enrollment", "/")) if who == "screen" else as_role(app, who))
        bodies = [client.get(p).data for p in ("/api/v1/snapshot", f"/api/v1/snapshot?year={YEAR}")]
        bodies += [client.post("/_dash-update-component", json=route_body(p, f"?year={YEAR}")).data
                   for p in ("/enrollment", "/", "/explore", "/health")]
        if who != "admissions":
            bodies += [client.post("/_dash-update-component", json=route_body(PAGE, f"?year={YEAR}")).data,
                       client.get(f"{EXPORT}?year={YEAR}&format=csv").data]
        for body in bodies:
            text = body.decode("utf-8", "replace")
            assert not any(t in text for t in TRACKING), who
            assert "h-lost" not in text and "h-returned" not in text, who
    snapshot = orjson.loads(as_role(app, "viewer").get(f"/api/v1/snapshot?year={YEAR}").data)
    part = snapshot["enrollment"]["notices"]  # counts only
    assert part["funnel"] == {"admitted": 4, "printed": 3, "mailed": 3, "delivered": 1, "returned": 1}
    assert part["exceptions"] == {"returned": 1, "undelivered": 1, "unprinted": 1}


# --- the admissions office ----------------------------------------------------------------------


def test_the_office_sees_the_lists_each_opening_audited(app: Any) -> None:
    office = as_role(app, "admissions")
    before = len(trail(app, "enrollment.notices_view"))
    body = plain(office.post("/_dash-update-component", json=route_body(PAGE, f"?year={YEAR}")).data)
    assert all(t in body for t in TRACKING[1:3])  # the returned and the lost one
    assert TRACKING[0] not in body and TRACKING[3] not in body  # delivered; admitted then returned
    assert "h-unprinted" in body and "b-dropped" not in body
    assert "逾期未妥投 · 1 人" in body and "被退回 · 1 人" in body and "逾期未打印 · 1 人" in body
    assert f"{EXPORT}?year={YEAR}&kind=undelivered&lang=zh&format=xlsx" in body
    english = plain(office.post("/_dash-update-component",
                                json=route_body(PAGE, f"?year={YEAR}&lang=en")).data)
    assert "Overdue for delivery · 1" in english and "Tracking number" in english
    rows = trail(app, "enrollment.notices_view")[before:]
    assert len(rows) == 2 and rows[0]["object"] == f"enrollment/{YEAR}"
    assert rows[0]["detail"]["rows"] == {"returned": 1, "undelivered": 1, "unprinted": 1}
    assert not any(t in orjson.dumps(rows).decode() for t in TRACKING)
    # the cockpit links the office (and only the office) to the page
    cockpit = plain(office.post("/_dash-update-component", json=route_body("/enrollment")).data)
    assert '"href":"/enrollment/notices?lang=zh"' in cockpit
    viewer = plain(as_role(app, "viewer").post("/_dash-update-component",
                                                json=route_body("/enrollment")).data)
    assert "/enrollment/notices" not in viewer


def test_the_export_is_audited_with_its_digest(app: Any) -> None:
    office = as_role(app, "admissions")
    before = len(trail(app, "export.download"))
    got = office.get(f"{EXPORT}?year={YEAR}&kind=undelivered&format=csv")
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["异常类别", "考生（化名）"] and rows[0][-1] == "快递单号"
    assert [(r[0], r[1], r[3], r[-2], r[-1]) for r in rows[1:]] == [
        ("逾期未妥投", "h-lost", "湖北", "EMS", TRACKING[2])]
    sheet = office.get(f"{EXPORT}?year={YEAR}&format=xlsx&lang=en")
    assert sheet.status_code == 200 and "attachment" in sheet.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(sheet.data))
    assert book.sheetnames == ["Returned", "Overdue for delivery", "Not printed in time", "About"]
    assert [c.value for c in book["Returned"][2]][1] == "h-returned"
    assert TRACKING[1] in xlsx_text(sheet.data) and TRACKING[0] not in xlsx_text(sheet.data)
    audited = trail(app, "export.download")[before:]
    assert [(r["object"], r["detail"]["filters"], r["detail"]["format"], r["detail"]["rows"])
            for r in audited] == [("enrollment_notices", {"kind": ["undelivered"]}, "csv", 1),
                                  ("enrollment_notices", {"kind": ["returned", "undelivered", "unprinted"]},
                                   "xlsx", 3)]
    assert audited[0]["detail"]["sha256"] == hashlib.sha256(got.data).hexdigest()
    assert audited[1]["detail"]["sha256"] == hashlib.sha256(sheet.data).hexdigest()
    assert audited[0]["actor"] == audited[1]["actor"] != ""
    assert not any(t in orjson.dumps(audited).decode() for t in TRACKING)


@pytest.mark.parametrize(("query", "message"), [
    ("kind=lost", "kind='lost': use one of: returned, undelivered, unprinted, or leave it out for all three"),
    ("format=pdf", "format='pdf': use one of: xlsx, csv"),
    ("year=25", "year='25': give an admission year of four digits"),
    ("province=42", "unknown parameter 'province'; allowed: year, kind, format, lang"),
])
def test_a_wrong_parameter_is_refused_saying_what_to_change(app: Any, query: str, message: str) -> None:
    r = as_role(app, "admissions").get(f"{EXPORT}?{query}")
    assert r.status_code == 400 and orjson.loads(r.data)["message"].startswith(message)


# --- the settings -------------------------------------------------------------------------------


def test_the_notice_settings() -> None:
    s = load_settings({"IOC_NOTICE_UNDELIVERED_DAYS": "10", "IOC_NOTICE_UNPRINTED_DAYS": "2"}, dotenv=None)
    assert (s.notice_undelivered_days, s.notice_unprinted_days) == (10, 2)
    assert (Settings().notice_undelivered_days, Settings().notice_unprinted_days) == (7, 3)
    for var in ("IOC_NOTICE_UNDELIVERED_DAYS", "IOC_NOTICE_UNPRINTED_DAYS"):
        for raw in ("0", "61", "a week", "2.5"):
            with pytest.raises(SettingsError) as err:
                load_settings({var: raw}, dotenv=None)
            assert str(err.value) == f"{var}={raw!r}: must be a number of days between 1 and 60"


def test_the_read_refuses_whoever_lacks_the_permission(app: Any) -> None:
    """The page's read checks again, so a page that called it by mistake gets nothing."""
    import flask

    from ioc_app.permissions import Principal

    for who in (Principal.person("v", ("viewer", "analyst", "operator"), "local"),
                Principal.screen("wall-1", ("/enrollment",))):
        with app.server.test_request_context("/enrollment"):
            flask.g.principal = who
            with pytest.raises(PermissionError, match="admissions_tools"):
                read.notice_tracker(YEAR)
    with app.server.test_request_context("/enrollment/notices"):
        flask.g.principal = Principal.person("a", ("admissions",), "local")
        got = read.notice_tracker(YEAR)
        assert got is not None
        assert [r["tracking_no"] for r in got["exceptions"]["undelivered"]] == [TRACKING[2]]
