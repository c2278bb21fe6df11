"""What every answer carries: security headers, and server errors that reveal nothing.

Headers (on every response, the Dash pages, the APIs and the sign-in pages alike):

- ``Content-Security-Policy``: scripts only from IOC itself plus the hashes of Dash's inline
  scripts (its renderer start-up and any inline clientside callback, ``Dash.csp_hashes()``);
  no ``unsafe-eval``. Styles allow ``'unsafe-inline'``: Plotly writes ``<style>`` elements
  and Dash components write ``style`` attributes at run time. That is the residual risk: a
  markup injection could restyle the page (hide or overlay parts of it), not run script.
  ``frame-ancestors`` comes from ``IOC_FRAME_ANCESTORS`` (default ``'none'``).
- ``X-Frame-Options`` (``DENY`` for ``'none'``, ``SAMEORIGIN`` for ``'self'``; absent when
  other sites are allowed: the header cannot name them, ``frame-ancestors`` does),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``Cross-Origin-Opener-Policy: same-origin``, and ``Strict-Transport-Security`` when
  ``IOC_PUBLIC_URL`` is https.

Server errors: a 5xx body is ``{"error": "<code>", "id": "<correlation id>"}`` and nothing
else — never a SQL statement or the store's message. The details go to the log, on a line
holding ``error_id=<the same id>``, so an operator finds them from what a user reports.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from typing import Any

import dash
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ioc_app.settings import Settings

log = logging.getLogger("ioc.web")

#: the largest Dash callback request body (the pages' callbacks send a few KiB)
CALLBACK_MAX_BYTES = 1 << 20
HSTS_MAX_AGE_S = 365 * 24 * 3600


def error_id() -> str:
    """A correlation id: short enough to read out on the phone, random enough to be unique."""
    return secrets.token_hex(8)


def failure(status: int, code: str, detail: Any = None, *, where: str,
            headers: dict[str, str] | None = None) -> Response:
    """A 5xx answer holding only ``code`` and a correlation id; ``detail`` (an exception, the
    store's message) is logged under that id and never sent."""
    return failure_body(status, code, logged_failure(code, detail, where=where, status=status), headers)


def logged_failure(code: str, detail: Any, *, where: str, status: int = 503) -> str:
    """Log ``detail`` under a new correlation id and return the id (for a page to show)."""
    ident = error_id()
    log.warning("event=%s.failed error_id=%s code=%s status=%d detail=%r", where, ident, code, status,
                str(detail)[:1000] if detail is not None else "-")
    return ident


def refusal(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A 4xx answer in the API's error shape: the code and a message saying what to change."""
    import orjson

    return Response(orjson.dumps({"error": code, "message": message}), status=status, headers=headers,
                    mimetype="application/json")


def failure_body(status: int, code: str, ident: str, headers: dict[str, str] | None = None) -> Response:
    import orjson

    response = Response(orjson.dumps({"error": code, "id": ident}), status=status,
                        mimetype="application/json", headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def content_security_policy(settings: Settings, script_hashes: Sequence[str]) -> str:
    """The policy text for ``settings`` and the Dash app's inline-script hashes."""
    directives = [
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        f"frame-ancestors {settings.frame_ancestors}",
    ]
    return "; ".join(d.strip() for d in directives)


def frame_options(frame_ancestors: str) -> str | None:
    """The legacy ``X-Frame-Options`` that matches ``frame-ancestors``, when one can."""
    sources = frame_ancestors.split()
    if sources == ["'none'"]:
        return "DENY"
    if sources == ["'self'"]:
        return "SAMEORIGIN"
    return None


def install(app: dash.Dash, settings: Settings) -> None:
    """Add the headers to every response of ``app`` and the error bodies to its server."""
    server: Flask = app.server
    hsts = settings.base_url.startswith("https://")
    xfo = frame_options(settings.frame_ancestors)
    policy: dict[str, str] = {}  # the digest of the inline scripts → the policy text

    def current_policy() -> str:
        # Dash gathers inline clientside callbacks as pages register them; the hashes are
        # taken from what it will actually inline, once per change
        hashes = app.csp_hashes()
        key = hashlib.sha256("".join(hashes).encode()).hexdigest()
        if key not in policy:
            policy.clear()
            policy[key] = content_security_policy(settings, hashes)
        return policy[key]

    @server.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", current_policy())
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if xfo:
            headers.setdefault("X-Frame-Options", xfo)
        if hsts:
            headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE_S}")
        return response

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException) and (exc.code or 500) < 500:
            return exc  # a 404, 405, 413…: Flask's own answer reveals nothing
        ident = error_id()
        # the route, not the path: a path may hold a secret (a sign-in link's token)
        rule = request.url_rule.rule if request.url_rule is not None else "-"
        log.error("event=request.failed error_id=%s method=%s rule=%s", ident, request.method, rule,
                  exc_info=exc)
        if request.path.startswith(("/auth/", "/admin/")) and request.method == "GET":
            from ioc_app.plain import lang, render
            from layouts.i18n import t

            return render("message.html", 500, title=t("error.title", lang()),
                          message=t("error.internal", lang()).format(id=ident), links=[], signed_in=False)
        return failure_body(500, "internal", ident)
