"""Gate passes: raw attempts and per-minute / per-hour counts.

The minute rollup is kept narrow (gate × direction × result) so it stays far smaller than
the raw table; the hour rollup carries every dimension the gate cockpit breaks down by.
"""

from __future__ import annotations

from ingest.gate import FEVER_C, GATE_PASS
from ioc_app.schema import Col, Dialect, Rollup, count

VERSION = 2
NAME = "gate"

FEVER = Col("fever", "SimpleAggregateFunction(sum, UInt64)", f"countIf(temperature_c >= {FEVER_C})")
DENY = Col("deny", "LowCardinality(String)", "ifNull(toString(deny_reason), '')")

ROLLUPS = (
    Rollup("1m", ("gate_id", "direction", "result"), (count("attempts"), FEVER)),
    Rollup(
        "1h",
        ("campus", "gate_id", "direction", "result", "person_type", "method", DENY),
        (count("attempts"), FEVER),
    ),
)


def statements(d: Dialect) -> list[str]:
    out = d.raw_table(GATE_PASS, ("toDate(ts)", "gate_id", "ts"))
    for r in ROLLUPS:
        out += d.rollup(GATE_PASS, r)
    return out
