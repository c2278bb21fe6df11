"""The data-quality report on the real engine: open dead letters by reason, unknown codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from ingest.deadletter import dead_letter_frame
from ingest.enrollment import ENROLLMENT_CHECKIN
from ingest.gate import GATE_PASS
from ingest.registry import STREAMS
from ingest.service import SERVICE_WORKFLOW
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics.quality import REFERENCED, dead_letters_by_reason, unknown_references

NOW = datetime.now(UTC).replace(microsecond=0)


def test_referenced_fields_follow_the_stream_registry() -> None:
    declared = {(s.name, f.name, f.reference) for s in STREAMS for f in s.all_fields if f.reference}
    assert {(r.stream, r.field, r.kind) for r in REFERENCED} == declared


def _gate(event_id: str, ts: datetime, **kv: object) -> dict[str, object]:
    return {"event_id": event_id, "ts": int(ts.timestamp() * 1000), "campus": "main",
            "gate_id": "main-north", "lane": 1, "person_type": "student", "method": "face",
            "direction": "in", "result": "pass", **kv}


def _store(store: Store, stream, events: list[dict[str, object]]) -> None:
    result = validate(stream, events, source="t", now=NOW)
    assert result.errors == [], result.errors[:3]
    store.insert(stream.table, result.frame)


def test_open_dead_letters_by_stream_and_reason(migrated: Store) -> None:
    bad = [_gate(f"m{i}", NOW, lane="x") for i in range(3)] + [_gate("f1", NOW + timedelta(days=2))]
    result = validate(GATE_PASS, bad, source="t", now=NOW)
    assert len(result.rejected) == 4
    frame = dead_letter_frame("gate.pass", bad, result, "t", received_at=NOW)
    wf = validate(SERVICE_WORKFLOW, [{"event_id": "w", "ts": 1}], source="t", now=NOW)
    frame = pl.concat([frame, dead_letter_frame("service.workflow", [{"event_id": "w", "ts": 1}], wf, "t",
                                                received_at=NOW)])
    migrated.insert("ioc_deadletter", frame)
    # one of the bad lanes is replayed later: its newest row says so, and it no longer counts
    replayed = frame.head(1).with_columns(pl.lit("replayed").alias("state"),
                                          pl.lit(NOW + timedelta(minutes=5)).cast(
                                              pl.Datetime("ms", "UTC")).alias("updated_at"))
    migrated.insert("ioc_deadletter", replayed)
    got = dead_letters_by_reason(migrated)
    rows = {(r["stream"], r["reason"]): r["count"] for r in got.iter_rows(named=True)}
    reasons = dict(zip(frame["id"], frame["reason"], strict=True))
    lane_reason = reasons[frame["id"][0]]
    assert rows[("gate.pass", lane_reason)] == 2
    assert rows[("gate.pass", "in_future")] == 1
    assert sum(n for (s, _), n in rows.items() if s == "service.workflow") == 1
    assert got["count"].to_list() == sorted(got["count"].to_list(), reverse=True)
    assert got.schema["newest"] == pl.Datetime("ms", "UTC")


def test_no_dead_letters_is_an_empty_frame_of_the_documented_shape(migrated: Store) -> None:
    got = dead_letters_by_reason(migrated)
    assert got.height == 0 and got.columns == ["stream", "reason", "count", "newest"]
    assert unknown_references(migrated).columns == ["stream", "field", "kind", "code", "rows", "last_seen"]


def test_unknown_reference_codes_of_the_last_days(migrated: Store) -> None:
    store_reference(migrated, load_site(DEFAULT_SITE))
    recent = NOW - timedelta(hours=2)
    _store(migrated, GATE_PASS,
           [_gate(f"k{i}", recent) for i in range(5)]  # known gate and campus
           + [_gate(f"u{i}", recent, gate_id="west-9") for i in range(3)]
           + [_gate("c1", recent - timedelta(hours=3), campus="mars", gate_id="west-9")]
           + [_gate("old", NOW - timedelta(days=9), gate_id="ancient-gate")])  # outside the window
    _store(migrated, SERVICE_WORKFLOW, [
        {"event_id": "s1", "ts": int(recent.timestamp() * 1000), "case_id": "c1",
         "service_id": "no-such-service", "department": "security", "applicant_type": "external",
         "channel": "wechat", "action": "submitted", "node": 0}])
    _store(migrated, ENROLLMENT_CHECKIN, [
        {"event_id": "e1", "ts": int(recent.timestamp() * 1000), "year": NOW.year, "student_key": "s",
         "college": "bio", "major": "999999", "campus": "main", "step": "arrived"}])
    got = unknown_references(migrated, now=NOW)
    found = {(r["stream"], r["field"], r["code"]): r for r in got.iter_rows(named=True)}
    assert set(found) == {
        ("gate.pass", "gate_id", "west-9"),
        ("gate.pass", "campus", "mars"),
        ("service.workflow", "service_id", "no-such-service"),
        ("enrollment.checkin", "major", "999999"),
    }
    west = found[("gate.pass", "gate_id", "west-9")]
    assert west["rows"] == 4 and west["kind"] == "gate"
    assert west["last_seen"] == recent.replace(minute=0, second=0)  # the newest hour bucket
    assert found[("enrollment.checkin", "major", "999999")]["last_seen"] == recent
    assert got["rows"][0] == 4
    # a wider window reaches the old event too
    assert "ancient-gate" in unknown_references(migrated, now=NOW, days=30)["code"].to_list()
