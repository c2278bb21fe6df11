"""The product's one reading of a time a person or script gives in a URL.

Every route and page that takes a time — the query API's ``from``/``to``, ``/explore``,
``?at=`` of the snapshot API and the pages, the audit API and page — reads it here, so the
same text means the same instant everywhere:

- RFC 3339 with ``Z`` or an offset (``2026-09-01T08:00:00+08:00``) is that instant;
- a time without offset (``2026-09-01T08:00``, also with a space for the ``T``) is a time
  on the site's clock, in the site's zone (``IOC_TZ``) — what a person in the operations
  centre means when they type one;
- a bare date (``2026-09-01``) is the local midnight that starts it (with ``end_of_day``,
  as an inclusive end, the midnight that ends it);
- ``+08:00`` typed into a URL unescaped arrives as `` 08:00`` (a plus is a space in a query)
  and is read as the offset it was;
- years outside ``MIN_YEAR``–``MAX_YEAR`` are a typo, refused, never computed.

It lives in ``metrics`` because the query language is there and every layer that serves a
route may import ``metrics``; pages reach it through ``ioc_app.read``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

#: the years a time parameter may name, anywhere in the product (query API, /explore,
#: ``?at=``, audit): outside them a request is a typo, answered with 400, never computed
MIN_YEAR, MAX_YEAR = 1970, 2100
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: "+08:00" typed into a URL unescaped arrives as " 08:00" (a plus is a space in a query)
UNESCAPED_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:\d{2})$")
EXAMPLE = "2026-09-01T08:00:00+08:00"


class TimeError(ValueError):
    """A time that cannot be read; ``message`` says what to write instead (each route puts it
    in its own error body)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_time(name: str, raw: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """``raw`` (the value of parameter ``name``) as an aware UTC instant, by the rules above.

    ``zone`` is the site's zone: a time without offset and a date are read on its clock.
    ``end_of_day`` makes a bare date the end of that day (an inclusive "to"). Raises
    :class:`TimeError` naming the parameter and an example to copy.
    """
    text = raw.strip()
    moment: datetime | None = None
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None:
            check_year(name, raw, day)
            return local_midnight(day + timedelta(days=1) if end_of_day else day, zone)
    else:
        text = UNESCAPED_PLUS.sub(r"\1+\2", text).replace(" ", "T", 1).replace("z", "Z")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
    if moment is None:
        raise TimeError(f"{name}={raw!r} is not an RFC 3339 time; write e.g. {EXAMPLE} (without an "
                        f"offset it is read in the site's zone, {zone.key}), or a date YYYY-MM-DD "
                        "such as 2026-09-01 for local midnight")
    check_year(name, raw, moment)
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).astimezone(UTC)


def check_year(name: str, raw: str, moment: date | datetime) -> None:
    """Refuse a time outside ``MIN_YEAR``–``MAX_YEAR`` (:class:`TimeError` naming the parameter)."""
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise TimeError(f"{name}={raw!r} is outside the years {MIN_YEAR}–{MAX_YEAR}; give a time "
                        "within them, e.g. 2026-09-01")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (aware UTC) the local ``day`` starts in ``zone``."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
