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


def parse_site(name: str, raw: str) -> str:
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at a site catalogue (.toml)")
    return str(path)


def parse_alerts(name: str, raw: str) -> str:
    """The file must exist and be TOML here; its rules are checked by ``metrics.alerts.load_rules``
    (this module is a leaf and cannot import it), which start-up runs on this path."""
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at an alert rules file (.toml), "
                            f"or leave it empty for the shipped rules")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{name}={raw!r}: not a valid TOML rules file ({exc}); fix it, or leave "
                            f"the variable empty for the shipped rules") from None
    return str(path)


def parse_wall(name: str, raw: str) -> str:
    """The file must exist and be TOML here; its playlist is checked by ``ioc_app.wall.load_wall``
    (this module is a leaf and cannot import it), which start-up runs on this path."""
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at a wall playlist (.toml), "
                            f"or leave it empty for the shipped playlist")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{name}={raw!r}: not a valid TOML playlist ({exc}); fix it, or leave "
                            f"the variable empty for the shipped playlist") from None
    return str(path)
