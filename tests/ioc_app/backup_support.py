"""Helpers of the backup tests: installations run by the product's own commands."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import ROOT, product_env

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


def tree(path: Path) -> str:
    """Every file under ``path`` with its content's digest: 'nothing changed' made checkable."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and "audit-spool" not in p.parts:
            h.update(str(p.relative_to(path)).encode() + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()
