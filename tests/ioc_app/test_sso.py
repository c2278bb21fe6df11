"""Campus sign-in end to end: headless Chromium, the real IOC server process and real identity
providers (django-cas-server for CAS 3.0, oidc-provider for OpenID Connect, ``tests/idp``).

One IOC server, one CAS server, one OpenID provider and one browser serve the whole module;
every test takes a fresh browser context (its own cookies). The failures a live provider
cannot be made to produce (unreachable, garbage answers, forged ID tokens) are checked on an
app in this process against a stub, and on the ID-token check itself.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from ioc_app.access import EXTENSION
from ioc_app.app import create_app
from ioc_app.migrate import migrate
from ioc_app.roles import set_roles
from ioc_app.routes.sso import flow as sso_flow
from ioc_app.routes.sso import oidc as sso_oidc
from ioc_app.settings import Settings
from ioc_app.storage import Store
from layouts.i18n import t
from tests.conftest import Server, add_person, free_port, product_env
from tests.idp import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, CasServer, OidcServer, loopback_session
from tests.pages.conftest import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

ROLES = """\
[[mapping]]
attribute = "memberOf"
value = "ioc-leaders"
roles = ["viewer"]

[[mapping]]
attribute = "groups"
value = "ioc-analysts"
roles = ["viewer", "analyst"]
"""
QUERY = "/api/v1/query/gate?from=2026-01-01&to=2026-01-02"
AUDITOR = "sso-auditor"
FAILED_PAGE = t("auth.sso_failed", "zh")


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ioc_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def oidc(oidc_server_for: Callable[..., OidcServer], ioc_port: int) -> OidcServer:
    return oidc_server_for([f"http://127.0.0.1:{ioc_port}/auth/oidc/callback"])


@pytest.fixture(scope="module")
def ioc(tmp_path_factory: pytest.TempPathFactory, ioc_port: int, cas_server: CasServer,
        oidc: OidcServer) -> Iterator[Server]:
    """IOC with both campus sign-ins configured, the roles file written before it starts."""
    tmp = tmp_path_factory.mktemp("ioc-sso")
    (tmp / "roles.toml").write_text(ROLES, encoding="utf-8")
    env = product_env(tmp, IOC_CAS_URL=cas_server.url, IOC_OIDC_ISSUER=oidc.issuer,
                      IOC_OIDC_CLIENT_ID=OIDC_CLIENT_ID, IOC_OIDC_CLIENT_SECRET=OIDC_CLIENT_SECRET,
                      IOC_PUBLIC_URL=f"http://127.0.0.1:{ioc_port}")
    for proxy in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(proxy, None)  # IOC asks the providers on loopback
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    add_person(env, AUDITOR, ("auditor",))
    server = Server(env, ioc_port)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def context(chromium: Browser) -> Iterator[BrowserContext]:
    ctx = chromium.new_context()
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


# --- helpers -------------------------------------------------------------------------------


def _ioc_cookie(context: BrowserContext) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "ioc_session"), None)


def _start(page: Page, ioc: Server, button: str, path: str = "/gates") -> None:
    """Open a page, get sent to sign-in, and press a campus sign-in button."""
    page.goto(ioc.url + path)
    assert urlsplit(page.url).path == "/auth/login", page.url
    assert parse_qs(urlsplit(page.url).query)["next"] == [path]
    page.click(button)


def _cas_sign_in(page: Page, ioc: Server, cas: CasServer, user: str, password: str,
                 path: str = "/gates") -> int:
    """Sign in through CAS from ``path``; returns the status of IOC's callback."""
    _start(page, ioc, "#signin-cas", path)
    page.wait_for_url(cas.login_url + "?*")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    with page.expect_response(lambda r: r.url.startswith(ioc.url + "/auth/cas/callback")) as callback:
        page.click("form button[type=submit]")
    page.wait_for_load_state()
    return callback.value.status


def _oidc_sign_in(page: Page, ioc: Server, oidc: OidcServer, login: str, password: str,
                  path: str = "/gates") -> tuple[int, str]:
    """Sign in through the OpenID provider from ``path``; the callback's status and URL."""
    _start(page, ioc, "#signin-oidc", path)
    page.wait_for_url(oidc.base + "/interaction/*")
    page.fill("#login", login)
    page.fill("#password", password)
    with page.expect_response(lambda r: r.url.startswith(ioc.url + "/auth/oidc/callback")) as callback:
        page.click("#sign-in")
    page.wait_for_load_state()
    return callback.value.status, callback.value.url


