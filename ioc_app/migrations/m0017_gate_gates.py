"""Gate passes counted by hour, campus, gate, direction and result: what the analyst questions
per gate or campus read (``GET /api/v1/query/gate``, ``/explore``).

They used to read the hour rollup, which carries every dimension (person type, method and
denial reason too): over the 800 days a day question may span, sixteen million rows on a busy
site, and a day question per gate took close to a second. This narrow rollup holds a tenth of
those rows (none when each gate belongs to one campus and sees both directions and results
each hour: gates × 4 an hour), so such a question reads it instead whenever it splits and
filters only by its dimensions (``Source.narrow`` in ``metrics/gate.py``). Its view folds the
blocks the hour rollup's view writes, like ``gate_pass_people_1h`` (migration 13).

It is filled from the hour rollup as stored, exactly once: see ``Dialect.rollup_backfill``.
The columns are those of ``gate_pass`` as migration 2 wrote them.
"""

from __future__ import annotations

from ioc_app.migrations.m0002_gate import FEVER, GATE_PASS
from ioc_app.schema import Dialect, Rollup, count

VERSION = 17
NAME = "gate_gates"

GATES = Rollup("1h", ("campus", "gate_id", "direction", "result"), (count("attempts"), FEVER), "gates",
               folds=True)


def statements(d: Dialect) -> list[str]:
    return [*d.rollup(GATE_PASS, GATES), *d.rollup_backfill(GATE_PASS, GATES)]
