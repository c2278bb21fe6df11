"""Every missing dependency stops start-up, and every command, with one line: the thing, its
address or path (never a password), what to do — and a non-zero status, never a traceback.

The real app is started as a child process — ``python -m ioc_app run`` and the ``Procfile``'s
gunicorn ``web`` command — against a real ``redis-server`` (with a password), closed ports,
a port this test holds, an embedded store another process holds and broken files. The
starts of a module run in parallel, once; each test reads its own.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT, RedisServer, free_port, product_env

PASSWORD = "Pw-startup-7f3a"  # the Redis server's; must never be printed
CH_PASSWORD = "Ch-secret-91c2"  # in the ClickHouse URL; must never be printed
#: gunicorn's own routine lines ("[2026-… +0000] [123] [INFO] Starting gunicorn …")
GUNICORN_INFO = re.compile(r"^\[[^\]]+\] \[\d+\] \[INFO\] ")

#: a process that keeps a ClickHouse engine open on a path, as any other program could
ENGINE_HOLDER = """
import sys, time
import chdb.session
s = chdb.session.Session(sys.argv[1])
s.query("CREATE DATABASE IF NOT EXISTS held")
print("ready", flush=True)
time.sleep(300)
"""
#: a product process holding the embedded store (what a running server does)
PRODUCT_HOLDER = """
import sys, time
from ioc_app.storage import Store
Store(sys.argv[1])
print("ready", flush=True)
time.sleep(300)
"""


def procfile_web() -> list[str]:
    """The ``Procfile``'s ``web`` command, run as the process manager runs it (a shell)."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    return ["bash", "-c", line.split(":", 1)[1].strip()]


class WebPage(BaseHTTPRequestHandler):
    """Another service on the ClickHouse URL's port: a web server answering every GET with a page."""

    def do_GET(self) -> None:
        page = b"<!DOCTYPE html><title>intranet</title><p>hello</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *_: object) -> None:
        pass


@dataclass
class Case:
    """One start of the product with something missing, and what its one line must say."""

    env: dict[str, str]
    says: tuple[str, ...]
    argv: list[str] = field(default_factory=lambda: [sys.executable, "-m", "ioc_app", "run"])
    secrets: tuple[str, ...] = (PASSWORD, CH_PASSWORD)
    status: int | None = None  # a specific exit status, else any non-zero one
    done: subprocess.CompletedProcess[str] | None = None


