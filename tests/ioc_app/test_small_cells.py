"""Small cells (metrics.md, ``IOC_MIN_CELL``) through the real app on the real engine.

One season goes in through the ingest path: Hubei (42) with five admitted, Beijing (11) with
four, Shanghai (31) with one candidate whose score, 651.5, is nobody else's and neither the
lowest nor the highest of the year. The shared snapshot, the pages, the query API and the
plain export must never show 651.5 — to a screen, a viewer, an analyst or an operator, nor
to the admissions office outside its own exact views — while every count stays; the exact
file, ``/enrollment/exact`` and 生源质量分析 (``/enrollment/quality`` and its files) show it
to admissions only, and each is audited. A second app
on the same store with ``IOC_MIN_CELL=1`` shows the score in its snapshot, so the rule is
what hides it. Three rejected events carry an ID number and a mobile number (plain and
spaced): the crawl finds them in no answer to any role, though the operator reads their dead
letters.
"""

from __future__ import annotations

import csv
import html
import io
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from ingest.enrollment import ENROLLMENT_ADMISSION, ENROLLMENT_PLAN
from ingest.pipeline import Pipeline
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app import read
from ioc_app.access import EXTENSION as ACCESS
from ioc_app.app import AUDIT_EXTENSION, create_app
from ioc_app.migrate import migrate
from ioc_app.permissions import PAGES, ROUTES
from ioc_app.settings import Settings
from ioc_app.storage import Store
from layouts import ids
from tests.conftest import route_body, signed_in

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(UTC)
YEAR = NOW.astimezone(ZONE).year
T0 = NOW - timedelta(days=1)
SECRET = "651.5"  # the one Shanghai candidate's score: in no figure but the exact ones
#: (province, scores of its admitted candidates)
SEASON = {"42": [600.0, 610.0, 620.0, 630.0, 640.0], "11": [580.0, 590.0, 700.0, 710.0], "31": [651.5]}
#: personal data sent in rejected events: no role may find it in any answer (dead letters
#: hold keyed hashes), in any of the forms it was sent in
ID_NUMBER, MOBILE = "11010519491231002X", "13812345678"
PERSONAL = (ID_NUMBER, "110105 19491231 002X", MOBILE, "138-1234-5678")
EXACT_EXPORT = "/api/v1/export/enrollment/exact"
EXPORT = "/api/v1/export/enrollment"
#: 生源质量分析's files: exact for the admissions role, under the rule for analysts
QUALITY = "/api/v1/export/enrollment/quality"


def admissions() -> list[dict[str, Any]]:
    out = []
    for province, scores in SEASON.items():
        for i, score in enumerate(scores):
            key = f"c{province}-{i}"
            ts = int((T0 + timedelta(minutes=i)).timestamp() * 1000)
            out.append({"event_id": f"{key}-admitted", "ts": ts, "year": YEAR, "candidate_key": key,
                        "province": province, "batch": "regular",
                        "category": "general", "track": "physics", "college": "cs",
                        "major": "070101" if province == "31" else "080901", "status": "admitted",
                        "score": score})
    return out


def plans() -> list[dict[str, Any]]:
    return [{"year": YEAR, "province": p, "batch": "regular", "category": "general", "track": "physics",
             "major": "070101" if p == "31" else "080901", "planned": 6} for p in SEASON]


def make_app(store: Store, tmp: Path, **settings: Any) -> Any:
    conf = Settings(clickhouse_url=f"chdb://{tmp / 'store'}", demo=False,
                    tokens_file=str(tmp / "tokens.toml"), roles_file=str(tmp / "roles.toml"), **settings)
    return create_app(conf, store=store, background=False)


