"""The value parsers every area of the settings uses: numbers within bounds, switches, a
time zone, a name. Each refuses a value it cannot use with a message that names the variable
and says what to write instead."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingsError(ValueError):
    """A setting has a value the product cannot use; the message names the variable."""


def number(name: str, raw: str, cast: Callable[[str], float], lo: float, hi: float,
            what: str) -> float:
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise SettingsError(f"{name}={raw!r}: must be {what} between {lo:g} and {hi:g}")
    return value


def parse_port(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 65535, "a port number"))


def parse_tz(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{name}={raw!r}: not a known IANA time zone; use e.g. Asia/Shanghai"
        ) from None
    return raw.strip()


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: use 1 or 0 (true/false, yes/no, on/off also work)")


def parse_durability(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("strict", "relaxed"):
        raise SettingsError(f"{name}={raw!r}: use strict (refuse a Redis that may lose accepted "
                            f"events) or relaxed (accept it and log the loss window)")
    return value


def parse_tick(name: str, raw: str) -> float:
    return number(name, raw, float, 0.1, 60, "a number of seconds")


def parse_trigger(name: str, raw: str) -> str:
    """``commit``: the core computes when rows are committed and when time changes a figure;
    ``tick``: the previous path (every ``IOC_TICK_S``, with the writer batching by age)."""
    value = raw.strip().lower()
    if value not in ("commit", "tick"):
        raise SettingsError(f"{name}={raw!r}: use commit (the default) or tick")
    return value


def parse_silent(name: str, raw: str) -> float:
    return number(name, raw, float, 3, 86400, "a number of seconds")


def parse_processes(name: str, raw: str) -> int:
    return int(number(name, raw, int, 0, 64, "a number of processes"))


def parse_push_held(name: str, raw: str) -> int:
    return int(number(name, raw, int, 0, 4096, "a number of requests (0 = screens poll)"))


def parse_history_days(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 3650, "a number of days"))


def parse_demo_history_days(name: str, raw: str) -> int:
    return int(number(name, raw, int, 0, 60, "a number of days (0 = no past)"))


def parse_demo_history_seasons(name: str, raw: str) -> int:
    return int(number(name, raw, int, 0, 5, "a number of admission seasons"))


def parse_deadletter_days(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 400, "a number of days"))


def parse_backup_every(name: str, raw: str) -> int:
    """Minutes between scheduled backups; 0 turns the schedule off."""
    return int(number(name, raw, int, 0, 7 * 24 * 60, "a number of minutes (0 = no scheduled backups)"))


def parse_backup_full_every(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 31 * 24, "a number of hours"))


def parse_backup_keep_days(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 3650, "a number of days"))


def parse_backup_ship(name: str, raw: str) -> float:
    """Seconds between shipments of the ingest buffer to the backup directory; 0 = off."""
    value = number(name, raw, float, 0, 60, "a number of seconds up to 60 (0 = no shipping)")
    if 0 < value < 1:
        raise SettingsError(f"{name}={raw!r}: ship at most every second (write 1 or more, or 0 to stop)")
    return value


def parse_text(name: str, raw: str) -> str:
    return raw.strip()


def parse_minutes(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 24 * 60, "a number of minutes"))


def parse_hours(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 24 * 7, "a number of hours"))


def parse_min_cell(name: str, raw: str) -> int:
    return int(number(name, raw, int, 1, 100, "a number of people"))


def parse_notice_days(name: str, raw: str) -> int:
    """Days before an admission notice counts as an exception (undelivered, unprinted)."""
    return int(number(name, raw, int, 1, 60, "a number of days"))


def parse_cluster(name: str, raw: str) -> str:
    value = raw.strip()
    if value and not value.replace("_", "").replace("-", "").isalnum():
        raise SettingsError(
            f"{name}={raw!r}: a cluster name is letters, digits, '_' and '-' as in remote_servers"
        )
    return value
