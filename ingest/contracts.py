"""The event contracts: the value objects every stream is declared with, and the reason codes
a rejected event can carry.

Each stream is declared once, in its domain's module of this package (``ingest/gate.py`` …),
with the value objects below. Validation, table DDL and the contract docs are derived from
these declarations, so a field cannot exist in one place and be missing in another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

Kind = Literal["str", "code", "key", "int", "float", "enum", "ip", "ts", "bool"]


@dataclass(frozen=True)
class Field:
    """One field of a stream: its type, constraints and documentation."""

    name: str
    kind: Kind
    required: bool = True
    max_len: int | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    values: tuple[str, ...] = ()
    reference: str | None = None
    doc: str = ""
    #: ClickHouse type when it differs from what the kind implies (``ts``, ``source``)
    storage: str | None = None
    #: the value is personal data the product stores on purpose (a courier tracking number):
    #: not refused as personal data, but never repeated in a rejection message, a dead letter
    #: or a log (``ingest.pii.PERSONAL``)
    personal: bool = False

    @property
    def is_text(self) -> bool:
        return self.kind in ("str", "code", "key", "enum", "ip")

    @property
    def is_number(self) -> bool:
        return self.kind in ("int", "float")


@dataclass(frozen=True)
class Check:
    """A cross-field rule: ``bad`` is a Polars expression over the typed columns that is
    true where the rule is broken; the error is reported on ``field``."""

    field: str
    bad: Callable[[], pl.Expr]
    message: str
    reason: str = "inconsistent"


@dataclass(frozen=True)
class Stream:
    """A stream of events (or, for ``kind="plan"``, an upserted reference table)."""

    name: str
    domain: str
    title_zh: str
    title_en: str
    fields: tuple[Field, ...]
    retention_days: int
    #: ``required``: the sender gives it; ``derived``: optional, built from these fields + ts
    event_id: Literal["required", "derived", "none"] = "required"
    derive_id_from: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    kind: Literal["event", "plan"] = "event"
    #: natural key of a plan stream (the latest import of a key wins)
    key: tuple[str, ...] = ()
    #: seconds after which a silent stream counts as stale
    expected_interval_s: int = 300
    #: raw rows per stream are counted by rollups (gate passes, cases…) rather than being
    #: samples or state changes
    counting: bool = True
    common: tuple[Field, ...] = field(default=(), repr=False)

    @property
    def table(self) -> str:
        return self.name.replace(".", "_")

    @property
    def all_fields(self) -> tuple[Field, ...]:
        """Every field a sender may send, common fields first."""
        return self.common + self.fields

    def field(self, name: str) -> Field:
        for f in self.all_fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


EVENT_ID = Field(
    "event_id", "str", max_len=64, doc="unique per stream, 1–64 chars of [A-Za-z0-9._:-]"
)
TS = Field(
    "ts", "ts", doc="RFC 3339 with offset, or integer epoch milliseconds",
    storage="DateTime64(3, 'UTC')",
)
SOURCE = Field(
    "source", "str", required=False, max_len=64,
    doc="the sending system; defaults to the ingest token's source",
    storage="LowCardinality(String)",
)


def event_stream(**kwargs: object) -> Stream:
    """Build an event stream with the common fields of ``events.md`` in front."""
    mode = kwargs.get("event_id", "required")
    eid = EVENT_ID if mode == "required" else Field(
        "event_id", "str", required=False, max_len=64, doc=EVENT_ID.doc + "; derived when absent"
    )
    # the keywords are Stream's own fields, passed through as the registry spells them
    return Stream(common=(eid, TS, SOURCE), **kwargs)  # type: ignore[arg-type]


def ch_type(f: Field) -> str:
    """The ClickHouse column type that stores a field without loss."""
    if f.storage:
        return f.storage
    if f.kind == "enum":
        inner = "Enum8(" + ", ".join(f"'{v}' = {i + 1}" for i, v in enumerate(f.values)) + ")"
    elif f.kind == "int":
        lo, hi = f.min, f.max
        if lo is not None and lo >= 0:
            if hi is not None and hi <= 255:
                inner = "UInt8"
            elif hi is not None and hi <= 65_535:
                inner = "UInt16"
            else:
                inner = "UInt64"
        else:
            inner = "Int64"
    elif f.kind == "float":
        inner = "Float64"
    elif f.kind == "bool":
        inner = "Bool"
    elif f.kind == "code":
        inner = "LowCardinality(String)"
    else:
        inner = "String"
    if f.required:
        return inner
    if inner.startswith("LowCardinality("):
        return f"LowCardinality(Nullable({inner[15:-1]}))"
    return f"Nullable({inner})"


def pl_type(f: Field) -> pl.DataType:
    """The Polars dtype of a validated column, matching :func:`ch_type` for Arrow inserts."""
    if f.kind == "int":
        t = ch_type(f).removeprefix("Nullable(").rstrip(")")
        return {"UInt8": pl.UInt8, "UInt16": pl.UInt16, "UInt64": pl.UInt64}.get(t, pl.Int64)()
    if f.kind == "float":
        return pl.Float64()
    if f.kind == "ts":
        return pl.Datetime("ms", "UTC")
    if f.kind == "bool":
        return pl.Boolean()
    return pl.String()


#: Reason codes a rejected event can carry. ``docs/events.md`` explains each.
REASONS: dict[str, str] = {
    "not_an_object": "the event is not a JSON object (or CSV row)",
    "unknown_field": "a field that the stream does not define",
    "missing": "a required field is absent or null",
    "bad_type": "the value has the wrong type",
    "bad_format": "the value does not have the required format",
    "too_long": "the string is longer than allowed",
    "out_of_range": "the number is outside the allowed range",
    "bad_enum": "the value is not one of the allowed values",
    "inconsistent": "the value contradicts another field of the same event",
    "in_future": "ts is more than 5 minutes in the future",
    "too_old": "ts is older than the stream's retention",
    "pii_not_allowed": ("the value holds personal data: an ID-card or mobile number (any string "
                        "field), a bank-card number or e-mail address (any but event_id), a "
                        "Han-character name (keys)"),
    "source_mismatch": "the event's source differs from the source of its ingest token",
}
