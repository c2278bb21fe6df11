"""Real identity providers on loopback ports, for end-to-end sign-in tests.

Sign-in is where a mock agrees with whatever the client does, so these are the real things:

* :class:`CasServer` — django-cas-server (CAS 3.0) in a child process, the Django project in
  ``tests/idp/cas``, a fresh SQLite file per server.  Base URL ``<base>/cas``: ``/cas/login``,
  ``/cas/p3/serviceValidate``, ``/cas/logout``.  Any ``http://127.0.0.1:<port>/...`` service is
  allowed, with single logout, and every user attribute is released: ``uid``, ``email``,
  ``displayName`` and the multi-valued ``memberOf``.
* :class:`OidcServer` — panva's oidc-provider (Node) from ``tests/idp/oidc``, issuer
  ``http://127.0.0.1:<port>``, one confidential client (``ioc`` / ``ioc-secret-123``, PKCE S256
  required), scopes ``openid profile email groups``, claims ``sub name preferred_username email
  email_verified groups`` in the ID token and at userinfo.

Both bind port 0 in the child and report the port they got, so two never race for one.
Fixtures: ``cas_server`` and ``oidc_server`` (module scope; ``oidc_server`` takes its redirect
URIs from the overridable ``oidc_redirect_uris`` fixture), and the factory ``oidc_server_for``.
Outside ``tests/idp`` make them visible with ``from tests.idp import cas_server`` (etc.) in the
test module or a ``conftest.py``, or ``pytest_plugins = ["tests.idp"]`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any, Self
from urllib.parse import urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
OIDC_DIR = Path(__file__).resolve().parent / "oidc"


@dataclass(frozen=True)
class IdpUser:
    """A person at the identity provider: CAS releases ``name`` as ``displayName`` and
    ``groups`` as ``memberOf``; OpenID Connect as the ``name`` and ``groups`` claims."""

    login: str
    password: str
    name: str
    email: str
    groups: tuple[str, ...] = field(default=())


#: ``zhang.san`` is an IOC leader; ``wang.wu`` has no IOC group (for "no role" tests).
CAS_USERS: tuple[IdpUser, ...] = (
    IdpUser("zhang.san", "campus-pass-1", "张三", "zhang.san@example.edu.cn", ("ioc-leaders", "staff")),
    IdpUser("wang.wu", "campus-pass-2", "王五", "wang.wu@example.edu.cn", ("students",)),
)
#: ``li.si`` is an IOC analyst; ``zhao.liu`` has no group at all.
OIDC_USERS: tuple[IdpUser, ...] = (
    IdpUser("li.si", "oidc-pass-1", "李四", "li.si@example.edu.cn", ("ioc-analysts",)),
    IdpUser("zhao.liu", "oidc-pass-2", "赵六", "zhao.liu@example.edu.cn", ()),
)

OIDC_CLIENT_ID = "ioc"
OIDC_CLIENT_SECRET = "ioc-secret-123"


def loopback_session() -> requests.Session:
    """A requests session that ignores proxy variables: every IdP here is on 127.0.0.1."""
    session = requests.Session()
    session.trust_env = False
    return session


def _child_env(**extra: str) -> dict[str, str]:
    """The children talk to each other on loopback (CAS single logout POSTs to IOC); a proxy
    set in the environment must not be asked to carry that."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
           and k != "DJANGO_SETTINGS_MODULE"}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


