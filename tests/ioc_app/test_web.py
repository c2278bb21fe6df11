"""Headers, requests, errors and logs of the web server: every answer carries the security
headers, a state change from another site is refused on every route, a callback or heartbeat
too large is refused, the heartbeat registry is bounded and keyed by who beats, every
malformed time or parameter is a 400 that says what to change (never a 500), server errors
answer only a code and a correlation id, and a logged value cannot start a forged line.

One real app (real engine, real gate) for the module; each protection has a test that fails
when the protection is switched off.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from flask import Flask

from ingest.registry import BY_NAME
from ioc_app import auth
from ioc_app.app import create_app
from ioc_app.logs import KeyValueFormatter, escape
from ioc_app.migrate import migrate
from ioc_app.permissions import PUBLIC, ROUTES
from ioc_app.screens import MAX_BEAT_BYTES, Screens
from ioc_app.settings import Settings, SettingsError, load_settings
from ioc_app.storage import Store
from ioc_app.web import CALLBACK_MAX_BYTES, install
from tests.conftest import route_body, signed_in

BOOM = "/test-only/boom/<path:rest>"


@pytest.fixture(scope="module")
def app(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("web")
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False,
                        tokens_file=str(tmp / "tokens.toml"))
    dash_app = create_app(settings, store=store, background=False)

    # a view that fails the way a bug would, with a SQL-looking message (a test-only route,
    # added before the first request and given a permission for the module's run)
    @dash_app.server.get(BOOM)
    def boom(rest: str) -> Any:
        from flask import request

        raise RuntimeError("Code: 60. DB::Exception: SELECT secret FROM ioc.people WHERE q = "
                           + request.args.get("q", ""))

    ROUTES[BOOM] = PUBLIC
    dash_app.server.test_client().get("/healthz")
    yield dash_app
    del ROUTES[BOOM]
    dash_app.server.extensions["ioc"].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(scope="module")
def client(app: Any) -> Any:
    """A person holding every role that may read pages, queries, exports and dead letters."""
    c = app.server.test_client()
    signed_in(app, c, roles=("viewer", "admissions", "analyst", "operator"), name="web_all")
    return c


@pytest.fixture(scope="module")
def auditor(app: Any) -> Any:
    c = app.server.test_client()
    signed_in(app, c, roles=("auditor",), name="web_auditor")
    return c




# --- headers --------------------------------------------------------------------------------

def renderer_hash(app: Any) -> str:
    digest = base64.b64encode(hashlib.sha256(app.renderer.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def test_every_answer_carries_the_security_headers(app: Any, client: Any) -> None:
    anonymous = app.server.test_client()
    answers = [anonymous.get("/auth/login"), anonymous.get("/healthz"), anonymous.get("/nowhere"),
               anonymous.get("/gates"), client.get("/gates"), client.get("/_dash-layout"),
               client.get("/api/v1/query/gate?from=abc"), client.post("/_dash-update-component",
                                                                       json=route_body("/gates"))]
    for r in answers:
        csp = r.headers.get("Content-Security-Policy", "")
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        script = directives["script-src"].split()
        assert script[0] == "'self'" and renderer_hash(app) in script, csp  # Dash's inline renderer
        assert all(s == "'self'" or s.startswith("'sha256-") for s in script), csp
        assert "unsafe-eval" not in csp and "'unsafe-inline'" not in directives["script-src"]
        assert directives["style-src"] == "'self' 'unsafe-inline'"
        assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in r.headers  # plain http: browsers ignore it anyway


def test_the_index_page_has_no_inline_script_without_its_hash(app: Any, client: Any) -> None:
    r = client.get("/gates")
    hashes = set(r.headers["Content-Security-Policy"].split("script-src", 1)[1].split(";")[0].split())
    html = r.get_data(as_text=True)
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        if "src=" in attrs or "application/json" in attrs:
            continue  # a file of IOC's own, or data the browser does not run
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in hashes, attrs


def test_dash_charts_get_the_plotly_js_build_of_the_pages_traces(app: Any, client: Any) -> None:
    """The address Dash's graph component loads plotly.js from answers IOC's own build (the
    traces the pages draw), revalidated each time, and only to a signed-in person or screen."""
    from ioc_app.app import PLOTLY_JS, PLOTLY_JS_URL

    r = client.get(PLOTLY_JS_URL)
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.get_data() == PLOTLY_JS.read_bytes()
    assert r.get_data(as_text=True).startswith("/*! IOC plotly.js ")
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["ETag"]
    again = client.get(PLOTLY_JS_URL, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert app.server.test_client().get(PLOTLY_JS_URL).status_code == 401
    # the other files of Dash's packages are still Dash's
    other = client.get("/_dash-component-suites/dash/dcc/async-graph.js")
    assert other.status_code == 200 and b"IOC plotly.js" not in other.get_data()


def test_frame_ancestors_and_hsts_follow_the_settings() -> None:
    settings = load_settings({"IOC_PUBLIC_URL": "https://ioc.example.edu.cn",
                              "IOC_FRAME_ANCESTORS": "self https://portal.example.edu.cn"}, dotenv=None)
    assert settings.frame_ancestors == "'self' https://portal.example.edu.cn"
    server = Flask("frame_test")
    server.get("/x")(lambda: "x")
    install(SimpleNamespace(server=server, csp_hashes=lambda: ["'sha256-AAAA'"]), settings)  # type: ignore[arg-type]
    r = server.test_client().get("/x")
    assert "frame-ancestors 'self' https://portal.example.edu.cn" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers  # it cannot name another site; frame-ancestors does
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    for bad in ("https://portal.example.edu.cn/path", "'none' 'self'", "*", "https://a; script-src *",
                "javascript:alert(1)"):
        with pytest.raises(SettingsError, match="IOC_FRAME_ANCESTORS"):
            load_settings({"IOC_FRAME_ANCESTORS": bad}, dotenv=None)


# --- state-changing requests ----------------------------------------------------------------

def concrete(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: {"stream_name": "gate.pass", "domain": "gate"}.get(
        m.group(1), "x"), rule)


def test_every_state_change_from_another_site_is_refused(app: Any, client: Any) -> None:
    changing = sorted({concrete(r.rule) for r in app.server.url_map.iter_rules()
                       if r.methods and r.methods & {"POST", "PUT", "DELETE", "PATCH"}})
    for path in ("/api/v1/heartbeat", "/_dash-update-component", "/auth/login", "/auth/logout",
                 "/api/v1/deadletter/replay", "/admin/people", "/admin/screens"):
        assert path in changing or any(p.startswith(path) for p in changing), path
    cross = ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
             {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.localhost"},
             {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"})
    for path in changing:
        for method in ("POST", "PUT", "DELETE"):
            for headers in cross:
                r = client.open(path, method=method, data=b'{"page": "/"}', content_type="text/plain",
                                headers=headers)
                assert r.status_code == 403 and r.json["error"] == "cross_site", (path, method, headers)
    # the same requests from IOC's own pages pass the check (and are judged on what they are)
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    beat = client.post("/api/v1/heartbeat", data=b'{"page": "/"}', content_type="text/plain", headers=own)
    assert beat.status_code == 200
    assert client.post("/_dash-update-component", json=route_body("/gates"), headers=own).status_code == 200


def test_source_systems_without_origin_keep_ingesting(app: Any, client: Any) -> None:
    token = auth.create_token(app.server.extensions["ioc"].settings.tokens_file, "gates-web", ["gate.pass"],
                              set(BY_NAME))
    event = {"event_id": "web-1", "ts": 1_780_000_000_000, "campus": "main", "gate_id": "main-north",
             "lane": 1, "direction": "in", "person_type": "student", "method": "face", "result": "pass"}
    machine = app.server.test_client()
    r = machine.post("/api/v1/ingest/gate.pass", json=[event], headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json["accepted"] == 1
    # the same token used from a browser page of another site is refused
    r = machine.post("/api/v1/ingest/gate.pass", json=[event], headers={"Authorization": f"Bearer {token}",
                                                                          "Origin": "https://evil.example"})
    assert r.status_code == 403


def test_a_callback_larger_than_the_cap_is_413(client: Any) -> None:
    body = orjson.dumps({**route_body("/gates"), "state": [{"id": "x", "property": "data",
                                                            "value": "a" * CALLBACK_MAX_BYTES}]})
    r = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert r.status_code == 413 and r.json["error"] == "too_large"
    assert str(CALLBACK_MAX_BYTES) in r.json["message"]
    assert client.post("/_dash-update-component", json=route_body("/gates")).status_code == 200


def test_a_heartbeat_larger_than_its_fields_is_413(client: Any) -> None:
    r = client.post("/api/v1/heartbeat", data=b'{"page": "' + b"a" * MAX_BEAT_BYTES + b'"}',
                    content_type="application/json")
    assert r.status_code == 413 and r.json["error"] == "too_large"


def test_the_heartbeat_is_keyed_by_who_beats_not_by_what_it_says(app: Any, client: Any) -> None:
    r = client.post("/api/v1/heartbeat", json={"screen": "lobby-east", "page": "/gates", "version": 3})
    assert r.status_code == 200 and r.json["screen"] == "127.0.0.1 /gates"
    names = [s["screen"] for s in client.get("/api/v1/screens").json["screens"]]
    assert "lobby-east" not in names and "127.0.0.1 /gates" in names


def test_the_heartbeat_registry_is_bounded_oldest_first(app: Any, client: Any) -> None:
    registry: Screens = app.server.extensions["ioc"].screens
    for i in range(registry.max_entries + 40):
        assert client.post("/api/v1/heartbeat", json={"page": f"/p{i}"}).status_code == 200
    names = [s["screen"] for s in client.get("/api/v1/screens").json["screens"]]
    assert len(names) == registry.max_entries
    assert "127.0.0.1 /p0" not in names and f"127.0.0.1 /p{registry.max_entries + 39}" in names


def test_the_redis_registry_is_bounded_oldest_first(redis_server: Any) -> None:
    import redis

    client = redis.Redis(port=redis_server.port)
    screens = Screens(client, max_entries=3)
    for i in range(5):
        screens.beat({"page": f"/p{i}"}, "10.0.0.9", now=1000.0 + i)
    assert [s["screen"] for s in screens.all(now=1010.0)] == ["10.0.0.9 /p2", "10.0.0.9 /p3", "10.0.0.9 /p4"]


# --- errors ---------------------------------------------------------------------------------

BAD_TIMES = ("0001-01-01", "9999-12-31", "abc", "0001-01-01T00:00:00", "1969-12-31", "2101-01-01",
             "2026-13-01", "2026-01-01T25:00", "%0Ax")


def test_malformed_times_and_parameters_are_400_saying_what_to_change(client: Any, auditor: Any) -> None:
    asked = []
    for bad in BAD_TIMES:
        asked += [(client, f"/api/v1/query/gate?from={bad}"), (client, f"/api/v1/query/gate?to={bad}"),
                  (client, f"/api/v1/query/gate?from=2026-01-01T00:00:00Z&to={bad}"),
                  (client, f"/api/v1/snapshot?at={bad}"), (client, f"/api/v1/export/enrollment?year={bad}x"),
                  (auditor, f"/api/v1/audit?from={bad}"), (auditor, f"/api/v1/audit?to={bad}")]
    asked += [(client, "/api/v1/query/gate?grain=decade"), (client, "/api/v1/snapshot?year=abc"),
              (client, "/api/v1/deadletter?limit=abc"), (auditor, "/api/v1/audit?limit=-1")]
    for who, path in asked:
        r = who.get(path)
        assert r.status_code == 400, (path, r.status_code, r.data[:200])
        assert r.json["message"], path
    for year in ("0001-01-01", "9999-12-31", "1969-12-31T23:00:00Z"):
        r = client.get(f"/api/v1/query/gate?from={year}")
        assert "1970–2100" in r.json["message"], r.json
    page = auditor.get("/admin/audit?from=0001-01-01")
    assert page.status_code == 400 and "1970–2100" in page.get_data(as_text=True)
    # a 'to' beyond now is still cut to now, as documented
    r = client.get("/api/v1/query/gate?grain=day&from=2026-01-01&to=2100-12-31")
    assert r.status_code == 200


def test_pages_given_a_bad_time_say_so_instead_of_failing(client: Any) -> None:
    for bad in BAD_TIMES:
        for path in ("/", "/gates", "/network", "/enrollment", "/service", "/health"):
            r = client.post("/_dash-update-component", json=route_body(path, f"?at={bad}"))
            assert r.status_code == 200, (path, bad, r.data[:300])
            assert "ioc-bad-at" in r.get_data(as_text=True), (path, bad)
        for param in ("from", "to"):
            r = client.post("/_dash-update-component", json=route_body("/explore", f"?{param}={bad}"))
            assert r.status_code == 200, (param, bad, r.data[:300])
    good = client.post("/_dash-update-component", json=route_body("/gates", "?at=2026-09-01T08:00:00+08:00"))
    assert good.status_code == 200 and "ioc-bad-at" not in good.get_data(as_text=True)


def explore_answer(app: Any, search: str) -> str:
    """The /explore page's answer (its result callback) for ``search``: the refusal box text."""
    import sys

    import dash

    from ioc_app import read

    # the module as the app factory loaded it (importing ``pages.explore`` again would
    # register its page a second time)
    entry = next(p for p in dash.page_registry.values() if p["path"] == "/explore")
    explore = sys.modules[entry["module"]]
    with app.server.test_request_context("/explore"):
        q = explore.question_from_query(dict(p.split("=", 1) for p in search.lstrip("?").split("&")),
                                        read.query_whitelist())
        out = explore.result(q, "en", "light", None)
        return str(out["error"])


