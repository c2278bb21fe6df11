"""``python -m ioc_app pseudonym``: what a sending system derives equals what import stores.

Real processes on a real store: a file with a 考生号 column is imported with the product's
``import`` command, the stored ``candidate_key`` is read back, and the command given the same
numbers on standard input prints exactly those keys — in order, and without any number.
The worked example of docs/security.md is checked against the command too, so the document
an integrator follows cannot drift from the code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, product_env, run_cli

QUERY = """
import sys
from ioc_app.storage import Store
s = Store(sys.argv[1])
for year, key in s.rows("SELECT year, candidate_key FROM enrollment_admission ORDER BY year"):
    print(year, key)
"""
HEADER = "事件编号,时间,考生号,年份,省份,批次,类别,科类,学院,专业,状态,成绩\n"


def pseudonyms(env: dict[str, str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ioc_app", "pseudonym"], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def stored_keys(env: dict[str, str]) -> dict[int, str]:
    done = subprocess.run([sys.executable, "-c", QUERY, env["IOC_CLICKHOUSE_URL"]], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {int(y): k for y, k in (line.split() for line in done.stdout.strip().splitlines())}


def test_the_command_prints_the_keys_import_stores(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    # three candidates, their numbers written the ways offices write them
    numbers = {2024: "24420107712345", 2025: " 25-4201 0771 2346 ", 2026: "2642010771234x"}
    csv = tmp_path / "admitted.csv"
    csv.write_text(HEADER + "".join(
        f"a{y},{y}-07-20T10:00:00+08:00,{n},{y},湖北,本科批,普通类,物理类,c01,m01,录取,601.5\n"
        for y, n in numbers.items()), encoding="utf-8")
    done = run_cli(env, "import", "enrollment.admission", str(csv), "--quiet", timeout=300)
    assert done.returncode == 0 and "accepted 3" in done.stdout, done.stdout + done.stderr
    stored = stored_keys(env)
    assert sorted(stored) == [2024, 2025, 2026]

    # as an integrator feeds them: in another spelling each, with an empty line in between
    typed = ["24420107712345", "25420107712346", "", "2642010771234X"]
    out = pseudonyms(env, "\n".join(typed) + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:-1] == [stored[2024], stored[2025], "", stored[2026]]
    for n in [*numbers.values(), *typed]:
        if n.strip():
            assert n.strip() not in out.stdout + out.stderr
    assert all(re.fullmatch(r"p[a-z2-7]{25}", k) for k in stored.values())


def test_the_worked_example_of_the_security_document(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "security.md").read_text()
    key = re.search(r"\| key \(hex\) \| `([0-9a-f]{64})` \|", doc)
    assert key is not None
    rows = re.findall(r"`(2642[0-9x]+)`[^|]*\| `(p[a-z2-7]{25})`", doc)
    shown = re.search(r"\| value as given \| `([0-9]+)`, or `([^`]+)`", doc)
    assert shown is not None
    pseudonym = re.search(r"\| pseudonym \| `(p[a-z2-7]{25})` \|", doc)
    assert pseudonym is not None and rows
    env = product_env(tmp_path)
    (tmp_path / "site_key").write_text(key.group(1) + "\n")
    (tmp_path / "site_key").chmod(0o600)
    out = pseudonyms(env, f"{shown.group(1)}\n{shown.group(2)}\n" + "".join(v + "\n" for v, _ in rows))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:-1] == [pseudonym.group(1)] * 2 + [p for _, p in rows]


def test_without_a_site_key_it_stops_and_makes_none(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    out = pseudonyms(env, "26420107712345\n")
    assert out.returncode == 1 and out.stdout == ""
    assert "no site key at" in out.stderr and str(tmp_path / "site_key") in out.stderr
    assert "26420107712345" not in out.stderr
    assert not (tmp_path / "site_key").exists()


def test_numbers_are_not_taken_from_the_command_line(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    (tmp_path / "site_key").write_text("ab" * 32 + "\n")
    out = run_cli(env, "pseudonym", "26420107712345")
    assert out.returncode == 2 and out.stdout == ""
