"""Baselines of the anomaly rules: the current window of a minute rollup and the same local
window of past weeks, read once a minute and handed to ``AlertBook.evaluate`` on every tick.

How the windows and the baseline statistics are chosen is in docs/alerts.md.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ioc_app.storage import SqlStore
from metrics.alerts.rules import MAD_SCALE, MEASURES, AnomalyRule, AnyRule

log = logging.getLogger("ioc.alerts")


def anomaly_windows(zone: ZoneInfo, now: datetime, window_min: int,
                    weeks: int) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` in UTC of the current window (index 0: the last ``window_min`` whole
    minutes before ``now``) and of the same local wall-clock window 1…``weeks`` weeks earlier.

    Local wall clock, not a fixed 168 h: across a daylight-saving change "the same minute of
    last week" is the same time on the clocks people live by. The minute in progress is
    left out: a partial minute would read as a drop."""
    end_local = now.astimezone(zone).replace(second=0, microsecond=0)
    out = []
    for k in range(weeks + 1):
        wall = end_local.replace(tzinfo=None) - timedelta(weeks=k)
        end = wall.replace(tzinfo=zone).astimezone(UTC)
        out.append((end - timedelta(minutes=window_min), end))
    return out


_Sums = dict[int, tuple[float, float]]  # window index → (numerator, denominator)


def _window_values(store: SqlStore, rule: AnomalyRule,
                   windows: list[tuple[datetime, datetime]]) -> tuple[set[int], dict[str, _Sums]]:
    """Numerator and denominator per key and window, and which windows hold any row."""
    m = MEASURES[rule.measure]
    ranges = [f"(minute >= {{s{i}:DateTime('UTC')}} AND minute < {{e{i}:DateTime('UTC')}})"
              for i in range(len(windows))]
    which = ", ".join(f"{r}, {i}" for i, r in enumerate(ranges))
    key = f"toString({rule.by})" if rule.by else "''"
    den = f"toFloat64({m.denominator})" if m.denominator else "toFloat64(0)"
    sql = (f"SELECT multiIf({which}, -1) AS w, {key} AS k, toFloat64({m.numerator}) AS num, {den} AS den\n"
           f"FROM {m.table}\nWHERE {' OR '.join(ranges)}\nGROUP BY w, k")
    params: dict[str, Any] = {}
    for i, (start, end) in enumerate(windows):
        params[f"s{i}"], params[f"e{i}"] = start, end
    observed: set[int] = set()
    values: dict[str, _Sums] = {}
    for w, k, num, d in store.rows(sql, params):
        observed.add(int(w))
        values.setdefault(str(k), {})[int(w)] = (float(num), float(d))
    return observed, values


def _value(got: _Sums, w: int, observed: set[int], rate: bool) -> float | None:
    """A key's value in window ``w``: None when the window holds no row at all, or for a rate
    whose denominator is 0; a count absent from a window with data is 0."""
    if w not in observed:
        return None
    num, den = got.get(w, (0.0, 0.0))
    if rate:
        return num / den if den > 0 else None
    return num


def _center_spread(values: list[float], statistic: str) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if statistic == "median_mad":
        median = statistics.median(values)
        return median, MAD_SCALE * statistics.median(abs(v - median) for v in values)
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def anomaly_baselines(store: SqlStore, zone: ZoneInfo, now: datetime,
                      rules: Sequence[AnyRule]) -> dict[str, dict[str, dict[str, Any]]]:
    """Current value and past-weeks baseline of every anomaly rule, by rule id then key
    (``""`` for a rule without ``by``)::

        {"gate_traffic_drop": {"east-1": {"current": 3.0, "volume": None, "weeks": [96.0, …],
                                          "n": 4, "center": 101.5, "spread": 8.9,
                                          "window_end": "…"}}}

    ``weeks`` holds the past windows' values, most recent week first; a window with no row
    of the rollup at all (data not yet collected, or the feed was down) is left out rather
    than read as zero, and ``n`` counts the ones kept. A key with no row in a window that
    has data counts 0 for a count; a rate with a zero denominator is left out. ``current``
    is None when the current window has no row at all (the stale rule speaks then).
    ``volume`` is the current denominator of a rate measure.

    One query per anomaly rule over ``weeks + 1`` short windows of a minute rollup: cheap
    enough to run once a minute; the result is plain JSON-able data."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for rule in rules:
        if not isinstance(rule, AnomalyRule):
            continue
        windows = anomaly_windows(zone, now, rule.window_min, rule.weeks)
        observed, values = _window_values(store, rule, windows)
        rate = MEASURES[rule.measure].is_rate
        per_key: dict[str, dict[str, Any]] = {}
        for key in sorted(values):
            got = values[key]
            past = [v for w in range(1, rule.weeks + 1) if (v := _value(got, w, observed, rate)) is not None]
            center, spread = _center_spread(past, rule.statistic)
            per_key[key] = {
                "current": _value(got, 0, observed, rate),
                "volume": (got.get(0, (0.0, 0.0))[1] if 0 in observed else None) if rate else None,
                "weeks": past,
                "n": len(past),
                "center": center,
                "spread": spread,
                "window_end": windows[0][1].isoformat(),
            }
        out[rule.id] = per_key
        log.debug("event=alerts.baseline rule=%s keys=%d observed=%d", rule.id, len(per_key), len(observed))
    return out