def _failed_page(page: Page) -> None:
    assert page.locator("h1").inner_text() == t("auth.sso_failed_title", "zh")
    assert page.locator("#auth-message").inner_text() == FAILED_PAGE


def _audit(ioc: Server, reasons: set[str], timeout: float = 30) -> list[dict[str, Any]]:
    """The ``signin``/``signout`` rows of the audit trail, once every reason in ``reasons``
    shows (rows reach the trail through the ingest buffer, a moment after the request)."""
    ioc.session(AUDITOR, ("auditor",))  # signed in through the form once, holding only that role
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = []
        for action in ("signin", "signout"):
            with ioc.open(f"/api/v1/audit?action={action}&format=json", as_=AUDITOR) as r:  # type: ignore[attr-defined]
                rows += json.loads(r.read())["rows"]
        seen = {(row["detail"] or {}).get("reason") for row in rows if isinstance(row["detail"], dict)}
        if reasons <= seen:
            return rows
        time.sleep(0.5)
    raise AssertionError(f"audit rows with reasons {sorted(reasons)} missing: {rows}")


# --- CAS -----------------------------------------------------------------------------------


def test_cas_sign_in_lands_on_the_page_asked_for(context: BrowserContext, ioc: Server,
                                                 cas_server: CasServer) -> None:
    page = context.new_page()
    assert _cas_sign_in(page, ioc, cas_server, "zhang.san", "campus-pass-1") == 303
    assert page.url == ioc.url + "/gates"
    page.locator("#ioc-badge").wait_for(state="visible")
    assert _ioc_cookie(context)
    assert page.request.get(ioc.url + "/api/v1/snapshot").status == 200
    # zhang.san is a leader (viewer): no analyses
    assert page.request.get(ioc.url + QUERY).status == 403
    # the flow cookie is spent: nothing of it is left in the browser
    assert not [c for c in context.cookies() if c["name"] == sso_flow.FLOW_COOKIE]


def test_cas_single_logout_ends_the_ioc_session(context: BrowserContext, ioc: Server,
                                                cas_server: CasServer) -> None:
    page = context.new_page()
    assert _cas_sign_in(page, ioc, cas_server, "zhang.san", "campus-pass-1", path="/network") == 303
    assert page.request.get(ioc.url + "/api/v1/snapshot").status == 200

    cas_server.logout_everywhere("zhang.san", "campus-pass-1")  # the CAS server POSTs logoutRequest

    assert page.request.get(ioc.url + "/api/v1/snapshot").status == 401
    page.goto(ioc.url + "/network")
    assert urlsplit(page.url).path == "/auth/login"
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/network"]


def test_cas_person_without_a_role_gets_the_no_role_page(context: BrowserContext, ioc: Server,
                                                          cas_server: CasServer) -> None:
    page = context.new_page()
    assert _cas_sign_in(page, ioc, cas_server, "wang.wu", "campus-pass-2") == 403
    assert page.locator("h1").inner_text() == t("auth.no_role_title", "zh")
    assert "wang.wu" in page.locator("#auth-message").inner_text()
    assert _ioc_cookie(context) is None
    assert page.request.get(ioc.url + "/api/v1/snapshot").status == 401


def test_cas_person_whose_roles_need_a_second_factor_signs_in_locally(
        context: BrowserContext, ioc: Server, cas_server: CasServer) -> None:
    roles_file = Path(ioc.env["IOC_ROLES_FILE"])
    set_roles(roles_file, "wang.wu", ["operator"])
    time.sleep(1.2)  # the server looks at the roles file at most once a second
    try:
        page = context.new_page()
        assert _cas_sign_in(page, ioc, cas_server, "wang.wu", "campus-pass-2") == 403
        assert "operator" in page.locator("#auth-message").inner_text()
        assert _ioc_cookie(context) is None
    finally:
        set_roles(roles_file, "wang.wu", [])
        time.sleep(1.2)


