from __future__ import annotations

from pathlib import Path

from tests.conftest import product_env, run_cli


def test_migrate_twice_then_up_to_date(tmp_path: Path) -> None:
    env = product_env(tmp_path)
    first = run_cli(env, "migrate")
    assert first.returncode == 0, first.stderr
    assert "applied 0001_core" in first.stdout and "applied 0006_reference" in first.stdout
    second = run_cli(env, "migrate")
    assert second.returncode == 0 and second.stdout.strip() == "schema is up to date"


def test_version(tmp_path: Path) -> None:
    done = run_cli(product_env(tmp_path), "version")
    assert done.returncode == 0 and done.stdout.startswith("ioc ")


def test_bad_setting_fails_at_start_naming_it(tmp_path: Path) -> None:
    done = run_cli(product_env(tmp_path, IOC_PORT="http"), "run", timeout=60)
    assert done.returncode == 2
    assert "IOC_PORT='http'" in done.stderr and "port number" in done.stderr