@pytest.fixture(scope="module")
def world(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The seeded store behind the app with the default rule (3) and one with ``IOC_MIN_CELL=1``."""
    tmp = tmp_path_factory.mktemp("cells")
    store = Store(f"chdb://{engine_path}", database="t_cells_" + uuid.uuid4().hex[:8])
    migrate(store)
    wal = WriteAheadLog(tmp / "wal")
    pipeline, writer = Pipeline(store, wal), Writer(store, wal)
    for stream, events in ((ENROLLMENT_PLAN, plans()), (ENROLLMENT_ADMISSION, admissions())):
        receipt = pipeline.submit(stream, events, source="t", now=NOW)
        assert receipt.errors == [] and receipt.accepted == len(events)
        writer.flush_once(force=True)
    leaky = [{**admissions()[0], "event_id": "leak-1", "candidate_key": ID_NUMBER},
             {**admissions()[1], "event_id": "leak-2", "candidate_key": "110105 19491231 002X"},
             {**admissions()[2], "event_id": "leak-3", "college": "+86 138-1234-5678"}]
    receipt = pipeline.submit(ENROLLMENT_ADMISSION, leaky, source="t", now=NOW)
    assert receipt.accepted == 0 and len(receipt.errors) == 3  # kept as dead letters
    writer.flush_once(force=True)
    wal.close()
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    apps = {"rule": make_app(store, tmp / "a"), "exact": make_app(store, tmp / "b", min_cell=1)}
    for app in apps.values():
        app.server.extensions[read.EXTENSION].core.tick()  # the seeded season in the snapshot
    yield apps
    for app in apps.values():
        app.server.extensions[read.EXTENSION].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


@pytest.fixture(scope="module")
def app(world: dict[str, Any]) -> Any:
    return world["rule"]


def fresh_client(app: Any) -> Any:
    """A test client from an address of its own (exports and queries are limited per address)."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client


def as_role(app: Any, *roles: str) -> Any:
    client = fresh_client(app)
    signed_in(app, client, roles=roles, name="u" + uuid.uuid4().hex[:8])
    return client


def as_screen(app: Any, pages: tuple[str, ...]) -> Any:
    client = fresh_client(app)
    code = app.server.extensions[ACCESS].screens.offer("s" + uuid.uuid4().hex[:6], pages)
    assert client.get(f"/wall/pair?code={code}").status_code == 303
    return client


def trail(app: Any, action: str) -> list[dict[str, Any]]:
    rt = app.server.extensions[read.EXTENSION]
    app.server.extensions[AUDIT_EXTENSION].drain()
    rt.writer.flush_once(force=True)
    frame = rt.store.query("SELECT actor, action, object, toString(result) AS result, detail FROM ioc_audit "
                           "WHERE action = {a:String} ORDER BY ts", {"a": action})
    return [{**r, "detail": orjson.loads(r["detail"])} for r in frame.to_dicts()]




def refresh_body(app: Any) -> dict[str, Any]:
    """The enrollment page's live parts, every part asked for (as on a screen whose layout is
    older than the snapshot)."""
    from layouts.parts import changed_id, spec_id

    output = next(o for o in app.callback_map if "enrollment-scores-note" in o)
    spec = app.callback_map[output]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
               for o in output.strip(".").split("...")]
    state = [{"id": ids.CONFIG, "property": "data", "value": {"lang": "zh", "at": None}},
             {"id": spec_id("enrollment"), "property": "data", "value": {"version": None, "theme": "dark"}}]
    assert [s["id"] for s in spec["state"]] == [s["id"] for s in state]
    names = ["map", "batch", "category", "scores", "season", "checkin", "checkin_days", "provinces", "majors",
             "scores_note"]
    inputs = [{"id": changed_id("enrollment"), "property": "data", "value": {"parts": names, "version": 1}}]
    assert [i["id"] for i in spec["inputs"]] == [i["id"] for i in inputs]
    return {"output": output, "outputs": outputs, "changedPropIds": [f"{changed_id('enrollment')}.data"],
            "inputs": inputs, "state": state}


