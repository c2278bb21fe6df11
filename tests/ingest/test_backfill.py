"""``simulate``: history through the ingest path; printed counts equal what is stored and
what the truth export holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl

from tests.conftest import ROOT, product_env, run_cli

COUNT = """
import sys
from ioc_app.storage import Store
s = Store(sys.argv[1])
for t in sys.argv[2:]:
    print(t, s.rows(f"SELECT count() FROM {t}")[0][0])
"""


def test_simulate_counts_equal_stored_rows_and_truth(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    truth = tmp_path / "truth"
    done = run_cli(env, "simulate", "--days", "0.5", "--quiet", "--truth", str(truth), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = dict(line.split("\t")[:2] for line in done.stdout.strip().splitlines())
    streams = [s for s in printed if s != "total"]
    assert {"gate.pass", "network.link", "network.online"} <= set(streams)
    tables = [s.replace(".", "_", 1) for s in streams]
    q = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"], *tables], env=env,
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    stored = dict(line.split() for line in q.stdout.strip().splitlines())
    for stream, table in zip(streams, tables, strict=True):
        assert stored[table] == printed[stream], stream
        assert pl.scan_parquet(truth / f"{stream}.parquet").select(pl.len()).collect().item() == int(
            printed[stream])
    assert int(printed["total"]) == sum(int(printed[s]) for s in streams)


def test_simulate_an_admission_season_out_of_season(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    done = run_cli(env, "simulate", "--season", "2026", "--quiet", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = dict(line.split("\t")[:2] for line in done.stdout.strip().splitlines())
    assert set(printed) == {"enrollment.admission", "enrollment.plan", "enrollment.checkin", "total"}
    q = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"], "enrollment_admission",
                        "enrollment_checkin"], env=env, cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    stored = dict(line.split() for line in q.stdout.strip().splitlines())
    assert stored["enrollment_admission"] == printed["enrollment.admission"]
    assert stored["enrollment_checkin"] == printed["enrollment.checkin"]
    bad = run_cli(env, "simulate", "--season", "2999", "--quiet")
    assert bad.returncode == 2 and "--season must be a year" in bad.stderr
