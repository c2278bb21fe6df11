"""Backups and restores on the real engine: round trips, refusals, encryption, the cut-off.

An installation is made by the product's own commands in its own process (``migrate``,
``simulate``), backed up with ``backup`` and restored with ``restore`` into fresh folders
(the engine opens one path per process, so every restore runs in a process of its own).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.gate import GATE_PASS
from ioc_app.backup import list_backups, take_backup
from ioc_app.backup_crypto import CHUNK, decrypt_file, encrypt_file
from ioc_app.backup_manifest import BackupError, read_manifest
from ioc_app.settings import Settings, load_settings
from ioc_app.storage import Store
from tests.conftest import ROOT, Server, add_person, free_port, product_env, run_cli
from tests.ingest.strategies import random_events

NOW = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)  # events' own times: fixed, whatever the clock says

#: per table of events: rows, distinct ids and a checksum of every row's content
CONTENT = r"""
import json, sys
from ioc_app.storage import Store
s = Store("chdb://" + sys.argv[1])
out = {}
for (t,) in s.rows("SELECT table FROM system.columns WHERE database = currentDatabase() "
                   "AND name = 'event_id' ORDER BY table"):
    n, u, h = s.rows(f"SELECT count(), uniqExact(event_id), sum(cityHash64(*)) FROM {t}")[0]
    out[t] = [int(n), int(u), str(h)]
