from __future__ import annotations

from pathlib import Path

import pytest

from ioc_app.settings import (
    DEFAULT_ALERTS,
    DEFAULT_WALL,
    Settings,
    SettingsError,
    documented_defaults,
    load_settings,
)


def test_defaults_match_the_documented_table() -> None:
    s = load_settings({}, dotenv=None)
    assert s == Settings()
    assert s.clickhouse_url == "chdb://./var/clickhouse" and s.port == 8050
    assert s.tz == "Asia/Shanghai" and s.demo is True and s.tick_s == 1.0
    assert documented_defaults()["IOC_HOST"] == "127.0.0.1"


def test_environment_overrides(tmp_path: Path) -> None:
    s = load_settings({"IOC_PORT": "8123", "IOC_DEMO": "0", "IOC_TZ": "Asia/Urumqi",
                       "IOC_CLICKHOUSE_URL": "https://u:p@ch.example.edu:8443/ioc",
                       "IOC_REDIS_URL": "redis://127.0.0.1:6379/0", "IOC_TICK_S": "0.5"},
                      dotenv=None)
    assert (s.port, s.demo, s.tz, s.tick_s) == (8123, False, "Asia/Urumqi", 0.5)
    assert not s.embedded


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("IOC_PORT=9000\nIOC_TZ=UTC\n")
    s = load_settings({"IOC_PORT": "9001"}, dotenv=env_file)
    assert (s.port, s.tz) == (9001, "UTC")


@pytest.mark.parametrize(
    ("var", "value", "hint"),
    [
        ("IOC_PORT", "eighty", "a port number between 1 and 65535"),
        ("IOC_PORT", "70000", "between 1 and 65535"),
        ("IOC_TZ", "Mars/Olympus", "IANA time zone"),
        ("IOC_DEMO", "maybe", "use 1 or 0"),
        ("IOC_CLICKHOUSE_URL", "mysql://x", "chdb://<path>"),
        ("IOC_CLICKHOUSE_URL", "http://:8123", "needs a host"),
        ("IOC_REDIS_URL", "localhost:6379", "redis://"),
        ("IOC_TICK_S", "0", "seconds between 0.1 and 60"),
        ("IOC_SITE", "/nonexistent/site.toml", "no such file"),
        ("IOC_ALERTS", "/nonexistent/alerts.toml", "no such file"),
        ("IOC_WALL", "/nonexistent/wall.toml", "no such file"),
        ("IOC_CLICKHOUSE_CLUSTER", "bad name!", "cluster name"),
        ("IOC_SCREEN_SILENT_S", "1", "seconds between 3 and 86400"),
        ("IOC_FAULTS", "writer.insertd=0.1:group", "the points are: "),
        ("IOC_FAULTS", "writer.inserted=0.1:explode", "write point=probability:action"),
        ("IOC_FAULTS", "writer.inserted=2:group", "a number from 0 to 1"),
    ],
)
def test_malformed_values_name_the_variable(var: str, value: str, hint: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({var: value}, dotenv=None)
    assert str(err.value).startswith(f"{var}=") and hint in str(err.value)


def test_unknown_ioc_variable_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting IOC_PROT"):
        load_settings({"IOC_PROT": "1"}, dotenv=None)


def test_env_example_documents_every_setting_with_its_default() -> None:
    root = Path(__file__).resolve().parents[2]
    lines = dict(
        line.split("=", 1) for line in (root / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    readme = (root / "README.md").read_text()
    for var, default in documented_defaults().items():
        assert var in lines, var
        assert f"`{var}`" in readme, var
        if var in ("IOC_SITE", "IOC_ALERTS", "IOC_WALL"):
            assert lines[var] == ""  # empty = the shipped file
        elif isinstance(default, bool):
            assert lines[var] == ("1" if default else "0")
        elif isinstance(default, float):
            assert float(lines[var]) == default
        else:
            assert lines[var] == str(default), var
    # and the example file itself loads cleanly
    assert load_settings(lines, dotenv=None) == Settings()


def test_alert_rules_file_must_parse(tmp_path: Path) -> None:
    assert load_settings({}, dotenv=None).alerts == DEFAULT_ALERTS
    rules = tmp_path / "alerts.toml"
    rules.write_text('[[rule]]\nid = "x"\n')
    assert load_settings({"IOC_ALERTS": str(rules)}, dotenv=None).alerts == str(rules)
    rules.write_text("[[rule]\nid = ")
    with pytest.raises(SettingsError) as err:
        load_settings({"IOC_ALERTS": str(rules)}, dotenv=None)
    assert str(err.value).startswith("IOC_ALERTS=") and "not a valid TOML rules file" in str(err.value)


def test_wall_playlist_file_must_parse(tmp_path: Path) -> None:
    assert load_settings({}, dotenv=None).wall == DEFAULT_WALL
    wall = tmp_path / "wall.toml"
    wall.write_text('pages = ["/"]\n')
    assert load_settings({"IOC_WALL": str(wall)}, dotenv=None).wall == str(wall)
    wall.write_text('pages = ["/"\n')
    with pytest.raises(SettingsError) as err:
        load_settings({"IOC_WALL": str(wall)}, dotenv=None)
    assert str(err.value).startswith("IOC_WALL=") and "not a valid TOML playlist" in str(err.value)
