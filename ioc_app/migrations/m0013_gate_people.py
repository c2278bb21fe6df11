"""Gate passes counted by hour, person type, direction, result and denial reason: what the live
gate board's ``by_person_type`` and ``deny_reasons`` read for the whole hours of today.

The board used to take them from the hour rollup, which carries every dimension (campus,
gate, method too: thousands of rows an hour on a busy campus). This narrow rollup holds at
most a hundred rows an hour (6 person types × 2 directions × pass or 7 reasons). Its view
folds the blocks the hour rollup's view writes, not the raw passes, so an insert pays for
one more aggregation of an already aggregated block only.

It is filled from the hour rollup as stored, exactly once: see ``Dialect.rollup_backfill``.
The columns are those of ``gate_pass`` as migration 2 wrote them.
"""

from __future__ import annotations

from ioc_app.migrations.m0002_gate import DENY, GATE_PASS
from ioc_app.schema import Dialect, Rollup, count

VERSION = 13
NAME = "gate_people"

PEOPLE = Rollup("1h", ("person_type", "direction", "result", DENY), (count("attempts"),), "people",
                folds=True)


def statements(d: Dialect) -> list[str]:
    return [*d.rollup(GATE_PASS, PEOPLE), *d.rollup_backfill(GATE_PASS, PEOPLE)]
