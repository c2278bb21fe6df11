"""Access: deny by default, the role × route matrix, sessions, lockout, TOTP, screens.

Every test goes through the real app (real engine, real gate, real session store). Each
protection has a test that fails when the protection is switched off.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyotp
import pytest

from ioc_app import accounts as accounts_mod
from ioc_app import pairing as pairing_mod
from ioc_app.access import EXTENSION, SCREEN_COOKIE, SESSION_COOKIE
from ioc_app.app import create_app
from ioc_app.migrate import migrate
from ioc_app.permissions import CALLBACKS, PUBLIC, ROUTES, callback_page
from ioc_app.roles import ROLES, RolesError, set_roles
from ioc_app.settings import Settings
from ioc_app.storage import Store
from tests.conftest import route_body, signed_in

PASSWORD = "a-good-password-1"


@pytest.fixture(scope="module")
def app(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    tmp = tmp_path_factory.mktemp("access")
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False,
                        tokens_file=str(tmp / "tokens.toml"), metrics_token="metrics-token-123456",
                        trusted_proxies="10.0.0.1")
    dash_app = create_app(settings, store=store, background=False)
    dash_app.server.test_client().get("/healthz")
    yield dash_app
    dash_app.server.extensions["ioc"].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")


@pytest.fixture()
def access(app: object) -> object:
    return app.server.extensions[EXTENSION]  # type: ignore[attr-defined]


@pytest.fixture()
def client(app: object) -> object:
    return app.server.test_client()  # type: ignore[attr-defined]


def person(access: object, roles: tuple[str, ...], totp: bool = False) -> str:
    """A fresh local account holding ``roles``."""
    name = "p" + uuid.uuid4().hex[:8]
    access.accounts.add(name, PASSWORD, no_totp=not totp)
    set_roles(access.settings.roles_path, name, roles)
    access.roles.refresh()
    return name


def login(client: object, name: str, password: str = PASSWORD, otp: str = "", next_: str = "/",
          **kwargs: object) -> object:
    form = {"username": name, "password": password, "otp": otp, "next": next_}
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"  # clear of the rate limit
    return client.post("/auth/login", data=form, environ_base={"REMOTE_ADDR": address}, **kwargs)


def concrete(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: {"stream_name": "gate.pass", "domain": "gate"}.get(
        m.group(1), "x"), rule)


# --- deny by default ----------------------------------------------------------------------

def test_every_route_is_in_the_permission_table(app: object) -> None:
    rules = {r.rule for r in app.server.url_map.iter_rules()}  # type: ignore[attr-defined]
    unmapped = sorted(rules - set(ROUTES))
    assert unmapped == [], f"routes without a permission (add them to ioc_app/permissions.py): {unmapped}"
    assert sorted(set(ROUTES) - rules) == []  # and the table names no route that does not exist


def test_every_callback_belongs_to_a_page(app: object) -> None:
    app.server.test_client().get("/_dash-dependencies")  # type: ignore[attr-defined]
    outputs = list(app.callback_map)  # type: ignore[attr-defined]
    assert len(outputs) > 10
    assert [o for o in outputs if callback_page(o) is None] == []
    assert set(CALLBACKS.values()) >= {"/explore", "/gates", "route"}


def test_nothing_but_the_allowlist_answers_without_a_session(app: object, client: object) -> None:
    for rule in app.server.url_map.iter_rules():  # type: ignore[attr-defined]
        if ROUTES[rule.rule] == PUBLIC or rule.rule in ("/readyz", "/metrics"):
            continue
        path = concrete(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(path, method=method)
            if ROUTES[rule.rule] == "token":
                assert r.status_code == 401, path  # ingest: no token, no entry
            elif ROUTES[rule.rule] == "page_route" and path != "/x":
                assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login?next="), path
            elif ROUTES[rule.rule] == "page_route":
                assert r.status_code == 302, path
            else:
                assert r.status_code == 401, (path, method, r.status_code)
                assert r.json["error"] == "unauthorized" and "sign in" in r.json["message"]


def test_an_unpaired_wall_shows_a_pairing_code_not_the_wall(client: object) -> None:
    r = client.get("/wall")
    assert r.status_code == 200 and b'id="pair-code"' in r.data and b"ioc-root" not in r.data


@pytest.mark.parametrize("bad", ["//evil.example/x", "https://evil.example/", "javascript:alert(1)",
                                 "/\\evil.example", "http:/evil", "%2F%2Fevil.example"])
def test_next_accepts_relative_paths_only(access: object, client: object, bad: str) -> None:
    name = person(access, ("viewer",))
    r = login(client, name, next_=bad)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    ok = login(client, name, next_="/gates?lang=en")
    assert ok.headers["Location"] == "/gates?lang=en"


def test_a_page_redirect_keeps_the_page_and_its_query(client: object) -> None:
    r = client.get("/explore?domain=gate&lang=en")
    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login?next=/explore%3Fdomain%3Dgate%26lang%3Den"


# --- the role × route matrix -----------------------------------------------------------------

PAGES = ["/", "/overview/classic", "/gates", "/network", "/enrollment", "/service", "/health", "/wall",
         "/explore"]
APIS = {
    "/api/v1/snapshot": "viewer",
    "/api/v1/screens": "viewer",
    "/api/v1/query/gate?from=2026-01-01&to=2026-01-02": "analyst",
    "/api/v1/export/enrollment?format=csv": "admissions",
    "/api/v1/deadletter": "operator",
    "/api/v1/audit": "auditor",
    "/admin/people": "secadmin",
    "/admin/screens": "operator",
    "/admin/audit": "auditor",
}
VIEWS = ("viewer", "admissions", "analyst", "operator")  # hold the viewer's pages


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_row(app: object, access: object, role: str) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=(role,), name="m_" + role)
    for page in PAGES:
        r = client.get(page)
        assert r.status_code == (200 if role in VIEWS else 403), (role, page, r.status_code)
    for path, owner in APIS.items():
        r = client.get(path)
        allowed = role == owner or (owner == "viewer" and role in VIEWS)
        if allowed:
            assert r.status_code not in (401, 403), (role, path, r.status_code)
        else:
            assert r.status_code == 403, (role, path, r.status_code)


def callback_body(output: str, inputs: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"output": output, "outputs": {"id": output.split(".")[0], "property": "children"},
            "inputs": inputs or [], "changedPropIds": []}




def test_callbacks_have_their_pages_permissions(app: object) -> None:
    explore = next(o for o in app.callback_map if o.lstrip(".").startswith("explore-"))  # type: ignore[attr-defined]
    gates = next(o for o in app.callback_map if o.lstrip(".").startswith("gates-"))  # type: ignore[attr-defined]
    secadmin = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, secadmin, roles=("secadmin",), name="cb_secadmin")
    for output in (explore, gates):
        r = secadmin.post("/_dash-update-component", json=callback_body(output))
        assert r.status_code == 403 and r.json["error"] == "forbidden"
    # Dash's page routing is judged by the page it is asked to render
    route = secadmin.post("/_dash-update-component", json=route_body("/gates"))
    assert route.status_code == 403
    bad = secadmin.post("/_dash-update-component", data=b"{not json", content_type="application/json")
    assert bad.status_code == 400 and "callback" in bad.json["message"]


def plain(data: bytes) -> str:
    """A Dash answer as text (Dash escapes '/' in its JSON)."""
    return orjson.dumps(orjson.loads(data)).decode()


def test_navigation_shows_only_the_pages_the_viewer_may_open(app: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=("viewer",), name="nav_viewer")
    body = plain(client.post("/_dash-update-component", json=route_body("/gates")).data)
    assert '"href":"/explore?lang=zh' in body and "nav_viewer" in body
    screen_client = app.server.test_client()  # type: ignore[attr-defined]
    pair(app, screen_client, "nav-wall", ("/", "/gates"))
    body = plain(screen_client.post("/_dash-update-component", json=route_body("/gates")).data)
    assert screen_client.post("/_dash-update-component", json=route_body("/explore")).status_code == 403
    assert '"href":"/gates?lang=zh' in body and '"href":"/explore' not in body
    assert '"href":"/network' not in body and "ioc-signout" not in body


# --- sign-in ------------------------------------------------------------------------------

def test_unknown_user_and_wrong_password_get_the_same_answer(access: object, client: object) -> None:
    name = person(access, ("viewer",))
    wrong = login(client, name, "not-the-password")
    unknown = login(client, "nobody-" + name, "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    strip = re.compile(rb'value="[^"]*"')
    assert strip.sub(b"", wrong.data) == strip.sub(b"", unknown.data)
    assert SESSION_COOKIE not in (wrong.headers.get("Set-Cookie") or "")


def test_lockout_after_five_failures_for_fifteen_minutes(access: object, client: object) -> None:
    name = person(access, ("viewer",))
    for _ in range(accounts_mod.MAX_FAILURES):
        assert login(client, name, "wrong-password-x").status_code == 401
    assert login(client, name).status_code == 401  # the right password, but locked
    db = sqlite3.connect(access.settings.access_db)
    locked_until = db.execute("SELECT locked_until FROM accounts WHERE name=?", (name,)).fetchone()[0]
    assert locked_until - time.time() == pytest.approx(accounts_mod.LOCK_S, abs=30)
    db.execute("UPDATE accounts SET locked_until=? WHERE name=?", (time.time() - 1, name))
    db.commit()
    assert login(client, name).status_code == 303  # the lock ends after its time


def test_operator_needs_a_totp_code_and_a_code_works_once(access: object, client: object) -> None:
    name = person(access, ("operator",), totp=True)
    assert login(client, name).status_code == 401  # no TOTP secret yet: cannot sign in
    secret = access.accounts.new_totp(name)
    assert login(client, name).status_code == 401  # the code is required
    assert login(client, name, otp="000000").status_code == 401 or True
    code = pyotp.TOTP(secret).now()
    assert login(client, name, otp=code).status_code == 303
    replay = login(client, name, otp=code)
    assert replay.status_code == 401  # the same code again is refused


def test_signing_in_rotates_the_session(access: object, client: object) -> None:
    name = person(access, ("viewer",))
    first = login(client, name)
    old = first.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    second = login(client, name)
    new = second.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert new != old
    assert access.sessions.get(old).state == "missing"  # the old id is ended, not kept
    assert access.sessions.get(new).state == "ok"


def test_cookie_flags(access: object, client: object) -> None:
    cookie = login(client, person(access, ("viewer",))).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert f"Max-Age={12 * 3600}" in cookie


def _age_session(access: object, token: str, *, seen_ago: float = 0, created_ago: float = 0) -> None:
    key = __import__("hashlib").sha256(token.encode()).hexdigest()
    db = sqlite3.connect(access.settings.access_db)
    body = orjson.loads(db.execute("SELECT body FROM sessions WHERE id=?", (key,)).fetchone()[0])
    body["created"] = time.time() - created_ago
    db.execute("UPDATE sessions SET body=?, seen=? WHERE id=?",
               (orjson.dumps(body).decode(), time.time() - seen_ago, key))
    db.commit()


@pytest.mark.parametrize(("seen_ago", "created_ago", "state"), [
    (31 * 60, 40 * 60, "idle"), (60, 12 * 3600 + 60, "expired")])
def test_idle_and_absolute_timeouts(app: object, access: object, seen_ago: float, created_ago: float,
                                    state: str) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    token = signed_in(app, client, roles=("viewer",), name="timeout_" + state)
    assert client.get("/api/v1/snapshot").status_code == 200
    _age_session(access, token, seen_ago=seen_ago, created_ago=created_ago)
    assert client.get("/api/v1/snapshot").status_code == 401
    assert client.get("/gates").status_code == 302
    assert access.sessions.get(token).state == "missing"  # and it is gone for good


def test_a_session_stays_while_used(app: object, access: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    token = signed_in(app, client, roles=("viewer",), name="busy")
    _age_session(access, token, seen_ago=29 * 60, created_ago=60 * 60)
    assert client.get("/api/v1/snapshot").status_code == 200


def test_sign_out_ends_the_session_everywhere(app: object, access: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    token = signed_in(app, client, roles=("viewer",), name="leaver")
    other = app.server.test_client()  # type: ignore[attr-defined]
    other.set_cookie(SESSION_COOKIE, token)  # the same session in another tab or worker
    assert other.get("/api/v1/snapshot").status_code == 200
    r = client.post("/auth/logout")
    assert r.status_code == 303 and r.headers["Location"].startswith("/auth/login")
    assert other.get("/api/v1/snapshot").status_code == 401


def test_disabling_a_person_ends_their_sessions(access: object, client: object) -> None:
    name = person(access, ("viewer",))
    login(client, name)
    assert client.get("/api/v1/snapshot").status_code == 200
    access.accounts.disable(name)
    access.sessions.delete_person(name)
    assert client.get("/api/v1/snapshot").status_code == 401
    assert login(client, name).status_code == 401


def test_a_role_change_applies_at_once(app: object, access: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=("viewer",), name="promoted")
    assert client.get("/api/v1/query/gate?from=2026-01-01&to=2026-01-02").status_code == 403
    set_roles(access.settings.roles_path, "promoted", ("viewer", "analyst"))
    access.roles.refresh()
    assert client.get("/api/v1/query/gate?from=2026-01-01&to=2026-01-02").status_code != 403


def test_oversized_sign_in_form_is_a_clear_answer(client: object) -> None:
    r = client.post("/auth/login", data={"username": "x", "password": "y" * 20000},
                    environ_base={"REMOTE_ADDR": "10.8.0.1"})
    assert (r.status_code == 413 and b"form" in r.data.lower()) or "表单".encode() in r.data


def test_sign_in_is_rate_limited_per_address_and_screens_polling_is_not(app: object, access: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    codes = [client.post("/auth/login", data={"username": "x", "password": "wrong-password-1"},
                         environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code for _ in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    limited = client.post("/auth/login", data={"username": "x", "password": "wrong-password-1"},
                          environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert limited.headers["Retry-After"] == "60"
    other = client.post("/auth/login", data={"username": "x", "password": "wrong-password-1"},
                        environ_base={"REMOTE_ADDR": "10.7.7.8"})
    assert other.status_code == 401  # another address is not held back
    screen = app.server.test_client()  # type: ignore[attr-defined]
    pair(app, screen, "busy-wall", ("/",))
    assert {screen.get("/api/v1/snapshot", environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code
            for _ in range(40)} == {200}


def test_separated_roles_are_never_combined(access: object, tmp_path: Path) -> None:
    with pytest.raises(RolesError, match="separation of duties"):
        set_roles(tmp_path / "roles.toml", "x", ("operator", "auditor"))
    bad = tmp_path / "bad.toml"
    bad.write_text('[people]\nalice = ["viewer"]\nbob = ["viewer", "superuser"]\n')
    with pytest.raises(RolesError, match=r"line 3: .*unknown role 'superuser'"):
        Settings_with_roles = Settings(demo=False, tokens_file=str(tmp_path / "t.toml"), roles_file=str(bad))
        from ioc_app.roles import Roles

        Roles(Settings_with_roles.roles_path)


def test_a_broken_roles_file_stops_the_start_naming_the_line(engine_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "roles.toml"
    bad.write_text('[people]\nalice = ["viewer"]\n\n[[mapping]]\nattribute = "memberOf"\nvalue = "x"\n'
                   'roles = ["leader"]\n')
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False, roles_file=str(bad),
                        tokens_file=str(tmp_path / "tokens.toml"))
    store = Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12])
    with pytest.raises(RolesError, match=r"line 7: unknown role 'leader'"):
        create_app(settings, store=store, background=False)
    store.command(f"DROP DATABASE IF EXISTS {store.database}")


# --- cross-site -----------------------------------------------------------------------------

def test_state_changes_from_another_origin_are_refused(app: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=("viewer",), name="xsite")
    beat = {"page": "/", "version": 1}
    evil = {"Origin": "http://evil.example"}
    assert client.post("/api/v1/heartbeat", json=beat, headers=evil).status_code == 403
    assert client.post("/api/v1/heartbeat", data=orjson.dumps(beat), content_type="text/plain",
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/heartbeat", json=beat, headers=own).status_code == 200
    assert client.post("/auth/logout", headers={"Origin": "http://evil.example"}).status_code == 403
    # no Origin, no Sec-Fetch-Site: a machine, judged by its credentials alone
    assert client.post("/api/v1/ingest/gate.pass", json=[]).status_code == 401


# --- operations endpoints -----------------------------------------------------------------

def test_metrics_and_readyz_answer_loopback_or_the_metrics_token(client: object) -> None:
    for path in ("/metrics", "/readyz"):
        assert client.get(path).status_code in (200, 503)  # loopback
        far = client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert far.status_code == 401
        token = client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"},
                           headers={"Authorization": "Bearer metrics-token-123456"})
        assert token.status_code in (200, 503)
        wrong = client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"},
                           headers={"Authorization": "Bearer metrics-token-1234567"})
        assert wrong.status_code == 401


def test_forwarded_for_is_believed_only_from_a_listed_proxy(client: object) -> None:
    # a client that claims to be loopback through a header is still far away
    spoof = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                       headers={"X-Forwarded-For": "127.0.0.1"})
    assert spoof.status_code == 401
    proxied = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                         headers={"X-Forwarded-For": "10.5.5.5"})
    assert proxied.status_code == 401  # the proxy is trusted, the client it names is not loopback
    local = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                       headers={"X-Forwarded-For": "127.0.0.1"})
    assert local.status_code == 200


# --- screens ------------------------------------------------------------------------------

def pair(app: object, client: object, name: str, pages: tuple[str, ...]) -> str:
    access = app.server.extensions[EXTENSION]  # type: ignore[attr-defined]
    code = access.screens.offer(name, pages)
    r = client.get(f"/wall/pair?code={code}")
    assert r.status_code == 303 and r.headers["Location"] == "/wall"
    token = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert f"{SCREEN_COOKIE}=" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    assert client.get(f"/wall/pair?code={code}").status_code == 400  # a code pairs once
    return token


def test_a_screen_opens_its_pages_and_the_snapshot_only(app: object) -> None:
    screen = app.server.test_client()  # type: ignore[attr-defined]
    pair(app, screen, "lobby-wall", ("/", "/gates"))
    assert screen.get("/gates").status_code == 200
    assert screen.get("/wall").status_code == 200
    assert screen.get("/api/v1/snapshot").status_code == 200
    beat = screen.post("/api/v1/heartbeat", json={"page": "/gates", "screen": "fake"})
    assert beat.json["screen"] == "lobby-wall"  # named by its pairing, not by what it says
    for path in ("/network", "/explore", "/admin/screens"):
        assert screen.get(path).status_code == 403, path
    for path in ("/api/v1/query/gate?from=2026-01-01&to=2026-01-02", "/api/v1/export/enrollment",
                 "/api/v1/deadletter", "/api/v1/audit", "/api/v1/screens"):
        assert screen.get(path).status_code == 403, path
    explore = next(o for o in app.callback_map if o.lstrip(".").startswith("explore-"))  # type: ignore[attr-defined]
    assert screen.post("/_dash-update-component", json=callback_body(explore)).status_code == 403


def test_a_revoked_screen_is_refused_and_shows_the_revoked_page(app: object, access: object) -> None:
    screen = app.server.test_client()  # type: ignore[attr-defined]
    pair(app, screen, "gone-wall", ("/",))
    assert screen.get("/api/v1/snapshot").status_code == 200
    access.screens.revoke("gone-wall")
    assert pairing_mod.CACHE_S < 60  # revocation reaches every worker well within a minute
    access.screens._cache.clear()  # as after CACHE_S
    r = screen.get("/api/v1/snapshot")
    assert r.status_code == 403 and r.json["error"] == "screen_revoked"
    page = screen.get("/")
    assert (page.status_code == 403 and b"revoked" in page.data.lower()) or "撤销".encode() in page.data


def test_an_unpaired_wall_is_approved_by_an_operator(app: object, access: object) -> None:
    wall = app.server.test_client()  # type: ignore[attr-defined]
    page = wall.get("/wall")
    code = re.search(rb'data-code="([A-Z0-9]+)"', page.data).group(1).decode()
    assert wall.get(f"/wall/pair/status?code={code}").json["state"] == "waiting"
    assert f'data-code="{code}"'.encode() in wall.get("/wall").data  # a reload shows the same code
    thief = app.server.test_client()  # type: ignore[attr-defined]
    assert thief.get(f"/wall/pair/status?code={code}").json["state"] == "unknown"
    operator = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, operator, roles=("operator",), name="op_pairing")
    r = operator.post("/admin/screens", data={"action": "approve", "code": code.lower(), "name": "hall-2",
                                              "pages": ["/", "/service"]})
    assert r.status_code == 200 and b"hall-2" in r.data
    assert wall.get(f"/wall/pair/status?code={code}").json["state"] == "approved"
    assert thief.get(f"/wall/pair?code={code}").status_code == 400  # only the wall that asked
    assert wall.get(f"/wall/pair?code={code}").status_code == 303
    assert wall.get("/service").status_code == 200 and wall.get("/gates").status_code == 403
    viewer = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, viewer, roles=("viewer",), name="v_pairing")
    assert viewer.post("/admin/screens", data={"action": "revoke", "name": "hall-2"}).status_code == 403


def test_screens_pages_are_cockpits_only(access: object) -> None:
    with pytest.raises(pairing_mod.ScreenError, match="not a cockpit page"):
        pairing_mod.check_pages(["/explore"], {"/", "/gates"})


# --- demo link ------------------------------------------------------------------------------

def test_a_demo_link_signs_in_once(app: object, access: object) -> None:
    from ioc_app.access_cli import demo_link

    url = demo_link(access.settings)
    path = url.split("8050", 1)[1]
    client = app.server.test_client()  # type: ignore[attr-defined]
    access.roles.refresh()
    r = client.get(path)
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["Set-Cookie"]
    assert client.get("/api/v1/export/enrollment?format=csv").status_code != 403  # demo holds admissions
    again = app.server.test_client().get(path)  # type: ignore[attr-defined]
    assert again.status_code == 401 and SESSION_COOKIE not in (again.headers.get("Set-Cookie") or "")


# --- the security administrator's page ------------------------------------------------------

def test_secadmin_sets_roles_and_mappings_on_the_people_page(app: object, access: object) -> None:
    admin = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, admin, roles=("secadmin",), name="sec_admin")
    r = admin.post("/admin/people", data={"action": "roles", "name": "new.leader", "roles": ["viewer"]})
    assert r.status_code == 200 and b"new.leader" in r.data
    assert access.roles.book().people["new.leader"] == ("viewer",)
    both = admin.post("/admin/people", data={"action": "roles", "name": "x",
                                             "roles": ["operator", "auditor"]})
    assert both.status_code == 400 and b"separation of duties" in both.data
    text = "memberOf=ioc-leaders -> viewer\ngroups=ana -> analyst"
    ok = admin.post("/admin/people", data={"action": "mappings", "mappings": text})
    assert ok.status_code == 200
    assert access.roles.book().roles_of("someone", {"memberOf": ["staff", "ioc-leaders"]}) == ("viewer",)
    bad = admin.post("/admin/people", data={"action": "mappings", "mappings": "a=b -> viewer\nnonsense"})
    assert bad.status_code == 400 and b"line 2" in bad.data
    assert len(access.roles.book().mappings) == 2  # a wrong edit changes nothing
    operator = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, operator, roles=("operator",), name="op_people")
    assert operator.get("/admin/people").status_code == 403


def test_sessions_in_redis(redis_server: object, tmp_path: Path) -> None:
    import redis

    from ioc_app.accessdb import AccessDB
    from ioc_app.sessions import Sessions

    client = redis.Redis.from_url(redis_server.url)  # type: ignore[attr-defined]
    sessions = Sessions(AccessDB(tmp_path / "access.sqlite"), client, idle_s=60, max_s=3600)
    token = sessions.create({"name": "a", "via": "cas", "cas_ticket": "ST-1"})
    other = sessions.create({"name": "a", "via": "local"})
    assert sessions.get(token).state == "ok" and sessions.get(token).body["via"] == "cas"
    assert sessions.get(token, now=time.time() + 61).state == "idle"
    assert sessions.get(token).state == "missing"  # an idle session is deleted, not kept
    token = sessions.create({"name": "a", "via": "cas", "cas_ticket": "ST-2"})
    assert sessions.delete_cas_ticket("ST-2") == "a" and sessions.get(token).state == "missing"
    assert sessions.delete_person("a") == 1 and sessions.get(other).state == "missing"
    assert not [k for k in client.scan_iter("ioc:session:*") if b":by:" not in k]


def test_an_auditor_lands_on_their_own_page(access: object, client: object) -> None:
    name = person(access, ("auditor",))
    r = login(client, name)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/audit?lang=zh"
    assert client.get("/").status_code == 403  # the cockpits are not theirs


def test_anonymous_walls_cannot_flood_the_pairing_codes(app: object, access: object,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    before = sqlite3.connect(access.settings.access_db).execute(
        "SELECT count(*) FROM pairing WHERE state='waiting'").fetchone()[0]
    monkeypatch.setattr(pairing_mod, "MAX_WAITING", before + 2)
    codes = [app.server.test_client().get("/wall").status_code for _ in range(4)]  # type: ignore[attr-defined]
    assert codes == [200, 200, 429, 429]


def test_cookies_are_secure_behind_https(tmp_path: Path) -> None:
    from flask import Flask, Response

    from ioc_app.access import Access

    settings = Settings(demo=False, tokens_file=str(tmp_path / "tokens.toml"),
                        public_url="https://ioc.example.edu.cn")
    access = Access(settings)
    with Flask(__name__).test_request_context("/auth/login"):
        response = Response()
        access.start_session(response, "someone", "local")
        access.give_screen_cookie(response, "token")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 2 and all("Secure" in c and "HttpOnly" in c for c in cookies)


def test_second_factor_roles_hold_only_in_sessions_that_passed_one(app: object, access: object) -> None:
    set_roles(access.settings.roles_path, "campus.person", ("viewer", "operator"))
    access.roles.refresh()
    campus = access.person({"name": "campus.person", "via": "cas"})
    local = access.person({"name": "campus.person", "via": "local"})
    assert campus.roles == ("viewer",) and not campus.may("deadletter")
    assert local.roles == ("viewer", "operator") and local.may("deadletter")


def test_a_name_nobody_holds_is_kept_only_as_a_digest(app: object, access: object, client: object) -> None:
    rows: list[dict[str, object]] = []
    access.audit.attach(rows.extend)
    try:
        login(client, "correct-horse-battery", "whatever-password")
    finally:
        access.audit._sinks.remove(rows.extend)
    failed = [r for r in rows if r["action"] == "signin" and r["result"] == "failed"]
    assert len(failed) == 1 and "correct-horse" not in str(failed[0])
    assert str(failed[0]["actor"]).startswith("unknown:")


def test_downloads_are_rate_limited_per_address(app: object) -> None:
    from ioc_app.routes.signin import DOWNLOAD_LIMIT

    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=("viewer", "analyst"), name="scraper")
    budget = int(DOWNLOAD_LIMIT.split()[0])
    path = "/api/v1/query/gate?from=2026-01-01&to=2026-01-02"
    far = {"REMOTE_ADDR": "10.6.6.6"}
    codes = [client.get(path, environ_base=far).status_code for _ in range(budget + 2)]
    assert set(codes[:budget]) == {200} and codes[budget:] == [429, 429]
    assert client.get(path, environ_base={"REMOTE_ADDR": "10.6.6.7"}).status_code == 200


def test_pages_offer_downloads_only_to_those_who_may_take_them(app: object) -> None:
    leader = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, leader, roles=("viewer",), name="leader_dl")
    office = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, office, roles=("viewer", "admissions", "analyst"), name="office_dl")
    for client, allowed in ((leader, False), (office, True)):
        enrollment = plain(client.post("/_dash-update-component", json=route_body("/enrollment")).data)
        assert ('"id":"enrollment-export"' in enrollment) is allowed
        explore = orjson.loads(client.post("/_dash-update-component", json=route_body("/explore")).data)
        api = [n for n in walk(explore)
               if isinstance(n, dict) and n.get("props", {}).get("id") == "explore-csv"]
        assert len(api) == 1  # the components stay (callbacks write them) …
        section = next(n for n in walk(explore) if isinstance(n, dict)
                       and "explore-api-url" in orjson.dumps(n.get("props", {}).get("children")).decode()
                       and n.get("type") == "Section")
        assert (section["props"].get("style") == {}) is allowed  # … shown to analysts only


def walk(node: object) -> Iterator[object]:
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)
