"""The one place that decides access, before any view or callback runs.

Every request is judged here against ``ioc_app.permissions``: public routes pass, the
ingest route goes to its bearer-token check, operations endpoints answer loopback clients
or the metrics token, and everything else needs a principal with the route's permission.
Without one, pages redirect to sign-in (an unpaired wall shows its pairing code instead)
and APIs and Dash's routes answer 401; with the wrong roles, 403 — per Dash callback too.
A browser request that changes state from another origin is refused before anything else
(a browser names its origin in ``Origin`` or ``Sec-Fetch-Site``; source systems with bearer
tokens send neither and are judged by their token), and a Dash callback larger than
``ioc_app.web.CALLBACK_MAX_BYTES`` is refused with 413 before it is read.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
from flask import Flask, Response, g, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge

from ioc_app.access import SCREEN_COOKIE, SESSION_COOKIE, Access
from ioc_app.permissions import (
    ANONYMOUS,
    BEARER_ALSO,
    CALLBACK,
    OPS,
    PAGE,
    PUBLIC,
    ROUTES,
    TOKEN,
    Principal,
    callback_page,
    callback_permission,
)
from ioc_app.web import CALLBACK_MAX_BYTES

log = logging.getLogger("ioc.gate")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOOPBACK = ("127.0.0.1", "::1")


def _json(status: int, code: str, message: str) -> Response:
    return Response(orjson.dumps({"error": code, "message": message}), status=status,
                    mimetype="application/json", headers={"Cache-Control": "no-store"})


def safe_next(raw: str | None) -> str:
    """A relative path to return to after sign-in; anything else (an absolute URL, ``//host``,
    ``javascript:``, a backslash trick) becomes ``/``."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in raw):
        return "/"
    return raw[:2000]


def _cross_site(access: Access) -> bool:
    """A browser request (it carries ``Origin`` or ``Sec-Fetch-Site``) from another origin."""
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None and site not in ("same-origin", "none"):
        return True
    if origin is not None:
        own = {request.host_url.rstrip("/"), access.settings.base_url.rstrip("/")}
        own |= {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in list(own)}
        return origin.rstrip("/") not in own
    return False


def _too_large(limit: int) -> bool:
    """A body over ``limit`` bytes: by its ``Content-Length``, or (sent in chunks, without one)
    by reading at most one byte more than the limit."""
    length = request.content_length
    if length is not None:
        return length > limit
    request.max_content_length = limit  # a chunked body: Flask stops reading past the limit
    try:
        request.get_data(cache=True)
    except RequestEntityTooLarge:
        return True
    return False


