"""Hypothesis strategies derived from the stream declarations: valid events, and mutations
of them that must be rejected with a known reason."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from ingest.contracts import Field, Stream
from ingest.pii import contains_pii

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
SAFE = string.ascii_letters + string.digits + "-_"


def text_value(max_len: int) -> st.SearchStrategy[str]:
    return st.text(SAFE, min_size=1, max_size=max_len).filter(lambda s: not contains_pii(s))


def ts_value(retention_days: int) -> st.SearchStrategy[Any]:
    moment = st.datetimes(
        min_value=(NOW - timedelta(days=min(retention_days, 3000) - 1)).replace(tzinfo=None),
        max_value=(NOW + timedelta(minutes=4)).replace(tzinfo=None),
    ).map(lambda d: d.replace(tzinfo=UTC, microsecond=d.microsecond // 1000 * 1000))
    offset = st.integers(-12, 14).map(lambda h: timezone(timedelta(hours=h)))
    as_text = st.tuples(moment, offset).map(
        lambda p: p[0].astimezone(p[1]).isoformat(timespec="milliseconds")
    )
    as_ms = moment.map(lambda d: int(d.timestamp() * 1000))
    return st.one_of(as_text, as_ms)


def field_value(stream: Stream, f: Field) -> st.SearchStrategy[Any]:
    if f.name == "event_id":
        return st.text(string.ascii_letters + string.digits + "._:-", min_size=1, max_size=64).filter(
            lambda s: not contains_pii(s, "id")
        )
    if f.kind == "ts":
        return ts_value(stream.retention_days)
    if f.kind == "enum":
        return st.sampled_from(f.values)
    if f.kind == "int":
        lo = int(f.min) + (1 if f.min_exclusive else 0) if f.min is not None else -(2**40)
        hi = int(f.max) if f.max is not None else 2**40
        return st.integers(lo, hi)
    if f.kind == "float":
        return st.floats(f.min, f.max, allow_nan=False, allow_infinity=False)
    if f.kind == "ip":
        return st.ip_addresses().map(str)
    if f.kind == "bool":
        return st.one_of(st.booleans(), st.sampled_from([0, 1]),
                         st.sampled_from(["true", "false", "1", "0", "是", "否", " TRUE ", "False"]))
    if f.personal:  # stored on purpose (a courier number): long digit runs are fine
        return st.one_of(text_value(f.max_len or 64),
                         st.from_regex(r"\A(?:SF|EMS|YT|JD)?[0-9]{10,20}\Z"))
    return text_value(f.max_len or 64)


@st.composite
def valid_event(draw: st.DrawFn, stream: Stream) -> dict[str, Any]:
    ev: dict[str, Any] = {}
    for f in stream.all_fields:
        if f.name == "source":  # the token names the sender (an event may only repeat it)
            continue
        if f.required or draw(st.booleans()):
            ev[f.name] = draw(field_value(stream, f))
    if stream.name == "gate.pass":
        if ev["result"] == "deny":
            ev["deny_reason"] = draw(st.sampled_from(stream.field("deny_reason").values))
        else:
            ev.pop("deny_reason", None)
    if stream.name == "network.online":
        ev["ipv6_users"] = draw(st.integers(0, ev["users"])) if ev["users"] >= 0 else 0
    return ev


def mutations(stream: Stream) -> list[tuple[str, str]]:
    """Every (field, reason) a mutation can provoke for this stream."""
    out: list[tuple[str, str]] = [("zz_unknown", "unknown_field")]
    for f in stream.all_fields:
        if f.required and not (f.name == "event_id" and stream.event_id == "derived"):
            out.append((f.name, "missing"))
        if f.kind == "enum":
            out.append((f.name, "bad_enum"))
        if f.kind in ("int", "float") and (f.min is not None or f.max is not None):
            out.append((f.name, "out_of_range"))
        if f.kind in ("int", "float"):
            out.append((f.name, "bad_type"))
        if f.max_len is not None:
            out.append((f.name, "too_long"))
        if f.kind in ("str", "key", "code") and not f.personal:
            out.append((f.name, "pii_not_allowed"))
        if f.kind == "bool":
            out.append((f.name, "bad_type"))
        if f.name == "source":
            out.append((f.name, "source_mismatch"))
        if f.kind == "ts":
            out += [(f.name, "in_future"), (f.name, "too_old"), (f.name, "bad_format")]
        if f.kind == "ip" or f.name == "event_id":
            out.append((f.name, "bad_format"))
    return out


def mutate(ev: dict[str, Any], stream: Stream, name: str, reason: str) -> dict[str, Any]:
    ev = dict(ev)
    if reason == "unknown_field":
        ev[name] = "x"
        return ev
    f = stream.field(name)
    if reason == "missing":
        ev.pop(name, None)
    elif reason == "bad_enum":
        ev[name] = "not-a-" + name
    elif reason == "out_of_range":
        ev[name] = (f.max + 1) if f.max is not None else (f.min - 1 if not f.min_exclusive else f.min)
    elif reason == "bad_type":
        ev[name] = ["not", "a", "number"]
    elif reason == "too_long":
        ev[name] = "a" * (f.max_len + 1)  # type: ignore[operator]
    elif reason == "pii_not_allowed":
        ev[name] = "13912345678" if (f.max_len or 64) < 20 else "id-11010519491231002X"
    elif reason == "source_mismatch":
        ev[name] = "another-system"
    elif reason == "in_future":
        ev[name] = int((NOW + timedelta(minutes=6)).timestamp() * 1000)
    elif reason == "too_old":
        ev[name] = int((NOW - timedelta(days=stream.retention_days + 1)).timestamp() * 1000)
    elif reason == "bad_format":
        ev[name] = {"ts": "2026-09-01 08:00:00", "src_ip": "999.1.1.1",
                    "event_id": "has space"}[name]
    return ev


def random_events(stream: Stream, n: int, seed: int, now: datetime) -> list[dict[str, Any]]:
    """Plain seeded random valid events (for volume; hypothesis is for edge cases), with ts
    spread over the last few hours before ``now``."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        ev: dict[str, Any] = {}
        for f in stream.all_fields:
            if f.name == "source" or (not f.required and rng.random() < 0.5):
                continue
            if f.name == "event_id":
                ev[f.name] = f"r{seed}-{i}"
            elif f.kind == "ts":
                ev[f.name] = int(now.timestamp() * 1000) - rng.randrange(6 * 3600 * 1000)
            elif f.kind == "enum":
                ev[f.name] = rng.choice(f.values)
            elif f.kind == "int":
                lo = int(f.min or 0) + (1 if f.min_exclusive else 0)
                ev[f.name] = rng.randint(lo, int(f.max) if f.max is not None else lo + 10_000)
            elif f.kind == "float":
                ev[f.name] = round(rng.uniform(f.min or 0, f.max or 100), 1)
            elif f.kind == "bool":
                ev[f.name] = rng.random() < 0.5
            elif f.kind == "ip":
                ev[f.name] = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            else:
                ev[f.name] = f"{f.name[:3]}{rng.randrange(12)}"
        if stream.name == "gate.pass":
            if ev["result"] == "deny":
                ev["deny_reason"] = rng.choice(stream.field("deny_reason").values)
            else:
                ev.pop("deny_reason", None)
            if "temperature_c" in ev:
                ev["temperature_c"] = round(rng.uniform(36.0, 38.5), 1)
        if stream.name == "network.online":
            ev["ipv6_users"] = rng.randint(0, ev["users"])
        out.append(ev)
    return out
