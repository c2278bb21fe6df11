"""Gate passes counted by person type, direction, result and denial reason, per minute and
per hour: what the live gate board's ``by_person_type`` and ``deny_reasons`` read.

The board used to take them from the hour rollup, which carries every dimension (campus,
gate, method too: thousands of rows an hour on a busy campus), and from the raw table for
the current partial hour. These narrow rollups hold at most a hundred rows per bucket
(6 person types × 2 directions × pass or 7 reasons), so today's board reads the whole hours
from ``gate_pass_people_1h`` and the edges from ``gate_pass_people_1m``, never raw events.

Both are filled from the passes already stored (the minute one over the days its TTL keeps),
exactly once: see ``Dialect.rollup_backfill``. The columns are those of ``gate_pass`` as
migration 2 wrote them.
"""

from __future__ import annotations

from ioc_app.migrations.m0002_gate import DENY, GATE_PASS
from ioc_app.schema import Dialect, Rollup, count

VERSION = 13
NAME = "gate_people"

ROLLUPS = tuple(Rollup(grain, ("person_type", "direction", "result", DENY), (count("attempts"),), "people")
                for grain in ("1m", "1h"))


def statements(d: Dialect) -> list[str]:
    out: list[str] = []
    for r in ROLLUPS:
        out += d.rollup(GATE_PASS, r)
    for r in ROLLUPS:
        out += d.rollup_backfill(GATE_PASS, r)
    return out
