"""Shared fixtures: a real embedded ClickHouse engine, fresh databases, free ports.

chDB allows one engine path per process, so the whole session shares one engine directory
and every test that writes gets its own database (created, migrated, dropped).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ioc_app.migrate import migrate
from ioc_app.storage import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def engine_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb") / "engine"


@pytest.fixture()
def store(engine_path: Path) -> Iterator[Store]:
    """An empty database on the real engine, dropped after the test."""
    name = "t_" + uuid.uuid4().hex[:12]
    s = Store(f"chdb://{engine_path}", database=name)
    yield s
    s.command(f"DROP DATABASE IF EXISTS {name} SYNC")
    s.close()


@pytest.fixture()
def migrated(store: Store) -> Store:
    migrate(store)
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def product_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a product process that owns its own engine under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update({
        "IOC_CLICKHOUSE_URL": f"chdb://{tmp / 'clickhouse'}",
        "IOC_TOKENS_FILE": str(tmp / "tokens.toml"),
        "IOC_ROLES_FILE": str(tmp / "roles.toml"),
        "IOC_DEMO": "0",
        # with IOC_DEMO=1, no weeks of past filled in the background unless a test asks
        "IOC_DEMO_HISTORY_DAYS": "0",
        "IOC_DEMO_HISTORY_SEASONS": "0",
        # no scheduled backups or buffer shipping unless a test asks for them
        "IOC_BACKUP_EVERY_MIN": "0",
        "IOC_BACKUP_SHIP_S": "0",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ioc_app", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


#: the person the tests sign in as: every role that needs no second factor, and operator
#: (created without one: only the tests' direct access to the access file can do that)
TESTER = "tester"
TESTER_ROLES = ("viewer", "admissions", "analyst", "operator")
PASSWORD = "test-password-1"


def add_person(env: dict[str, str], name: str = TESTER, roles: tuple[str, ...] = TESTER_ROLES,
               password: str = PASSWORD, totp: bool = False) -> None:
    """A local account with roles, written where the product (running or not) reads them."""
    from ioc_app.access import Access
    from ioc_app.roles import set_roles
    from ioc_app.settings import load_settings

    access = Access(load_settings(env, dotenv=None))
    if not access.accounts.exists(name):
        access.accounts.add(name, password, no_totp=not totp)
    set_roles(access.settings.roles_path, name, roles)


def pairing_code(env: dict[str, str], name: str, pages: tuple[str, ...] = ("/",)) -> str:
    """A pairing code for a screen ``name`` showing ``pages``, approved already (what ``screen
    add`` prints): the browser that opens ``/wall/pair?code=<code>`` becomes that screen."""
    from ioc_app.access import Access
    from ioc_app.settings import load_settings

    return Access(load_settings(env, dotenv=None)).screens.offer(name, pages)


def app_on(store: Store, tmp_path: Path) -> Any:
    """The product's Dash app on ``store`` (a migrated test database), with its own files under
    ``tmp_path`` and no background jobs: the test drives the core itself."""
    from ioc_app.app import create_app
    from ioc_app.settings import Settings

    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False,
                        tokens_file=str(tmp_path / "tokens.toml"), roles_file=str(tmp_path / "roles.toml"))
    return create_app(settings, store=store, background=False)


def signed_in(app: object, client: object, roles: tuple[str, ...] = TESTER_ROLES, name: str = TESTER) -> str:
    """Give a Flask test client a session of ``name`` holding ``roles`` (no sign-in round trip:
    the session is made in the app's own session store)."""
    from ioc_app.access import EXTENSION
    from ioc_app.roles import set_roles

    server = getattr(app, "server", app)
    access = server.extensions[EXTENSION]  # type: ignore[attr-defined]
    set_roles(access.settings.roles_path, name, roles)
    access.roles.refresh()
    token = access.sessions.create({"name": name, "via": "local"})
    client.set_cookie("ioc_session", token)  # type: ignore[attr-defined]
    return token


class Server:
    """``python -m ioc_app run`` as a child process on a free loopback port."""

    #: the server started last (browser tests sign in to it)
    latest: Server | None = None

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(Path(env["IOC_TOKENS_FILE"]).parent / f"server-{port}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ioc_app", "run"], env={**env, "IOC_PORT": str(port)},
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        Server.latest = self
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"server not ready after {timeout}s: {self.output()}")

    def session(self, name: str = TESTER, roles: tuple[str, ...] = TESTER_ROLES) -> str:
        """A session cookie value of ``name`` (signed in through the real sign-in form once)."""
        import http.client
        import urllib.parse

        cache = self.__dict__.setdefault("_sessions", {})
        if name not in cache:
            add_person(self.env, name, roles)
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.request("POST", "/auth/login", urllib.parse.urlencode(
                {"username": name, "password": PASSWORD, "next": "/"}),
                {"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            r.read()
            cookie = r.getheader("Set-Cookie") or ""
            assert r.status == 303 and cookie.startswith("ioc_session="), (r.status, cookie)
            cache[name] = cookie.split(";", 1)[0].split("=", 1)[1]
            conn.close()
        return cache[name]

    def screen(self, name: str, pages: tuple[str, ...] = ("/",)) -> str:
        """The cookie value (``ioc_screen``) of a screen paired as ``name`` through ``/wall/pair``."""
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/wall/pair?code=" + pairing_code(self.env, name, pages))
        r = conn.getresponse()
        r.read()
        cookie = next((c for c in r.headers.get_all("Set-Cookie") or [] if c.startswith("ioc_screen=")), "")
        conn.close()
        assert r.status == 303 and cookie, (r.status, r.headers.get_all("Set-Cookie"))
        return cookie.split(";", 1)[0].split("=", 1)[1]

    def open(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 30, as_: str = TESTER) -> object:
        """``urllib.request.urlopen`` of ``path`` on this server, signed in as ``as_``."""
        import urllib.request

        req = urllib.request.Request(self.url + path, data=data, headers={
            **(headers or {}), "Cookie": f"ioc_session={self.session(as_)}"})
        return urllib.request.urlopen(req, timeout=timeout)

    def wait_drained(self, timeout: float = 120) -> dict:
        """Until ``/readyz`` says the restart's replay is complete and the buffer is empty."""
        import json
        import urllib.request

        deadline = time.monotonic() + timeout
        buffer: dict = {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(self.url + "/readyz", timeout=10) as r:
                buffer = json.loads(r.read())["parts"]["buffer"]
            if buffer["replay"] and buffer["replay"]["complete"] and buffer["depth"] == 0:
                return buffer
            time.sleep(0.1)
        raise TimeoutError(f"the buffer did not drain in {timeout}s: {buffer}")

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-4000:]

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


@pytest.fixture()
def wal_dir(tmp_path: Path) -> Path:
    return tmp_path / "wal"


@pytest.fixture()
def pipeline(migrated: Store, wal_dir: Path):
    """The embedded ingest path on a fresh database; the writer is driven by the test."""
    from ingest.pipeline import Pipeline
    from ingest.wal import WriteAheadLog
    from ingest.writer import Writer

    wal = WriteAheadLog(wal_dir)
    p = Pipeline(migrated, wal)
    p.writer = Writer(migrated, wal, on_store_state=p.set_store_down)  # type: ignore[attr-defined]
    yield p
    wal.close()


class RedisServer:
    """A real ``redis-server`` on a free loopback port, in its own directory; with
    ``password`` it requires it (``requirepass``), with ``tls`` (the server's ``cert``,
    ``key`` and the ``ca`` its clients' certificates come from) it speaks TLS only."""

    def __init__(self, directory: Path, durable: bool = True, password: str = "",
                 tls: dict[str, str] | None = None) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password = password
        self.tls = tls
        auth = f":{password}@" if password else ""
        self.url = f"{'rediss' if tls else 'redis'}://{auth}127.0.0.1:{self.port}/0"
        self.durable = durable
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        import redis

        port = ["--port", "0", "--tls-port", str(self.port)] if self.tls else ["--port", str(self.port)]
        args = ["redis-server", *port, "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--save", "", "--daemonize", "no", "--protected-mode", "yes"]
        if self.durable:
            args += ["--appendonly", "yes", "--appendfsync", "always",
                     "--maxmemory-policy", "noeviction"]
        if self.password:
            args += ["--requirepass", self.password]
        options: dict[str, Any] = {"password": self.password or None}
        if self.tls:
            args += ["--tls-cert-file", self.tls["cert"], "--tls-key-file", self.tls["key"],
                     "--tls-ca-cert-file", self.tls["ca"]]
            options |= {"ssl": True, "ssl_ca_certs": self.tls["ca"], "ssl_certfile": self.tls["client_cert"],
                        "ssl_keyfile": self.tls["client_key"]}
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, **options)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: what survives is what its append-only file had."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(20)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def route_body(path: str, search: str = "") -> dict[str, object]:
    """Dash's page-routing callback asked to render ``path?search`` (a page as the browser
    opens it, through ``/_dash-update-component``)."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}
