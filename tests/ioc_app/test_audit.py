"""The audit trail: each recorded action leaves exactly one row with the right fields, the
rows take the ingest buffer's durable path (and the commands' spool), only auditors read
them, and nobody writes them from outside.

Real engine, real app, real gate and session store; the writer is driven by the tests (or
runs, in the server-process test).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import sqlite3
import stat
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest import audit as audit_stream
from ingest.registry import BY_NAME, STREAMS
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app import auth, read
from ioc_app.access import EXTENSION
from ioc_app.app import AUDIT_EXTENSION, create_app
from ioc_app.audit import Audit, PipelineSink, SpoolIntake, SpoolSink, command_audit, spool_dir
from ioc_app.auth import TokenError
from ioc_app.roles import set_roles
from ioc_app.settings import Settings
from ioc_app.storage import Store
from tests.conftest import Server, add_person, free_port, product_env, run_cli, signed_in

PASSWORD = "a-good-password-1"
NOW = datetime.now(UTC)


@pytest.fixture()
def app(migrated: Store, tmp_path: Path) -> Iterator[Any]:
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False,
                        tokens_file=str(tmp_path / "var" / "tokens.toml"))
    dash_app = create_app(settings, store=migrated, background=False)
    dash_app.settings = settings
    yield dash_app
    dash_app.server.extensions[read.EXTENSION].pipeline.buffer.close()


def runtime(app: Any) -> Any:
    return app.server.extensions[read.EXTENSION]


def access(app: Any) -> Any:
    return app.server.extensions[EXTENSION]


def client_as(app: Any, roles: tuple[str, ...], name: str | None = None) -> Any:
    c = app.server.test_client()
    signed_in(app, c, roles=roles, name=name or "u" + uuid.uuid4().hex[:8])
    return c


def trail(app: Any, action: str | None = None) -> list[dict[str, Any]]:
    """The rows in the table (after the writer wrote what the buffer holds)."""
    rt = runtime(app)
    app.server.extensions[AUDIT_EXTENSION].drain()  # what the commands spooled
    rt.writer.flush_once(force=True)
    frame = rt.store.query("SELECT toString(id) AS id, ts, toString(actor_kind) AS actor_kind, actor, "
                           "address, toString(action) AS action, object, toString(result) AS result, "
                           "detail FROM ioc_audit ORDER BY ts")
    rows = [{**r, "detail": orjson.loads(r["detail"])} for r in frame.to_dicts()]
    return [r for r in rows if action is None or r["action"] == action]


def one(app: Any, action: str, **expected: Any) -> dict[str, Any]:
    rows = trail(app, action)
    assert len(rows) == 1, rows
    row = rows[0]
    for key, value in expected.items():
        if key == "detail_keys":
            assert set(row["detail"]) == set(value), row
        else:
            assert row[key] == value, (key, row)
    assert abs(row["ts"] - datetime.now(UTC)) < timedelta(minutes=2)
    return row


def local_person(app: Any, roles: tuple[str, ...]) -> str:
    name = "p" + uuid.uuid4().hex[:8]
    acc = access(app)
    acc.accounts.add(name, PASSWORD, no_totp=True)
    set_roles(acc.settings.roles_path, name, roles)
    acc.roles.refresh()
    return name


def login(app: Any, name: str, password: str = PASSWORD, address: str = "10.1.2.3") -> Any:
    c = app.server.test_client()
    r = c.post("/auth/login", data={"username": name, "password": password, "next": "/"},
               environ_base={"REMOTE_ADDR": address})
    c.last = r
    return c


# --- the table ------------------------------------------------------------------------------

def test_the_table_is_an_append_only_merge_tree_kept_400_days(migrated: Store) -> None:
    (ddl,) = migrated.rows("SELECT create_table_query FROM system.tables "
                           "WHERE database = currentDatabase() AND name = 'ioc_audit'")[0]
    assert "ENGINE = MergeTree" in ddl and "PARTITION BY toYYYYMM(ts)" in ddl
    assert "toIntervalDay(400)" in ddl or "INTERVAL 400 DAY" in ddl
    for column in ("`ts` DateTime64(3, 'UTC')", "`actor_kind` Enum8('person' = 1", "`actor` String",
                   "`address` String", "`action`", "`object` String", "`result`", "`detail` String"):
        assert column in ddl, column


def test_the_audit_stream_is_internal() -> None:
    assert audit_stream.TABLE not in {s.table for s in STREAMS}
    assert "audit" not in BY_NAME and audit_stream.TABLE not in BY_NAME


def test_no_route_writes_or_deletes_the_trail(app: Any) -> None:
    routes = {r.rule: r.methods for r in app.server.url_map.iter_rules() if "audit" in r.rule}
    assert set(routes) == {"/api/v1/audit", "/admin/audit"}
    assert all(m <= {"GET", "HEAD", "OPTIONS"} for m in routes.values())


def test_an_ingest_token_cannot_write_the_audit_stream(app: Any) -> None:
    settings = app.settings
    with pytest.raises(TokenError):
        auth.create_token(settings.tokens_file, "sneaky", [audit_stream.TABLE], set(BY_NAME))
    token = auth.create_token(settings.tokens_file, "ops", ["*"], set(BY_NAME))
    c = app.server.test_client()
    forged = orjson.dumps([{"id": str(uuid.uuid4()), "ts": time.time(), "actor_kind": "person",
                            "actor": "someone", "action": "signin", "result": "ok"}])
    for name in (audit_stream.TABLE, "audit", "ioc_audit_local"):
        r = c.post(f"/api/v1/ingest/{name}", data=forged, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert r.status_code == 404 and r.json["error"] == "unknown_stream", name
        assert "audit" not in r.json["message"].split("use one of:")[1]  # not even offered
    assert trail(app, "signin") == []


# --- one row per action ----------------------------------------------------------------------

def test_sign_in_ok(app: Any) -> None:
    name = local_person(app, ("viewer",))
    c = login(app, name, address="10.1.2.3")
    assert c.last.status_code == 303
    one(app, "signin", actor=name, actor_kind="person", address="10.1.2.3", object=name, result="ok",
        detail_keys={"via", "roles"})


def test_sign_in_failed_keeps_no_password(app: Any) -> None:
    name = local_person(app, ("viewer",))
    c = login(app, name, password="wrong-password-99", address="10.1.2.4")
    assert c.last.status_code == 401
    row = one(app, "signin", actor=name, actor_kind="person", address="10.1.2.4", object=name,
              result="failed", detail_keys={"via", "reason"})
    assert "wrong-password-99" not in orjson.dumps(row).decode()


def test_sign_out(app: Any) -> None:
    name = local_person(app, ("viewer",))
    c = login(app, name, address="10.1.2.5")
    assert c.post("/auth/logout", environ_base={"REMOTE_ADDR": "10.1.2.5"}).status_code == 303
    one(app, "signout", actor=name, actor_kind="person", address="10.1.2.5", object=name, result="ok",
        detail_keys=set())


def test_session_timeout(app: Any) -> None:
    c = app.server.test_client()
    token = signed_in(app, c, roles=("viewer",), name="sleepy")
    key = hashlib.sha256(token.encode()).hexdigest()
    db = sqlite3.connect(access(app).settings.access_db)
    db.execute("UPDATE sessions SET seen=? WHERE id=?", (time.time() - 31 * 60, key))
    db.commit()
    assert c.get("/api/v1/snapshot", environ_base={"REMOTE_ADDR": "10.1.2.6"}).status_code == 401
    one(app, "session.timeout", actor="sleepy", actor_kind="person", address="10.1.2.6", result="idle")


@pytest.mark.parametrize("role", ["secadmin", "operator", "viewer", "analyst"])
def test_only_auditors_read_the_trail_and_a_refusal_is_recorded(app: Any, role: str) -> None:
    c = client_as(app, (role,), name="nosy")
    r = c.get("/api/v1/audit", environ_base={"REMOTE_ADDR": "10.1.2.7"})
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    assert c.get("/admin/audit").status_code == 403
    rows = trail(app, "request.refused")
    assert len(rows) == 2 and rows[0]["object"] == "/api/v1/audit"
    assert (rows[0]["actor"], rows[0]["actor_kind"], rows[0]["address"], rows[0]["result"]) == (
        "nosy", "person", "10.1.2.7", "forbidden")
    assert rows[0]["detail"] == {"permission": "audit"}
    assert trail(app, "audit.read") == []


def test_an_anonymous_api_request_is_refused_and_recorded(app: Any) -> None:
    r = app.server.test_client().get("/api/v1/audit", environ_base={"REMOTE_ADDR": "10.1.2.8"})
    assert r.status_code == 401
    one(app, "request.refused", actor="", actor_kind="anonymous", address="10.1.2.8",
        object="/api/v1/audit", result="unauthenticated")


def test_role_change_on_the_admin_page(app: Any) -> None:
    target = local_person(app, ("viewer",))
    c = client_as(app, ("secadmin",), name="sec")
    r = c.post("/admin/people", data={"action": "roles", "name": target, "roles": ["viewer", "analyst"]},
               environ_base={"REMOTE_ADDR": "10.1.2.9"})
    assert r.status_code == 200
    row = one(app, "role.change", actor="sec", actor_kind="person", address="10.1.2.9", object=target,
              result="ok", detail_keys={"before", "after"})
    assert row["detail"] == {"before": ["viewer"], "after": ["viewer", "analyst"]}


def test_enrollment_export(app: Any) -> None:
    c = client_as(app, ("admissions",), name="office")
    r = c.get("/api/v1/export/enrollment?format=csv&province=11", environ_base={"REMOTE_ADDR": "10.1.3.1"})
    assert r.status_code == 200
    row = one(app, "export.download", actor="office", actor_kind="person", address="10.1.3.1",
              object="enrollment", result="ok",
              detail_keys={"year", "filters", "format", "lang", "rows", "bytes", "exact", "sha256"})
    assert row["detail"]["sha256"] == hashlib.sha256(r.data).hexdigest() and row["detail"]["exact"] is False
    assert row["detail"]["filters"] == {"province": ["11"]} and row["detail"]["format"] == "csv"
    assert row["detail"]["rows"] == len(r.data.decode("utf-8-sig").splitlines()) - 1


@pytest.mark.parametrize(("fmt", "action"), [("csv", "query.download"), ("json", "query.read")])
def test_analyst_query_download(app: Any, fmt: str, action: str) -> None:
    c = client_as(app, ("analyst",), name="ana")
    start = (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:00:00Z")
    end = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:00:00Z")
    r = c.get(f"/api/v1/query/gate?from={start}&to={end}&grain=hour&campus=main&format={fmt}",
              environ_base={"REMOTE_ADDR": "10.1.3.2"})
    assert r.status_code == 200, r.data
    row = one(app, action, actor="ana", actor_kind="person", address="10.1.3.2", object="gate", result="ok",
              detail_keys={"format", "grain", "compare", "from", "to", "measures", "group_by", "filters",
                           "rows", "sha256"})
    assert row["detail"]["sha256"] == hashlib.sha256(r.data).hexdigest()
    assert row["detail"]["filters"] == {"campus": ["main"]} and row["detail"]["format"] == fmt


def _a_dead_letter(app: Any) -> str:
    token = auth.create_token(app.settings.tokens_file, "gate-sys", ["gate.pass"], set(BY_NAME))
    secret = "SECRET-PAYLOAD-" + uuid.uuid4().hex[:6]
    r = app.server.test_client().post("/api/v1/ingest/gate.pass", data=orjson.dumps(
        [{"event_id": secret, "ts": "not a time"}]), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert r.json["rejected"] == 1
    runtime(app).writer.flush_once(force=True)
    return secret


def test_dead_letter_read(app: Any) -> None:
    secret = _a_dead_letter(app)
    c = client_as(app, ("operator",), name="opa")
    r = c.get("/api/v1/deadletter?stream=gate.pass&limit=5", environ_base={"REMOTE_ADDR": "10.1.3.3"})
    assert r.status_code == 200 and r.json["count"] == 1
    row = one(app, "deadletter.read", actor="opa", actor_kind="person", address="10.1.3.3",
              object="deadletter", result="ok", detail_keys={"stream", "limit", "count"})
    assert row["detail"] == {"stream": "gate.pass", "limit": 5, "count": 1}
    assert secret not in orjson.dumps(row).decode()


def test_dead_letter_replay_by_a_machine(app: Any) -> None:
    # (before the first request: the server re-reads the tokens file at most every second)
    token = auth.create_token(app.settings.tokens_file, "ops-robot", ["*"], set(BY_NAME))
    secret = _a_dead_letter(app)
    r = app.server.test_client().post("/api/v1/deadletter/replay", data=orjson.dumps({"stream": "gate.pass"}),
                                      headers={"Authorization": f"Bearer {token}",
                                               "Content-Type": "application/json"},
                                      environ_base={"REMOTE_ADDR": "10.1.3.4"})
    assert r.status_code == 200 and r.json["letters"] == 1
    row = one(app, "deadletter.replay", actor="ops-robot", actor_kind="token", address="10.1.3.4",
              object="deadletter", result="ok")
    assert {"stream", "limit", "count"} <= set(row["detail"]) and row["detail"]["count"] == 1
    assert secret not in orjson.dumps(row).decode()


def test_screen_pairing_and_revocation_on_the_admin_page(app: Any) -> None:
    code = access(app).screens.offer("lobby", ("/",))
    assert app.server.test_client().get(f"/wall/pair?code={code}",
                                        environ_base={"REMOTE_ADDR": "10.1.3.5"}).status_code == 303
    one(app, "screen.pair", actor="lobby", actor_kind="screen", address="10.1.3.5", object="lobby")
    c = client_as(app, ("operator",), name="opb")
    r = c.post("/admin/screens", data={"action": "revoke", "name": "lobby"},
               environ_base={"REMOTE_ADDR": "10.1.3.6"})
    assert r.status_code == 200
    one(app, "screen.revoke", actor="opb", actor_kind="person", address="10.1.3.6", object="lobby",
        result="ok")


# --- commands: the spool ----------------------------------------------------------------------

def _cli(settings: Settings, func: Any, **kwargs: Any) -> None:
    assert func(settings, argparse.Namespace(**kwargs)) == 0


def test_token_commands_are_recorded(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from ioc_app.cli import cmd_token

    _cli(app.settings, cmd_token, action="create", source="netmon", streams="network.link,network.online")
    _cli(app.settings, cmd_token, action="revoke", source="netmon")
    capsys.readouterr()  # the token is printed once, never recorded
    created = one(app, "token.create", actor="cli", actor_kind="system", object="netmon", result="ok",
                  detail_keys={"streams", "replaced"})
    assert created["detail"] == {"streams": ["network.link", "network.online"], "replaced": False}
    assert created["address"].startswith("cli:")
    one(app, "token.revoke", actor="cli", actor_kind="system", object="netmon", result="ok")


def test_user_and_screen_commands_are_recorded(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from ioc_app.access_cli import cmd_screen, cmd_user

    _cli(app.settings, cmd_user, action="add", name="newbie", roles="viewer", password_stdin=False)
    _cli(app.settings, cmd_user, action="roles", name="newbie", roles="viewer,analyst")
    _cli(app.settings, cmd_screen, action="add", name="hall", pages="/,/gates")
    capsys.readouterr()
    row = one(app, "user.add", actor="cli", actor_kind="system", object="newbie", detail_keys={"roles"})
    assert row["detail"] == {"roles": ["viewer"]} and row["address"].startswith("cli:")
    row = one(app, "role.change", actor="cli", actor_kind="system", object="newbie")
    assert row["detail"] == {"before": ["viewer"], "after": ["viewer", "analyst"]}
    one(app, "screen.add", actor="cli", actor_kind="system", object="hall", detail_keys={"pages"})


def test_the_spool_is_private_durable_and_deleted_only_once_taken(tmp_path: Path) -> None:
    spool = tmp_path / "audit-spool"
    audit = Audit(origin="cli:test@host")
    audit.attach(SpoolSink(spool))
    audit.record("user.add", object="a", actor="cli", actor_kind="system", detail={"roles": ["viewer"]})
    audit.record("user.add", object="b", actor="cli", actor_kind="system")
    files = sorted(spool.glob("*.jsonl"))
    assert len(files) == 2 and not list(spool.glob(".*"))  # no half-written file left
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert [orjson.loads(line)["object"] for f in files for line in f.read_bytes().splitlines()] == ["a", "b"]

    def refuse(rows: list[dict[str, Any]]) -> None:
        raise OSError("the buffer is away")

    assert SpoolIntake(spool, refuse).drain() == 0
    assert sorted(spool.glob("*.jsonl")) == files  # nothing taken, nothing deleted
    taken: list[dict[str, Any]] = []
    assert SpoolIntake(spool, taken.extend).drain() == 2
    assert [r["object"] for r in taken] == ["a", "b"] and not list(spool.glob("*.jsonl"))


def test_a_file_another_process_is_taking_is_left_alone(tmp_path: Path) -> None:
    import fcntl

    spool = tmp_path / "audit-spool"
    SpoolSink(spool)([{"id": str(uuid.uuid4()), "ts": time.time(), "action": "x"}])
    (path,) = spool.glob("*.jsonl")
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        got: list[dict[str, Any]] = []
        assert SpoolIntake(spool, got.extend).drain() == 0 and got == [] and path.exists()
    finally:
        os.close(fd)


def test_rows_recorded_while_the_buffer_is_away_are_spooled_and_arrive(app: Any) -> None:
    rt = runtime(app)
    audit = access(app).audit
    real = PipelineSink.append

    def away(self: PipelineSink, rows: list[dict[str, Any]]) -> int:
        raise OSError("Redis is unreachable (in a test)")

    PipelineSink.append = away  # type: ignore[method-assign]
    try:
        audit.record("config.change", object="alerts", actor="sys", actor_kind="system", address="10.1.4.1")
    finally:
        PipelineSink.append = real  # type: ignore[method-assign]
    assert len(list(spool_dir(rt.settings).glob("*.jsonl"))) == 1
    one(app, "config.change", actor="sys", actor_kind="system", address="10.1.4.1", object="alerts")
    assert not list(spool_dir(rt.settings).glob("*.jsonl"))


def test_rows_recorded_while_the_store_is_down_arrive_later(app: Any, engine_path: Path) -> None:
    rt = runtime(app)
    away = Store(f"chdb://{engine_path}", database="absent_" + uuid.uuid4().hex[:8])
    rt.store.command(f"DROP DATABASE IF EXISTS {away.database}")  # Store() created it: now gone
    writer = Writer(away, rt.pipeline.buffer)
    access(app).audit.record("config.change", object="wall", actor="sys", actor_kind="system")
    with pytest.raises(Exception):  # noqa: B017 - the store is away: the insert fails
        writer.flush_once(force=True)
    assert rt.pipeline.buffer.log(audit_stream.TABLE).depth == 1  # the buffer holds the row
    # the process stops and starts again with the row still in the log
    rt.pipeline.buffer.close()
    rt.pipeline.buffer = WriteAheadLog(rt.settings.wal_dir)
    rt.writer = Writer(rt.store, rt.pipeline.buffer)
    one(app, "config.change", actor="sys", object="wall")


def test_in_the_scaled_mode_rows_take_the_redis_stream(migrated: Store, redis_server: Any,
                                                       tmp_path: Path) -> None:
    from ingest.pipeline import build_ingest

    pipeline, writer = build_ingest(migrated, redis_url=redis_server.url, consumer="web-1")
    audit = Audit()
    audit.attach(PipelineSink(pipeline.buffer, SpoolSink(tmp_path / "spool")))
    audit.record("config.change", object="redis", actor="sys", actor_kind="system", address="10.1.4.2")
    assert pipeline.buffer.depth == 1 and not (tmp_path / "spool").exists()
    writer.flush_once(force=True)
    rows = migrated.rows("SELECT action, object, address FROM ioc_audit")
    assert rows == [("config.change", "redis", "10.1.4.2")]
    pipeline.buffer.close()


# --- reading -------------------------------------------------------------------------------

def test_an_auditor_reads_rows_newest_first_and_the_read_is_recorded(app: Any) -> None:
    audit = access(app).audit
    for i in range(3):
        audit.record("config.change", object=f"item{i}", actor="sys", actor_kind="system")
        time.sleep(0.005)  # one after the other, as actions are: rows of one millisecond have no order
    trail(app)
    c = client_as(app, ("auditor",), name="aud")
    r = c.get("/api/v1/audit?action=config.change&limit=2", environ_base={"REMOTE_ADDR": "10.1.5.1"})
    assert r.status_code == 200, r.data
    body = r.json
    assert body["count"] == 2 and [row["object"] for row in body["rows"]] == ["item2", "item1"]
    assert set(body["rows"][0]) == {"id", "ts", "actor_kind", "actor", "address", "action", "object",
                                    "result", "detail"}
    assert body["rows"][0]["ts"].endswith("Z") and body["rows"][0]["detail"] == {}
    row = one(app, "audit.read", actor="aud", actor_kind="person", address="10.1.5.1",
              detail_keys={"from", "to", "action", "limit", "format", "rows", "via"})
    assert row["detail"]["rows"] == 2 and row["detail"]["action"] == "config.change"
    # filters: the actor, and an action prefix
    assert c.get("/api/v1/audit?user=aud").json["rows"][0]["action"] == "audit.read"
    assert {x["action"] for x in c.get("/api/v1/audit?action=config.*").json["rows"]} == {"config.change"}
    assert c.get("/api/v1/audit?user=nobody").json["count"] == 0


def test_a_row_spooled_twice_is_read_once(app: Any) -> None:
    row = {"id": str(uuid.uuid4()), "ts": time.time(), "actor_kind": "system", "actor": "cli",
           "action": "user.add", "object": "twice"}
    for _ in range(2):  # a crash between the append and the delete takes the file up again
        SpoolSink(spool_dir(app.settings))([row])
        trail(app)
    c = client_as(app, ("auditor",))
    assert c.get("/api/v1/audit?action=user.add").json["count"] == 1


def test_csv_format(app: Any) -> None:
    access(app).audit.record("config.change", object="=HYPERLINK(\"x\")", actor="sys", actor_kind="system",
                             detail={"rows": 3})
    trail(app)
    c = client_as(app, ("auditor",), name="aud2")
    r = c.get("/api/v1/audit?format=csv&action=config.change")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert list(rows[0]) == ["ts", "actor_kind", "actor", "address", "action", "object", "result", "detail"]
    assert rows[0]["object"] == "'=HYPERLINK(\"x\")" and orjson.loads(rows[0]["detail"]) == {"rows": 3}
    row = one(app, "audit.read", actor="aud2")
    assert row["detail"]["format"] == "csv" and row["detail"]["sha256"] == hashlib.sha256(r.data).hexdigest()


@pytest.mark.parametrize(("query", "needle"), [
    ("?who=x", "allowed: from, to, user, action, format, limit"),
    ("?from=yesterday", "RFC 3339"),
    ("?from=2025-13-01", "YYYY-MM-DD"),
    ("?from=2025-05-02&to=2025-05-01", "not before"),
    ("?format=xml", "json, csv"),
    ("?limit=0", "1–100000"),
    ("?user=a&user=b", "give it once"),
])
def test_bad_parameters_say_what_to_change(app: Any, query: str, needle: str) -> None:
    r = client_as(app, ("auditor",)).get("/api/v1/audit" + query)
    assert r.status_code == 400 and r.json["error"] == "bad_parameter" and needle in r.json["message"]


def test_dates_and_times(app: Any) -> None:
    access(app).audit.record("config.change", object="dated", actor="sys", actor_kind="system")
    trail(app)
    c = client_as(app, ("auditor",))
    today = datetime.now(app.settings.zone).date()
    assert c.get(f"/api/v1/audit?action=config.change&from={today}&to={today}").json["count"] == 1
    past = today - timedelta(days=3)
    assert c.get(f"/api/v1/audit?action=config.change&from={past}&to={past}").json["count"] == 0
    start = (NOW - timedelta(minutes=10)).isoformat()
    r = c.get("/api/v1/audit", query_string={"action": "config.change", "from": start})
    assert r.json["count"] == 1
    local = (NOW - timedelta(minutes=10)).astimezone(app.settings.zone).isoformat(timespec="seconds")
    assert "+08:00" in local  # typed into a URL unescaped, "+" arrives as a space: still understood
    assert c.get(f"/api/v1/audit?action=config.change&from={local}").json["count"] == 1


def test_the_auditor_page(app: Any) -> None:
    access(app).audit.record("config.change", object="<script>x</script>", actor="sys", actor_kind="system")
    trail(app)
    c = client_as(app, ("auditor",), name="aud3")
    r = c.get("/admin/audit?lang=en&action=config.change")
    page = r.data.decode()
    assert r.status_code == 200 and "Audit trail" in page and 'id="audit-table"' in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "/api/v1/audit?action=config.change&amp;format=csv" in page
    assert "审计日志" in c.get("/admin/audit?lang=zh").data.decode()
    bad = c.get("/admin/audit?lang=en&from=nonsense")
    assert bad.status_code == 400 and "RFC 3339" in bad.data.decode()
    rows = trail(app, "audit.read")
    assert len(rows) == 2 and {r["detail"]["via"] for r in rows} == {"page"}


# --- a command beside a running server ----------------------------------------------------------

def test_a_user_added_while_the_server_runs_reaches_the_trail(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    add_person(env, "auditor1", ("auditor",), totp=False)
    server = Server(env, free_port())
    try:
        server.wait_ready(120)
        server.session("auditor1", roles=("auditor",))
        done = run_cli(env, "user", "add", "newcomer", "--roles", "viewer")
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 30
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not rows:
            with server.open("/api/v1/audit?action=user.add", as_="auditor1") as r:  # type: ignore[attr-defined]
                rows = orjson.loads(r.read())["rows"]
            time.sleep(0.3)
        assert len(rows) == 1, server.output()
        assert (rows[0]["object"], rows[0]["actor"], rows[0]["actor_kind"]) == ("newcomer", "cli", "system")
        assert rows[0]["detail"] == {"roles": ["viewer"]}
        assert not list(spool_dir(Settings(tokens_file=env["IOC_TOKENS_FILE"])).glob("*.jsonl"))
    finally:
        server.stop()


def test_command_audit_spools_under_the_var_dir(tmp_path: Path) -> None:
    settings = Settings(tokens_file=str(tmp_path / "v" / "tokens.toml"))
    command_audit(settings).record("token.revoke", object="x", actor="cli", actor_kind="system")
    (path,) = (tmp_path / "v" / "audit-spool").glob("*.jsonl")
    assert orjson.loads(path.read_bytes())["action"] == "token.revoke"
