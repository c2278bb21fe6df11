"""Access for the benchmarks: paired wall screens and a signed-in person, as the product gives them.

The product is deny by default, so a benchmark that reads anything but ``/healthz``,
``/readyz``, ``/metrics`` (loopback) or the ingest route (bearer token) must hold a cookie:

- a wall is a paired screen: :func:`screen_codes` writes approved pairing codes into the
  product's access file (what ``python -m ioc_app screen add`` does; the server, running or
  not, reads the same file), and :func:`pair` redeems one at ``/wall/pair?code=`` over HTTP,
  returning the ``ioc_screen`` cookie; :func:`pair_screens` does both for N screens;
- a person: :func:`add_person` writes a local account and its roles (what ``user add`` does),
  and :func:`sign_in` posts the real sign-in form once, returning the ``ioc_session`` cookie
  (the sign-in POST is limited to 10 a minute per address: sign in once, reuse the cookie).

Also :func:`store_statements`, the server's ClickHouse statement counters by origin
(``ioc_store_statements`` on ``/metrics``), and :func:`wait_healthy`.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

SCREEN_COOKIE = "ioc_screen"
SESSION_COOKIE = "ioc_session"


def _access(env: Mapping[str, str]) -> Any:
    """The product's access file and roles file, as the server with ``env`` reads them."""
    from ioc_app.access import Access
    from ioc_app.settings import load_settings

    return Access(load_settings(dict(env), dotenv=None))


def _conn(url: str, timeout: float = 30) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)


def _cookie(headers: Any, name: str) -> str | None:
    for raw in headers.get_all("Set-Cookie") or []:
        if raw.startswith(name + "="):
            return raw.split(";", 1)[0].split("=", 1)[1]
    return None


def screen_codes(env: Mapping[str, str], names: Iterable[str], pages: Iterable[str] = ("/",)) -> list[str]:
    """Approved pairing codes (10 minutes, single use) for screens ``names`` showing ``pages``."""
    screens = _access(env).screens
    return [screens.offer(name, tuple(pages)) for name in names]


def _cookie_from(url: str, method: str, path: str, name: str, body: str | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, str | None]:
    """One request; its status and the value of the cookie ``name`` it set (or None)."""
    conn = _conn(url)
    try:
        conn.request(method, path, body, headers or {})
        r = conn.getresponse()
        r.read()
        return r.status, _cookie(r.headers, name)
    finally:
        conn.close()


def pair(url: str, code: str) -> str:
    """Redeem ``code`` as a wall does (``GET /wall/pair?code=``): the screen's cookie value."""
    status, cookie = _cookie_from(url, "GET", "/wall/pair?code=" + urllib.parse.quote(code), SCREEN_COOKIE)
    if status != 303 or not cookie:
        raise RuntimeError(f"pairing with code {code} failed: HTTP {status}")
    return cookie


def pair_screens(env: Mapping[str, str], url: str, names: Iterable[str],
                 pages: Iterable[str] = ("/",)) -> list[str]:
    """Pair one screen per name through ``/wall/pair``: each its own ``ioc_screen`` cookie."""
    return [pair(url, code) for code in screen_codes(env, list(names), pages)]


def add_person(env: Mapping[str, str], name: str, roles: Iterable[str] = ("viewer",),
               password: str | None = None) -> str:
    """A local account with ``roles`` in the product's files (no second factor: the roles a
    benchmark needs do not require one); returns its password."""
    from ioc_app.accounts import generate_password
    from ioc_app.roles import set_roles

    access = _access(env)
    password = password or generate_password() + generate_password()
    if access.accounts.exists(name):
        access.accounts.passwd(name, password)
    else:
        access.accounts.add(name, password, no_totp=True)
    set_roles(access.settings.roles_path, name, tuple(roles))
    return password


def sign_in(url: str, name: str, password: str) -> str:
    """Sign in through the real form (``POST /auth/login``): the session cookie value."""
    form = urllib.parse.urlencode({"username": name, "password": password, "next": "/"})
    status, cookie = _cookie_from(url, "POST", "/auth/login", SESSION_COOKIE, form,
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 303 or not cookie:
        raise RuntimeError(f"sign-in of {name} failed: HTTP {status}")
    return cookie


def screen_header(cookie: str) -> dict[str, str]:
    return {"Cookie": f"{SCREEN_COOKIE}={cookie}"}


def session_header(cookie: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={cookie}"}


def store_statements(url: str) -> dict[str, int]:
    """ClickHouse statements the server ran so far, by origin (``core``, ``writer``,
    ``request``…), from ``/metrics`` (answered to loopback clients). One process serves in
    embedded mode, so these are the server's whole counts."""
    conn = _conn(url, timeout=10)
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        text = r.read().decode()
    finally:
        conn.close()
    if r.status != 200:
        raise RuntimeError(f"/metrics answered {r.status}")
    return {m.group(1): int(float(m.group(2))) for m in
            re.finditer(r'^ioc_store_statements_total\{origin="([^"]+)"\} ([0-9.e+]+)$', text, re.M)}


def wait_healthy(url: str, proc: Any, timeout: float = 90, log: Any = None) -> None:
    """Until ``/healthz`` answers 200 (the server is up; no snapshot needed yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            conn = _conn(url, timeout=2)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            conn.close()
            if r.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    tail = log.read_text()[-2000:] if log is not None else ""
    raise SystemExit(f"server did not start: {tail}")


def wait_snapshot(url: str, headers: dict[str, str], timeout: float = 90) -> None:
    """Until ``/api/v1/snapshot`` answers 200 with these credentials (the core's first tick)."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        try:
            conn = _conn(url, timeout=5)
            conn.request("GET", "/api/v1/snapshot", headers=headers)
            r = conn.getresponse()
            r.read()
            conn.close()
            status = r.status
            if status == 200:
                return
            if status in (401, 403):
                raise SystemExit(f"/api/v1/snapshot refused the benchmark's credentials: HTTP {status}")
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"no snapshot after {timeout:.0f}s (last answer: HTTP {status})")
