"""The gate domain (门禁): one event per pass attempt at a campus gate lane.

Everything the layers need to know about gates is declared here once: the ``gate.pass``
contract, its tables, what the query API and anomaly rules may ask, which fields hold
catalogue codes, and the labels. The live figures are ``metrics/gate.py``, the demo traffic
``ingest/sim/gate.py``.
"""

from __future__ import annotations

import polars as pl

from domains.contracts import Check, Field, event_stream
from domains.model import (
    Col,
    Dimension,
    Domain,
    Measure,
    Queryable,
    Referenced,
    Rollup,
    Source,
    Table,
    Text,
    Watched,
    count,
    count_of,
    ratio_of,
)

DENY_REASONS = ("unauthorized", "expired", "temperature", "blacklist", "unrecognized", "other")
FEVER_C = 37.3

GATE_PASS = event_stream(
    name="gate.pass",
    domain="gate",
    title_zh="门禁通行",
    title_en="Gate passes",
    retention_days=400,
    expected_interval_s=600,
    fields=(
        Field("campus", "code", max_len=64, reference="campus"),
        Field("gate_id", "code", max_len=64, reference="gate"),
        Field("lane", "int", min=1, max=32),
        Field("direction", "enum", values=("in", "out")),
        Field(
            "person_type",
            "enum",
            values=("student", "staff", "resident", "visitor", "contractor", "other"),
        ),
        Field("method", "enum", values=("face", "card", "qr", "manual")),
        Field("result", "enum", values=("pass", "deny")),
        Field("deny_reason", "enum", required=False, values=DENY_REASONS,
              doc="required when result=deny, absent or null when pass"),
        Field("temperature_c", "float", required=False, min=30.0, max=45.0,
              doc=f">= {FEVER_C} counts as fever"),
        Field("person_key", "key", required=False, max_len=64),
    ),
    checks=(
        Check(
            "deny_reason",
            lambda: (pl.col("result") == "deny") & pl.col("deny_reason").is_null(),
            "deny_reason is required when result is 'deny'",
            reason="missing",
        ),
        Check(
            "deny_reason",
            lambda: (pl.col("result") == "pass") & pl.col("deny_reason").is_not_null(),
            "deny_reason must be absent or null when result is 'pass'",
        ),
    ),
)

STREAMS = (GATE_PASS,)

PERSON_TYPES = GATE_PASS.field("person_type").values

# The SQL of the gate figures over a rollup of gate_pass, written once: the cockpit, the query
# API and the anomaly rules all count a denial (an entry, an exit) with these.
ATTEMPTS = "sum(attempts)"
ENTRIES = "sumIf(attempts, result = 'pass' AND direction = 'in')"
EXITS = "sumIf(attempts, result = 'pass' AND direction = 'out')"
DENIED = "sumIf(attempts, result = 'deny')"
FEVERS = "sum(fever)"

FEVER = Col("fever", "SimpleAggregateFunction(sum, UInt64)", f"countIf(temperature_c >= {FEVER_C})")
DENY = Col("deny", "LowCardinality(String)", "ifNull(toString(deny_reason), '')")

TABLES = (
    Table("gate.pass", ("toDate(ts)", "gate_id", "ts"), (
        Rollup("1m", ("gate_id", "direction", "result"), (count("attempts"), FEVER)),
        Rollup("1h", ("campus", "gate_id", "direction", "result", "person_type", "method", DENY),
               (count("attempts"), FEVER)),
    )),
)