class _Child:
    """A server child process in its own process group that prints ``READY <port> ...``."""

    name = "server"
    ready_timeout = 60.0

    def __init__(self, workdir: Path | None) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"idp-{self.name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port = 0

    def _spawn(self, cmd: list[str], env: dict[str, str], cwd: Path) -> None:
        # A second try: the provider is the tests' own scaffolding, and on a machine busy with the
        # other test worker its start has once printed nothing after its first line. What the
        # first try printed, and how it ended, stays in the error if the second fails too.
        failures = []
        for _ in range(2):
            failure = self._try_spawn(cmd, env, cwd)
            if failure is None:
                return
            failures.append(failure)
        raise RuntimeError(f"{self.name} did not become ready ({' '.join(cmd)}):\n" + "\n".join(failures))

    def _try_spawn(self, cmd: list[str], env: dict[str, str], cwd: Path) -> str | None:
        """Start the child and wait for its ``READY`` line; None when it came, else what happened."""
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        started = time.monotonic()
        while time.monotonic() < started + self.ready_timeout:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith("READY "):
                    self.port = int(line.split()[1])
                    return None
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        code = self.proc.poll()
        ended = "still running" if code is None else f"exited with {code}"
        log = self.log()
        self.stop()
        return f"after {time.monotonic() - started:.1f} s, {ended}; it printed:\n{log[-4000:]}"

    def log(self) -> str:
        """What the server printed so far (requests, warnings, tracebacks): for failure messages."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate the whole process group (the server may have children), then reap it."""
        if self.proc is not None and self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _FormParser(HTMLParser):
    """The first ``<form>`` of a page: its action and its inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done:
            self._in_form, self.action = True, a.get("action", "")
        elif tag == "input" and self._in_form and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def parse_form(html: str) -> tuple[str | None, dict[str, str]]:
    """(action, {name: value}) of the first form in ``html``: the hidden ``lt``/``execution``
    or ``csrfmiddlewaretoken`` fields a login POST must send back."""
    parser = _FormParser()
    parser.feed(html)
    return parser.action, parser.fields


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _sign_in(session: requests.Session, base: str, url: str, credentials: dict[str, str],
             max_hops: int = 20) -> str:
    """Follow the identity provider's redirects from ``url``, submitting its login form with
    ``credentials``, and return the first URL that leaves the provider (the service or
    redirect URI with its ``ticket``/``code``), without fetching it."""
    posted = False
    method, data = "GET", None
    for _ in range(max_hops):
        if _origin(url) != base:
            return url
        r = session.request(method, url, data=data, allow_redirects=False, timeout=30)
        if r.is_redirect:
            url, method, data = urljoin(url, r.headers["Location"]), "GET", None
            continue
        if r.status_code != 200 or posted:
            raise AssertionError(f"sign-in at {url} stopped with HTTP {r.status_code}:\n{r.text[:2000]}")
        action, fields = parse_form(r.text)
        url, method, data = urljoin(url, action or url), "POST", {**fields, **credentials}
        posted = True
    raise AssertionError(f"sign-in did not leave {base} after {max_hops} redirects")


class CasServer(_Child):
    """django-cas-server on ``127.0.0.1:<port>``; ``url`` is the CAS base, ``<base>/cas``.

    A browser signs out (and so triggers single logout to every service it signed in to) by
    visiting ``<url>/logout``; :meth:`logout_everywhere` does it for all of a user's sessions
    from outside the browser.
    """

    name = "cas"

    def __init__(self, workdir: Path | None = None, users: Sequence[IdpUser] = CAS_USERS) -> None:
        super().__init__(workdir)
        self.users = tuple(users)

    def start(self) -> Self:
        """Migrate a fresh SQLite database, seed users and the service pattern, and serve."""
        env = _child_env(
            IDP_CAS_DIR=str(self.workdir),
            IDP_CAS_USERS=json.dumps([asdict(u) for u in self.users]),
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        self._spawn([sys.executable, "-m", "tests.idp.cas.serve"], env, ROOT)
        return self

    @property
    def url(self) -> str:
        """The CAS base URL IOC is configured with (``IOC_CAS_URL``-style): ``<base>/cas``."""
        return f"{self.base}/cas"

    @property
    def login_url(self) -> str:
        return f"{self.url}/login"

    @property
    def logout_url(self) -> str:
        return f"{self.url}/logout"

    @property
    def validate_url(self) -> str:
        """CAS 3.0 validation, which returns the attributes."""
        return f"{self.url}/p3/serviceValidate"

    def sign_in(self, session: requests.Session, url: str, username: str, password: str) -> str:
        """Sign in from ``url`` (``<url>/login?service=...``, as IOC redirects to) and return
        the service URL with ``ticket=ST-...``, not yet fetched: ``session.get()`` it to
        finish at the service.  With a live CAS session in ``session`` no form is shown."""
        return _sign_in(session, self.base, url, {"username": username, "password": password})

    def logout_everywhere(self, username: str, password: str) -> requests.Response:
        """End every CAS session of ``username``, which sends a single-logout POST
        (``logoutRequest=<samlp:LogoutRequest>`` naming the service ticket) to each service
        URL that validated a ticket, before this returns.

        django-cas-server only logs out the session that asks; ``/cas/logout?all=1`` from a
        fresh session of the same user reaches the others (a browser's, say).
        """
        session = loopback_session()
        page = session.get(self.login_url, timeout=30)
        _, fields = parse_form(page.text)
        signed_in = session.post(self.login_url, data={**fields, "username": username, "password": password},
                                 timeout=30)
        if signed_in.status_code != 200 or 'name="password"' in signed_in.text:
            raise AssertionError(f"CAS sign-in of {username} failed:\n{signed_in.text[:2000]}")
        r = session.get(f"{self.logout_url}?all=1", timeout=60)
        r.raise_for_status()
        return r


def _ensure_node_modules() -> None:
    """``npm ci`` in tests/idp/oidc when node_modules is missing or older than the lock file."""
    marker = OIDC_DIR / "node_modules" / ".package-lock.json"
    lock = OIDC_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: the OpenID provider of the sign-in tests runs on Node.js "
                           "(./dev test installs nodejs and npm, or: apt-get install nodejs npm)")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in {OIDC_DIR} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


class OidcServer(_Child):
    """oidc-provider on ``127.0.0.1:<port>``; ``url`` (= ``issuer`` = ``base``) is the issuer.

    The client ``client_id`` (confidential, ``client_secret_basic`` by default) may only
    redirect to ``redirect_uris`` exactly; sign-out is ``end_session_url`` (RP-initiated
    logout; the provider asks "Yes, sign me out" before redirecting to a registered
    ``post_logout_redirect_uri``).  With ``backchannel_logout_uri`` it also POSTs a
    ``logout_token`` there when the session ends.
    """

    name = "oidc"
    ready_timeout = 90.0  # node and its key generation on a loaded 2-core machine

    def __init__(self, redirect_uris: Sequence[str], post_logout_redirect_uris: Sequence[str] = (),
                 backchannel_logout_uri: str | None = None, users: Sequence[IdpUser] = OIDC_USERS,
                 client_id: str = OIDC_CLIENT_ID, client_secret: str = OIDC_CLIENT_SECRET,
                 token_auth_method: str = "client_secret_basic", workdir: Path | None = None) -> None:
        super().__init__(workdir)
        if not redirect_uris:
            raise ValueError("the client needs at least one redirect URI")
        self.redirect_uris = tuple(redirect_uris)
        self.post_logout_redirect_uris = tuple(post_logout_redirect_uris)
        self.backchannel_logout_uri = backchannel_logout_uri
        self.users = tuple(users)
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_auth_method = token_auth_method

    def start(self) -> Self:
        """Install the Node packages if needed, then start the provider."""
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is missing: the OpenID provider of the sign-in tests runs on Node.js "
                               "(./dev test installs nodejs and npm, or: apt-get install nodejs npm)")
        _ensure_node_modules()
        env = _child_env(
            OIDC_PORT="0",
            OIDC_REDIRECT_URIS=",".join(self.redirect_uris),
            OIDC_POST_LOGOUT_REDIRECT_URIS=",".join(self.post_logout_redirect_uris),
            OIDC_BACKCHANNEL_LOGOUT_URI=self.backchannel_logout_uri or "",
            OIDC_CLIENT_ID=self.client_id,
            OIDC_CLIENT_SECRET=self.client_secret,
            OIDC_TOKEN_AUTH_METHOD=self.token_auth_method,
            OIDC_USERS=json.dumps([{**asdict(u), "groups": list(u.groups)} for u in self.users]),
        )
        self._spawn([node, "provider.mjs"], env, OIDC_DIR)
        return self

    @property
    def url(self) -> str:
        """The issuer (what IOC is configured with); discovery is under it."""
        return self.base

    @property
    def issuer(self) -> str:
        return self.base

    @property
    def discovery_url(self) -> str:
        return f"{self.base}/.well-known/openid-configuration"

    @property
    def authorization_url(self) -> str:
        return f"{self.base}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.base}/token"

    @property
    def userinfo_url(self) -> str:
        return f"{self.base}/me"

    @property
    def end_session_url(self) -> str:
        return f"{self.base}/session/end"

    def sign_in(self, session: requests.Session, url: str, login: str, password: str) -> str:
        """Sign in from an authorization request ``url`` and return the redirect URI with
        ``code``, ``state`` and ``iss``, not yet fetched.  With a live provider session in
        ``session`` no form is shown."""
        return _sign_in(session, self.base, url, {"login": login, "password": password})


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cas_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CasServer]:
    """A CAS server for the test module, with :data:`CAS_USERS`."""
    server = CasServer(tmp_path_factory.mktemp("cas")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oidc_redirect_uris() -> list[str]:
    """The client's redirect URIs for ``oidc_server``: override this fixture in a test module
    (e.g. ``[f"http://127.0.0.1:{ioc_port}/auth/oidc/callback"]``).  The default goes nowhere
    (port 9), enough for tests that stop at the redirect."""
    return ["http://127.0.0.1:9/callback"]


@pytest.fixture(scope="module")
def oidc_post_logout_redirect_uris(oidc_redirect_uris: list[str]) -> list[str]:
    """Where RP-initiated logout may return: by default the root of each redirect URI's origin."""
    return sorted({_origin(u) + "/" for u in oidc_redirect_uris})


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory, oidc_redirect_uris: list[str],
                oidc_post_logout_redirect_uris: list[str]) -> Iterator[OidcServer]:
    """An OpenID provider for the test module, with :data:`OIDC_USERS` and the client ``ioc``."""
    server = OidcServer(oidc_redirect_uris, oidc_post_logout_redirect_uris,
                        workdir=tmp_path_factory.mktemp("oidc")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oidc_server_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., OidcServer]]:
    """``oidc_server_for(redirect_uris, **OidcServer kwargs)`` starts a provider whose client
    has those redirect URIs (known only once IOC's port is); all stop with the module."""
    started: list[OidcServer] = []

    def start(redirect_uris: Sequence[str], **kwargs: Any) -> OidcServer:
        kwargs.setdefault("workdir", tmp_path_factory.mktemp("oidc"))
        server = OidcServer(redirect_uris, **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
