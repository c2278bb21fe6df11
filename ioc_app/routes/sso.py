"""Campus sign-in (统一身份认证): CAS 3.0 and OpenID Connect, ending in ``finish_sign_in``.

CAS (``IOC_CAS_URL``): ``/auth/cas`` sends the browser to ``<cas>/login`` with the service
``<base>/auth/cas/callback?next=…&s=…``; the callback validates the ticket at
``<cas>/p3/serviceValidate`` (python-cas) and keeps the attributes the role mappings read.
The CAS server's back-channel single logout (``POST /auth/cas/callback`` with a
``logoutRequest``) ends the session that began with the ticket it names.

OpenID Connect (``IOC_OIDC_ISSUER``, ``IOC_OIDC_CLIENT_ID``, ``IOC_OIDC_CLIENT_SECRET``): the
code flow with PKCE (S256), ``state`` and ``nonce``, the provider found by discovery (cached),
the code exchanged with ``client_secret_basic`` (Authlib) and the ID token checked against the
provider's keys (signature, ``iss``, ``aud``, ``exp``, ``nonce``).

Both flows are bound to the browser that started them: the ``state`` (for CAS, the ``s`` in the
service URL) lives in a short-lived signed cookie (``ioc_sso``, path ``/auth/``), is used once,
and a callback without it is refused — so nobody can sign a victim in as somebody else by
sending them a callback link. Every failure is a plain page (401 when the answer was not
valid, 502 when the provider could not be asked) and a ``signin`` audit row with the reason.

People whose roles need a second factor (operator, secadmin, auditor) sign in locally with
TOTP only; campus sign-in refuses them.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urljoin

import cas
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, Response, current_app, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from lxml import etree
from werkzeug.wrappers import Response as BaseResponse

from ioc_app.access import Access, current
from ioc_app.gate import safe_next
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
#: a CAS service ticket (CAS 3.0: "ST-" and at most 256 characters)
TICKET = re.compile(r"ST-[A-Za-z0-9._~:@-]{1,253}")
MAX_LOGOUT_REQUEST = 16 * 1024
SAMLP = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
CAS_NS = "{http://www.yale.edu/tp/cas}"
#: attributes kept besides the ones the role mappings read (shown, never used for access)
CAS_KEEP = ("displayName", "cn", "name", "mail", "email")
OIDC_KEEP = ("groups", "email", "name")
MAX_VALUES = 200
MAX_VALUE_LEN = 256
#: discovery documents and key sets are fetched again after this long
PROVIDER_TTL_S = 3600
JWKS_REFRESH_MIN_S = 60
ID_TOKEN_LEEWAY_S = 60


class ProviderError(Exception):
    """The identity provider could not be asked or gave an unusable answer (→ 502)."""


class _TimeoutSession(requests.Session):
    """requests with a timeout on every call (python-cas passes none of its own)."""

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_S)
        return super().request(method, url, *args, **kwargs)


_http = _TimeoutSession()


# --- the browser's pending flows -----------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="ioc.sso.flow")


def _load_flows() -> dict[str, dict[str, list[Any]]]:
    raw = request.cookies.get(FLOW_COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw, max_age=FLOW_TTL_S)
    except BadSignature:  # forged, or older than the flow may last
        return {}
    return data if isinstance(data, dict) else {}


def _save_flows(response: BaseResponse, flows: Mapping[str, dict[str, list[Any]]], access: Access
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


def _add_flow(flows: dict[str, dict[str, list[Any]]], kind: str, state: str, entry: list[Any]) -> None:
    """Remember a started flow; only the newest few are kept (several tabs may sign in)."""
    now = time.time()
    entries = {s: e for s, e in flows.get(kind, {}).items()
               if isinstance(e, list) and e and now - float(e[-1]) < FLOW_TTL_S}
    entries.pop(state, None)
    entries[state] = [*entry, now]
    while len(entries) > MAX_PENDING:
        entries.pop(next(iter(entries)))
    flows[kind] = entries


def _take_flow(flows: dict[str, dict[str, list[Any]]], kind: str, state: str) -> list[Any] | None:
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


_used = _Used()


# --- shared pieces -------------------------------------------------------------------------


def _text(key: str) -> str:
    return t(f"auth.sso_{key}", lang())


def _sign_in_link() -> list[tuple[str, str]]:
    language = lang()
    return [(t("auth.sign_in", language), f"/auth/login?lang={language}")]


def _fail(access: Access, via: str, reason: str, status: int, *,
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
                      message=t("auth.sso_failed", language), links=_sign_in_link(), signed_in=False)
    return _save_flows(response, flows, access) if flows is not None else response


def _not_configured() -> Response:
    return render("message.html", 404, title=t("auth.title", lang()), message=_text("not_configured"),
                  links=_sign_in_link(), signed_in=False)


def _clean_name(raw: Any) -> str | None:
    """The person's name as the provider gave it: 1–64 printable characters, no spaces."""
    if not isinstance(raw, str):
        return None
    name = raw.strip()
    if not 0 < len(name) <= 64 or not name.isprintable() or any(ch.isspace() for ch in name):
        return None
    return name


