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

The package: ``flow`` (the blueprint, the pending flows, failure pages, the common ending),
``cas`` and ``oidc`` (each protocol's routes); this module puts the limiter on the callbacks.
"""

from __future__ import annotations

from typing import Any

from ioc_app.routes.sso.cas import cas_callback, cas_start
from ioc_app.routes.sso.flow import SSO_LIMIT, log, sso
from ioc_app.routes.sso.oidc import oidc_callback, oidc_start

__all__ = ["sso"]


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
