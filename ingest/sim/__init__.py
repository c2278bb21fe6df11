"""Realistic, deterministic simulators: a living campus for the demo, weeks of history for
the trends pages, and known truth for tests and benchmarks.

Each domain module generates the events that *originate* in one hour (a gate pass, a case
with its whole approval path, an admission season's share…) from the seed and the hour
alone, each with the time it is *sent* (usually its ``ts``; a gate controller that was
offline sends its backlog later). Any window of sending time is therefore reproducible, and
re-sending a window yields the same event ids, which the ingest path drops as duplicates.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ingest.registry import registered
from ingest.sim.world import HOUR_MS, Emission, World

__all__ = ["HOUR_MS", "Emission", "Simulator", "World"]


Generator = tuple[str, Callable[[World, int], list[Emission]], int]


def _domains() -> list[Generator]:
    """(domain, ``hour_events``, ``MAX_DELAY_H``) of every registered domain that declares a
    simulator (``IngestDomain.simulator``, a module of this package or any other; imported
    by name because a domain registered later may name any module)."""
    out: list[Generator] = []
    for d in registered():
        if d.simulator:
            module = importlib.import_module(d.simulator)
            out.append((d.name, module.hour_events, module.MAX_DELAY_H))
    return out


class Simulator:
    """Events by sending time, over all domains, with recently generated hours cached."""

    def __init__(self, world: World, cache_hours: int = 256,
                 only: tuple[str, ...] | None = None) -> None:
        self.world = world
        self.domains = [d for d in _domains() if only is None or d[0] in only]
        self._hour = lru_cache(maxsize=cache_hours)(self._generate)

    def _generate(self, domain: int, hour: int) -> list[Emission]:
        _, fn, _ = self.domains[domain]
        return fn(self.world, hour)

    def sent_between(self, start_ms: int, end_ms: int) -> dict[str, list[dict[str, Any]]]:
        """Events sent in ``[start_ms, end_ms)``, by stream, in sending order."""
        out: list[Emission] = []
        first, last = start_ms // HOUR_MS, (end_ms - 1) // HOUR_MS
        for d, (_, _, delay) in enumerate(self.domains):
            for h in range(first - delay, last + 1):
                out.extend(e for e in self._hour(d, h) if start_ms <= e[0] < end_ms)
        out.sort(key=lambda e: e[0])
        by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for _, stream, event in out:
            by_stream[stream].append(event)
        return dict(by_stream)