def start(case: Case, timeout: float = 90) -> Case:
    """Run the case's command; one still running after ``timeout`` (it did not stop: the check
    failed) is killed with its children and recorded as such, failing only its own test."""
    env = {**case.env, "PATH": f"{Path(sys.executable).parent}:{case.env.get('PATH', '')}"}
    proc = subprocess.Popen(case.argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n(still running after {timeout:.0f} s: killed)"
    case.done = subprocess.CompletedProcess(case.argv, proc.returncode, out, err)
    return case


def meaningful(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip() and not GUNICORN_INFO.match(ln)]


def hold(code: str, path: str, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code, path], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Case]]:
    """Every case started once, several at a time; the servers and holders stopped after."""
    tmp = tmp_path_factory.mktemp("startup")
    redis = RedisServer(tmp / "redis", password=PASSWORD)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    taken_port = taken.getsockname()[1]
    holders: list[subprocess.Popen[str]] = []
    web = ThreadingHTTPServer(("127.0.0.1", 0), WebPage)
    threading.Thread(target=web.serve_forever, daemon=True).start()

    def env(name: str, **extra: str) -> dict[str, str]:
        base = product_env(tmp / name, IOC_PORT=str(free_port()), IOC_HOST="127.0.0.1")
        return {**base, **extra}

    closed = free_port()
    redis_closed = f"redis://:{PASSWORD}@127.0.0.1:{closed}/0"
    no_password = f"redis://127.0.0.1:{redis.port}/0"
    wrong_password = f"redis://:wrong-{PASSWORD}@127.0.0.1:{redis.port}/0"
    wrong_db = f"redis://:{PASSWORD}@127.0.0.1:{redis.port}/99"
    ch_closed_port = free_port()
    ch_closed = f"http://ioc:{CH_PASSWORD}@127.0.0.1:{ch_closed_port}/ioc"

    engine_env = env("engine-held")
    engine_path = tmp / "engine-held" / "clickhouse"
    holders.append(engine := hold(ENGINE_HOLDER, str(engine_path), engine_env))
    product_env_ = env("product-held")
    product_path = tmp / "product-held" / "clickhouse"
    holders.append(owner := hold(PRODUCT_HOLDER, f"chdb://{product_path}", product_env_))

    (tmp / "files").mkdir()
    bad_site = tmp / "files" / "bad-site.toml"
    bad_site.write_text('[site]\nname_zh = "示范大学"\n')
    bad_alerts = tmp / "files" / "bad-alerts.toml"
    bad_alerts.write_text('[[rules]]\nid = "x"\n')
    bad_wall = tmp / "files" / "bad-wall.toml"
    bad_wall.write_text('pages = ["/"]\nintervall_s = 30\n')
    bad_roles = tmp / "files" / "bad-roles.toml"
    bad_roles.write_text('[people]\nzhang = ["superhero"]\n')
    bad_contacts = tmp / "files" / "bad-contacts.toml"
    bad_contacts.write_text('[[contact]]\nname = "duty"\nkind = "pager"\n')
    not_a_folder = tmp / "files" / "a-file"
    not_a_folder.write_text("")
    missing_site = tmp / "files" / "no-such-site.toml"

    redis_says = ("Redis at", f"127.0.0.1:{closed}", "unreachable", "IOC_REDIS_URL")
    store_says = (f"embedded store {engine_path}", f"pid {engine.pid}", "IOC_CLICKHOUSE_URL")
    ch_says = ("ClickHouse server", f"127.0.0.1:{ch_closed_port}", "unreachable", "IOC_CLICKHOUSE_URL")
    cases = {
        "redis-closed": Case(env("r1", IOC_REDIS_URL=redis_closed), redis_says),
        "redis-no-password": Case(env("r2", IOC_REDIS_URL=no_password),
                                  ("Redis at", f"127.0.0.1:{redis.port}", "asks for a password",
                                   "IOC_REDIS_URL")),
        "redis-wrong-password": Case(env("r3", IOC_REDIS_URL=wrong_password),
                                     ("Redis at", f"127.0.0.1:{redis.port}", "refused the user or password",
                                      "IOC_REDIS_URL"), secrets=(PASSWORD, f"wrong-{PASSWORD}")),
        "redis-wrong-db": Case(env("r4", IOC_REDIS_URL=wrong_db),
                               ("Redis at", f"127.0.0.1:{redis.port}/99", "no database 99", "IOC_REDIS_URL")),
        "clickhouse-closed": Case(env("c1", IOC_CLICKHOUSE_URL=ch_closed), ch_says),
        # a server that takes the connection and never answers (the port this test holds)
        "clickhouse-silent": Case(env("c2", IOC_CLICKHOUSE_URL=f"http://ioc:{CH_PASSWORD}@127.0.0.1:{taken_port}/ioc"),
                                  ("ClickHouse server", f"127.0.0.1:{taken_port}", "no answer",
                                   "IOC_CLICKHOUSE_URL")),
        "clickhouse-other-service": Case(
            env("c3", IOC_CLICKHOUSE_URL=f"http://ioc:{CH_PASSWORD}@127.0.0.1:{web.server_port}/ioc"),
            ("ClickHouse server", f"127.0.0.1:{web.server_port}", "does not answer as ClickHouse",
             "IOC_CLICKHOUSE_URL")),
        "port-taken": Case(env("p1", IOC_PORT=str(taken_port)),
                           (f"port {taken_port}", "127.0.0.1", "already in use", "IOC_PORT")),
        "store-held-by-engine": Case(engine_env, store_says),
        "store-held-by-product": Case(product_env_, (f"embedded store {product_path}", f"pid {owner.pid}",
                                                     "IOC_CLICKHOUSE_URL")),
        "site-missing": Case(env("s1", IOC_SITE=str(missing_site)),
                             ("IOC_SITE", str(missing_site), "no such file"), status=2),
        "site-invalid": Case(env("s2", IOC_SITE=str(bad_site)),
                             ("site catalogue", str(bad_site), "line 1", "IOC_SITE")),
        "alerts-invalid": Case(env("a1", IOC_ALERTS=str(bad_alerts)),
                               ("alert rules", str(bad_alerts), "'rules'", "IOC_ALERTS")),
        "wall-invalid": Case(env("w1", IOC_WALL=str(bad_wall)),
                             ("wall playlist", str(bad_wall), "intervall_s", "IOC_WALL")),
        "roles-invalid": Case(env("o1", IOC_ROLES_FILE=str(bad_roles)),
                              ("roles file", str(bad_roles), "superhero", "IOC_ROLES_FILE")),
        "contacts-invalid": Case(env("k1", IOC_CONTACTS=str(bad_contacts)),
                                 ("contact points", str(bad_contacts), "pager", "IOC_CONTACTS")),
        "var-not-writable": Case(env("v1", IOC_TOKENS_FILE=str(not_a_folder / "tokens.toml")),
                                 (str(not_a_folder), "not writable", "a file stands where a folder",
                                  "IOC_TOKENS_FILE")),
    }
    for name in GUNICORN:  # the same, through the Procfile's gunicorn
        case = cases[name]
        cases[f"gunicorn:{name}"] = Case(case.env, case.says, procfile_web(), case.secrets, case.status)
    cli = {  # commands: the dependency each needs, missing
        "cli:import-redis-closed": Case(env("i1", IOC_REDIS_URL=redis_closed), redis_says,
                                        [sys.executable, "-m", "ioc_app", "import", "enrollment.plan",
                                         str(ROOT / "README.md"), "--quiet"]),
        "cli:import-store-held": Case(engine_env, store_says,
                                      [sys.executable, "-m", "ioc_app", "import", "enrollment.plan",
                                       str(ROOT / "README.md"), "--quiet"]),
        "cli:deadletter-store-held": Case(engine_env, store_says,
                                          [sys.executable, "-m", "ioc_app", "deadletter", "list"]),
        "cli:deadletter-clickhouse-closed": Case(env("d1", IOC_CLICKHOUSE_URL=ch_closed), ch_says,
                                                 [sys.executable, "-m", "ioc_app", "deadletter", "list"]),
        "cli:migrate-store-held": Case(engine_env, store_says, [sys.executable, "-m", "ioc_app", "migrate"]),
        "cli:migrate-clickhouse-closed": Case(env("m1", IOC_CLICKHOUSE_URL=ch_closed), ch_says,
                                              [sys.executable, "-m", "ioc_app", "migrate"]),
        "cli:ingest-redis-wrong-password": Case(
            env("g1", IOC_REDIS_URL=wrong_password, IOC_CLICKHOUSE_URL=ch_closed),
            ("Redis at", "refused the user or password"), [sys.executable, "-m", "ioc_app", "ingest"],
            secrets=(PASSWORD, f"wrong-{PASSWORD}")),
        "cli:scheduler-redis-closed": Case(env("h1", IOC_REDIS_URL=redis_closed), redis_says,
                                           [sys.executable, "-m", "ioc_app", "scheduler"]),
        "cli:user-var-not-writable": Case(env("u1", IOC_TOKENS_FILE=str(not_a_folder / "tokens.toml")),
                                          (str(not_a_folder), "not writable", "IOC_TOKENS_FILE"),
                                          [sys.executable, "-m", "ioc_app", "user", "list"]),
        "cli:simulate-site-invalid": Case(env("h2", IOC_SITE=str(bad_site)),
                                          ("site catalogue", str(bad_site), "IOC_SITE"),
                                          [sys.executable, "-m", "ioc_app", "simulate", "--days", "1"]),
        # a worker whose dependency went away after the master's checks: one line, and the
        # status with which gunicorn's master stops rather than boots worker after worker
        "worker-boot": Case(env("b1", IOC_REDIS_URL=redis_closed), redis_says,
                            [sys.executable, "-c", "from ioc_app.server import boot; boot()"], status=4),
    }
    cases.update(cli)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            yield {c_name: c for c_name, c in zip(cases, pool.map(start, cases.values()), strict=True)}
    finally:
        for proc in holders:
            proc.kill()
            proc.wait()
        taken.close()
        web.shutdown()
        redis.stop()