def text(data: bytes) -> str:
    """An answer as searchable text (an XLSX file is zipped XML, with character references)."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return html.unescape("".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()))
    return data.decode("utf-8", "replace")


def plain(data: bytes) -> str:
    """A Dash answer as text (Dash escapes '/' and non-ASCII in its JSON)."""
    return orjson.dumps(orjson.loads(data)).decode()


def province(snapshot: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in snapshot["enrollment"]["by_province"] if r["province"] == code)


# --- the shared snapshot ------------------------------------------------------------------------


def test_the_snapshot_hides_small_cells_for_everybody_and_keeps_counts(app: Any) -> None:
    for client in (as_role(app, "viewer"), as_role(app, "admissions"), as_screen(app, ("/enrollment",))):
        r = client.get("/api/v1/snapshot")
        assert r.status_code == 200 and SECRET not in r.data.decode()
        snap = orjson.loads(r.data)
        shanghai, beijing, hubei = (province(snap, c) for c in ("31", "11", "42"))
        assert (shanghai["plan"], shanghai["admitted"]) == (6, 1)  # counts stay
        assert [shanghai[k] for k in ("min_score", "avg_score", "max_score")] == [None, None, None]
        # Beijing is hidden with it: the year's total minus the shown provinces would give 651.5
        assert beijing["admitted"] == 4 and beijing["avg_score"] is None
        assert (hubei["min_score"], hubei["avg_score"], hubei["max_score"]) == (600.0, 620.0, 640.0)
        majors = {r["major"]: r for r in snap["enrollment"]["by_major"]}
        assert majors["070101"]["admitted"] == 1 and majors["070101"]["avg_score"] is None
    other_year = as_role(app, "viewer").get(f"/api/v1/snapshot?year={YEAR}")
    assert other_year.status_code == 200 and SECRET not in other_year.data.decode()
    assert province(orjson.loads(other_year.data), "31")["avg_score"] is None


def test_with_a_min_cell_of_one_the_score_shows(world: dict[str, Any]) -> None:
    r = as_role(world["exact"], "viewer").get("/api/v1/snapshot")
    assert province(orjson.loads(r.data), "31")["avg_score"] == 651.5


def test_a_stored_snapshot_is_replayed_under_todays_rule(world: dict[str, Any]) -> None:
    """A snapshot stored with a smaller rule (or before there was one) shows no small cell."""
    t0 = NOW.replace(second=5, microsecond=0) + timedelta(minutes=30)
    world["exact"].server.extensions[read.EXTENSION].core.tick(t0)  # stored with 651.5 in it
    at = {"at": (t0 + timedelta(seconds=20)).isoformat()}
    assert SECRET in as_role(world["exact"], "viewer").get("/api/v1/snapshot", query_string=at).data.decode()
    viewer = as_role(world["rule"], "viewer")
    replay = viewer.get("/api/v1/snapshot", query_string=at)
    assert replay.status_code == 200 and SECRET not in replay.data.decode()
    assert province(orjson.loads(replay.data), "31")["admitted"] == 1
    page = viewer.post("/_dash-update-component", json=route_body("/enrollment", f"?at={at['at']}"))
    assert page.status_code == 200 and SECRET not in page.data.decode()


# --- the pages ---------------------------------------------------------------------------------


def test_the_page_says_why_a_score_is_missing(app: Any) -> None:
    viewer = as_role(app, "viewer")
    body = plain(viewer.post("/_dash-update-component", json=route_body("/enrollment")).data)
    assert SECRET not in body
    assert "上海：少于3人，不显示" in body and "北京：为防推算，不显示" in body  # under the chart
    assert "平均分 少于3人，不显示" in body  # the map's tap text
    assert "enrollment-export-exact" not in body and "/enrollment/exact" not in body
    refreshed = viewer.post("/_dash-update-component", json=refresh_body(app))
    assert refreshed.status_code == 200 and SECRET not in refreshed.data.decode()
    assert "上海：少于3人，不显示" in plain(refreshed.data)
    english = viewer.post("/_dash-update-component", json=route_body("/enrollment", "?lang=en"))
    assert "Shanghai: fewer than 3, not shown" in plain(english.data)


def test_admissions_open_the_exact_view_audited_once_per_opening(app: Any) -> None:
    office = as_role(app, "admissions")
    page = plain(office.post("/_dash-update-component", json=route_body("/enrollment")).data)
    assert "enrollment-export-exact" in page and '"href":"/enrollment/exact?' in page
    assert SECRET not in page  # the cockpit itself is the shared one
    before = len(trail(app, "enrollment.exact_view"))
    assert office.get("/enrollment/exact").status_code == 200
    exact = office.post("/_dash-update-component", json=route_body("/enrollment/exact"))
    assert exact.status_code == 200
    body = plain(exact.data)
    assert SECRET in body and '"少于3人"' in body  # the exact score, marked as a small cell
    rows = trail(app, "enrollment.exact_view")
    assert len(rows) == before + 1
    assert rows[-1]["object"] == f"enrollment/{YEAR}" and rows[-1]["detail"]["year"] == YEAR
    assert rows[-1]["detail"]["small_groups"] >= 2  # Shanghai, and major 070101
    for client in (as_role(app, "viewer"), as_role(app, "analyst"), as_role(app, "operator"),
                   as_screen(app, ("/enrollment",))):
        assert client.post("/_dash-update-component", json=route_body("/enrollment/exact")).status_code == 403
        assert SECRET not in client.get("/enrollment/exact").data.decode()
    assert len(trail(app, "enrollment.exact_view")) == before + 1


# --- the export ---------------------------------------------------------------------------------


def csv_rows(data: bytes) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return {r[0]: r for r in rows[1:]}


def test_the_export_hides_small_cells_and_the_exact_one_is_admissions_only(app: Any) -> None:
    office = as_role(app, "admissions")
    plain = office.get(f"{EXPORT}?format=csv")
    assert plain.status_code == 200 and SECRET not in plain.data.decode("utf-8-sig")
    rows = csv_rows(plain.data)
    assert rows["31"][8:14] == ["6", "1", "0.1667", "", "", ""]  # counts stay, scores empty
    assert rows["11"][11:14] == ["", "", ""] and rows["42"][11:14] == ["600.0", "620.0", "640.0"]
    sheet = office.get(f"{EXPORT}?format=xlsx")
    assert sheet.status_code == 200 and SECRET not in text(sheet.data)
    assert "录取少于3人的行不显示分数" in text(sheet.data)
    before = len(trail(app, "export.download"))
    exact = office.get(f"{EXACT_EXPORT}?format=csv")
    assert exact.status_code == 200 and csv_rows(exact.data)["31"][11:14] == ["651.5", "651.5", "651.5"]
    assert SECRET in text(office.get(f"{EXACT_EXPORT}?format=xlsx").data)
    rows_audited = trail(app, "export.download")[before:]
    assert [(r["object"], r["detail"]["exact"], r["detail"]["format"]) for r in rows_audited] == [
        ("enrollment_exact", True, "csv"), ("enrollment_exact", True, "xlsx")]
    for client in (as_role(app, "viewer"), as_role(app, "analyst"), as_role(app, "operator"),
                   as_screen(app, ("/enrollment",))):
        for url in (EXPORT, EXACT_EXPORT):
            assert client.get(f"{url}?format=csv").status_code == 403
    assert fresh_client(app).get(f"{EXACT_EXPORT}?format=csv").status_code == 401
    assert ROUTES["/api/v1/export/enrollment/exact"] == "exact_cells"


# --- the crawler --------------------------------------------------------------------------------


def gets(app: Any) -> list[str]:
    """Every GET route a signed-in person or screen might open, concrete."""
    cockpit = [p for p in PAGES if p != "/wall"]
    queries = []
    for domain, spec in read.query_whitelist()["domains"].items():
        measures = ",".join(m["name"] for m in spec["measures"])
        queries.append(f"/api/v1/query/{domain}?grain=day&measures={measures}")
    queries.append("/api/v1/query/enrollment?grain=day")
    stamp = (NOW + timedelta(minutes=31)).isoformat()
    return [*cockpit, "/wall", "/wall?pages=/enrollment,/enrollment/exact", "/api/v1/snapshot",
            f"/api/v1/snapshot?year={YEAR}", f"/api/v1/snapshot?at={stamp.replace('+', '%2B')}",
            "/api/v1/screens", "/api/v1/deadletter", "/api/v1/audit", "/api/v1/audit?format=csv",
            "/admin/people", "/admin/screens", "/admin/audit", *queries,
            f"{EXPORT}?format=csv", f"{EXPORT}?format=xlsx", f"{EXPORT}?format=csv&province=31",
            f"{EXACT_EXPORT}?format=csv", f"{EXACT_EXPORT}?format=xlsx&province=31",
            f"{QUALITY}?format=xlsx", f"{QUALITY}?table=provinces&format=csv"]


def renders(app: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every page as Dash renders it, the wall's rotation asked for the exact page, and the
    enrollment page's refresh."""
    pages = [(p, route_body(p)) for p in PAGES]
    pages += [("/wall?pages=/enrollment/exact", route_body("/wall", "?pages=/enrollment/exact")),
              ("/enrollment?lang=en", route_body("/enrollment", "?lang=en")),
              ("refresh", refresh_body(app))]
    return pages


