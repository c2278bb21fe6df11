"""Hand-written cases for rules the property tests cannot phrase generically."""

from __future__ import annotations

import polars as pl

from ingest.enrollment import ENROLLMENT_PLAN
from ingest.gate import GATE_PASS
from ingest.network import NETWORK_LINK, NETWORK_ONLINE, NETWORK_SECURITY
from ingest.validate import validate, validate_frame
from tests.ingest.strategies import NOW

NOW_MS = int(NOW.timestamp() * 1000)


def gate(**over):
    ev = {"event_id": "e1", "ts": NOW_MS, "campus": "main", "gate_id": "g1", "lane": 2,
          "direction": "in", "person_type": "student", "method": "face", "result": "pass"}
    ev.update(over)
    return {k: v for k, v in ev.items() if v is not ...}


def reasons(result):
    return {(e["index"], e["field"], e["reason"]) for e in result.errors}


def test_not_an_object_is_one_error_and_neighbours_pass() -> None:
    r = validate(GATE_PASS, [gate(), 42, "x", None, gate(event_id="e2")], now=NOW)
    assert r.rejected == [1, 2, 3]
    assert reasons(r) == {(1, "", "not_an_object"), (2, "", "not_an_object"), (3, "", "not_an_object")}
    assert r.frame["event_id"].to_list() == ["e1", "e2"]


def test_deny_reason_iff_deny() -> None:
    r = validate(GATE_PASS, [
        gate(result="deny"),
        gate(result="pass", deny_reason="expired"),
        gate(result="deny", deny_reason="expired"),
        gate(result="pass", deny_reason=None),
    ], now=NOW)
    assert reasons(r) == {(0, "deny_reason", "missing"), (1, "deny_reason", "inconsistent")}
    assert r.index == [2, 3]
    assert "required when result is 'deny'" in r.errors[0]["message"]


def test_ipv6_users_not_above_users() -> None:
    base = {"ts": NOW_MS, "campus": "main", "access": "wired"}
    r = validate(NETWORK_ONLINE, [{**base, "users": 5, "ipv6_users": 6},
                                  {**base, "users": 5, "ipv6_users": 5}], now=NOW)
    assert reasons(r) == {(0, "ipv6_users", "inconsistent")}
    assert "must not exceed users" in r.errors[0]["message"]


def test_bad_enum_message_names_allowed_values() -> None:
    r = validate(GATE_PASS, [gate(direction="sideways")], now=NOW)
    assert r.errors[0]["message"] == "direction must be one of: in, out; got 'sideways'"


def test_unknown_reference_codes_are_kept() -> None:
    r = validate(GATE_PASS, [gate(campus="no-such-campus", gate_id="gate-404")], now=NOW)
    assert r.errors == [] and r.frame["gate_id"].to_list() == ["gate-404"]


def test_timestamps_are_stored_in_utc_milliseconds() -> None:
    r = validate(GATE_PASS, [gate(event_id="a", ts="2026-09-01T08:03:12.345+08:00"),
                             gate(event_id="b", ts="2026-09-01T00:03:12Z"),
                             gate(event_id="c", ts=str(NOW_MS))], now=NOW)
    assert r.errors == []
    got = [t.isoformat() for t in r.frame["ts"].to_list()]
    assert got[:2] == ["2026-09-01T00:03:12.345000+00:00", "2026-09-01T00:03:12+00:00"]


