"""Sign-in and sign-out (``/auth/*``), and the plain pages the gate answers with.

These are plain server-rendered pages, not Dash pages: they must work for somebody who may
not load the cockpits' scripts yet. Campus sign-in (CAS, OpenID Connect) lives in
``ioc_app.routes.sso`` and ends in :func:`finish_sign_in` like the local form does.
"""

from __future__ import annotations

import logging
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    g,
    redirect,
    request,
    send_from_directory,
)
from flask_limiter import Limiter
from werkzeug.wrappers import Response as BaseResponse

from ioc_app.access import DEMO_PERSON, current
from ioc_app.gate import safe_next
from ioc_app.permissions import Principal
from ioc_app.plain import allowed_links, lang, render
from layouts.i18n import t

log = logging.getLogger("ioc.signin")
signin = Blueprint("ioc_signin", __name__)
STATIC = Path(__file__).resolve().parents[2] / "assets" / "auth"
MAX_FORM = 16 * 1024
LOGIN_LIMIT = "10 per minute"
#: exports and analyst downloads per address: plenty for a person, a brake on a scraper
DOWNLOAD_LIMIT = "60 per minute"


def _address() -> str:
    return getattr(g, "client_address", None) or request.remote_addr or "unknown"


def make_limiter(server: Any, storage_uri: str, redis_client: Any = None) -> Limiter:
    """The app's rate limits (Redis storage when Redis is configured, so every worker counts
    together): sign-in per address. One limiter per app: two apps in one process (tests) must
    not share counts. Screens' polling has no limit. With Redis, the counts go through the
    app's own client's connections (its password and TLS options)."""
    options = {"connection_pool": redis_client.connection_pool} if redis_client is not None else {}
    # no rate-limit headers on every answer: a 503's own Retry-After must survive
    limiter = Limiter(key_func=_address, app=server, storage_uri=storage_uri, default_limits=[],
                      headers_enabled=False, storage_options=options)
    endpoint = f"{signin.name}.{login_submit.__name__}"
    server.view_functions[endpoint] = limiter.limit(LOGIN_LIMIT, methods=["POST"])(login_submit)
    return limiter


def limit_downloads(limiter: Limiter, *blueprints: Blueprint) -> None:
    """Rate-limit the routes that hand out files and series (the app passes the export and
    query APIs' blueprints: this module does not import the routes it limits)."""
    for blueprint in blueprints:
        limiter.limit(DOWNLOAD_LIMIT)(blueprint)


def finish_sign_in(name: str, via: str, next_url: str, *, attributes: dict[str, Any] | None = None,
                   cas_ticket: str | None = None) -> BaseResponse:
    """Start the session of a person who proved who they are, or say they hold no role."""
    access = current()
    roles = access.roles.book().roles_of(name, attributes or {})
    language = lang()
    if not roles:
        access.audit.record("signin", object=name, result="no_role", actor=name, actor_kind="person",
                            detail={"via": via})
        return render("message.html", 403, title=t("auth.no_role_title", language),
                      message=t("auth.no_role", language).format(name=name), links=[], signed_in=False)
    target = safe_next(next_url)
    who = Principal.person(name, roles, via)
    if target == "/" and not who.may_open("/"):  # a security administrator or auditor: their page
        links = allowed_links(who, language)
        target = links[0][1] if links else "/"
    response = redirect(target, code=303)
    access.start_session(response, name, via, attributes=attributes, cas_ticket=cas_ticket)
    access.audit.record("signin", object=name, result="ok", actor=name, actor_kind="person",
                        detail={"via": via, "roles": list(roles)})
    return response


@signin.get("/auth/static/<path:name>")
def static(name: str) -> Response:
    return send_from_directory(STATIC, name, max_age=3600)


@signin.get("/auth/login")
def login_form() -> Response:
    access = current()
    language = lang()
    who = g.principal
    next_url = safe_next(request.args.get("next"))
    notice = t("auth.signed_in_as", language).format(name=who.name) if who.kind == "person" else ""
    return render("login.html", title=t("auth.title", language), next=next_url, username="", error="",
                  notice=notice, cas=bool(access.settings.cas_url),
                  oidc=bool(access.settings.oidc_issuer and access.settings.oidc_client_id))


@signin.post("/auth/login")
def login_submit() -> BaseResponse:
    access = current()
    language = lang()
    if (request.content_length or 0) > MAX_FORM:
        access.audit.record("signin", object="", result="failed", detail={"reason": "oversized_form"})
        return render("message.html", 413, title=t("auth.title", language),
                      message=t("auth.too_large", language), links=[("/auth/login", "/auth/login")],
                      signed_in=False)
    name = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:1024]
    otp = request.form.get("otp", "")[:16]
    next_url = safe_next(request.form.get("next") or request.args.get("next"))
    outcome = access.accounts.verify(name, password, otp, access.needs_totp(name))
    if not outcome.ok:
        # a name nobody holds may be a password typed in the wrong box: the trail keeps a
        # digest of it (repeated attempts still line up), never the text
        who = name
        if outcome.reason == "unknown_user":
            who = "unknown:" + sha256(name.encode()).hexdigest()[:12]
        access.audit.record("signin", object=who, result="failed", actor=who, actor_kind="person",
                            detail={"via": "local", "reason": outcome.reason})
        return render("login.html", 401, title=t("auth.title", language), next=next_url, username=name,
                      error=t("auth.failed", language), notice="", cas=bool(access.settings.cas_url),
                      oidc=bool(access.settings.oidc_issuer and access.settings.oidc_client_id))
    return finish_sign_in(name, "local", next_url)


@signin.get("/auth/link/<token>")
def link(token: str) -> BaseResponse:
    """Demo mode's one-time sign-in link (printed by the run command, never logged)."""
    access = current()
    name = access.accounts.redeem_link(token[:100])
    if name is None:
        access.audit.record("signin", object="link", result="failed", detail={"via": "link",
                                                                              "reason": "unknown_or_used"})
        language = lang()
        return render("message.html", 401, title=t("auth.title", language),
                      message=t("auth.link_used", language),
                      links=[(t("auth.sign_in", language), "/auth/login")], signed_in=False)
    if name != DEMO_PERSON:  # links are for the demo person only
        return redirect("/auth/login", code=303)
    return finish_sign_in(name, "link", "/")


@signin.post("/auth/logout")
def logout() -> BaseResponse:
    access = current()
    response = redirect("/auth/login?" + urlencode({"lang": lang()}), code=303)
    body = access.end_session(response)
    if body is not None:
        access.audit.record("signout", object=body["name"], actor=body["name"], actor_kind="person")
    return response
