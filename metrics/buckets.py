"""Time buckets of the live figures: local midnights and steps, whole minutes and hours.

The figures place every event by its ``ts`` and read rollups by UTC minute and hour, while a
person reads the site's local day; these helpers turn one into the other (the gate, service
and demo figures share them). Every datetime they return is aware and in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_midnight(zone: ZoneInfo, now: datetime) -> datetime:
    """Start of the local day containing ``now``, as an aware UTC datetime."""
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    return start.astimezone(UTC)


def floor_minute(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(second=0, microsecond=0)


def floor_hour(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(t: datetime) -> datetime:
    floor = floor_hour(t)
    return floor if floor == t else floor + timedelta(hours=1)


def floor_local(t: datetime, zone: ZoneInfo, step: timedelta) -> datetime:
    """Start of the local ``step`` (whole minutes dividing an hour, or an hour) holding ``t``."""
    local = t.astimezone(zone)
    size = int(step.total_seconds() // 60)
    minute = local.minute - local.minute % size if size < 60 else 0
    return local.replace(minute=minute, second=0, microsecond=0).astimezone(UTC)


def steps(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    t = start
    while t < end:
        yield t
        t += step


def unique(times: Iterable[datetime]) -> list[datetime]:
    return sorted(set(times))


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def epoch(t: datetime) -> int:
    return int(t.timestamp())


def iso(t: datetime, zone: ZoneInfo) -> str:
    return t.astimezone(zone).isoformat(timespec="seconds")