def test_cas_callback_with_a_malformed_ticket_is_a_clear_page(context: BrowserContext, ioc: Server) -> None:
    page = context.new_page()
    for query in ("ticket=garbage", "ticket=ST-%3Cscript%3E", "", "ticket=" + "ST-" + "a" * 400):
        response = page.goto(f"{ioc.url}/auth/cas/callback?{query}")
        assert response is not None and response.status == 401, query
        _failed_page(page)
    assert _ioc_cookie(context) is None


def test_cas_ticket_the_server_refuses_is_a_clear_page(context: BrowserContext, ioc: Server,
                                                       cas_server: CasServer) -> None:
    """A well-formed ticket CAS never issued, in a flow this browser started."""
    page = context.new_page()
    _start(page, ioc, "#signin-cas")
    page.wait_for_url(cas_server.login_url + "?*")
    service = parse_qs(urlsplit(page.url).query)["service"][0]
    assert service.startswith(ioc.url + "/auth/cas/callback?next=%2Fgates&s=")
    response = page.goto(service + "&ticket=ST-1-notIssuedByThisServer")
    assert response is not None and response.status == 401
    _failed_page(page)
    assert _ioc_cookie(context) is None


def test_cas_ticket_from_another_browser_is_refused(context: BrowserContext, ioc: Server,
                                                    cas_server: CasServer,
                                                    chromium: Browser) -> None:
    """A callback link sent to somebody else (login CSRF) does not sign them in."""
    page = context.new_page()
    _start(page, ioc, "#signin-cas")
    page.wait_for_url(cas_server.login_url + "?*")
    callback = cas_server.sign_in(loopback_session(), page.url, "zhang.san", "campus-pass-1")
    other = chromium.new_context()
    try:
        response = other.new_page().goto(callback)
        assert response is not None and response.status == 401
        assert _ioc_cookie(other) is None
    finally:
        other.close()


def test_cas_single_logout_requests_ioc_does_not_understand(ioc: Server) -> None:
    """The back channel comes without Origin: judged by what it says, answered plainly."""
    url = ioc.url + "/auth/cas/callback"
    session = loopback_session()
    unknown = ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
               'Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:NameID '
               'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID>'
               '<samlp:SessionIndex>ST-9-unknown</samlp:SessionIndex></samlp:LogoutRequest>')
    assert session.post(url, data={"logoutRequest": unknown}, timeout=30).status_code == 200
    entity = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
              '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
              '<samlp:SessionIndex>&x;</samlp:SessionIndex></samlp:LogoutRequest>')
    for body in ({"logoutRequest": "<not xml"}, {"logoutRequest": entity}, {}):
        assert session.post(url, data=body, timeout=30).status_code == 400, body
    # a browser posting from another site is refused by the gate
    r = session.post(url, data={"logoutRequest": unknown}, headers={"Origin": "https://evil.example"},
                     timeout=30)
    assert r.status_code == 403


# --- OpenID Connect ------------------------------------------------------------------------


def test_oidc_sign_in_gives_the_mapped_roles(context: BrowserContext, ioc: Server, oidc: OidcServer) -> None:
    page = context.new_page()
    status, _ = _oidc_sign_in(page, ioc, oidc, "li.si", "oidc-pass-1", path="/enrollment")
    assert status == 303
    assert page.url == ioc.url + "/enrollment"
    page.locator("#ioc-badge").wait_for(state="visible")
    assert page.request.get(ioc.url + "/api/v1/snapshot").status == 200
    query = page.request.get(ioc.url + QUERY)
    assert query.status not in (401, 403) and query.status < 500, query.text()[:500]


def test_oidc_person_without_a_group_gets_the_no_role_page(context: BrowserContext, ioc: Server,
                                                           oidc: OidcServer) -> None:
    page = context.new_page()
    status, _ = _oidc_sign_in(page, ioc, oidc, "zhao.liu", "oidc-pass-2")
    assert status == 403
    assert "zhao.liu" in page.locator("#auth-message").inner_text()
    assert _ioc_cookie(context) is None


def test_oidc_forged_or_missing_state_is_a_clear_page(context: BrowserContext, ioc: Server) -> None:
    page = context.new_page()
    for query in ("code=abc&state=forged", "code=abc", "error=access_denied&state=x", ""):
        response = page.goto(f"{ioc.url}/auth/oidc/callback?{query}")
        assert response is not None and response.status == 401, query
        _failed_page(page)
    assert _ioc_cookie(context) is None