CASES = ["redis-closed", "redis-no-password", "redis-wrong-password", "redis-wrong-db", "clickhouse-closed",
         "clickhouse-silent", "clickhouse-other-service", "port-taken", "store-held-by-engine",
         "store-held-by-product", "site-missing",
         "site-invalid", "alerts-invalid", "wall-invalid", "roles-invalid", "contacts-invalid",
         "var-not-writable"]
#: the ones started through gunicorn too (its master checks as it reads its configuration, and
#: the address as it starts)
GUNICORN = ["redis-closed", "redis-no-password", "clickhouse-closed", "port-taken", "store-held-by-engine",
            "site-missing", "site-invalid", "var-not-writable"]
ALL = CASES + [f"gunicorn:{c}" for c in GUNICORN] + [
    "cli:import-redis-closed", "cli:import-store-held", "cli:deadletter-store-held",
    "cli:deadletter-clickhouse-closed", "cli:migrate-store-held", "cli:migrate-clickhouse-closed",
    "cli:ingest-redis-wrong-password", "cli:scheduler-redis-closed", "cli:user-var-not-writable",
    "cli:simulate-site-invalid",
    "worker-boot"]


@pytest.mark.parametrize("name", ALL)
def test_one_line_naming_what_is_missing(started: dict[str, Case], name: str) -> None:
    case = started[name]
    done = case.done
    assert done is not None
    where = f"{shlex.join(case.argv)}: status {done.returncode}\n{done.stderr[-3000:]}"
    assert done.returncode != 0, where
    if case.status is not None:
        assert done.returncode == case.status, where
    assert "Traceback" not in done.stderr, where
    lines = meaningful(done.stderr)
    assert len(lines) == 1 and lines[0].startswith("ioc: "), where
    for piece in case.says:
        assert piece in lines[0], (piece, where)
    for secret in case.secrets:
        assert secret not in done.stderr and secret not in done.stdout, where


