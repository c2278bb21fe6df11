"""The ``user`` and ``screen`` commands change a running server's access at once, and demo
mode's run prints a one-time sign-in link on the terminal, never in the log."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from ioc_app.roles import RECHECK_S
from tests.conftest import ROOT, Server, free_port, product_env, run_cli


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("access-cli")
    srv = Server(product_env(tmp), free_port())
    srv.wait_ready()
    yield srv
    srv.stop()


def request(srv: Server, method: str, path: str, *, cookie: str = "", form: dict[str, str] | None = None,
            ) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body, headers)
    r = conn.getresponse()
    r.read()
    conn.close()
    return r


def sign_in(srv: Server, name: str, password: str, otp: str = "") -> tuple[int, str]:
    r = request(srv, "POST", "/auth/login", form={"username": name, "password": password, "otp": otp,
                                                   "next": "/"})
    cookie = (r.getheader("Set-Cookie") or "").split(";", 1)[0]
    return r.status, cookie


def in_force() -> None:
    """A person added by the command is known to the running server within a second (it reads
    the people's roles again at most every RECHECK_S): wait out that promise before signing in,
    rather than spend the address's sign-in budget on retries."""
    time.sleep(RECHECK_S + 0.5)


def cli(srv: Server, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    if stdin is None:
        return run_cli(srv.env, *args)
    return subprocess.run([sys.executable, "-m", "ioc_app", *args], env=srv.env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_user_commands_take_effect_while_the_server_runs(server: Server) -> None:
    added = cli(server, "user", "add", "li.hua", "--roles", "viewer", "--password-stdin",
                stdin="long-password-1\n")
    assert added.returncode == 0, added.stderr
    in_force()
    status, cookie = sign_in(server, "li.hua", "long-password-1")
    assert status == 303 and cookie.startswith("ioc_session=")
    query = "/api/v1/query/gate?from=2026-01-01&to=2026-01-02"
    assert request(server, "GET", query, cookie=cookie).status == 403
    assert cli(server, "user", "roles", "li.hua", "viewer,analyst").returncode == 0
    # the server reads the roles file again within a second of a change (RECHECK_S)
    deadline = time.monotonic() + 5
    while request(server, "GET", query, cookie=cookie).status == 403 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert request(server, "GET", query, cookie=cookie).status != 403
    listed = cli(server, "user", "list").stdout
    assert re.search(r"^li\.hua\tviewer,analyst\tlocal$", listed, re.M), listed
    assert cli(server, "user", "disable", "li.hua").returncode == 0
    assert request(server, "GET", "/api/v1/snapshot", cookie=cookie).status == 401  # its sessions ended
    assert sign_in(server, "li.hua", "long-password-1")[0] == 401


def test_a_generated_password_is_printed_once_and_works(server: Server) -> None:
    added = cli(server, "user", "add", "wang.fang", "--roles", "viewer")
    assert added.returncode == 0
    password = added.stdout.strip()
    assert len(password) >= 12 and "shown once" in added.stderr
    in_force()
    assert sign_in(server, "wang.fang", password)[0] == 303


def test_totp_for_an_operator_from_the_command_line(server: Server) -> None:
    assert cli(server, "user", "add", "ops.one", "--roles", "operator", "--password-stdin",
               stdin="long-password-2\n").returncode == 0
    in_force()
    assert sign_in(server, "ops.one", "long-password-2")[0] == 401  # no second factor yet
    uri = cli(server, "user", "totp", "ops.one").stdout.strip()
    assert uri.startswith("otpauth://totp/")
    code = pyotp.parse_uri(uri).now()
    assert sign_in(server, "ops.one", "long-password-2", code)[0] == 303


def test_unlock_lifts_a_lockout(server: Server) -> None:
    assert cli(server, "user", "add", "zhou.jie", "--roles", "viewer", "--password-stdin",
               stdin="long-password-3\n").returncode == 0
    in_force()
    for _ in range(5):
        assert sign_in(server, "zhou.jie", "wrong-password")[0] in (401, 429)
    assert cli(server, "user", "unlock", "zhou.jie").returncode == 0
    time.sleep(0)  # no wait: the unlock is in force at once
    status = sign_in(server, "zhou.jie", "long-password-3")[0]
    assert status in (303, 429)  # 429 only if the address's sign-in budget is spent


def test_bad_user_commands_say_what_to_change(server: Server) -> None:
    r = cli(server, "user", "add", "x.y", "--roles", "viewer,boss")
    assert r.returncode == 1 and "unknown role 'boss'" in r.stderr and "viewer" in r.stderr
    r = cli(server, "user", "add", "x.y", "--roles", "operator,secadmin")
    assert r.returncode == 1 and "separation of duties" in r.stderr
    r = cli(server, "user", "unlock", "nobody.here")
    assert r.returncode == 1 and "no local user 'nobody.here'" in r.stderr
    r = cli(server, "user", "add", "short.pw", "--roles", "viewer", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "at least 10" in r.stderr


def test_screen_commands_pair_and_revoke_a_running_servers_screen(server: Server) -> None:
    added = cli(server, "screen", "add", "hall-wall", "--pages", "/,/gates")
    assert added.returncode == 0, added.stderr
    code = added.stdout.strip()
    r = request(server, "GET", f"/wall/pair?code={code}")
    assert r.status == 303
    cookie = (r.getheader("Set-Cookie") or "").split(";", 1)[0]
    assert cookie.startswith("ioc_screen=")
    assert request(server, "GET", "/api/v1/snapshot", cookie=cookie).status == 200
    assert "hall-wall\t/,/gates\tactive" in cli(server, "screen", "list").stdout
    assert cli(server, "screen", "revoke", "hall-wall").returncode == 0
    deadline = time.monotonic() + 60  # a revoked screen is refused within a minute
    while request(server, "GET", "/api/v1/snapshot", cookie=cookie).status == 200:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert request(server, "GET", "/api/v1/snapshot", cookie=cookie).status == 403
    bad = cli(server, "screen", "add", "x", "--pages", "/explore")
    assert bad.returncode == 1 and "not a cockpit page" in bad.stderr


def test_demo_run_prints_a_one_time_link_on_the_terminal_only(tmp_path: Path) -> None:
    port = free_port()
    env = {**product_env(tmp_path), "IOC_DEMO": "1", "IOC_PORT": str(port)}
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([sys.executable, "-m", "ioc_app", "run"], env=env, cwd=ROOT, stdout=o,
                                stderr=e, start_new_session=True)
    try:
        srv = Server.__new__(Server)
        srv.port, srv.url, srv.proc = port, f"http://127.0.0.1:{port}", proc
        srv.log = open(err)
        srv.wait_ready(120)
        link = re.search(rf"http://127\.0\.0\.1:{port}(/auth/link/\S+)", out.read_text())
        assert link, out.read_text()
        token = link.group(1).rsplit("/", 1)[1]
        assert token not in err.read_text()  # the log never holds it
        first = request(srv, "GET", link.group(1))
        assert first.status == 303 and (first.getheader("Set-Cookie") or "").startswith("ioc_session=")
        cookie = first.getheader("Set-Cookie").split(";", 1)[0]
        assert request(srv, "GET", "/api/v1/export/enrollment?format=csv", cookie=cookie).status == 200
        assert request(srv, "GET", link.group(1)).status == 401  # single use
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_sessions_and_paired_screens_survive_a_restart(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    port = free_port()
    first = Server(env, port)
    first.wait_ready()
    try:
        person = first.session()
        code = cli(first, "screen", "add", "restart-wall", "--pages", "/").stdout.strip()
        paired = request(first, "GET", f"/wall/pair?code={code}")
        screen = (paired.getheader("Set-Cookie") or "").split(";")[0]
        assert screen.startswith("ioc_screen=")
    finally:
        first.stop()
    second = Server(env, port)
    second.wait_ready()
    try:
        assert request(second, "GET", "/api/v1/snapshot", cookie=f"ioc_session={person}").status == 200
        assert request(second, "GET", "/api/v1/snapshot", cookie=screen).status == 200
        assert request(second, "GET", "/gates", cookie=screen).status == 403  # still only its pages
    finally:
        second.stop()