@pytest.mark.parametrize("who", ["viewer", "analyst", "admissions", "operator", "secadmin", "auditor",
                                 "screen"])
def test_no_role_sees_an_exact_small_cell_score_where_it_may_not(app: Any, who: str) -> None:
    client = (as_screen(app, tuple(p for p in PAGES if p not in ("/wall", "/explore")))
              if who == "screen" else as_role(app, who))
    exact_places = {f"{EXACT_EXPORT}?format=csv", f"{EXACT_EXPORT}?format=xlsx&province=31",
                    "/enrollment/exact", "/enrollment/quality", f"{QUALITY}?format=xlsx",
                    f"{QUALITY}?table=provinces&format=csv"}
    seen, personal, opened, letters = [], [], 0, 0
    for path in gets(app):
        r = client.get(path)
        opened += r.status_code == 200
        body = text(r.data)
        if SECRET in body:
            seen.append(path)
        personal += [(path, p) for p in PERSONAL if p in body or p in r.data.decode("latin-1")]
        if path == "/api/v1/deadletter" and r.status_code == 200:
            letters = body.count("leak-")
    for name, body in renders(app):
        r = client.post("/_dash-update-component", json=body)
        opened += r.status_code == 200
        if SECRET in text(r.data):
            seen.append(name)
        personal += [(name, p) for p in PERSONAL if p in text(r.data)]
    # the crawl reached the pages and APIs this role may open (people's and the audit
    # trail's administrators open their own pages and little else)
    assert opened >= (1 if who in ("secadmin", "auditor") else 8), who
    assert personal == [], who
    if who == "operator":  # the one role that reads dead letters saw them, redacted
        assert letters >= 3
    if who == "admissions":
        assert set(seen) == exact_places  # found where it belongs: the crawl can find it
    else:
        assert seen == [], who