out["ioc_migrations"] = s.rows("SELECT count() FROM ioc_migrations")[0][0]
print(json.dumps(out))
"""


def content(env: dict[str, str]) -> dict[str, Any]:
    """What the installation's store holds, read by a process of its own."""
    path = env["IOC_CLICKHOUSE_URL"][len("chdb://"):]
    done = subprocess.run([sys.executable, "-c", CONTENT, path], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh(tmp: Path, source_env: dict[str, str]) -> dict[str, str]:
    """A new, empty installation folder that has (only) the source's backup key."""
    tmp.mkdir(parents=True)
    return product_env(tmp, IOC_BACKUP_KEY_FILE=source_env["IOC_BACKUP_KEY_FILE"])


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def backup_id(out: str) -> str:
    return out.strip().splitlines()[-1].split("\t")[0]


def spooled(env: dict[str, str]) -> list[dict[str, Any]]:
    spool = Path(env["IOC_TOKENS_FILE"]).parent / "audit-spool"
    return [orjson.loads(line) for f in sorted(spool.glob("*.jsonl")) for line in f.read_bytes().splitlines()]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An installation with history, a person and a token; a full backup, more events, then
    an incremental one, and what the store held at each."""
    tmp = tmp_path_factory.mktemp("site")
    env = product_env(tmp, IOC_BACKUP_KEY_FILE=str(tmp / "keys" / "backup.key"))
    ok(run_cli(env, "migrate"))
    ok(run_cli(env, "simulate", "--days", "0.1", "--quiet"))
    add_person(env)
    ok(run_cli(env, "token", "create", "gates", "--streams", "gate.pass"))
    full_content = content(env)
    full = backup_id(ok(run_cli(env, "backup")))
    ok(run_cli(env, "simulate", "--days", "0.02", "--seed", "8", "--quiet"))
    inc_content = content(env)
    inc = backup_id(ok(run_cli(env, "backup", "--incremental")))
    root = tmp / "backups"
    return {"env": env, "root": root, "full": root / full, "inc": root / inc, "tmp": tmp,
            "full_content": full_content, "inc_content": inc_content}


def test_full_and_incremental_restore_into_fresh_installations(site: dict[str, Any], tmp_path: Path) -> None:
    assert site["full_content"] != site["inc_content"]  # the incremental carries something new
    assert site["full_content"]["gate_pass"][0] > 0
    for name in ("full", "inc"):
        env = fresh(tmp_path / name, site["env"])
        out = ok(run_cli(env, "restore", "--from", str(site[name])))
        assert f"restored {site[name].name}" in out
        assert content(env) == site[f"{name}_content"]
        # the installation's files came along: the same person, token and site key
        for f in ("tokens.toml", "roles.toml", "site_key", "secret_key"):
            src = site["tmp"] / f
            if src.exists():
                assert (tmp_path / name / f).read_bytes() == src.read_bytes(), f
        assert (tmp_path / name / "access.sqlite").is_file()
        rows = [r for r in spooled(env) if r["action"] == "backup.restore"]
        assert rows and rows[-1]["result"] == "ok" and rows[-1]["object"] == site[name].name
    m = read_manifest(site["inc"])
    assert m.kind == "incremental" and m.base_id == site["full"].name
    # the incremental holds only what changed: its store part is smaller than the full one's
    store_bytes = {n: sum(s for r, s in read_manifest(site[n]).sizes.items() if r.startswith("store/"))
                   for n in ("full", "inc")}
    assert store_bytes["inc"] < store_bytes["full"]


def test_backups_are_audited_listed_and_verified(site: dict[str, Any]) -> None:
    taken = [r for r in spooled(site["env"]) if r["action"] == "backup.take"]
    assert [r["object"] for r in taken] == [site["full"].name, site["inc"].name]
    assert json.loads(taken[1]["detail"])["base"] == site["full"].name
    listed = ok(run_cli(site["env"], "backup", "list"))
    assert [line.split("\t")[0] for line in listed.splitlines()] == [site["full"].name, site["inc"].name]
    assert "verified" in ok(run_cli(site["env"], "backup", "verify", str(site["inc"])))


def test_key_file_generated_owner_only_and_bytes_on_disk_are_not_plaintext(site: dict[str, Any]) -> None:
    key = Path(site["env"]["IOC_BACKUP_KEY_FILE"])
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_text().strip()) == 64
    secrets_on_disk = [(site["tmp"] / "site_key").read_text().strip().encode(),
                       (site["tmp"] / "roles.toml").read_bytes().strip(),
                       b"<config>", b"CREATE TABLE", b"SQLite format"]
    for path in site["full"].rglob("*"):
        if path.is_file() and path.name != "manifest.json":
            data = path.read_bytes()
            assert not any(s in data for s in secrets_on_disk), path
            assert data.startswith(b"IOCBKP1\0"), path


# --------------------------------------------------------------------------- refusals


def tree(path: Path) -> str:
    """Every file under ``path`` with its content's digest: 'nothing changed' made checkable."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and "audit-spool" not in p.parts:
            h.update(str(p.relative_to(path)).encode() + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


@pytest.fixture(scope="module")
def target(site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An installation restored from the full backup: what a refused restore must leave alone."""
    env = fresh(tmp_path_factory.mktemp("target") / "inst", site["env"])
    ok(run_cli(env, "restore", "--from", str(site["full"])))
    return env


def _largest(d: Path) -> Path:
    return max((p for p in (d / "store").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)


def flip(d: Path) -> None:
    p = _largest(d)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))


def truncate(d: Path) -> None:
    p = _largest(d)
    p.write_bytes(p.read_bytes()[:-100])


def alter_manifest(d: Path) -> None:
    data = json.loads((d / "manifest.json").read_text())
    data["cutoff"] = "2030-01-01T00:00:00+00:00"
    (d / "manifest.json").write_text(json.dumps(data))


@pytest.mark.parametrize(("case", "damage", "says"), [
    ("flipped byte", flip, "does not match its checksum"),
    ("truncated file", truncate, "is incomplete"),
    ("missing manifest", lambda d: (d / "manifest.json").unlink(), "has no manifest.json"),
    ("altered manifest", alter_manifest, "altered or damaged"),
])
def test_damaged_backups_are_refused_and_nothing_is_touched(site: dict[str, Any], target: dict[str, str],
                                                            tmp_path: Path, case: str, damage: Any,
                                                            says: str) -> None:
    copy = tmp_path / "copy" / site["full"].name
    shutil.copytree(site["full"], copy)
    damage(copy)
    home = Path(target["IOC_TOKENS_FILE"]).parent
    before = tree(home)
    for args in (("backup", "verify", str(copy)), ("restore", "--from", str(copy))):
        done = run_cli(target, *args)
        assert done.returncode == 1, (case, done.stdout, done.stderr[-2000:])
        line = [x for x in done.stderr.splitlines() if x.startswith("ioc: ")]
        assert len(line) == 1 and says in line[0], (case, done.stderr[-2000:])
        assert "Traceback" not in done.stderr
    assert tree(home) == before, case
    refused = [r for r in spooled(target) if r["action"] == "backup.restore" and r["result"] == "refused"]
    assert refused and says in json.loads(refused[-1]["detail"])["reason"]


def test_incremental_without_its_base_is_refused(site: dict[str, Any], target: dict[str, str],
                                                 tmp_path: Path) -> None:
    alone = tmp_path / "alone" / site["inc"].name
    shutil.copytree(site["inc"], alone)
    home = Path(target["IOC_TOKENS_FILE"]).parent
    before = tree(home)
    done = run_cli(target, "restore", "--from", str(alone))
    assert done.returncode == 1
    assert f"incremental on {site['full'].name}, which is not in" in done.stderr
    assert tree(home) == before


def test_wrong_key_and_foreign_installation_are_refused(site: dict[str, Any], target: dict[str, str],
                                                        tmp_path: Path) -> None:
    home = Path(target["IOC_TOKENS_FILE"]).parent
    before = tree(home)
    other_key = tmp_path / "other.key"
    other_key.write_text(os.urandom(32).hex() + "\n")
    done = run_cli({**target, "IOC_BACKUP_KEY_FILE": str(other_key)}, "restore", "--from", str(site["full"]))
    assert done.returncode == 1 and "the wrong key" in done.stderr, done.stderr[-2000:]
    assert tree(home) == before
    done = run_cli({**target, "IOC_BACKUP_KEY_FILE": str(tmp_path / "none.key")}, "restore", "--from",
                   str(site["full"]))
    assert done.returncode == 1 and "no backup key at" in done.stderr
    assert not (tmp_path / "none.key").exists()  # a new key never opens an old backup: none is made
    assert tree(home) == before
    # another installation: its own site key, the same backup key
    other = fresh(tmp_path / "other", site["env"])
    (tmp_path / "other" / "site_key").write_text(os.urandom(32).hex() + "\n")
    other_before = tree(tmp_path / "other")
    done = run_cli(other, "restore", "--from", str(site["full"]))
    assert done.returncode == 1 and "backup of another installation" in done.stderr, done.stderr[-2000:]
    assert tree(tmp_path / "other") == other_before


def test_rotated_key_still_opens_old_backups(site: dict[str, Any], tmp_path: Path) -> None:
    env = dict(site["env"])
    keys = tmp_path / "ring.key"
    shutil.copy(env["IOC_BACKUP_KEY_FILE"], keys)
    env["IOC_BACKUP_KEY_FILE"] = str(keys)
    old = keys.read_text().strip()
    out = ok(run_cli(env, "backup", "rotate-key"))
    assert keys.read_text().split()[1] == old and keys.stat().st_mode & 0o777 == 0o600
    assert "verified" in ok(run_cli(env, "backup", "verify", str(site["full"])))
    keys.write_text(keys.read_text().split()[0] + "\n")  # the old key dropped: old backups are lost
    done = run_cli(env, "backup", "verify", str(site["full"]))
    assert done.returncode == 1 and "the wrong key" in done.stderr
    assert out.startswith("new backup key ")


# --------------------------------------------------------------------------- encryption


def test_every_change_to_an_encrypted_file_fails_to_decrypt(tmp_path: Path) -> None:
    """The encryption itself refuses damage, whatever the manifest says: a flipped byte,
    a file cut at a chunk boundary, a file presented under another name."""
    key = os.urandom(32)
    src = tmp_path / "plain"
    src.write_bytes(os.urandom(CHUNK * 2 + 1000))
    sealed = tmp_path / "sealed"
    encrypt_file(key, "b/store/x", src, sealed)
    decrypt_file(key, "b/store/x", sealed, tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == src.read_bytes()
    data = sealed.read_bytes()
    cut = 24 + 4 + CHUNK + 16  # the header and exactly the first chunk
    for name, bad, rel in (("flipped", data[:5000] + bytes([data[5000] ^ 1]) + data[5001:], "b/store/x"),
                           ("cut at a chunk boundary", data[:cut], "b/store/x"),
                           ("renamed", data, "b/store/y")):
        damaged = tmp_path / name
        damaged.write_bytes(bad)
        with pytest.raises(BackupError):
            decrypt_file(key, rel, damaged, tmp_path / "out")


# --------------------------------------------------------------------------- the cut-off


def test_backup_while_events_are_written_restores_every_acknowledged_event(
        engine_path: Path, tmp_path: Path) -> None:
    """A writer thread submits events through the ingest path while the backup runs; every
    event acknowledged before the cut-off is in the restored installation (store or buffer),
    and none twice."""
    from ioc_app.app import ingest_for

    home = tmp_path / "live"
    home.mkdir()
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False,
                        tokens_file=str(home / "tokens.toml"), roles_file=str(home / "roles.toml"),
                        backup_key_file=str(home / "backup.key"))
    shutil.rmtree(settings.wal_dir, ignore_errors=True)
    store = Store(f"chdb://{engine_path}", database="b_" + os.urandom(4).hex())
    from ioc_app.migrate import migrate

    migrate(store)
    pipeline, writer = ingest_for(settings, store)
    writer.start()
    acked: list[tuple[float, list[str]]] = []
    stop = threading.Event()

    def produce() -> None:
        seed = 0
        while not stop.is_set():
            events = random_events(GATE_PASS, 50, 1000 + seed, NOW)
            receipt = pipeline.submit(GATE_PASS, events, source="t", now=NOW)
            assert receipt.errors == []
            acked.append((time.time(), [e["event_id"] for e in events]))
            seed += 1

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        deadline = time.monotonic() + 60
        while len(acked) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        m = take_backup(settings, home / "backups" / "b1", store=store)
        during = len(acked)
    finally:
        stop.set()
        producer.join(60)
        writer.stop(drain=True)
        pipeline.buffer.close()
        store.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
        store.close()
        shutil.rmtree(settings.wal_dir, ignore_errors=True)
    before = {i for at, ids in acked if at < m.cutoff.timestamp() for i in ids}
    assert len(before) >= 250 and during > 5
    env = fresh(tmp_path / "restored", {"IOC_BACKUP_KEY_FILE": str(home / "backup.key")})
    ok(run_cli(env, "restore", "--from", str(home / "backups" / "b1")))
    drained = subprocess.run([sys.executable, "-c", DRAIN], env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert drained.returncode == 0, drained.stderr[-3000:]
    ids = json.loads(drained.stdout.strip().splitlines()[-1])
    assert len(ids) == len(set(ids)), "an event was written twice"
    assert before <= set(ids)


#: start the restored installation's writer, let it write the restored buffer, list the ids
DRAIN = r"""
import json
from ioc_app.app import ingest_for
from ioc_app.settings import load_settings
from ioc_app.storage import Store
settings = load_settings(dotenv=None)
store = Store(settings.clickhouse_url)
pipeline, writer = ingest_for(settings, store)
writer.start()
writer.stop(drain=True, timeout=240)
assert pipeline.buffer.depth == 0, pipeline.buffer.depth
print(json.dumps([r[0] for r in store.rows("SELECT event_id FROM gate_pass")]))
"""


def test_list_leaves_out_interrupted_backups(site: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(site["full"], root / site["full"].name)
    shutil.copytree(site["inc"], root / "half")
    (root / "half" / "manifest.json").unlink()
    (root / ".x.partial").mkdir()
    assert [m.id for m in list_backups(root)] == [site["full"].name]


def test_redis_buffer_entries_come_back_without_those_already_stored(migrated: Store, redis_server: Any,
                                                                     tmp_path: Path) -> None:
    """In Redis mode the buffer's entries (not Redis' files) are dumped; on restore each goes
    back unless the restored store already holds its rows."""
    import polars as pl
    import redis

    from ingest.redis_client import buffer_key, depth_key
    from ingest.wal import encode
    from ioc_app.backup_files import dump_redis, load_redis

    client = redis.Redis.from_url(redis_server.url)
    frames = [pl.DataFrame({"event_id": [f"e{i}-{j}" for j in range(3)]}) for i in range(3)]
    for f in frames:
        client.xadd(buffer_key("gate_pass"), {"f": encode(f), "n": f.height})
        client.incrby(depth_key("gate_pass"), f.height)
    settings = load_settings({"IOC_REDIS_URL": redis_server.url}, dotenv=None)
    assert settings.redis_url
    dump = dump_redis(client, tmp_path)["buffer/redis.jsonl"]
    assert len(dump.read_bytes().splitlines()) == 3
    with pytest.raises(BackupError, match="already buffers"):
        load_redis(client, migrated, dump)
    client.flushall()
    # the first batch reached the store before the backup: it must not be written twice
    # (times within the table's retention, or its TTL drops the rows at once)
    migrated.command("INSERT INTO gate_pass (event_id, ts, received_at) "
                     "SELECT concat('e0-', toString(number)), now64(3), now64(3) FROM numbers(3)")
    assert load_redis(client, migrated, dump) == 2
    back = client.xrange(buffer_key("gate_pass"))
    assert [int(f[b"n"]) for _, f in back] == [3, 3]
    assert int(client.get(depth_key("gate_pass"))) == 6
    client.close()


def test_backup_while_the_server_runs_restore_only_once_it_stops(tmp_path: Path) -> None:
    """The running server owns the embedded store: ``backup`` hands the request to it and
    prints the backup it took; ``restore`` refuses until the server has stopped."""
    home = tmp_path / "inst"
    home.mkdir()
    env = product_env(home)
    ok(run_cli(env, "migrate"))
    server = Server(env, free_port())
    try:
        server.wait_ready()
        out = ok(run_cli(env, "backup", timeout=300))
        taken = home / "backups" / backup_id(out)
        assert "verified" in ok(run_cli(env, "backup", "verify", str(taken)))
        done = run_cli(env, "restore", "--from", str(taken))
        assert done.returncode == 1 and "stop the server" in done.stderr, done.stderr[-2000:]
        # (the running server changes its own store: nothing of a restore was begun)
        assert not [p.name for p in home.iterdir() if "restor" in p.name]
    finally:
        server.stop()
    ok(run_cli(env, "restore", "--from", str(taken)))
    assert any(p.name.startswith("clickhouse.before-restore-") for p in home.iterdir())


def test_restored_log_drops_the_batches_the_restored_store_already_holds(migrated: Store,
                                                                        tmp_path: Path) -> None:
    """A batch written between the buffer's copy and the store's backup is in both: the
    restore confirms it in the log, so the writer does not insert it a second time."""
    import polars as pl

    from ingest.wal import WriteAheadLog
    from ioc_app.backup_files import reconcile_wal

    wal = WriteAheadLog(tmp_path / "wal")
    for i in range(3):
        wal.log("gate_pass").append(pl.DataFrame({"event_id": [f"w{i}-{j}" for j in range(4)]}))
    wal.close()
    migrated.command("INSERT INTO gate_pass (event_id, ts, received_at) "
                     "SELECT concat('w', toString(intDiv(number, 4)), '-', toString(number % 4)), now64(3), "
                     "now64(3) FROM numbers(8)")  # the first two batches
    assert reconcile_wal(migrated, tmp_path / "wal") == 2
    again = WriteAheadLog(tmp_path / "wal")
    pending = again.log("gate_pass").pending_records()
    assert [r.frame["event_id"].to_list() for r in pending] == [[f"w2-{j}" for j in range(4)]]
    again.close()


def test_redis_buffer_travels_with_the_backup_into_a_new_redis(migrated: Store, engine_path: Path,
                                                               redis_server: Any, tmp_path: Path) -> None:
    """Redis mode: the backup holds the buffer's entries; ``restore`` puts them into another
    (empty) Redis, without the batch the store already held."""
    import polars as pl
    import redis

    from ingest.redis_client import buffer_key
    from ingest.wal import encode
    from tests.conftest import RedisServer

    client = redis.Redis.from_url(redis_server.url)
    for i in range(3):
        f = pl.DataFrame({"event_id": [f"q{i}-{j}" for j in range(2)]})
        client.xadd(buffer_key("gate_pass"), {"f": encode(f), "n": f.height})
    migrated.command("INSERT INTO gate_pass (event_id, ts, received_at) "
                     "SELECT concat('q0-', toString(number)), now64(3), now64(3) FROM numbers(2)")
    home = tmp_path / "src"
    home.mkdir()
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False, redis_url=redis_server.url,
                        tokens_file=str(home / "tokens.toml"), roles_file=str(home / "roles.toml"),
                        backup_key_file=str(home / "backup.key"))
    m = take_backup(settings, home / "backups" / "r1", store=migrated)
    assert m.buffer == "redis" and "buffer/redis.jsonl" in m.files
    other = RedisServer(tmp_path / "redis-new")
    try:
        env = fresh(tmp_path / "dst", {"IOC_BACKUP_KEY_FILE": str(home / "backup.key")})
        env["IOC_REDIS_URL"] = other.url
        ok(run_cli(env, "restore", "--from", str(home / "backups" / "r1")))
        back = redis.Redis.from_url(other.url).xrange(buffer_key("gate_pass"))
        assert [decode_ids(f[b"f"]) for _, f in back] == [["q1-0", "q1-1"], ["q2-0", "q2-1"]]
        # a Redis that already buffers events is not overwritten
        done = run_cli(env, "restore", "--from", str(home / "backups" / "r1"))
        assert done.returncode == 1 and "already buffers" in done.stderr
    finally:
        other.stop()
        client.close()


def decode_ids(blob: bytes) -> list[str]:
    from ingest.wal import decode

    return [str(x) for x in decode(blob)["event_id"].to_list()]