def resolve(access: Access) -> tuple[Principal, str]:
    """The request's principal and, when a credential was refused, why (idle, expired, revoked)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = access.sessions.get(token)
        if found.body is not None and found.state == "ok":
            return access.person(found.body), "ok"
        if found.body is not None:  # idle or past the absolute limit
            access.audit.record("session.timeout", object=found.state, result=found.state,
                                actor=found.body["name"], actor_kind="person")
            return ANONYMOUS, found.state
    screen_token = request.cookies.get(SCREEN_COOKIE)
    if screen_token:
        screen = access.screens.lookup(screen_token)
        if screen is not None and not screen.revoked:
            return Principal.screen(screen.name, screen.pages), "ok"
        if screen is not None:
            return Principal("screen", screen.name), "revoked"
    return ANONYMOUS, "none"


def install(server: Flask, access: Access, pages: Any) -> None:
    """Put the gate in front of every route of ``server``. ``pages`` renders the plain pages
    the gate answers with itself (refused, revoked, the wall's pairing code)."""

    @server.before_request
    def _gate() -> Any:
        g.client_address = access.client_address()
        g.principal = ANONYMOUS
        rule = request.url_rule.rule if request.url_rule is not None else None
        if request.method not in SAFE_METHODS and _cross_site(access):
            access.audit.record("request.refused", object=request.path, result="cross_site")
            return _json(403, "cross_site", "this request came from another site; use IOC's own pages")
        if rule is None:
            return None  # Flask answers 404/405: nothing is revealed
        needed = ROUTES.get(rule)
        if needed is None:  # deny by default: a route nobody mapped answers nobody
            log.error("event=gate.unmapped_route rule=%s", rule)
            return _json(403, "forbidden", "this route has no permission yet; nobody may use it")
        if needed == CALLBACK and _too_large(CALLBACK_MAX_BYTES):
            return _json(413, "too_large", f"a Dash callback request is at most {CALLBACK_MAX_BYTES} bytes; "
                                           f"reload the page (a page sends far less)")
        if needed == PUBLIC:
            g.principal, _ = resolve(access)
            return None
        if needed == TOKEN:
            return None  # the view checks the bearer token and the source's streams
        if needed == OPS:
            return _ops(access)
        if needed in BEARER_ALSO and request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None  # a machine: the view checks its token
        who, state = resolve(access)
        g.principal = who
        if who.kind == "screen" and state == "revoked":
            return _revoked(pages, rule)
        if needed == PAGE:
            path = request.path
            if not who.signed_in:
                if path.rstrip("/") == "/wall" and request.method == "GET":
                    return pages.pairing()
                back = quote(safe_next(request.full_path.rstrip("?")), safe="/")
                return redirect("/auth/login?next=" + back, code=302)
            if not who.may_open(path):
                return _refuse(access, who, path, html=pages)
            return None
        if not who.signed_in:
            if request.path.startswith("/api/"):
                access.audit.record("request.refused", object=request.path, result="unauthenticated")
            return _json(401, "unauthorized", "sign in first at /auth/login (people), pair the screen "
                                              "(walls), or send 'Authorization: Bearer <token>' (machines)")
        if needed == CALLBACK:
            return _callback(access, who)
        if not who.may(needed):
            plain_page = request.method == "GET" and request.path.startswith("/admin/")
            return _refuse(access, who, request.path, permission=needed, html=pages if plain_page else None)
        return None


def _refuse(access: Access, who: Principal, what: str, *, permission: str = "",
            html: Any = None) -> Response:
    access.audit.record("request.refused", object=what, result="forbidden",
                        detail={"permission": permission} if permission else None)
    roles = ", ".join(who.roles) if who.kind == "person" else "screen"
    if html is not None:
        return html.refused(who)
    return _json(403, "forbidden", f"your access ({roles or 'no role'}) does not include this; "
                                   f"ask your administrator for a role that does")


def _revoked(pages: Any, rule: str) -> Response:
    if rule in ("/", "/<path:path>"):
        return pages.revoked()
    return _json(403, "screen_revoked", "this screen was revoked; pair it again at /wall")


def _callback(access: Access, who: Principal) -> Response | None:
    """A Dash callback: allowed when its principal may open the page it belongs to."""
    try:
        body = orjson.loads(request.get_data(cache=True))
        output = str(body.get("output", ""))
    except (orjson.JSONDecodeError, AttributeError):
        return _json(400, "bad_callback", "send Dash's callback JSON")
    page = callback_page(output)
    if page == "route":  # Dash's page routing: the page it is asked to render
        inputs = {(i.get("id"), i.get("property")): i.get("value")
                  for i in body.get("inputs", []) if isinstance(i, dict)}
        page = str(inputs.get(("_pages_location", "pathname")) or "/")
    elif page == "*":
        return None
    if page is None or not who.may_open(page):
        return _refuse(access, who, f"callback {output[:120]}", permission=f"page {page}")
    own = callback_permission(output)
    if own is not None and not who.may(own):
        return _refuse(access, who, f"callback {output[:120]}", permission=own)
    return None


def _ops(access: Access) -> Response | None:
    token = access.settings.metrics_token
    header = request.headers.get("Authorization", "")
    if token and header.lower().startswith("bearer ") and hmac.compare_digest(header[7:].strip().encode(),
                                                                              token.encode()):
        return None
    if g.client_address in LOOPBACK:  # behind a listed proxy, the address it forwarded
        return None
    return _json(401, "unauthorized", "/metrics and /readyz answer this host, or "
                                      "'Authorization: Bearer $IOC_METRICS_TOKEN'")
