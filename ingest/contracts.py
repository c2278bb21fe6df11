"""The event contracts as the ingest path reads them: the value objects (declared with the
domains, ``domains/contracts.py``) and the reason codes a rejected event can carry."""

from __future__ import annotations

from domains.contracts import (
    EVENT_ID,
    SOURCE,
    TS,
    Check,
    Field,
    Kind,
    Stream,
    ch_type,
    event_stream,
    pl_type,
)

__all__ = ["EVENT_ID", "REASONS", "SOURCE", "TS", "Check", "Field", "Kind", "Stream", "ch_type",
           "event_stream", "pl_type"]

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
