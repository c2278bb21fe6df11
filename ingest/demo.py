"""Demo gate traffic for the run command, so a fresh install shows a living campus.

Events are generated per 10-second slice from a seed and the slice number alone, so the
same slice always yields the same events (and event ids): catching up after a restart or
generating a slice twice can never count a pass twice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ingest.site import Gate

SLICE_S = 10
DAILY_ATTEMPTS = 110_000
PERSON_TYPES = (("student", 0.72), ("staff", 0.14), ("resident", 0.06), ("visitor", 0.05),
                ("contractor", 0.02), ("other", 0.01))
METHODS = (("face", 0.78), ("card", 0.12), ("qr", 0.09), ("manual", 0.01))
DENY_REASONS = (("unrecognized", 0.38), ("unauthorized", 0.25), ("expired", 0.2),
                ("temperature", 0.05), ("blacklist", 0.02), ("other", 0.1))


def _rate_per_minute(local: datetime) -> tuple[float, float]:
    """(attempts per minute, share going in) at a local time: a school-day rhythm with
    morning arrivals, class changes, lunch and the evening exodus."""
    h = local.hour + local.minute / 60
    weekend = local.weekday() >= 5
    shape = 0.05 + 1.6 * math.exp(-((h - 7.8) ** 2) / 0.5)  # morning arrivals
    shape += 0.9 * math.exp(-((h - 12.0) ** 2) / 0.3) + 0.7 * math.exp(-((h - 13.8) ** 2) / 0.3)
    shape += 1.3 * math.exp(-((h - 17.6) ** 2) / 0.6) + 0.6 * math.exp(-((h - 21.5) ** 2) / 0.8)
    shape += 0.35 if 8 <= h <= 22 else 0.0
    for change in (9.75, 11.75, 15.75):  # class changes
        shape += 0.5 * math.exp(-((h - change) ** 2) / 0.02)
    share_in = 0.8 if h < 10 else 0.25 if 16.5 < h < 19 else 0.35 if h >= 21 else 0.5
    scale = DAILY_ATTEMPTS / (24 * 60 * 0.62) * (0.55 if weekend else 1.0)
    return shape * scale, share_in


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def gate_slice(n: int, gates: Sequence[Gate], zone: ZoneInfo, seed: int = 7) -> list[dict[str, Any]]:
    """The gate events of 10-second slice ``n`` (slice 0 starts at the Unix epoch)."""
    start_ms = n * SLICE_S * 1000
    local = datetime.fromtimestamp(n * SLICE_S, UTC).astimezone(zone)
    rng = random.Random(seed * 1_000_003 + n)
    per_minute, share_in = _rate_per_minute(local)
    mean = per_minute * SLICE_S / 60
    count = max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0
    weights = [g.weight for g in gates]
    events = []
    for k in range(count):
        gate = rng.choices(gates, weights)[0]
        deny = rng.random() < 0.018
        temp = round(rng.gauss(36.5, 0.3), 1) if rng.random() < 0.3 else None
        ev: dict[str, Any] = {
            "event_id": f"demo-{n}-{k}",
            "ts": start_ms + rng.randrange(SLICE_S * 1000),
            "campus": gate.campus,
            "gate_id": gate.code,
            "lane": rng.randint(1, gate.lanes),
            "direction": "in" if rng.random() < share_in else "out",
            "person_type": _pick(rng, PERSON_TYPES),
            "method": _pick(rng, METHODS),
            "result": "deny" if deny else "pass",
        }
        if deny:
            ev["deny_reason"] = _pick(rng, DENY_REASONS)
        if temp is not None:
            ev["temperature_c"] = max(35.0, temp)
        events.append(ev)
    return events


def gate_events(first_slice: int, last_slice: int, gates: Sequence[Gate], zone: ZoneInfo,
                seed: int = 7) -> list[dict[str, Any]]:
    """Events of slices ``first_slice`` … ``last_slice - 1``."""
    out: list[dict[str, Any]] = []
    for n in range(first_slice, last_slice):
        out.extend(gate_slice(n, gates, zone, seed))
    return out
