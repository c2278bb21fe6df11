"""The shared part of campus sign-in: the blueprint, the browser's pending flows (a signed,
short-lived cookie naming each started flow's ``state``, used once), the pages of a failed
sign-in, and the ending in ``finish_sign_in`` for CAS and OpenID Connect alike.

Why one cookie for both protocols: a callback without the flow its browser started is
refused, whichever protocol it speaks — nobody can sign a victim in as somebody else by
sending them a callback link.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from flask import Blueprint, Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from ioc_app.access import Access
from ioc_app.plain import lang, render
from ioc_app.roles import NEEDS_TOTP
from ioc_app.routes.signin import finish_sign_in
from layouts.i18n import t

log = logging.getLogger("ioc.sso")
sso = Blueprint("ioc_sso", __name__)

#: every call to an identity provider gives up after this long (the browser is waiting)
TIMEOUT_S = 10.0
#: the pending flows of this browser: signed, short-lived, sent to ``/auth/*`` only
FLOW_COOKIE = "ioc_sso"
FLOW_PATH = "/auth/"
FLOW_TTL_S = 600
MAX_PENDING = 4
MAX_FLOW_COOKIE = 3500  # browsers keep cookies up to 4 KB
#: the callbacks cost a call to the provider: limited per address like the sign-in form
SSO_LIMIT = "30 per minute"
MAX_VALUES = 200
MAX_VALUE_LEN = 256


class _TimeoutSession(requests.Session):
    """requests with a timeout on every call (python-cas passes none of its own)."""

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_S)
        return super().request(method, url, *args, **kwargs)


http = _TimeoutSession()


# --- the browser's pending flows -----------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="ioc.sso.flow")


def load_flows() -> dict[str, dict[str, list[Any]]]:
    raw = request.cookies.get(FLOW_COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw, max_age=FLOW_TTL_S)
    except BadSignature:  # forged, or older than the flow may last
        return {}
    return data if isinstance(data, dict) else {}


def save_flows(response: BaseResponse, flows: Mapping[str, dict[str, list[Any]]], access: Access
               ) -> BaseResponse:
    kept = {kind: entries for kind, entries in flows.items() if entries}
    if not kept:
        if request.cookies.get(FLOW_COOKIE):
            response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=access.secure, httponly=True,
                                   samesite="Lax")
        return response
    value = _serializer().dumps(kept)
    while len(value) > MAX_FLOW_COOKIE:  # long next pages: the oldest flows make room
        kind, state = min(((k, s) for k, entries in kept.items() for s in entries),
                          key=lambda ks: float(kept[ks[0]][ks[1]][-1]))
        del kept[kind][state]
        value = _serializer().dumps(kept)
    response.set_cookie(FLOW_COOKIE, value, max_age=FLOW_TTL_S, path=FLOW_PATH,
                        secure=access.secure, httponly=True, samesite="Lax")
    return response


def add_flow(flows: dict[str, dict[str, list[Any]]], kind: str, state: str, entry: list[Any]) -> None:
    """Remember a started flow; only the newest few are kept (several tabs may sign in)."""
    now = time.time()
    entries = {s: e for s, e in flows.get(kind, {}).items()
               if isinstance(e, list) and e and now - float(e[-1]) < FLOW_TTL_S}
    entries.pop(state, None)
    entries[state] = [*entry, now]
    while len(entries) > MAX_PENDING:
        entries.pop(next(iter(entries)))
    flows[kind] = entries


def take_flow(flows: dict[str, dict[str, list[Any]]], kind: str, state: str) -> list[Any] | None:
    """The flow ``state`` names, removed (a state is good once), or None when unknown or expired."""
    entries = flows.get(kind)
    if not state or not isinstance(entries, dict):
        return None
    entry = entries.pop(state, None)
    if not isinstance(entry, list) or not entry or time.time() - float(entry[-1]) >= FLOW_TTL_S:
        return None
    return entry


class _Used:
    """States and tickets this process has seen at a callback, for the length of a flow: a
    callback replayed with an old copy of the flow cookie is refused before the provider is
    asked (the provider refuses a used code or ticket too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def first(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000 or (self._seen and next(iter(self._seen.values())) < now):
                self._seen = {k: v for k, v in self._seen.items() if v >= now}
            if key in self._seen:
                return False
            self._seen[key] = now + FLOW_TTL_S
            return True


used = _Used()


# --- shared pieces -------------------------------------------------------------------------


def sso_text(key: str) -> str:
    return t(f"auth.sso_{key}", lang())


def sign_in_link() -> list[tuple[str, str]]:
    language = lang()
    return [(t("auth.sign_in", language), f"/auth/login?lang={language}")]


def fail(access: Access, via: str, reason: str, status: int, *,
          flows: dict[str, dict[str, list[Any]]] | None = None, error: str = "") -> BaseResponse:
    """The clear page of a sign-in that did not complete, and its audit row (who it was is
    not known yet: the provider's answer was not believed)."""
    detail = {"via": via, "reason": reason}
    if error:
        detail["error"] = re.sub(r"[^A-Za-z0-9_.:-]", "", error)[:64]
    access.audit.record("signin", object="", result="failed", detail=detail)
    log.warning("event=sso.failed via=%s reason=%s status=%d", via, reason, status)
    language = lang()
    response = render("message.html", status, title=t("auth.sso_failed_title", language),
                      message=t("auth.sso_failed", language), links=sign_in_link(), signed_in=False)
    return save_flows(response, flows, access) if flows is not None else response


def not_configured() -> Response:
    return render("message.html", 404, title=t("auth.title", lang()), message=sso_text("not_configured"),
                  links=sign_in_link(), signed_in=False)


def clean_name(raw: Any) -> str | None:
    """The person's name as the provider gave it: 1–64 printable characters, no spaces."""
    if not isinstance(raw, str):
        return None
    name = raw.strip()
    if not 0 < len(name) <= 64 or not name.isprintable() or any(ch.isspace() for ch in name):
        return None
    return name


def keep(attributes: Mapping[str, Any], access: Access, extra: tuple[str, ...]) -> dict[str, Any]:
    """Only the attributes a role mapping reads, and a few to show (name, e-mail); multi-valued
    ones stay lists. Values are strings, bounded in number and length."""
    wanted = {m.attribute for m in access.roles.book().mappings} | set(extra)
    kept: dict[str, Any] = {}
    for key in sorted(wanted):
        value = attributes.get(key)
        if isinstance(value, list | tuple):
            values = [str(v)[:MAX_VALUE_LEN] for v in value[:MAX_VALUES] if v is not None]
            kept[key] = values
        elif isinstance(value, str | int | float | bool):
            kept[key] = str(value)[:MAX_VALUE_LEN]
    return kept


def finish(access: Access, name: str, via: str, next_url: str, attributes: dict[str, Any],
            flows: dict[str, dict[str, list[Any]]], cas_ticket: str | None = None) -> BaseResponse:
    """Sign the person in, unless their roles must sign in locally with a second factor."""
    roles = access.roles.book().roles_of(name, attributes)
    strict = [r for r in roles if r in NEEDS_TOTP]
    if strict:
        access.audit.record("signin", object=name, result="failed", actor=name, actor_kind="person",
                            detail={"via": via, "reason": "needs_local_totp", "roles": strict})
        language = lang()
        response: BaseResponse = render("message.html", 403, title=t("auth.sso_failed_title", language),
                          message=sso_text("needs_local").format(name=name, roles=", ".join(strict)),
                          links=sign_in_link(), signed_in=False)
    else:
        response = finish_sign_in(name, via, next_url, attributes=attributes, cas_ticket=cas_ticket)
    return save_flows(response, flows, access)
