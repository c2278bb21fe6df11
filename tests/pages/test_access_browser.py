"""Access in real headless Chromium: every page signed out leads to sign-in, the local form
signs in and returns to the page, an unpaired wall shows its code until an operator approves
it, and a revoked screen shows the revoked page by itself."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
