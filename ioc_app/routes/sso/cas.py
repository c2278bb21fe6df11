"""CAS 3.0 sign-in (``IOC_CAS_URL``) and the CAS server's single logout.

``/auth/cas`` sends the browser to ``<cas>/login`` with the service
``<base>/auth/cas/callback?next=…&s=…``; the callback validates the ticket at
``<cas>/p3/serviceValidate`` (python-cas) and keeps the attributes the role mappings read.
The CAS server's back-channel single logout (``POST /auth/cas/callback`` with a
``logoutRequest``) ends the session that began with the ticket it names. Every XML answer is
parsed without DTDs, entities or network.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlencode, urljoin

import cas
import requests
from flask import Response, redirect, request
from lxml import etree
from werkzeug.wrappers import Response as BaseResponse

from ioc_app.access import Access, current
from ioc_app.gate import safe_next
from ioc_app.routes.sso.flow import (
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

#: a CAS service ticket (CAS 3.0: "ST-" and at most 256 characters)
TICKET = re.compile(r"ST-[A-Za-z0-9._~:@-]{1,253}")
MAX_LOGOUT_REQUEST = 16 * 1024
SAMLP = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
CAS_NS = "{http://www.yale.edu/tp/cas}"
#: attributes kept besides the ones the role mappings read (shown, never used for access)
CAS_KEEP = ("displayName", "cn", "name", "mail", "email")


def _service_url(access: Access, next_url: str, state: str) -> str:
    """The service IOC names to CAS; the same string at login and at validation."""
    return f"{access.settings.base_url}/auth/cas/callback?" + urlencode({"next": next_url, "s": state})


def _cas_client(access: Access, service_url: str) -> Any:
    return cas.CASClient(version=3, service_url=service_url, server_url=access.settings.cas_url + "/",
                         session=http)


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
        return not_configured()
    next_url = safe_next(request.args.get("next"))
    state = secrets.token_urlsafe(24)
    flows = load_flows()
    add_flow(flows, "cas", state, [next_url])
    url = _cas_client(access, _service_url(access, next_url, state)).get_login_url()
    return save_flows(redirect(url, code=302), flows, access)


@sso.get("/auth/cas/callback")
def cas_callback() -> BaseResponse:
    access = current()
    if not access.settings.cas_url:
        return not_configured()
    flows = load_flows()
    ticket = request.args.get("ticket", "")
    entry = take_flow(flows, "cas", request.args.get("s", "")[:64])
    if not ticket:
        return fail(access, "cas", "missing_ticket", 401, flows=flows)
    if not TICKET.fullmatch(ticket):
        return fail(access, "cas", "malformed_ticket", 401, flows=flows)
    if entry is None:  # not started in this browser, expired, or used already
        return fail(access, "cas", "unknown_state", 401, flows=flows)
    if not used.first("cas:" + ticket):
        return fail(access, "cas", "replayed", 401, flows=flows)
    next_url = safe_next(str(entry[0]))
    client = _cas_client(access, _service_url(access, next_url, request.args["s"][:64]))
    try:  # python-cas's own request, but its status is wanted too: an error page is no answer
        answer = http.get(urljoin(client.server_url, client.url_suffix),
                           params={"ticket": ticket, "service": client.service_url})
        body = answer.content
    except requests.RequestException as exc:
        log.warning("event=sso.cas_unreachable error=%r", str(exc)[:300])
        return fail(access, "cas", "provider_unreachable", 502, flows=flows)
    try:
        if answer.status_code != 200 or _cas_xml(body).tag != f"{CAS_NS}serviceResponse":
            raise ValueError(f"HTTP {answer.status_code}")
        user, attributes, _ = client.verify_response(body)
    except (etree.XMLSyntaxError, IndexError, AttributeError, TypeError, ValueError) as exc:
        log.warning("event=sso.cas_unreadable error=%r", str(exc)[:200])
        return fail(access, "cas", "provider_answer_unreadable", 502, flows=flows)
    if not user:
        return fail(access, "cas", "ticket_refused", 401, flows=flows, error=_cas_failure(body))
    name = clean_name(user)
    if name is None:
        return fail(access, "cas", "unusable_name", 401, flows=flows)
    return finish(access, name, "cas", next_url, keep(attributes or {}, access, CAS_KEEP), flows,
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