QUERY = Queryable(
    "gate",
    dimensions=(
        Dimension("campus", "campus code"),
        Dimension("gate_id", "gate code"),
        Dimension("direction", "direction of the attempt", GATE_PASS.field("direction").values),
        Dimension("result", "outcome of the attempt", GATE_PASS.field("result").values),
        Dimension("person_type", "who passed", PERSON_TYPES),
        Dimension("method", "how they identified", GATE_PASS.field("method").values),
        Dimension("deny_reason", "why an attempt was denied (null for passes)", DENY_REASONS,
                  column="deny", select="nullIf({c}, '')"),
    ),
    sources=(
        Source(
            "gate.pass", "gate_pass",
            minute=("gate_id", "direction", "result"),
            hour=("campus", "gate_id", "direction", "result", "person_type", "method", "deny_reason"),
            parts=(("attempts", ATTEMPTS), ("in", ENTRIES), ("out", EXITS), ("denied", DENIED),
                   ("fever", FEVERS)),
        ),
    ),
    measures=(
        count_of("attempts", "gate.pass", "attempts", "pass attempts, passed or denied"),
        count_of("in", "gate.pass", "in", "attempts with result=pass and direction=in"),
        count_of("out", "gate.pass", "out", "attempts with result=pass and direction=out"),
        Measure("net_inflow", "gate.pass", "toInt64(sum(p_in)) - toInt64(sum(p_out))", "count",
                "in − out (negative when more left than came)"),
        count_of("denied", "gate.pass", "denied", "attempts with result=deny"),
        ratio_of("deny_rate", "gate.pass", "denied", "attempts", "denied / attempts; null without attempts"),
        count_of("fever", "gate.pass", "fever", f"attempts with temperature_c ≥ {FEVER_C}"),
    ),
)

WATCHED = {
    "attempts": Watched("gate_pass_1m", ATTEMPTS, None, ("gate_id",), "pass attempts (passes and denials)"),
    "entries": Watched("gate_pass_1m", ENTRIES, None, ("gate_id",), "passes inwards"),
    "denied": Watched("gate_pass_1m", DENIED, None, ("gate_id",), "denied attempts"),
    "deny_rate": Watched("gate_pass_1m", DENIED, ATTEMPTS, ("gate_id",), "denied / attempts"),
    "fever": Watched("gate_pass_1m", FEVERS, None, ("gate_id",), "fever readings"),
}

REFERENCES = (
    Referenced("gate.pass", "campus", "campus", "gate_pass_1h", "hour", "sum(attempts)"),
    Referenced("gate.pass", "gate_id", "gate", "gate_pass_1h", "hour", "sum(attempts)"),
)

# labels the gate tiles and /explore share (the gate area derives its keys from them)
GATE_MEASURES: dict[str, Text] = {
    "net_inflow": {"zh": "净流入", "en": "Net inflow"},
    "denied": {"zh": "拒绝通行", "en": "Denied"},
    "deny_rate": {"zh": "拒绝率", "en": "Deny rate"},
    "fever": {"zh": "体温异常", "en": "Fever readings"},
}
GATE_PASSES: Text = {"zh": "门禁通行", "en": "Gate passes"}

LABELS: dict[str, Text] = {
    "explore.domain.gate": GATE_PASSES,
    "explore.m.gate.attempts": {"zh": "通行尝试", "en": "Pass attempts"},
    "explore.m.gate.in": {"zh": "入校", "en": "Entries"},
    "explore.m.gate.out": {"zh": "出校", "en": "Exits"},
    **{f"explore.m.gate.{k}": v for k, v in GATE_MEASURES.items()},
    "health.stream.gate.pass": GATE_PASSES,
}

# the gate controllers' spreadsheet exports (file import)
HEADER_ALIASES = {
    "门": "gate_id", "门禁": "gate_id", "通道": "lane", "方向": "direction",
    "人员类别": "person_type", "通行方式": "method", "结果": "result", "拒绝原因": "deny_reason",
    "体温": "temperature_c",
}
VALUE_ALIASES = {
    "direction": {"进": "in", "入": "in", "出": "out"},
    "result": {"通过": "pass", "拒绝": "deny"},
}

DOMAIN = Domain(
    "gate", 10, STREAMS, TABLES, QUERY, WATCHED, REFERENCES,
    stale_after_s={"gate.pass": 15 * 60},
    labels=LABELS,
    header_aliases=HEADER_ALIASES,
    value_aliases=VALUE_ALIASES,
    person_keys={"gate.pass": "person_key"},
    figures="metrics.gate",
    simulator="ingest.sim.gate",
)
