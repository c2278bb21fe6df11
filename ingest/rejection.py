"""What a rejected event is told: one entry per broken rule, with a message that says what to
change, in the integrator's terms. Personal data and binary blobs are never repeated (the
messages go back to the sender and into the dead-letter store).
"""

from __future__ import annotations

from typing import Any

from ingest import pii
from ingest.contracts import Stream


def rejection(
    stream: Stream, index: int, name: str, code: str, value: Any, message: str | None = None
) -> dict[str, Any]:
    return {
        "index": index,
        "field": name,
        "reason": code,
        "message": message or explain(stream, name, code, value),
    }


def explain(stream: Stream, name: str, code: str, value: Any) -> str:
    """A message that says what to change, in the integrator's terms (never repeating a value
    of a field the contract declares personal data)."""
    personal = any(f.name == name and f.personal for f in stream.all_fields)
    shown = "a value that is not repeated here (personal data)" if personal else _show(value)
    if code == "not_an_object":
        return f"each event must be a JSON object with the fields of {stream.name}; got {shown}"
    if code == "unknown_field":
        names = ", ".join(f.name for f in stream.all_fields)
        return (f"{stream.name} has no field {pii.scrub(repr(name))}; remove it or rename it to "
                f"one of: {names}")
    f = stream.field(name)
    if code == "missing":
        return f"{name} is required in {stream.name}; send it with a non-empty value"
    if code == "bad_type":
        want = {
            "int": "an integer", "float": "a number", "ts": "an RFC 3339 string or epoch milliseconds",
            "bool": "true or false (1/0, 是/否 in a file)",
        }.get(f.kind, "a string")
        return f"{name} must be {want}; got {shown}"
    if code == "too_long":
        return f"{name} may be at most {f.max_len} characters; shorten {shown}"
    if code == "out_of_range":
        lo = "" if f.min is None else (f"> {f.min:g}" if f.min_exclusive else f">= {f.min:g}")
        hi = "" if f.max is None else f"<= {f.max:g}"
        rng = " and ".join(x for x in (lo, hi) if x) or "a finite number"
        return f"{name} must be {rng}; got {shown}"
    if code == "bad_enum":
        return f"{name} must be one of: {', '.join(f.values)}; got {shown}"
    if code == "pii_not_allowed":
        return (f"{name} holds personal data (an ID-card, mobile or bank-card number, an e-mail "
                f"address or a name); send a pseudonymous key instead (the value is not repeated "
                f"here)")
    if code == "source_mismatch":
        return source_message(value, None)
    if code == "bad_format":
        if name == "event_id":
            return f"event_id must be 1–64 characters of A-Z a-z 0-9 . _ : -; got {shown}"
        if f.kind == "ip":
            return f"{name} must be an IPv4 or IPv6 address literal; got {shown}"
        return (f"{name} must be RFC 3339 with an offset (e.g. 2026-09-01T08:03:12.345+08:00) "
                f"or epoch milliseconds; got {shown}")
    if code == "in_future":
        return f"ts {shown} is more than 5 minutes in the future; check the source's clock"
    if code == "too_old":
        hint = " (it looks like epoch seconds: send milliseconds)" if _looks_like_seconds(value) else ""
        return (f"ts {shown} is older than the {stream.retention_days}-day retention of "
                f"{stream.name}{hint}")
    if code == "inconsistent":
        return f"{name} contradicts another field of the event; got {shown}"
    return f"{name}: {code}"


def source_message(value: Any, token_source: str | None) -> str:
    return (f"source {_show(value)} is not the source of the ingest token ({token_source!r}); leave "
            f"source out (it defaults to the token's), or send these events with the token of "
            f"{_show(value)}")


def _looks_like_seconds(value: Any) -> bool:
    s = str(value).strip()
    return s.isdigit() and 9 <= len(s) <= 10


def _show(value: Any) -> str:
    """A value as a message may quote it: personal data and binary blobs are never repeated
    (messages go back to the sender and into the dead-letter store)."""
    if isinstance(value, str) and pii.looks_binary(value):
        return f"<binary data, {len(value)} characters>"
    text = repr(value)
    if len(text) > 80:  # scrubbed beyond the cut, so no number is shown in part
        return pii.scrub(text[:300])[:77] + "..."
    return pii.scrub(text)
