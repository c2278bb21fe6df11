"""Who is asking, and the state behind it: accounts, sessions, roles, screens, the audit trail.

One ``Access`` per process (the server holds it on its runtime; the ``user`` and ``screen``
commands build their own on the same files). Pages and views read the principal from
``flask.g`` through :func:`principal`; only ``ioc_app.gate`` decides access.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import current_app, g, has_request_context, request
from werkzeug.wrappers import Response as BaseResponse

from ioc_app.accessdb import AccessDB
from ioc_app.accounts import Accounts
from ioc_app.audit import Audit
from ioc_app.pairing import COOKIE_DAYS, ScreenBook
from ioc_app.permissions import ANONYMOUS, Principal
from ioc_app.roles import NEEDS_TOTP, Roles
from ioc_app.sessions import Sessions
from ioc_app.settings import Settings

SESSION_COOKIE = "ioc_session"
SCREEN_COOKIE = "ioc_screen"
EXTENSION = "ioc_access"
#: the local person of demo mode (``IOC_DEMO=1``): every role but the separated admin ones
#: except operator, and no second factor — demo only
DEMO_PERSON = "demo"
DEMO_ROLES = ("viewer", "admissions", "analyst", "operator")
#: sign-ins that went through IOC's own checks (password, and a TOTP code where the roles
#: need one; the demo link stands in for both in demo mode only)
LOCAL_VIAS = ("local", "link")


class Access:
    def __init__(self, settings: Settings, redis: Any = None) -> None:
        self.settings = settings
        self.db = AccessDB(settings.access_db)
        self.accounts = Accounts(self.db)
        self.sessions = Sessions(self.db, redis, idle_s=settings.session_idle_min * 60,
                                 max_s=settings.session_max_h * 3600)
        self.roles = Roles(settings.roles_path)
        self.screens = ScreenBook(self.db)
        self.audit = Audit()
        self.secure = settings.base_url.startswith("https://")
        self.trusted = [ipaddress.ip_network(p.strip(), strict=False)
                        for p in settings.trusted_proxies.split(",") if p.strip()]

    # --- principals ----------------------------------------------------------------------
    def person(self, body: dict[str, Any]) -> Principal:
        """A session's person with the roles they hold now (a role change applies at once).
        The roles that need a second factor hold only in sessions that passed one: a person
        signed in through CAS or OIDC who is given ``operator`` later does not get it there."""
        roles = self.roles.book().roles_of(body["name"], body.get("attributes") or {})
        via = body.get("via", "local")
        if via not in LOCAL_VIAS:
            roles = tuple(r for r in roles if r not in NEEDS_TOTP)
        return Principal.person(body["name"], roles, via)

    def needs_totp(self, name: str) -> bool:
        return bool(NEEDS_TOTP.intersection(self.roles.book().roles_of(name)))

    # --- cookies -------------------------------------------------------------------------
    def start_session(self, response: BaseResponse, name: str, via: str, *,
                      attributes: dict[str, Any] | None = None, cas_ticket: str | None = None) -> None:
        """Sign a person in: a new session id (the old one, if any, is ended: rotation)."""
        old = request.cookies.get(SESSION_COOKIE) if has_request_context() else None
        if old:
            self.sessions.delete(old)
        body: dict[str, Any] = {"name": name, "via": via}
        if attributes:
            body["attributes"] = attributes
        if cas_ticket:
            body["cas_ticket"] = cas_ticket
        token = self.sessions.create(body)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=self.secure,
                            path="/", max_age=self.settings.session_max_h * 3600)

    def end_session(self, response: BaseResponse) -> dict[str, Any] | None:
        token = request.cookies.get(SESSION_COOKIE)
        body = self.sessions.delete(token) if token else None
        response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax", secure=self.secure, httponly=True)
        return body

    def give_screen_cookie(self, response: BaseResponse, token: str) -> None:
        response.set_cookie(SCREEN_COOKIE, token, httponly=True, samesite="Lax", secure=self.secure,
                            path="/", max_age=COOKIE_DAYS * 86400)

    # --- addresses -----------------------------------------------------------------------
    def client_address(self) -> str:
        """The client's address: ``X-Forwarded-For`` is believed only from a listed proxy,
        read from the right (the nearest hop first) past every trusted proxy."""
        remote = request.remote_addr or "unknown"
        forwarded = request.headers.get("X-Forwarded-For", "")
        if not forwarded or not self._trusted(remote):
            return remote
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop[:64]
        return hops[0][:64] if hops else remote

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)


def current() -> Access:
    return current_app.extensions[EXTENSION]


def principal() -> Principal:
    """The principal of the request being served (anonymous outside a request)."""
    if not has_request_context():
        return ANONYMOUS
    return getattr(g, "principal", ANONYMOUS)
