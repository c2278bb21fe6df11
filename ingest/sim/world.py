"""What every domain simulator shares: the world it simulates, the hour and an emission.

The domain modules import these from here, not from ``ingest.sim`` (which imports the
domain modules to run them), so the simulators import nothing that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ingest.site import Site

HOUR_MS = 3_600_000
#: the pseudonym key of a world made without a site's key (tests, benches, truth exports)
DEMO_PSEUDONYM_KEY = b"ioc-demo-pseudonyms"

#: (send time ms, stream, event)
Emission = tuple[int, str, dict[str, Any]]


@dataclass(frozen=True)
class World:
    """Everything a simulator needs besides the hour: the site, its zone, seed and scale, and
    the key that turns the simulated people's numbers (考生号) into pseudonyms — the running
    demo passes its site key, so a demo candidate's number is found by the status lookup and
    by ``python -m ioc_app pseudonym`` exactly as an imported one would be."""

    site: Site
    zone: ZoneInfo
    seed: int = 7
    scale: float = 1.0
    pseudonym_key: bytes = DEMO_PSEUDONYM_KEY
