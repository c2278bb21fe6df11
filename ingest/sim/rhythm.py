"""Shared pieces of the simulators: seeded randomness per hour, counts and choices."""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")
HOUR_S = 3600


def rng_for(seed: int, tag: str, hour: int) -> random.Random:
    """A generator that depends only on the seed, the domain and the hour."""
    return random.Random((seed * 1_000_003 + hour) * 7919 + zlib.crc32(tag.encode()))


def local_time(hour: int, zone: ZoneInfo, offset_s: float = 0) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_S + offset_s, UTC).astimezone(zone)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (normal approximation for large means)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def pick(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def bump(x: float, centre: float, width: float) -> float:
    """A smooth peak of height 1 at ``centre`` (hours)."""
    return math.exp(-((x - centre) ** 2) / width)