def _keep(attributes: Mapping[str, Any], access: Access, extra: tuple[str, ...]) -> dict[str, Any]:
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


def _finish(access: Access, name: str, via: str, next_url: str, attributes: dict[str, Any],
            flows: dict[str, dict[str, list[Any]]], cas_ticket: str | None = None) -> BaseResponse:
    """Sign the person in, unless their roles must sign in locally with a second factor."""
    roles = access.roles.book().roles_of(name, attributes)
    strict = [r for r in roles if r in NEEDS_TOTP]
    if strict:
        access.audit.record("signin", object=name, result="failed", actor=name, actor_kind="person",
                            detail={"via": via, "reason": "needs_local_totp", "roles": strict})
        language = lang()
        response: BaseResponse = render("message.html", 403, title=t("auth.sso_failed_title", language),
                          message=_text("needs_local").format(name=name, roles=", ".join(strict)),
                          links=_sign_in_link(), signed_in=False)
    else:
        response = finish_sign_in(name, via, next_url, attributes=attributes, cas_ticket=cas_ticket)
    return _save_flows(response, flows, access)


# --- CAS 3.0 -------------------------------------------------------------------------------


def _service_url(access: Access, next_url: str, state: str) -> str:
    """The service IOC names to CAS; the same string at login and at validation."""
    return f"{access.settings.base_url}/auth/cas/callback?" + urlencode({"next": next_url, "s": state})


def _cas_client(access: Access, service_url: str) -> Any:
    return cas.CASClient(version=3, service_url=service_url, server_url=access.settings.cas_url + "/",
                         session=_http)


def _cas_xml(body: bytes) -> Any:
    """A CAS server's answer parsed without DTDs, entities or network; an answer that declares a
    DTD is refused outright (python-cas parses the same body afterwards with lxml's defaults)."""
    if b"<!DOCTYPE" in body[:4096].upper():
        raise ValueError("a CAS answer with a DTD")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(body, parser)


def _cas_failure(body: bytes) -> str:
    """The code of a CAS ``authenticationFailure`` (INVALID_TICKET, INVALID_SERVICE, …)."""
    try:
        failure = _cas_xml(body).find(f"{CAS_NS}authenticationFailure")
    except (etree.XMLSyntaxError, ValueError):
        return ""
    return (failure.get("code") or "") if failure is not None else ""


@sso.get("/auth/cas")
def cas_start() -> BaseResponse:
    access = current()
    if not access.settings.cas_url:
        return _not_configured()
    next_url = safe_next(request.args.get("next"))
    state = secrets.token_urlsafe(24)
    flows = _load_flows()
    _add_flow(flows, "cas", state, [next_url])
    url = _cas_client(access, _service_url(access, next_url, state)).get_login_url()
    return _save_flows(redirect(url, code=302), flows, access)


