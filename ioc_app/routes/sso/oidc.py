"""OpenID Connect sign-in (``IOC_OIDC_ISSUER``, ``IOC_OIDC_CLIENT_ID``, ``IOC_OIDC_CLIENT_SECRET``).

The code flow with PKCE (S256), ``state`` and ``nonce``, the provider found by discovery
(cached), the code exchanged with ``client_secret_basic`` (Authlib) and the ID token checked
against the provider's keys (signature, ``iss``, ``aud``, ``exp``, ``nonce``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import redirect, request
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from werkzeug.wrappers import Response as BaseResponse

from ioc_app.access import Access, current
from ioc_app.gate import safe_next
from ioc_app.routes.sso.flow import (
    TIMEOUT_S,
    add_flow,
    clean_name,
    fail,
    finish,
    http,
    keep,
    load_flows,
    log,
    not_configured,
    save_flows,
    sso,
    take_flow,
    used,
)

#: attributes kept besides the ones the role mappings read (shown, never used for access)
OIDC_KEEP = ("groups", "email", "name")
#: discovery documents and key sets are fetched again after this long
PROVIDER_TTL_S = 3600
JWKS_REFRESH_MIN_S = 60
ID_TOKEN_LEEWAY_S = 60


class ProviderError(Exception):
    """The identity provider could not be asked or gave an unusable answer (→ 502)."""



class _Provider:
    """The provider's discovery document and keys, cached (a stale copy is used while the
    provider cannot be reached)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meta: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    def _get(self, url: str) -> Any:
        try:
            r = http.get(url, headers={"Accept": "application/json"})
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
        return not_configured()
    issuer, client_id, secret = config
    try:
        meta = _provider.metadata(issuer)
    except ProviderError as exc:
        log.warning("event=sso.discovery_failed error=%r", str(exc)[:300])
        return fail(access, "oidc", "provider_unreachable", 502)
    scopes = ["openid", "profile", "email"]
    if "groups" in (meta.get("scopes_supported") or []):
        scopes.append("groups")
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    next_url = safe_next(request.args.get("next"))
    url, _ = _oauth(access, client_id, secret, " ".join(scopes)).create_authorization_url(
        meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
    flows = load_flows()
    add_flow(flows, "oidc", state, [nonce, verifier, next_url])
    return save_flows(redirect(url, code=302), flows, access)


@sso.get("/auth/oidc/callback")
def oidc_callback() -> BaseResponse:
    access = current()
    config = _oidc_settings(access)
    if config is None:
        return not_configured()
    issuer, client_id, secret = config
    flows = load_flows()
    state = request.args.get("state", "")[:128]
    entry = take_flow(flows, "oidc", state)
    if entry is None or len(entry) != 4:  # forged, expired, used, or from another browser
        return fail(access, "oidc", "unknown_state", 401, flows=flows)
    if not used.first("oidc:" + state):
        return fail(access, "oidc", "replayed", 401, flows=flows)
    nonce, verifier, next_url = str(entry[0]), str(entry[1]), safe_next(str(entry[2]))
    if request.args.get("error"):  # the person declined, or the provider refused the request
        return fail(access, "oidc", "provider_error", 401, flows=flows, error=request.args["error"])
    code = request.args.get("code", "")
    if not code or len(code) > 4096:
        return fail(access, "oidc", "missing_code", 401, flows=flows)
    try:
        meta = _provider.metadata(issuer)
    except ProviderError as exc:
        log.warning("event=sso.discovery_failed error=%r", str(exc)[:300])
        return fail(access, "oidc", "provider_unreachable", 502, flows=flows)
    if "iss" in request.args and request.args["iss"] != meta["issuer"]:  # RFC 9207: a mix-up
        return fail(access, "oidc", "issuer_mismatch", 401, flows=flows)
    client = _oauth(access, client_id, secret)
    try:
        token = client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                   code_verifier=verifier, timeout=TIMEOUT_S)
    except OAuthError as exc:  # invalid_grant: a used, expired or stolen code
        return fail(access, "oidc", "code_refused", 401, flows=flows, error=str(exc.error or ""))
    except (requests.RequestException, ValueError) as exc:
        log.warning("event=sso.token_failed error=%r", str(exc)[:300])
        return fail(access, "oidc", "provider_unreachable", 502, flows=flows)
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        return fail(access, "oidc", "no_id_token", 502, flows=flows)
    try:
        claims = _verify_id_token(id_token, meta, client_id, nonce)
    except ProviderError as exc:
        log.warning("event=sso.jwks_failed error=%r", str(exc)[:300])
        return fail(access, "oidc", "provider_unreachable", 502, flows=flows)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        log.warning("event=sso.id_token_invalid error=%r", str(exc)[:300])
        return fail(access, "oidc", "id_token_invalid", 401, flows=flows)
    for key, value in _userinfo(client, meta, claims["sub"]).items():
        claims.setdefault(key, value)
    name = clean_name(claims.get("preferred_username")) or clean_name(claims.get("sub"))
    if name is None:
        return fail(access, "oidc", "unusable_name", 401, flows=flows)
    return finish(access, name, "oidc", next_url, keep(claims, access, OIDC_KEEP), flows)
