"""Access in real headless Chromium: every page signed out leads to sign-in, the local form
signs in and returns to the page, an unpaired wall shows its code until an operator approves
it, and a revoked screen shows the revoked page by itself. Every page runs under the content
security policy with nothing blocked, and the whole log of the run holds no secret and no
personal number."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, TESTER, Server, add_person, product_env
from tests.pages.browsing import serving

pytestmark = pytest.mark.browser
PAGES = ["/", "/gates", "/network", "/enrollment", "/service", "/health", "/explore"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = product_env(tmp_path_factory.mktemp("access-browser"))
    with serving(env) as srv:
        add_person(env)
        yield srv


def test_every_page_signed_out_leads_to_sign_in_and_back(browser: object, server: Server) -> None:
    context = browser.anonymous(viewport={"width": 1180, "height": 820})  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    for path in PAGES:
        page.goto(f"{server.url}{path}?lang=en")
        assert page.url.startswith(f"{server.url}/auth/login?next="), (path, page.url)
        expect(page.locator("#signin-local")).to_be_visible()
        assert page.locator("#ioc-root").count() == 0  # nothing of the cockpit is served
    assert all(r.startswith(server.url) for r in requests)  # the sign-in page is offline too
    assert not any("/_dash" in r or "/assets/" in r for r in requests)
    page.goto(f"{server.url}/gates?lang=en")
    page.fill("#username", TESTER)
    page.fill("#password", "not-the-password")
    page.click("#signin-local")
    expect(page.locator("#auth-error")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.click("#signin-local")
    page.wait_for_url(re.compile(r".*/gates\?lang=en$"))
    page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
    assert page.locator("a.ioc-nav-link[href^='/explore']").count() == 1
    page.goto(f"{server.url}/gates?lang=en&theme=light")  # a tablet's page has the sign-out control
    page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
    page.click("#ioc-signout")
    page.wait_for_url(re.compile(r".*/auth/login.*"))
    page.goto(f"{server.url}/gates")
    assert "/auth/login?next=" in page.url  # signed out for good
    context.close()


def test_a_wall_is_paired_by_an_operator_and_revoked(browser: object, server: Server) -> None:
    wall_context = browser.anonymous(viewport={"width": 1920, "height": 1080})  # type: ignore[attr-defined]
    wall = wall_context.new_page()
    wall.goto(f"{server.url}/wall?lang=en")
    code = wall.locator("#pair-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code), code
    operator = browser.new_page()  # type: ignore[attr-defined]  (the tests' person holds operator)
    operator.goto(f"{server.url}/admin/screens?lang=en")
    operator.fill("#code", code)
    operator.fill("#name", "lobby-east")
    operator.check("input[name=pages][value='/gates']")
    operator.click("#approve")
    expect(operator.locator("#admin-notice")).to_contain_text("lobby-east")
    # the wall notices by itself, redeems its code and shows its playlist
    wall.wait_for_url(f"{server.url}/wall", timeout=20_000)
    wall.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'",
                           timeout=30_000)
    assert wall.locator(".wall-root").get_attribute("data-wall-pages") == "/,/gates"
    assert wall.locator("#ioc-signout").count() == 0  # a screen holds no person's session
    operator.goto(f"{server.url}/admin/screens?lang=en")  # the wall redeemed its code: listed now
    operator.locator("#screens-table tr", has_text="lobby-east").locator("button").click()
    expect(operator.locator("#admin-notice")).to_contain_text("lobby-east")
    # within a minute the wall shows the revoked page, with nobody touching it
    wall.wait_for_selector("#auth-message", timeout=60_000)
    assert wall.locator("h1").inner_text() in ("This screen was revoked", "此屏幕已被撤销")
    wall_context.close()
    operator.close()


# --- the content security policy, in the browser ----------------------------------------------

#: what a page reports when the policy blocks something (collected from the first script on)
WATCH_CSP = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));")
GRAPHS = {"/": 1, "/gates": 1, "/network": 1, "/enrollment": 1, "/service": 1, "/explore": 1, "/wall": 1}


def test_every_page_runs_under_the_content_security_policy(browser: object, server: Server) -> None:
    """The policy forbids inline scripts but Dash's own (by hash) and eval everywhere: every
    page still starts, goes live and draws its charts, and nothing is reported blocked."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})  # type: ignore[attr-defined]
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    for path in [*PAGES, "/wall", "/admin/screens", "/auth/login"]:
        response = page.goto(f"{server.url}{path}?lang=en")
        assert response is not None and response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self' 'sha256-" in policy and "unsafe-eval" not in policy, policy
        if path in GRAPHS or path in ("/health",):
            page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'",
                                   timeout=30_000)
        if path in GRAPHS:
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        page.wait_for_timeout(300)
        blocked = page.evaluate("window.__csp")
        assert blocked == [], (path, blocked)
    assert not problems, problems
    context.close()


