"""Gate streams (门禁): one event per pass attempt at a campus gate lane."""

from __future__ import annotations

import polars as pl

from ingest.contracts import Check, Field, event_stream

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