def test_commands_without_the_store_work_while_another_process_holds_it(started: dict[str, Case]) -> None:
    """``token list`` reads only its file: a held store does not stop it."""
    case = start(Case(started["store-held-by-engine"].env, (),
                      [sys.executable, "-m", "ioc_app", "token", "list"]))
    assert case.done is not None and case.done.returncode == 0, case.done


def test_a_bug_keeps_its_traceback(tmp_path: Path) -> None:
    """Only the known failures become one line: anything else is a bug and must show where."""
    code = ("import sys\nfrom ioc_app import cli\n"
            "def broken(settings, args):\n    raise ZeroDivisionError('a bug')\n"
            "cli.cmd_version = broken\n"  # parser() takes the command's function when called
            "sys.exit(cli.main(['version']))\n")
    done = subprocess.run([sys.executable, "-c", code], env=product_env(tmp_path), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" in done.stderr and "ZeroDivisionError" in done.stderr


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://:s3cret@10.0.0.5:6379/0", "redis://:***@10.0.0.5:6379/0"),
    ("rediss://ioc:p%40ss@redis.campus:6380/2", "rediss://ioc:***@redis.campus:6380/2"),
    ("http://ioc:pa:ss@ch.campus:8123/ioc", "http://ioc:***@ch.campus:8123/ioc"),
    ("https://ch.campus:8443/ioc?password=s3cret", "https://ch.campus:8443/ioc?***"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
])
def test_addresses_are_shown_without_their_password(url: str, shown: str) -> None:
    from ioc_app.preflight import redact

    assert redact(url) == shown


def test_gunicorn_with_its_configuration_still_serves(tmp_path: Path) -> None:
    """The checks of the master let a complete setup through: one worker on the embedded store
    boots through ``ioc_app.wsgi`` and answers."""
    port = free_port()
    env = product_env(tmp_path, IOC_PORT=str(port))
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(["gunicorn", "-c", "python:ioc_app.gunicorn_conf", "--workers", "1", "--bind",
                             f"127.0.0.1:{port}", "ioc_app.wsgi:server"], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        status = None
        while status is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status = r.status
            except OSError:
                time.sleep(0.3)
        assert status == 200, (tmp_path / "gunicorn.log").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
        log.close()
