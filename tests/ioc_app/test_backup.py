"""Backups and restores on the real engine: round trips, refusals, encryption, keys, and the
running server (the buffer and the cut-off: ``test_backup_buffer.py``).

An installation is made by the product's own commands in its own process (``migrate``,
``simulate``), backed up with ``backup`` and restored with ``restore`` into fresh folders
(the engine opens one path per process, so every restore runs in a process of its own).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from ioc_app.backup import list_backups
from ioc_app.backup_crypto import CHUNK, decrypt_file, encrypt_file
from ioc_app.backup_manifest import BackupError, read_manifest
from tests.conftest import Server, add_person, free_port, product_env, run_cli
from tests.ioc_app.backup_support import backup_id, content, fresh, ok, spooled, tree


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


def test_list_leaves_out_interrupted_backups(site: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(site["full"], root / site["full"].name)
    shutil.copytree(site["inc"], root / "half")
    (root / "half" / "manifest.json").unlink()
    (root / ".x.partial").mkdir()
    assert [m.id for m in list_backups(root)] == [site["full"].name]


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


def test_a_backup_the_server_takes_for_the_command_holds_the_writer_still(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``BACKUP`` copies table after table: the server pauses its writer while it copies for the
    ``backup`` command (as for its scheduled backups), so no batch lands in a raw table and not
    in its rollups, and it takes the backup directory's lock (never two backups at once)."""
    import threading
    from types import SimpleNamespace

    from ioc_app import backup
    from ioc_app.backup_handoff import BackupRequests, _write, requests_dir
    from ioc_app.backup_schedule import LOCK_NAME

    class Writer:  # the writer's pause, as ingest.writer.Writer.paused holds it
        def __init__(self) -> None:
            self._gate = threading.Lock()

        def paused(self) -> Any:
            return self._gate

    writer, seen = Writer(), {}
    root = tmp_path / "backups"

    def take(settings: Any, dest: Path, **_: Any) -> Any:
        import fcntl
        import os

        seen["paused"] = writer._gate.locked()
        fd = os.open(root / LOCK_NAME, os.O_RDWR)
        try:  # the directory's lock is held: another taker would be refused
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen["locked"] = False
        except BlockingIOError:
            seen["locked"] = True
        finally:
            os.close(fd)
        return SimpleNamespace(path=dest)

    monkeypatch.setattr(backup, "take_backup", take)
    settings = SimpleNamespace(var_dir=tmp_path / "var")
    requests_dir(settings).mkdir(parents=True)
    _write(requests_dir(settings) / "r1.json", {"dest": str(root / "b1"), "base": None})
    assert BackupRequests(settings, store=None, writer=writer).drain() == 1  # type: ignore[arg-type]
    assert seen == {"paused": True, "locked": True}
    assert orjson.loads((requests_dir(settings) / "r1.done").read_bytes())["ok"] is True
