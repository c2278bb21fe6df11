"""The test identity providers themselves work: if these fail, a failing IOC sign-in test
says nothing about IOC.

Each protocol is driven the way IOC will drive it — CAS 3.0 login, ticket validation and
single logout; OpenID Connect discovery and the code flow with PKCE through Authlib — with
no IOC in the loop.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.idp import CasServer, OidcServer, loopback_session, parse_form

CAS_NS = {"cas": "http://www.yale.edu/tp/cas"}
SERVICE = "http://127.0.0.1:9/x"


# --- CAS -----------------------------------------------------------------------------------


def _cas_ticket(cas: CasServer, service: str, username: str = "zhang.san",
                password: str = "campus-pass-1") -> str:
    """Sign in by hand, the way the brief of the fixture describes it, and return the ticket."""
    session = loopback_session()
    login = f"{cas.login_url}?{urlencode({'service': service})}"
    page = session.get(login, timeout=30)
    assert page.status_code == 200
    _, fields = parse_form(page.text)
    assert fields["lt"].startswith("LT-")
    r = session.post(login, data={**fields, "username": username, "password": password},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:2000]
    location = r.headers["Location"]
    assert location.startswith(service + "?ticket=ST-")
    return parse_qs(urlsplit(location).query)["ticket"][0]


def _validate(cas: CasServer, service: str, ticket: str) -> ET.Element:
    r = loopback_session().get(cas.validate_url, params={"service": service, "ticket": ticket}, timeout=30)
    assert r.status_code == 200
    return ET.fromstring(r.content)


def test_cas_login_page_answers(cas_server: CasServer) -> None:
    r = loopback_session().get(cas_server.login_url, timeout=30)
    assert r.status_code == 200
    assert 'name="lt"' in r.text and 'name="password"' in r.text
    assert "https://" not in r.text.split("<!--")[0], "the page must not load anything off the machine"


def test_cas_login_and_p3_validation_release_the_attributes(cas_server: CasServer) -> None:
    ticket = _cas_ticket(cas_server, SERVICE)
    root = _validate(cas_server, SERVICE, ticket)
    success = root.find("cas:authenticationSuccess", CAS_NS)
    assert success is not None, ET.tostring(root, encoding="unicode")
    assert success.findtext("cas:user", namespaces=CAS_NS) == "zhang.san"
    attrs = success.find("cas:attributes", CAS_NS)
    assert attrs is not None
    assert [e.text for e in attrs.findall("cas:memberOf", CAS_NS)] == ["ioc-leaders", "staff"]
    assert attrs.findtext("cas:displayName", namespaces=CAS_NS) == "张三"
    assert attrs.findtext("cas:email", namespaces=CAS_NS) == "zhang.san@example.edu.cn"
    assert attrs.findtext("cas:uid", namespaces=CAS_NS) == "zhang.san"

    # A service ticket is good once.
    again = _validate(cas_server, SERVICE, ticket)
    failure = again.find("cas:authenticationFailure", CAS_NS)
    assert failure is not None and failure.get("code") == "INVALID_TICKET"


def test_cas_sign_in_helper_and_wrong_password(cas_server: CasServer) -> None:
    login = f"{cas_server.login_url}?{urlencode({'service': SERVICE})}"
    session = loopback_session()
    url = cas_server.sign_in(session, login, "wang.wu", "campus-pass-2")
    assert url.startswith(SERVICE + "?ticket=ST-")
    # The CAS session is live now: the next service gets a ticket without a form.
    assert "ticket=ST-" in cas_server.sign_in(session, login, "wang.wu", "wrong")
    with pytest.raises(AssertionError, match="HTTP 200"):
        cas_server.sign_in(loopback_session(), login, "zhang.san", "wrong")


@pytest.fixture()
def slo_receiver() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A service on a loopback port that records the single-logout POSTs it receives."""
    received: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            received.append({"path": [self.path], **parse_qs(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/auth/cas/callback?next=%2Fhome", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_cas_single_logout_reaches_the_service(
        cas_server: CasServer, slo_receiver: tuple[str, list[dict[str, list[str]]]]) -> None:
    service, received = slo_receiver
    browser = loopback_session()
    url = cas_server.sign_in(browser, f"{cas_server.login_url}?{urlencode({'service': service})}",
                             "zhang.san", "campus-pass-1")
    ticket = parse_qs(urlsplit(url).query)["ticket"][0]
    # Validate, as IOC does when the browser comes back with the ticket.
    assert _validate(cas_server, service, ticket).find("cas:authenticationSuccess", CAS_NS) is not None

    cas_server.logout_everywhere("zhang.san", "campus-pass-1")

    assert len(received) == 1, received
    post = received[0]
    assert post["path"] == ["/auth/cas/callback?next=%2Fhome"]  # the service URL, verbatim
    request = ET.fromstring(post["logoutRequest"][0])
    ns = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
    assert request.findtext("samlp:SessionIndex", namespaces=ns) == ticket
    # The browser's CAS session is gone too: the login form is back.
    assert 'name="password"' in browser.get(cas_server.login_url, timeout=30).text


# --- OpenID Connect ------------------------------------------------------------------------


def test_oidc_discovery(oidc_server: OidcServer) -> None:
    r = loopback_session().get(oidc_server.discovery_url, timeout=30)
    assert r.status_code == 200
    meta = r.json()
    assert meta["issuer"] == oidc_server.issuer == oidc_server.url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "profile", "email", "groups"} <= set(meta["scopes_supported"])
    assert meta["authorization_endpoint"] == oidc_server.authorization_url
    assert meta["end_session_endpoint"] == oidc_server.end_session_url


def _client(oidc: OidcServer, redirect_uri: str) -> OAuth2Session:
    client = OAuth2Session(oidc.client_id, oidc.client_secret, scope="openid profile email groups",
                           redirect_uri=redirect_uri, code_challenge_method="S256")
    client.trust_env = False
    return client


def test_oidc_code_flow_with_pkce(oidc_server: OidcServer, oidc_redirect_uris: list[str],
                                  oidc_post_logout_redirect_uris: list[str]) -> None:
    redirect_uri = oidc_redirect_uris[0]
    client = _client(oidc_server, redirect_uri)
    verifier, nonce = generate_token(48), generate_token(20)
    auth_url, state = client.create_authorization_url(oidc_server.authorization_url,
                                                      code_verifier=verifier, nonce=nonce)
    browser = loopback_session()

    # A wrong password shows the form again.
    with pytest.raises(AssertionError, match="HTTP 200"):
        oidc_server.sign_in(loopback_session(), auth_url, "li.si", "wrong")

    callback = oidc_server.sign_in(browser, auth_url, "li.si", "oidc-pass-1")
    assert callback.startswith(redirect_uri + "?")
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [state] and query["iss"] == [oidc_server.issuer]

    token = client.fetch_token(oidc_server.token_url, authorization_response=callback, code_verifier=verifier)
    keys = KeySet.import_key_set(loopback_session().get(f"{oidc_server.base}/jwks", timeout=30).json())
    id_token = jwt.decode(token["id_token"], keys)
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": oidc_server.issuer},
                          aud={"essential": True, "value": oidc_server.client_id},
                          nonce={"essential": True, "value": nonce}).validate(id_token.claims)
    claims = id_token.claims
    assert claims["sub"] == "li.si"
    assert claims["groups"] == ["ioc-analysts"]
    assert claims["name"] == "李四"
    assert claims["email"] == "li.si@example.edu.cn"

    userinfo = client.get(oidc_server.userinfo_url, timeout=30).json()
    assert userinfo["sub"] == "li.si" and userinfo["groups"] == ["ioc-analysts"]

    # The code is good once.
    with pytest.raises(Exception, match="invalid_grant"):
        _client(oidc_server, redirect_uri).fetch_token(
            oidc_server.token_url, authorization_response=callback, code_verifier=verifier)

    # RP-initiated logout: a confirmation form, then back to the registered URI.
    after = oidc_post_logout_redirect_uris[0]
    page = browser.get(oidc_server.end_session_url, timeout=30, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": after, "state": "bye"})
    assert page.status_code == 200 and "Yes, sign me out" in page.text
    action, fields = parse_form(page.text)
    assert action
    r = browser.post(action, data={**fields, "logout": "yes"}, allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303) and r.headers["Location"] == after + "?state=bye"
    # Signed out: the next authorization request asks for the password again.
    with pytest.raises(AssertionError, match="HTTP 200"):
        oidc_server.sign_in(browser, client.create_authorization_url(
            oidc_server.authorization_url, code_verifier=verifier)[0], "li.si", "wrong")


def test_oidc_requires_pkce_and_registered_redirect_uris(oidc_server: OidcServer,
                                                         oidc_redirect_uris: list[str]) -> None:
    session = loopback_session()
    params = {"client_id": oidc_server.client_id, "response_type": "code", "scope": "openid",
              "redirect_uri": oidc_redirect_uris[0], "state": "s1"}
    r = session.get(oidc_server.authorization_url, params=params, allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303)
    error = parse_qs(urlsplit(r.headers["Location"]).query)
    assert error["error"] == ["invalid_request"] and "PKCE" in error["error_description"][0]

    params |= {"redirect_uri": "http://127.0.0.1:9/elsewhere", "code_challenge": "x" * 43,
               "code_challenge_method": "S256"}
    r = session.get(oidc_server.authorization_url, params=params, allow_redirects=False, timeout=30)
    assert r.status_code == 400 and "redirect_uri" in r.text


def test_oidc_server_for_takes_the_redirect_uris(oidc_server_for: Callable[..., OidcServer]) -> None:
    uris = ["http://127.0.0.1:9/a/callback", "http://127.0.0.1:10/b/callback"]
    server = oidc_server_for(uris, post_logout_redirect_uris=["http://127.0.0.1:10/"])
    client = _client(server, uris[1])
    verifier = generate_token(48)
    auth_url, _ = client.create_authorization_url(server.authorization_url, code_verifier=verifier)
    callback = server.sign_in(loopback_session(), auth_url, "zhao.liu", "oidc-pass-2")
    token = client.fetch_token(server.token_url, authorization_response=callback, code_verifier=verifier)
    claims = jwt.decode(token["id_token"], KeySet.import_key_set(
        loopback_session().get(f"{server.base}/jwks", timeout=30).json())).claims
    assert claims["sub"] == "zhao.liu" and claims["groups"] == []
