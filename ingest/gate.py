"""The gate domain (门禁) on the ingest side: one event per pass attempt at a campus gate lane.

The ``gate.pass`` contract, its raw table, and how file import reads the gate controllers'
spreadsheets. Its rollups (and the fever threshold they count from), and what the query API
and anomaly rules may ask of it, are declared in ``metrics/gate.py``, its labels in
``layouts/i18n/gate.py``, its demo traffic in ``ingest/sim/gate.py``.
"""

from __future__ import annotations

import polars as pl

from ingest.contracts import Check, Field, event_stream
from ingest.tables import IngestDomain, Table

DENY_REASONS = ("unauthorized", "expired", "temperature", "blacklist", "unrecognized", "other")

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
              doc="counts as fever from the threshold FEVER_C in metrics/gate.py"),
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

TABLES = (Table("gate.pass", ("toDate(ts)", "gate_id", "ts")),)

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

DOMAIN = IngestDomain(
    "gate", 10, STREAMS, TABLES,
    header_aliases=HEADER_ALIASES,
    value_aliases=VALUE_ALIASES,
    person_keys={"gate.pass": "person_key"},
    simulator="ingest.sim.gate",
)
