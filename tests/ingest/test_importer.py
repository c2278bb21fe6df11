"""File import end to end: a real CLI process on a real store, every format, Chinese
spreadsheets, dead letters for bad rows, and the route through a running server."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import orjson
import polars as pl
import pytest

from ingest.gate import GATE_PASS
from tests.conftest import ROOT, Server, free_port, product_env, run_cli
from tests.ingest.strategies import random_events

NOW = datetime.now(UTC).replace(microsecond=0)

QUERY = """
import sys
from ioc_app.storage import Store
s = Store(sys.argv[1])
for q in sys.argv[2:]:
    print(s.rows(q))
"""


def query(env: dict[str, str], *sql: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", QUERY, env["IOC_CLICKHOUSE_URL"], *sql], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split("\n")


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return product_env(tmp_path)


def test_csv_ndjson_parquet_import_with_dead_letters(env, tmp_path: Path) -> None:
    events = random_events(GATE_PASS, 3000, 21, NOW)
    frame = pl.DataFrame(events, infer_schema_length=None)
    csv = tmp_path / "gates.csv"
    frame.slice(0, 1000).write_csv(csv)
    nd = tmp_path / "gates.ndjson"
    lines = [orjson.dumps(e) for e in events[1000:2000]]
    lines[5] = b"{this is not json"
    nd.write_bytes(b"\n".join(lines) + b"\n")
    pq = tmp_path / "gates.parquet"
    frame.slice(2000, 1000).write_parquet(pq)
    done = run_cli(env, "import", "gate.pass", str(csv), str(nd), str(pq), "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "gates.csv: 1000 rows — accepted 1000" in done.stdout
    assert "gates.ndjson: 1000 rows — accepted 999, duplicates 0, rejected 1" in done.stdout
    assert "row 6: (event): not_an_object" in done.stdout
    again = run_cli(env, "import", "gate.pass", str(csv), "--quiet", timeout=300)
    assert "accepted 0, duplicates 1000" in again.stdout
    counts, letters = query(env, "SELECT count(), uniqExact(event_id) FROM gate_pass",
                            "SELECT raw FROM ioc_deadletter")
    assert counts == "[(2999, 2999)]"
    assert "this is not json" in letters


def test_chinese_plan_spreadsheet_upserts(env, tmp_path: Path) -> None:
    xlsx = tmp_path / "2026招生计划.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["年份", "省份", "批次", "类别", "科类", "专业代码", "计划数"])
    ws.append([2026, "广东省", "本科批", "普通类", "物理类", "080901", 120])
    ws.append([2026, "北京", "提前批", "国家专项", "历史类", "050101", 8.0])
    ws.append([2026, "火星", "本科批", "普通类", "物理类", "080901", 3])
    wb.save(xlsx)
    # a plan is reference data: a file with a bad row is refused whole
    done = run_cli(env, "import", "enrollment.plan", str(xlsx), "--quiet", timeout=300)
    assert done.returncode == 1, done.stdout
    assert "refused, nothing imported" in done.stderr and "row 4, column 省份:" in done.stderr
    assert query(env, "SELECT count() FROM enrollment_plan", "SELECT count() FROM ioc_deadletter") == [
        "[(0,)]", "[(0,)]"]
    ws.delete_rows(4)
    wb.save(xlsx)
    done = run_cli(env, "import", "enrollment.plan", str(xlsx), "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "2 rows — accepted 2, duplicates 0, rejected 0" in done.stdout
    # the admissions office corrects the plan and imports again: the latest import wins
    ws.delete_rows(3)
    ws.cell(row=2, column=7, value=130)
    wb.save(xlsx)
    run_cli(env, "import", "enrollment.plan", str(xlsx), "--quiet", timeout=300)
    rows = query(env, "SELECT toString(province), toString(batch), major, planned "
                      "FROM enrollment_plan FINAL ORDER BY province")
    assert rows == ["[('11', 'early', '050101', 8), ('44', 'regular', '080901', 130)]"]


def test_gb18030_csv_with_chinese_headers(env, tmp_path: Path) -> None:
    ts = (NOW - timedelta(hours=1)).isoformat()
    text = ("事件编号,时间,校区,门,通道,方向,人员类别,通行方式,结果,拒绝原因\n"
            f"a1,{ts},main,north,1,进,student,face,通过,\n"
            f"a2,{ts},main,north,2,出,staff,card,拒绝,expired\n")
    path = tmp_path / "门禁.csv"
    path.write_bytes(text.encode("gb18030"))
    done = run_cli(env, "import", "gate.pass", str(path), "--quiet", timeout=300)
    assert "2 rows — accepted 2" in done.stdout, done.stdout + done.stderr
    assert query(env, "SELECT toString(direction), toString(result) FROM gate_pass ORDER BY event_id") == [
        "[('in', 'pass'), ('out', 'deny')]"]


def test_import_errors_say_what_to_change(env, tmp_path: Path) -> None:
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"%PDF")
    done = run_cli(env, "import", "gate.pass", str(bad), "--quiet")
    assert done.returncode == 1 and "use .csv, .ndjson/.jsonl, .parquet or .xlsx" in done.stderr
    done = run_cli(env, "import", "gate.passes", str(bad), "--quiet")
    assert done.returncode == 2 and "unknown stream 'gate.passes'" in done.stderr


def test_import_through_a_running_server(env, tmp_path: Path) -> None:
    token = run_cli(env, "token", "create", "office", "--streams", "gate.pass").stdout.strip()
    events = random_events(GATE_PASS, 25_000, 22, NOW)
    path = tmp_path / "big.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events))
    server = Server(env, free_port())
    try:
        server.wait_ready()
        busy = run_cli(env, "import", "gate.pass", str(path), "--quiet")
        assert busy.returncode == 1 and "in use by pid" in busy.stderr
        done = run_cli(env, "import", "gate.pass", str(path), "--quiet", "--url", server.url,
                       "--token", token, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "25000 rows — accepted 25000" in done.stdout
    finally:
        server.stop()
    assert query(env, "SELECT count() FROM gate_pass") == ["[(25000,)]"]
