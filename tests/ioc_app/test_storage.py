"""The embedded store has one owner; other processes are told who it is, quickly."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ioc_app.storage import Store, StoreQueryError
from tests.conftest import ROOT, product_env, run_cli

HOLD = """
import sys, time
from ioc_app.storage import Store
s = Store(sys.argv[1])
s.command("CREATE TABLE IF NOT EXISTS keep (x UInt8) ENGINE = MergeTree ORDER BY x")
s.command("INSERT INTO keep VALUES (1), (2), (3)")
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture()
def held_store(tmp_path: Path):
    url = f"chdb://{tmp_path / 'clickhouse'}"
    env = product_env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield env, proc
    proc.kill()
    proc.wait()


def test_second_process_fails_fast_naming_the_owner(held_store) -> None:
    env, owner = held_store
    started = time.monotonic()
    done = run_cli(env, "migrate", timeout=60)
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert f"in use by pid {owner.pid}" in done.stderr
    assert "IOC_CLICKHOUSE_URL" in done.stderr  # says what to change
    assert elapsed < 60


def test_store_is_intact_after_a_refused_open(held_store, tmp_path: Path) -> None:
    env, owner = held_store
    run_cli(env, "migrate", timeout=60)
    owner.kill()
    owner.wait()
    check = subprocess.run(
        [sys.executable, "-c",
         "import sys; from ioc_app.storage import Store; "
         "print(Store(sys.argv[1]).rows('SELECT sum(x) FROM keep')[0][0])",
         f"chdb://{tmp_path / 'clickhouse'}"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert check.stdout.strip() == "6", check.stderr


def test_token_commands_do_not_open_the_store(held_store) -> None:
    env, _ = held_store
    made = run_cli(env, "token", "create", "gate-sys", "--streams", "gate.pass", timeout=60)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("ioc_")
    listed = run_cli(env, "token", "list", timeout=60)
    assert listed.stdout.strip() == "gate-sys\tgate.pass"


def test_same_process_may_reopen_its_store(engine_path: Path) -> None:
    a = Store(f"chdb://{engine_path}", database="reopen_a")
    b = Store(f"chdb://{engine_path}", database="reopen_b")
    assert a.ping() and b.ping()
    for s in (a, b):
        s.command(f"DROP DATABASE {s.database}")


def test_query_errors_carry_statement_and_server_message(store: Store) -> None:
    with pytest.raises(StoreQueryError) as err:
        store.query("SELECT no_such_column FROM system.one")
    assert err.value.statement == "SELECT no_such_column FROM system.one"
    assert "no_such_column" in err.value.server_message


BLOCKS = """
import sys
from ioc_app.storage import Store
s = Store("chdb://" + sys.argv[1], database="d")
s.command("CREATE TABLE IF NOT EXISTS t (id UInt64) ENGINE = MergeTree ORDER BY id "
          "SETTINGS non_replicated_deduplication_window = 100")
for token in sys.argv[2:]:
    s.command(f"INSERT INTO t SELECT number FROM numbers(10) SETTINGS insert_deduplication_token='{token}'")
print(s.rows("SELECT count() FROM t")[0][0])
"""


def blocks(engine: Path, *tokens: str) -> int:
    done = subprocess.run([sys.executable, "-c", BLOCKS, str(engine), *tokens], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def test_a_block_recorded_but_never_written_is_inserted_again(tmp_path: Path) -> None:
    """A kill between the deduplication record and the rename of the part leaves a record
    with no rows; the next open forgets that record, so the repeated insert goes in (and a
    block that was written is still dropped as a duplicate)."""
    engine = tmp_path / "engine"
    assert blocks(engine, "a", "b") == 20
    parts = sorted(p for p in engine.glob("store/*/*/all_*") if p.is_dir())
    assert len(parts) == 2
    import shutil

    shutil.rmtree(parts[-1])  # block "b": recorded, its part never renamed into place
    assert blocks(engine, "a", "b") == 20  # "b" again: in; "a" again: still a duplicate
