"""The same question a year earlier: "same period last year" (``compare=last_year``).

A comparison needs the question asked again over the earlier range and its answer lined up
with the question's buckets. For every grain the earlier range is the same local calendar
dates and times one year before (February 29 becomes February 28). For ``enrollment`` that is
the same day of the season — seasons start on July 1 every year, so July 20, 2025 compares
with July 20, 2024, as the cockpit's "vs last year" line does — and a season compares with the
season before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl

from metrics.query.spec import QuerySpec


def _year_earlier(t: datetime, zone: ZoneInfo) -> datetime:
    local = t.astimezone(zone)
    day = 28 if (local.month, local.day) == (2, 29) else local.day
    earlier = local.replace(tzinfo=None).replace(year=local.year - 1, day=day)
    return earlier.replace(tzinfo=zone).astimezone(UTC)


def last_year(spec: QuerySpec, zone: ZoneInfo) -> QuerySpec:
    """``spec`` over the same local dates (and times) one year earlier: its buckets are the
    question's buckets a year back, one for one (a season: the season before)."""
    return replace(spec, start=_year_earlier(spec.start, zone), end=_year_earlier(spec.end, zone))


def realign(frame: pl.DataFrame, spec: QuerySpec) -> pl.DataFrame:
    """The answer to :func:`last_year` of ``spec`` with its buckets moved one year forward,
    so it joins the answer to ``spec`` on the bucket (and group) columns."""
    col = pl.col(spec.grain)
    moved = col + 1 if spec.grain == "season" else col.dt.offset_by("1y")
    return frame.with_columns(moved.alias(spec.grain))