def test_epoch_seconds_get_a_hint() -> None:
    r = validate(GATE_PASS, [gate(ts=NOW_MS // 1000)], now=NOW)
    assert r.errors[0]["reason"] == "too_old"
    assert "send milliseconds" in r.errors[0]["message"]


def test_booleans_and_fractions_are_not_integers() -> None:
    r = validate(GATE_PASS, [gate(lane=True), gate(lane=2.5), gate(lane=3.0), gate(lane="4")], now=NOW)
    assert reasons(r) == {(0, "lane", "bad_type"), (1, "lane", "bad_type")}
    assert r.frame["lane"].to_list() == [3, 4]


def test_derived_event_id_for_samples() -> None:
    r = validate(NETWORK_LINK, [{"ts": NOW_MS, "link_id": "cernet", "in_bps": 1, "out_bps": 2}],
                 now=NOW)
    assert r.frame["event_id"].to_list() == [f"cernet:{NOW_MS}"]


def test_source_defaults_to_token_source_and_may_not_differ() -> None:
    r = validate(GATE_PASS, [gate(event_id="a"), gate(event_id="b", source="token-src"),
                             gate(event_id="c", source="campus-card-system")],
                 source="token-src", now=NOW)
    assert r.frame["source"].to_list() == ["token-src", "token-src"]
    assert [(e["index"], e["field"], e["reason"]) for e in r.errors] == [(2, "source", "source_mismatch")]
    assert "'token-src'" in r.errors[0]["message"] and "leave source out" in r.errors[0]["message"]


def test_ip_literals() -> None:
    base = {"event_id": "s1", "ts": NOW_MS, "incident_key": "i1", "severity": "high",
            "category": "intrusion", "target_system": "oa", "status": "open"}
    ok = [{**base, "src_ip": ip} for ip in ("10.1.2.3", "2001:db8::1", "::ffff:10.0.0.1")]
    bad = [{**base, "src_ip": ip} for ip in ("10.1.2", "2001:db8:::1", "localhost")]
    r = validate(NETWORK_SECURITY, ok + bad, now=NOW)
    assert r.rejected == [3, 4, 5]
    assert {e["reason"] for e in r.errors} == {"bad_format"}


def test_csv_frame_all_strings() -> None:
    frame = pl.DataFrame({
        "event_id": ["a", "b", "c"], "ts": ["2026-09-01T08:00:00+08:00", str(NOW_MS), "nope"],
        "campus": ["main"] * 3, "gate_id": ["g1"] * 3, "lane": ["1", "3.0", "x"],
        "direction": ["in", "out", "in"], "person_type": ["student"] * 3,
        "method": ["card"] * 3, "result": ["pass", "deny", "pass"],
        "deny_reason": ["", "expired", ""], "temperature_c": ["36.6", "", "nan"],
    })
    r = validate_frame(GATE_PASS, frame, source="csv", now=NOW)
    assert reasons(r) == {(2, "ts", "bad_format"), (2, "lane", "bad_type"),
                          (2, "temperature_c", "out_of_range")}
    assert r.frame["lane"].to_list() == [1, 3]
    assert r.frame["deny_reason"].to_list() == [None, "expired"]


def test_csv_unknown_column_is_reported_per_row() -> None:
    frame = pl.DataFrame({"year": ["2026"], "province": ["11"], "batch": ["regular"],
                          "category": ["general"], "track": ["physics"], "major": ["cs"],
                          "planned": ["120"], "planed": ["12"]})
    r = validate_frame(ENROLLMENT_PLAN, frame, now=NOW)
    assert reasons(r) == {(0, "planed", "unknown_field")}
    assert "rename it to one of" in r.errors[0]["message"]


def test_plan_rows_are_typed() -> None:
    rows = [{"year": 2026, "province": "44", "batch": "regular", "category": "general",
             "track": "physics", "major": "cs", "planned": 120}]
    r = validate(ENROLLMENT_PLAN, rows, now=NOW)
    assert r.errors == [] and r.frame["planned"].to_list() == [120]
    assert "imported_at" in r.frame.columns


def test_province_must_be_one_of_34() -> None:
    rows = [{"year": 2026, "province": p, "batch": "regular", "category": "general",
             "track": "physics", "major": "cs", "planned": 1} for p in ("71", "82", "99", "1")]
    r = validate(ENROLLMENT_PLAN, rows, now=NOW)
    assert r.rejected == [2, 3]


def test_arrow_batches_are_validated_like_frames() -> None:
    import pyarrow as pa

    table = pa.table({"event_id": ["a"], "ts": [NOW_MS], "campus": ["main"], "gate_id": ["g"],
                      "lane": [1], "direction": ["in"], "person_type": ["staff"], "method": ["qr"],
                      "result": ["deny"]})
    r = validate_frame(GATE_PASS, table, now=NOW)
    assert [(e["field"], e["reason"]) for e in r.errors] == [("deny_reason", "missing")]


def test_booleans_are_not_numbers_even_among_numbers() -> None:
    # a strict Polars Series of [2, true] is Int64 [2, 1]: the check must see the true
    r = validate(GATE_PASS, [gate(), gate(event_id="e2", lane=True),
                             gate(event_id="e3", temperature_c=False, lane=3)], now=NOW)
    assert reasons(r) == {(1, "lane", "bad_type"), (2, "temperature_c", "bad_type")}
    assert r.frame["event_id"].to_list() == ["e1"]


def test_requests_validated_together_keep_their_own_indexes_and_types() -> None:
    from ingest.validate import prepare, validate_prepared

    parts = [prepare(GATE_PASS, [gate(), gate(event_id="e2", lane="4")]),
             prepare(GATE_PASS, [gate(event_id="e3", temperature_c=36.6), 42]),
             prepare(GATE_PASS, [gate(event_id="e5", ts="2026-01-01T00:00:00+08:00", lane=True)])]
    r = validate_prepared(GATE_PASS, parts, source=["a", "a", "b", "b", "c"], now=NOW)
    assert r.index == [0, 1, 2]
    assert r.frame["lane"].to_list() == [2, 4, 2]
    assert r.frame["source"].to_list() == ["a", "a", "b"]
    assert reasons(r) == {
        (3, "", "not_an_object"), (4, "lane", "bad_type")}