# --- a full run's log ------------------------------------------------------------------------

ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"
WRONG_PASSWORD = "Wrong-Pass-4417!"


def test_a_full_run_logs_no_secret_and_no_personal_data(server: Server) -> None:
    """Ingest with a token (and with a wrong one), events carrying an ID number and a mobile
    number, sign-ins that fail and succeed, pages and APIs, a forged line in a query: the
    whole log of the run holds none of the secrets or numbers, and no line was forged."""
    import http.client
    import urllib.parse
    import urllib.request

    import orjson

    from ingest.registry import BY_NAME
    from ioc_app import auth

    token = auth.create_token(server.env["IOC_TOKENS_FILE"], "gates-log", ["gate.pass"], set(BY_NAME))
    wrong_token = "ioc_" + "w" * 40

    def ingest(events: list[dict], bearer: str) -> int:
        req = urllib.request.Request(server.url + "/api/v1/ingest/gate.pass", data=orjson.dumps(events),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {bearer}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    now_ms = int(time.time() * 1000)
    base = {"ts": now_ms, "campus": "main", "gate_id": "main-north", "lane": 1, "direction": "in",
            "person_type": "student", "method": "face", "result": "pass"}
    assert ingest([{**base, "event_id": "log-1"}], token) == 200
    assert ingest([{**base, "event_id": "log-2", "person_key": ID_NUMBER},
                   {**base, "event_id": "log-3", "person_key": MOBILE},
                   {**base, "event_id": "log-4", "gate_id": f"g {ID_NUMBER} {MOBILE}"}], token) == 200
    assert ingest([{**base, "event_id": "log-5"}], wrong_token) == 401
    # a failed and a good sign-in through the form
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for password in (WRONG_PASSWORD, PASSWORD):
        conn.request("POST", "/auth/login", urllib.parse.urlencode(
            {"username": TESTER, "password": password, "next": "/"}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        conn.getresponse().read()
    conn.close()
    session = server.session()
    forged = "%0Aevent=admin.login%20user=root"
    for path in ("/api/v1/snapshot", "/api/v1/query/gate?grain=hour", f"/api/v1/query/gate?gate_id={MOBILE}",
                 "/api/v1/deadletter?stream=gate.pass", f"/?screen={forged}", f"/wall?screen={forged}",
                 f"/api/v1/query/{forged}", f"/api/v1/snapshot?at={forged}"):
        try:
            server.open(path).read()  # type: ignore[attr-defined]
        except urllib.error.HTTPError as exc:
            assert exc.code < 500, (path, exc.code)
    beat = orjson.dumps({"page": f"/\nevent=admin.login {ID_NUMBER}", "screen": MOBILE})
    server.open("/api/v1/heartbeat", data=beat, headers={"Content-Type": "text/plain"}).read()  # type: ignore[attr-defined]
    time.sleep(2)  # the writer's and the audit's lines of what was just done
    log = Path(server.log.name).read_text(encoding="utf-8", errors="replace")
    assert "event=server.start" in log  # the file is the server's whole output
    secrets = {"ingest token": token, "wrong token": wrong_token, "session": session, "password": PASSWORD,
               "wrong password": WRONG_PASSWORD, "ID number": ID_NUMBER, "ID digits": ID_NUMBER[:17],
               "mobile": MOBILE, "mobile dashed": "138-1234-5678"}
    for what, value in secrets.items():
        assert value not in log, f"the {what} is in the log"
    forged_lines = [line for line in log.splitlines() if "admin.login" in line and not line.startswith("ts=")]
    assert not forged_lines, forged_lines