def test_the_explore_page_shows_the_api_message_for_a_year_out_of_range(app: Any, client: Any) -> None:
    text = explore_answer(app, "?from=0001-01-01&to=2026-01-01")
    assert "1970–2100" in text and "ex-error" in text


# --- server errors --------------------------------------------------------------------------

class Captured(logging.Handler):
    """Every record of the app's loggers, formatted as the product writes its log."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(KeyValueFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture()
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_an_unexpected_failure_answers_a_code_and_an_id_only(client: Any, captured: Captured) -> None:
    r = client.get("/test-only/boom/x")
    assert r.status_code == 500 and set(r.json) == {"error", "id"} and r.json["error"] == "internal"
    assert b"SELECT" not in r.data and b"DB::Exception" not in r.data
    logged = [line for line in captured.lines if f"error_id={r.json['id']}" in line]
    assert logged and "SELECT secret" in logged[0]  # the details are in the log, under the id
    page = client.get("/test-only/boom/x", headers={"Accept": "text/html"})
    assert page.json["id"] != r.json["id"]  # one id per failure


def test_a_store_failure_answers_a_code_and_an_id_only(app: Any, client: Any, captured: Captured) -> None:
    runtime = app.server.extensions["ioc"]
    real = runtime.store
    # a database that is not there: ClickHouse answers with the statement and its message
    runtime.store = Store(real.url, database="t_missing_" + uuid.uuid4().hex[:8])
    try:
        answers = [client.get("/api/v1/query/gate?grain=day&from=2025-01-02&to=2025-01-05"),
                   client.get("/api/v1/export/enrollment?format=csv"),
                   client.get("/api/v1/deadletter"),
                   client.get("/api/v1/snapshot?at=2026-01-01T00:00:00Z")]
    finally:
        runtime.store = real
    for r in answers:
        assert r.status_code == 503 and set(r.json) == {"error", "id"}, r.data[:300]
        assert r.json["error"] == "store_unavailable" and r.headers["Retry-After"]
        assert b"SELECT" not in r.data and b"t_missing" not in r.data
        assert any(f"error_id={r.json['id']}" in line for line in captured.lines)


def test_the_explore_page_shows_a_reference_not_the_store_message(app: Any, captured: Captured) -> None:
    runtime = app.server.extensions["ioc"]
    real = runtime.store
    runtime.store = Store(real.url, database="t_missing_" + uuid.uuid4().hex[:8])
    try:
        text = explore_answer(app, "?domain=gate&grain=day&from=2025-02-01&to=2025-02-03")
    finally:
        runtime.store = real
    ident = re.search(r"Reference: ([0-9a-f]{16})", text)
    assert ident and "SELECT" not in text and "t_missing" not in text, text
    assert any(f"error_id={ident.group(1)}" in line and "SELECT" in line for line in captured.lines)


# --- logs -----------------------------------------------------------------------------------

def test_a_logged_value_cannot_start_a_line() -> None:
    record = logging.LogRecord("ioc.test", logging.INFO, __file__, 1, "event=wall.opened screen=%s", (
        "x\nevent=admin.login user=root\r\x1b[2J\u2028next\x85",), None)
    line = KeyValueFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert "\x85" not in line
    assert line.endswith("screen=x\\nevent=admin.login user=root\\r\\x1b[2J\\u2028next\\x85")
    assert escape("plain 中文 text") == "plain 中文 text"


def test_values_sent_by_clients_stay_on_one_line_in_the_log(client: Any, captured: Captured) -> None:
    forged = "%0Aevent=admin.login%20user=root%0D%0A"
    client.get(f"/test-only/boom/x?q={forged}")  # a failure whose message holds what the client sent
    client.post("/_dash-update-component", json=route_body("/wall", f"?screen={forged}&pages=/{forged}"))
    client.post("/_dash-update-component", json=route_body("/explore", f"?domain={forged}"))
    client.get(f"/api/v1/query/{forged}")
    client.post("/api/v1/heartbeat", json={"page": "\nevent=admin.login user=root", "screen": "\n"})
    stream = io.StringIO("\n".join(captured.lines) + "\n")
    assert captured.lines
    for line in stream:
        assert line.startswith("ts="), line  # every line is a record of its own
    assert any("q = \\nevent=admin.login" in line for line in captured.lines)  # logged, escaped