def test_oidc_replayed_callback_is_refused(context: BrowserContext, ioc: Server, oidc: OidcServer,
                                           chromium: Browser) -> None:
    page = context.new_page()
    _start(page, ioc, "#signin-oidc")
    page.wait_for_url(oidc.base + "/interaction/*")
    flow = next(c for c in context.cookies() if c["name"] == sso_flow.FLOW_COOKIE)
    page.fill("#login", "li.si")
    page.fill("#password", "oidc-pass-1")
    with page.expect_response(lambda r: r.url.startswith(ioc.url + "/auth/oidc/callback")) as callback:
        page.click("#sign-in")
    assert callback.value.status == 303
    page.wait_for_load_state()
    first = _ioc_cookie(context)
    assert first

    # the same browser again: its flow is spent
    again = page.goto(callback.value.url)
    assert again is not None and again.status == 401
    _failed_page(page)
    # another browser holding a copy of the flow cookie (and the code, and the state)
    thief = chromium.new_context()
    try:
        thief.add_cookies([{k: flow[k] for k in ("name", "value", "domain", "path")}])
        response = thief.new_page().goto(callback.value.url)
        assert response is not None and response.status == 401
        assert _ioc_cookie(thief) is None
    finally:
        thief.close()


def test_sign_in_failures_and_single_logout_reach_the_audit_trail(ioc: Server) -> None:
    """Runs after the tests above: their failures are in the trail, each with its reason."""
    rows = _audit(ioc, {"malformed_ticket", "missing_ticket", "ticket_refused", "unknown_state", "replayed",
                        "needs_local_totp", "malformed_logout_request"})
    signins = [r for r in rows if r["action"] == "signin"]
    assert {"cas", "oidc"} <= {r["detail"].get("via") for r in signins if r["result"] == "ok"}
    assert {"zhang.san", "li.si"} <= {r["actor"] for r in signins if r["result"] == "ok"}
    assert {"wang.wu", "zhao.liu"} <= {r["actor"] for r in signins if r["result"] == "no_role"}
    refused = [r for r in signins if r["detail"].get("reason") == "ticket_refused"]
    assert refused and refused[0]["detail"].get("error") == "INVALID_TICKET"
    slo = [r for r in rows if r["action"] == "signout" and r["detail"].get("via") == "cas_slo"]
    assert any(r["actor"] == "zhang.san" and r["result"] == "ok" for r in slo), slo
    assert any(r["result"] == "unknown_ticket" for r in slo), slo


# --- failures a live provider does not produce: an app in this process, a stub provider ------


class Stub:
    """A loopback HTTP server answering with whatever the test sets in ``answers``."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str, bytes]] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, kind, body = stub.answers.get(urlsplit(self.path).path, (404, "text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


@pytest.fixture(scope="module")
def app(engine_path: Path, tmp_path_factory: pytest.TempPathFactory, stub: Stub) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("sso-app")
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False,
                        tokens_file=str(tmp / "tokens.toml"), cas_url=stub.url + "/cas",
                        oidc_issuer=stub.url, oidc_client_id="ioc", oidc_client_secret="secret", public_url="http://ioc.test")
    dash_app = create_app(settings, store=store, background=False)
    yield dash_app
    dash_app.server.extensions["ioc"].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")


class _OffLoop:
    """A Flask test client whose requests run on another thread: Playwright's sync API keeps an
    event loop on this one (the browser of the tests above), and the app must not see it."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            response = getattr(self.client, method)(*args, **kwargs)
            response.get_data()
            return response

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(call).result()

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("get", *args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("post", *args, **kwargs)


def _client(app: Any) -> _OffLoop:
    return _OffLoop(app.server.test_client())


def _cas_callback(client: Any) -> Any:
    """Start a CAS flow and come back with a well-formed ticket; IOC's answer."""
    start = client.get("/auth/cas?next=/gates")
    assert start.status_code == 302
    service = parse_qs(urlsplit(start.headers["Location"]).query)["service"][0]
    assert service.startswith("http://ioc.test/auth/cas/callback?next=%2Fgates&s=")
    return client.get(service.removeprefix("http://ioc.test") + "&ticket=ST-1-" + uuid.uuid4().hex)


@pytest.mark.parametrize("answer", [
    (500, "text/html", b"<html><body>Internal error</body></html>"),
    (200, "text/xml", b"not xml at all"),
    (200, "text/xml", b'<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"/>'),
    # a DTD (entity expansion, external entities) is never parsed, even around a success
    (200, "text/xml", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY who "tester">]>'
                      b'<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>'
                      b'<cas:user>&who;</cas:user></cas:authenticationSuccess></cas:serviceResponse>'),
])
def test_cas_answer_ioc_cannot_read_is_a_502_page(app: Any, stub: Stub,
                                                  answer: tuple[int, str, bytes]) -> None:
    stub.answers["/cas/p3/serviceValidate"] = answer
    r = _cas_callback(_client(app))
    assert r.status_code == 502
    assert FAILED_PAGE in r.get_data(as_text=True)
    assert "ioc_session" not in (r.headers.get("Set-Cookie") or "")


