"""Gate passes: raw attempts and per-minute / per-hour counts.

The minute rollup is kept narrow (gate × direction × result) so it stays far smaller than
the raw table; the hour rollup carries every dimension the gate cockpit breaks down by.

The columns are the ``gate.pass`` contract as it was when this migration shipped, written
out so the DDL never changes; a later change of the contract needs a new migration.
"""

from __future__ import annotations

from ioc_app.schema import Col, Dialect, Rollup, Source, count, enum8

VERSION = 2
NAME = "gate"

TS = "DateTime64(3, 'UTC')"
CODE = "LowCardinality(String)"

GATE_PASS = Source(
    "gate_pass",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("campus", CODE),
        ("gate_id", CODE),
        ("lane", "UInt8"),
        ("direction", enum8("in", "out")),
        ("person_type", enum8("student", "staff", "resident", "visitor", "contractor", "other")),
        ("method", enum8("face", "card", "qr", "manual")),
        ("result", enum8("pass", "deny")),
        ("deny_reason",
         "Nullable(" + enum8("unauthorized", "expired", "temperature", "blacklist", "unrecognized",
                             "other") + ")"),
        ("temperature_c", "Nullable(Float64)"),
        ("person_key", "Nullable(String)"),
        ("received_at", TS),
    ),
    retention_days=400,
)

#: a fever from this temperature on (°C)
FEVER_C = 37.3
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