@sso.get("/auth/cas/callback")
def cas_callback() -> BaseResponse:
    access = current()
    if not access.settings.cas_url:
        return _not_configured()
    flows = _load_flows()
    ticket = request.args.get("ticket", "")
    entry = _take_flow(flows, "cas", request.args.get("s", "")[:64])
    if not ticket:
        return _fail(access, "cas", "missing_ticket", 401, flows=flows)
    if not TICKET.fullmatch(ticket):
        return _fail(access, "cas", "malformed_ticket", 401, flows=flows)
    if entry is None:  # not started in this browser, expired, or used already
        return _fail(access, "cas", "unknown_state", 401, flows=flows)
    if not _used.first("cas:" + ticket):
        return _fail(access, "cas", "replayed", 401, flows=flows)
    next_url = safe_next(str(entry[0]))
    client = _cas_client(access, _service_url(access, next_url, request.args["s"][:64]))
    try:  # python-cas's own request, but its status is wanted too: an error page is no answer
        answer = _http.get(urljoin(client.server_url, client.url_suffix),
                           params={"ticket": ticket, "service": client.service_url})
        body = answer.content
    except requests.RequestException as exc:
        log.warning("event=sso.cas_unreachable error=%r", str(exc)[:300])
        return _fail(access, "cas", "provider_unreachable", 502, flows=flows)
    try:
        if answer.status_code != 200 or _cas_xml(body).tag != f"{CAS_NS}serviceResponse":
            raise ValueError(f"HTTP {answer.status_code}")
        user, attributes, _ = client.verify_response(body)
    except (etree.XMLSyntaxError, IndexError, AttributeError, TypeError, ValueError) as exc:
        log.warning("event=sso.cas_unreadable error=%r", str(exc)[:200])
        return _fail(access, "cas", "provider_answer_unreadable", 502, flows=flows)
    if not user:
        return _fail(access, "cas", "ticket_refused", 401, flows=flows, error=_cas_failure(body))
    name = _clean_name(user)
    if name is None:
        return _fail(access, "cas", "unusable_name", 401, flows=flows)
    return _finish(access, name, "cas", next_url, _keep(attributes or {}, access, CAS_KEEP), flows,
                   cas_ticket=ticket)