def test_cas_or_oidc_provider_unreachable_is_a_502_page(app: Any) -> None:
    access = app.server.extensions[EXTENSION]
    before = access.settings
    closed = f"http://127.0.0.1:{free_port()}"
    access.settings = dataclasses.replace(before, cas_url=closed + "/cas", oidc_issuer=closed)
    try:
        client = _client(app)
        r = _cas_callback(client)
        assert r.status_code == 502 and FAILED_PAGE in r.get_data(as_text=True)
        r = client.get("/auth/oidc?next=/gates")
        assert r.status_code == 502 and FAILED_PAGE in r.get_data(as_text=True)
    finally:
        access.settings = before


def test_campus_sign_in_not_configured_is_a_404_page(app: Any) -> None:
    access = app.server.extensions[EXTENSION]
    before = access.settings
    access.settings = dataclasses.replace(before, cas_url="", oidc_issuer="")
    try:
        client = _client(app)
        for path in ("/auth/cas", "/auth/cas/callback?ticket=ST-1-a", "/auth/oidc", "/auth/oidc/callback"):
            assert client.get(path).status_code == 404, path
        assert client.post("/auth/cas/callback", data={"logoutRequest": "x"}).status_code == 404
    finally:
        access.settings = before


def test_oidc_start_asks_for_code_pkce_state_and_nonce(app: Any, stub: Stub) -> None:
    stub.answers["/.well-known/openid-configuration"] = (200, "application/json", json.dumps({
        "issuer": stub.url, "authorization_endpoint": stub.url + "/auth",
        "token_endpoint": stub.url + "/token", "jwks_uri": stub.url + "/jwks",
        "scopes_supported": ["openid", "email", "profile"],
    }).encode())
    sso_oidc._provider._meta.clear()
    r = _client(app).get("/auth/oidc?next=" + quote("//evil.example/x", safe=""))
    assert r.status_code == 302
    location = urlsplit(r.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == stub.url + "/auth"
    assert query["response_type"] == "code" and query["client_id"] == "ioc"
    assert query["redirect_uri"] == "http://ioc.test/auth/oidc/callback"
    assert query["scope"] == "openid profile email"  # no "groups": this provider does not offer it
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(sso_flow.FLOW_COOKIE + "=") and "HttpOnly" in cookie and "Path=/auth/" in cookie
    # the verifier and the next page stay on IOC's side of the browser
    flows = URLSafeTimedSerializer(app.server.secret_key, salt="ioc.sso.flow").loads(
        cookie.split(";")[0].split("=", 1)[1])
    assert flows["oidc"][query["state"]][2] == "/"  # an absolute next became "/"


def test_campus_sign_in_starts_are_limited_per_address(app: Any, stub: Stub) -> None:
    stub.answers["/.well-known/openid-configuration"] = (200, "application/json", json.dumps({
        "issuer": stub.url, "authorization_endpoint": stub.url + "/auth",
        "token_endpoint": stub.url + "/token", "jwks_uri": stub.url + "/jwks",
    }).encode())
    client = _client(app)
    far = {"environ_base": {"REMOTE_ADDR": "10.4.4.4"}}
    codes = [client.get("/auth/oidc?next=/", **far).status_code for _ in range(32)]
    assert codes[:30] == [302] * 30 and codes[30:] == [429, 429]  # like the sign-in form
    assert client.get("/auth/oidc?next=/", environ_base={"REMOTE_ADDR": "10.4.4.5"}).status_code == 302


def test_flows_of_several_tabs_fit_in_one_cookie(app: Any) -> None:
    """Several sign-ins started at once (tabs) each keep their flow; long pages to return to
    push the oldest out rather than make a cookie the browser would drop."""
    client = _client(app)
    states = []
    for i in range(6):
        r = client.get("/auth/oidc?next=" + quote(f"/explore?q={i}{'x' * 1500}", safe=""))
        assert r.status_code == 302
        states.append(parse_qs(urlsplit(r.headers["Location"]).query)["state"][0])
        value = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        assert len(value) <= sso_flow.MAX_FLOW_COOKIE
    flows = URLSafeTimedSerializer(app.server.secret_key, salt="ioc.sso.flow").loads(value)
    assert states[-1] in flows["oidc"] and states[0] not in flows["oidc"]


# --- the ID token check --------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> tuple[RSAKey, RSAKey]:
    return (RSAKey.generate_key(2048, parameters={"kid": "k1"}),
            RSAKey.generate_key(2048, parameters={"kid": "k1"}))


META = {"issuer": "https://idp.example.edu.cn", "jwks_uri": "https://idp.example.edu.cn/jwks",
        "id_token_signing_alg_values_supported": ["RS256"]}


def _token(key: RSAKey, **override: Any) -> str:
    now = int(time.time())
    claims = {"iss": META["issuer"], "aud": "ioc", "sub": "li.si", "exp": now + 300, "iat": now,
              "nonce": "n-1", **override}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


@pytest.mark.parametrize("override", [
    {}, {"aud": ["ioc", "other"], "azp": "ioc"},
])
def test_id_token_that_is_right_is_accepted(keys: tuple[RSAKey, RSAKey], monkeypatch: pytest.MonkeyPatch,
                                            override: dict[str, Any]) -> None:
    monkeypatch.setattr(sso_oidc._provider, "keys", lambda uri, refresh=False: KeySet([keys[0]]))
    assert sso_oidc._verify_id_token(_token(keys[0], **override), META, "ioc", "n-1")["sub"] == "li.si"


@pytest.mark.parametrize("override", [
    {"iss": "https://elsewhere.example"}, {"aud": "another-client"}, {"aud": ["ioc", "other"]},
    {"exp": int(time.time()) - 600}, {"nonce": "n-2"}, {"nonce": None}, {"sub": None},
    {"iat": int(time.time()) + 3600},
])
def test_id_token_with_a_wrong_claim_is_refused(keys: tuple[RSAKey, RSAKey], monkeypatch: pytest.MonkeyPatch,
                                               override: dict[str, Any]) -> None:
    monkeypatch.setattr(sso_oidc._provider, "keys", lambda uri, refresh=False: KeySet([keys[0]]))
    with pytest.raises((JoseError, ValueError)):
        sso_oidc._verify_id_token(_token(keys[0], **override), META, "ioc", "n-1")


def test_id_token_signed_by_another_key_or_unsigned_is_refused(keys: tuple[RSAKey, RSAKey],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sso_oidc._provider, "keys", lambda uri, refresh=False: KeySet([keys[0]]))
    with pytest.raises(JoseError):
        sso_oidc._verify_id_token(_token(keys[1]), META, "ioc", "n-1")  # same kid, another key
    good = _token(keys[0]).split(".")
    unsigned = ".".join([base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode(), good[1], ""])
    with pytest.raises(JoseError):
        sso_oidc._verify_id_token(unsigned, META, "ioc", "n-1")


def test_the_ioc_server_log_names_no_ticket_or_code(ioc: Server) -> None:
    """Tickets and codes are credentials: they are not written to the log."""
    log = Path(ioc.log.name).read_text(errors="replace")
    assert "ST-" not in log.replace("ST-9-unknown", "")
    assert "code=" not in log
    with urllib.request.urlopen(ioc.url + "/healthz", timeout=10) as r:
        assert r.status == 200
