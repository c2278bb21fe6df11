"""The settings that name files the product reads at start-up: the site catalogue, the alert
rules, the wall playlist (and where the roles file sits by default). Each is checked to exist
and, for the TOML files, to parse; their content is checked by their own readers."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ioc_app.settings.values import SettingsError

_PACKAGE = Path(__file__).resolve().parent.parent  # ioc_app/
DEFAULT_SITE = str(_PACKAGE / "sites" / "demo.toml")
DEFAULT_ALERTS = str(_PACKAGE / "alerts.toml")
DEFAULT_ROLES = "./var/roles.toml"
DEFAULT_WALL = str(_PACKAGE / "wall.toml")
#: board files (专项指标大屏), one per board; relative to where the product runs
DEFAULT_BOARDS = "./boards"


def parse_site(name: str, raw: str) -> str:
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at a site catalogue (.toml)")
    return str(path)


def _toml_file(name: str, raw: str, what: str, valid: str, shipped: str) -> str:
    """A file that must exist and parse as TOML here; what it holds is checked at start-up by the
    module that reads it (this module is a leaf and cannot import it)."""
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at {what} (.toml), "
                            f"or leave it empty for the shipped {shipped}")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{name}={raw!r}: not a valid TOML {valid} ({exc}); fix it, or leave "
                            f"the variable empty for the shipped {shipped}") from None
    return str(path)


def parse_alerts(name: str, raw: str) -> str:
    """The alert rules file; its rules are checked by ``metrics.alerts.load_rules``."""
    return _toml_file(name, raw, "an alert rules file", "rules file", "rules")


def parse_wall(name: str, raw: str) -> str:
    """The wall playlist; it is checked by ``ioc_app.wall.load_wall``."""
    return _toml_file(name, raw, "a wall playlist", "playlist", "playlist")


def parse_boards(name: str, raw: str) -> str:
    """The folder of board files; each file is checked by ``ioc_app.boards_check`` when it is
    read (a broken one is listed on its preview, never stops the product)."""
    path = Path(raw.strip()).expanduser()
    if not path.is_dir():
        raise SettingsError(f"{name}={raw!r}: no such folder; point it at the folder of board files "
                            f"(*.toml), or leave it empty for {DEFAULT_BOARDS}")
    return raw.strip()


def parse_contacts(name: str, raw: str) -> str:
    """The alert contact points and routes; checked by ``ioc_app.contacts.load_contacts``."""
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at a contacts file (.toml, see "
                            f"docs/alerts.md), or leave it empty to keep alerts on the wall only")
    return str(path)