def _session_index(raw: str) -> str | None:
    """The service ticket a CAS ``<samlp:LogoutRequest>`` names, or None. Parsed without DTDs,
    entities or network (the request comes from anybody who can reach IOC)."""
    if not raw or len(raw) > MAX_LOGOUT_REQUEST or "<!DOCTYPE" in raw.upper():
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(raw.encode(), parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None or etree.QName(root).localname != "LogoutRequest":
        return None
    found = root.xpath("//samlp:SessionIndex/text()", namespaces=SAMLP)
    ticket = str(found[0]).strip() if found else ""
    return ticket if TICKET.fullmatch(ticket) else None


@sso.post("/auth/cas/callback")
def cas_single_logout() -> Response:
    """CAS single logout: the CAS server says the session that began with this ticket ended."""
    access = current()
    if not access.settings.cas_url:
        return Response("campus sign-in (CAS) is not configured\n", 404, mimetype="text/plain")
    if (request.content_length or 0) > MAX_LOGOUT_REQUEST * 2:
        return Response("too large\n", 413, mimetype="text/plain")
    ticket = _session_index(request.form.get("logoutRequest", ""))
    if ticket is None:
        access.audit.record("signout", object="", result="failed", actor_kind="system",
                            detail={"via": "cas_slo", "reason": "malformed_logout_request"})
        return Response("send logoutRequest=<samlp:LogoutRequest> naming a service ticket\n", 400,
                        mimetype="text/plain")
    name = access.sessions.delete_cas_ticket(ticket)
    if name:
        access.audit.record("signout", object=name, actor=name, actor_kind="person",
                            detail={"via": "cas_slo"})
    else:  # signed out already, timed out, or never here: nothing to end
        access.audit.record("signout", object="", result="unknown_ticket", actor_kind="system",
                            detail={"via": "cas_slo"})
    return Response("ok\n", 200, mimetype="text/plain")


# --- OpenID Connect ------------------------------------------------------------------------


class _Provider:
    """The provider's discovery document and keys, cached (a stale copy is used while the
    provider cannot be reached)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meta: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    def _get(self, url: str) -> Any:
        try:
            r = _http.get(url, headers={"Accept": "application/json"})
            r.raise_for_status()
            return r.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderError(f"{url}: {str(exc)[:200]}") from None

    @staticmethod
    def _key_set(uri: str, data: Any) -> KeySet:
        try:
            return KeySet.import_key_set(data)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ProviderError(f"{uri}: not a usable key set ({str(exc)[:200]})") from None

    def metadata(self, issuer: str) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            cached = self._meta.get(issuer)
        if cached and now - cached[0] < PROVIDER_TTL_S:
            return cached[1]
        try:
            meta = self._get(f"{issuer}/.well-known/openid-configuration")
            if not isinstance(meta, dict) or str(meta.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
                raise ProviderError(f"the discovery document of {issuer} names another issuer")
            missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not meta.get(k)]
            if missing:
                raise ProviderError(f"the discovery document of {issuer} lacks {', '.join(missing)}")
        except ProviderError:
            if cached:
                return cached[1]
            raise
        with self._lock:
            self._meta[issuer] = (now, meta)
        return meta

    def keys(self, uri: str, refresh: bool = False) -> KeySet:
        now = time.monotonic()
        with self._lock:
            cached = self._keys.get(uri)
        fresh = cached is not None and now - cached[0] < PROVIDER_TTL_S
        if cached and fresh and not (refresh and now - cached[0] >= JWKS_REFRESH_MIN_S):
            return cached[1]
        try:
            keys = self._key_set(uri, self._get(uri))
        except ProviderError:
            if cached:
                return cached[1]
            raise
        with self._lock:
            self._keys[uri] = (now, keys)
        return keys


_provider = _Provider()


def _oidc_settings(access: Access) -> tuple[str, str, str] | None:
    s = access.settings
    if not (s.oidc_issuer and s.oidc_client_id):
        return None
    return s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret


def _redirect_uri(access: Access) -> str:
    """Where the provider sends the browser back: register exactly this with it."""
    return f"{access.settings.base_url}/auth/oidc/callback"


def _oauth(access: Access, client_id: str, secret: str, scope: str = "openid") -> OAuth2Session:
    return OAuth2Session(client_id, secret, scope=scope, redirect_uri=_redirect_uri(access),
                         code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")


def _verify_id_token(id_token: str, meta: Mapping[str, Any], client_id: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's keys) and its ``iss``, ``aud``,
    ``exp``, ``iat`` and ``nonce`` are right; raises ``JoseError`` (or ValueError) otherwise."""
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if isinstance(a, str) and a != "none" and not a.startswith("HS")]
    keys = _provider.keys(meta["jwks_uri"])
    try:
        token = jwt.decode(id_token, keys, algorithms=algorithms or ["RS256"])
    except InvalidKeyIdError:  # the provider rotated its keys
        token = jwt.decode(id_token, _provider.keys(meta["jwks_uri"], refresh=True),
                           algorithms=algorithms or ["RS256"])
    claims = token.claims
    jwt.JWTClaimsRegistry(
        leeway=ID_TOKEN_LEEWAY_S,
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(claims)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise ValueError("an ID token for several audiences must name IOC as its azp")
    return dict(claims)


def _userinfo(client: OAuth2Session, meta: Mapping[str, Any], sub: str) -> dict[str, Any]:
    """Claims from the userinfo endpoint (some providers put groups only there); nothing when
    it cannot be asked or speaks of somebody else."""
    url = meta.get("userinfo_endpoint")
    if not url:
        return {}
    try:
        r = client.get(url, timeout=TIMEOUT_S, headers={"Accept": "application/json"})
        info = r.json() if r.status_code == 200 else {}
    except (requests.RequestException, ValueError, OAuthError) as exc:
        log.warning("event=sso.userinfo_failed error=%r", str(exc)[:200])
        return {}
    return info if isinstance(info, dict) and info.get("sub") == sub else {}


@sso.get("/auth/oidc")
def oidc_start() -> BaseResponse:
    access = current()
    config = _oidc_settings(access)
    if config is None:
        return _not_configured()
    issuer, client_id, secret = config
    try:
        meta = _provider.metadata(issuer)
    except ProviderError as exc:
        log.warning("event=sso.discovery_failed error=%r", str(exc)[:300])
        return _fail(access, "oidc", "provider_unreachable", 502)
    scopes = ["openid", "profile", "email"]
    if "groups" in (meta.get("scopes_supported") or []):
        scopes.append("groups")
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    next_url = safe_next(request.args.get("next"))
    url, _ = _oauth(access, client_id, secret, " ".join(scopes)).create_authorization_url(
        meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
    flows = _load_flows()
    _add_flow(flows, "oidc", state, [nonce, verifier, next_url])
    return _save_flows(redirect(url, code=302), flows, access)


@sso.get("/auth/oidc/callback")
def oidc_callback() -> BaseResponse:
    access = current()
    config = _oidc_settings(access)
    if config is None:
        return _not_configured()
    issuer, client_id, secret = config
    flows = _load_flows()
    state = request.args.get("state", "")[:128]
    entry = _take_flow(flows, "oidc", state)
    if entry is None or len(entry) != 4:  # forged, expired, used, or from another browser
        return _fail(access, "oidc", "unknown_state", 401, flows=flows)
    if not _used.first("oidc:" + state):
        return _fail(access, "oidc", "replayed", 401, flows=flows)
    nonce, verifier, next_url = str(entry[0]), str(entry[1]), safe_next(str(entry[2]))
    if request.args.get("error"):  # the person declined, or the provider refused the request
        return _fail(access, "oidc", "provider_error", 401, flows=flows, error=request.args["error"])
    code = request.args.get("code", "")
    if not code or len(code) > 4096:
        return _fail(access, "oidc", "missing_code", 401, flows=flows)
    try:
        meta = _provider.metadata(issuer)
    except ProviderError as exc:
        log.warning("event=sso.discovery_failed error=%r", str(exc)[:300])
        return _fail(access, "oidc", "provider_unreachable", 502, flows=flows)
    if "iss" in request.args and request.args["iss"] != meta["issuer"]:  # RFC 9207: a mix-up
        return _fail(access, "oidc", "issuer_mismatch", 401, flows=flows)
    client = _oauth(access, client_id, secret)
    try:
        token = client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                   code_verifier=verifier, timeout=TIMEOUT_S)
    except OAuthError as exc:  # invalid_grant: a used, expired or stolen code
        return _fail(access, "oidc", "code_refused", 401, flows=flows, error=str(exc.error or ""))
    except (requests.RequestException, ValueError) as exc:
        log.warning("event=sso.token_failed error=%r", str(exc)[:300])
        return _fail(access, "oidc", "provider_unreachable", 502, flows=flows)
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        return _fail(access, "oidc", "no_id_token", 502, flows=flows)
    try:
        claims = _verify_id_token(id_token, meta, client_id, nonce)
    except ProviderError as exc:
        log.warning("event=sso.jwks_failed error=%r", str(exc)[:300])
        return _fail(access, "oidc", "provider_unreachable", 502, flows=flows)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        log.warning("event=sso.id_token_invalid error=%r", str(exc)[:300])
        return _fail(access, "oidc", "id_token_invalid", 401, flows=flows)
    for key, value in _userinfo(client, meta, claims["sub"]).items():
        claims.setdefault(key, value)
    name = _clean_name(claims.get("preferred_username")) or _clean_name(claims.get("sub"))
    if name is None:
        return _fail(access, "oidc", "unusable_name", 401, flows=flows)
    return _finish(access, name, "oidc", next_url, _keep(claims, access, OIDC_KEEP), flows)


@sso.record_once
def _limit_callbacks(state: Any) -> None:
    """The callbacks ask the provider: the app's limiter (``signin.make_limiter``) counts them
    per address. Single logout (POST, from the CAS server) is not limited."""
    limiters = state.app.extensions.get("limiter", ())
    if not limiters:
        log.warning("event=sso.unlimited reason=%r", "register the sso blueprint after the limiter")
    for limiter in limiters:  # the limited view replaces the plain one, as for the sign-in form
        for view in (cas_callback, oidc_callback, cas_start, oidc_start):
            endpoint = f"{sso.name}.{view.__name__}"
            state.app.view_functions[endpoint] = limiter.limit(SSO_LIMIT)(state.app.view_functions[endpoint])
