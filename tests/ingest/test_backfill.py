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
    truth = tmp_path / "truth"
    done = run_cli(env, "simulate", "--season", "2026", "--quiet", "--truth", str(truth), timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = dict(line.split("\t")[:2] for line in done.stdout.strip().splitlines())
    streams = ("enrollment.admission", "enrollment.plan", "enrollment.control_line", "enrollment.notice",
               "enrollment.checkin")
    assert set(printed) == {*streams, "total"}
    tables = [s.replace(".", "_") for s in streams]
    q = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"], *tables], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    stored = dict(line.split() for line in q.stdout.strip().splitlines())
    for stream, table in zip(streams, tables, strict=True):
        assert stored[table] == printed[stream], stream
        assert pl.scan_parquet(truth / f"{stream}.parquet").select(pl.len()).collect().item() == int(
            printed[stream])
    bad = run_cli(env, "simulate", "--season", "2999", "--quiet")
    assert bad.returncode == 2 and "--season must be a year" in bad.stderr


def test_the_truth_of_a_season_holds_its_control_lines_notices_and_returns(tmp_path: Path) -> None:
    """The truth export carries the season's new streams, with every case the figures must
    get right: control lines, notices in each status, a notice returned by the courier and
    mailed again, a candidate admitted and then returned (also after their notice was printed)."""
    from ingest.registry import get_stream
    from ingest.sim.backfill import TruthWriter
    from ingest.sim.enrollment import season
    from ingest.sim.world import World
    from ingest.site import load_site
    from ioc_app.settings import DEFAULT_SITE
    from tests.metrics.conftest import ZONE

    world = World(load_site(DEFAULT_SITE), ZONE, seed=11, scale=0.3)  # the metrics tests' world
    writer = TruthWriter(tmp_path)
    emissions = sorted((e for hour in season(world, 2025).values() for e in hour), key=lambda e: e[0])
    for name in {s for _, s, _ in emissions}:
        writer.write(get_stream(name), [ev for _, s, ev in emissions if s == name])
    writer.close()
    lines = pl.read_parquet(tmp_path / "enrollment.control_line.parquet")
    notices = pl.read_parquet(tmp_path / "enrollment.notice.parquet")
    adm = pl.read_parquet(tmp_path / "enrollment.admission.parquet")
    plan = pl.read_parquet(tmp_path / "enrollment.plan.parquet")

    cell = ["year", "province", "batch", "category", "track"]
    assert lines.height and lines.select(cell).is_duplicated().sum() == 0
    assert set(lines.select(cell).iter_rows()) <= set(plan.select(cell).iter_rows())
    assert set(notices["status"]) == {"printed", "mailed", "delivered", "returned"}
    assert notices["tracking_no"].drop_nulls().len() > 0
    assert adm["first_choice"].drop_nulls().len() > 0

    def after(frame: pl.DataFrame, first: str, then: str) -> set[str]:
        """Keys with a ``first`` event followed later by a ``then`` event."""
        a = frame.filter(pl.col("status") == first).select("candidate_key", pl.col("ts").alias("t0"))
        b = frame.filter(pl.col("status") == then).select("candidate_key", pl.col("ts").alias("t1"))
        return set(a.join(b, on="candidate_key").filter(pl.col("t1") > pl.col("t0"))["candidate_key"])

    remailed = after(notices, "returned", "mailed")
    assert remailed and after(notices, "mailed", "delivered") & remailed
    returned = after(adm, "admitted", "returned")
    assert returned
    assert returned & set(notices.filter(pl.col("status") == "printed")["candidate_key"])
    assert returned - set(notices["candidate_key"])  # (returned before a notice was printed)
