"""One candidate's season (考生录取状态查询): every admission, notice and check-in event of a
pseudonymous key, in time order.

The admissions office looks a candidate up by the 考生号 they give; the caller has already
turned it into the keyed pseudonym that import stores (``ingest.pii.pseudonym``), so nothing
here ever sees the number. Admissions and notices are keyed by ``candidate_key``; check-in
systems key a student by the same pseudonym (``student_key``, docs/events.md), so the three
streams join on it. Raw events are read (not the latest-state tables): the office wants the
whole story — filed, admitted, returned, re-mailed — not only where it ended.

Events at the same instant are ordered admission, notice, check-in, and within a stream by
the stream's order of statuses (``filed < admitted < returned < withdrawn``; ``printed <
mailed < delivered < returned``; the check-in steps), as the latest-state rules order them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ioc_app.storage import SqlStore

ADMISSION_ORDER = ("filed", "admitted", "returned", "withdrawn")
NOTICE_ORDER = ("printed", "mailed", "delivered", "returned")
CHECKIN_ORDER = ("arrived", "paid", "dorm", "registered")
KINDS = ("admission", "notice", "checkin")
#: the catalogue kinds whose names a timeline shows
NAMED = ("college", "major", "campus", "province")


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _admissions(store: SqlStore, key: str) -> list[dict[str, Any]]:
    frame = store.query(
        """
        SELECT ts, year, toString(status) AS status, toString(province) AS province,
               toString(batch) AS batch, toString(category) AS category, toString(track) AS track,
               toString(college) AS college, toString(major) AS major, score, province_rank, event_id
        FROM enrollment_admission
        WHERE candidate_key = {k:String}
        """, {"k": key})
    return [{"kind": "admission", **r} for r in frame.to_dicts()]


def _notices(store: SqlStore, key: str) -> list[dict[str, Any]]:
    frame = store.query(
        """
        SELECT ts, year, toString(status) AS status, carrier, tracking_no, event_id
        FROM enrollment_notice
        WHERE candidate_key = {k:String}
        """, {"k": key})
    return [{"kind": "notice", **r} for r in frame.to_dicts()]


def _checkins(store: SqlStore, key: str) -> list[dict[str, Any]]:
    frame = store.query(
        """
        SELECT ts, year, toString(step) AS status, toString(college) AS college,
               toString(major) AS major, toString(campus) AS campus, event_id
        FROM enrollment_checkin
        WHERE student_key = {k:String}
        """, {"k": key})
    return [{"kind": "checkin", **r} for r in frame.to_dicts()]


def _rank(event: dict[str, Any]) -> tuple[Any, ...]:
    order = {"admission": ADMISSION_ORDER, "notice": NOTICE_ORDER, "checkin": CHECKIN_ORDER}[event["kind"]]
    status = event["status"]
    return (event["ts"], KINDS.index(event["kind"]), order.index(status) if status in order else len(order),
            event["event_id"])


def names(store: SqlStore, codes: dict[str, set[str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, code) → (name_zh, name_en) of the catalogue entries among ``codes`` (kind → codes)."""
    wanted = [(k, c) for k, cs in codes.items() if k in NAMED for c in cs]
    if not wanted:
        return {}
    frame = store.query(
        "SELECT kind, code, name_zh, name_en FROM ioc_reference FINAL "
        "WHERE kind IN {kinds:Array(String)} AND code IN {codes:Array(String)}",
        {"kinds": sorted({k for k, _ in wanted}), "codes": sorted({c for _, c in wanted})})
    return {(k, c): (zh, en) for k, c, zh, en in frame.iter_rows()}


def timeline(store: SqlStore, key: str) -> dict[str, Any]:
    """Every event of the candidate ``key`` (a pseudonym), oldest first: ``{"events": [...],
    "names": {(kind, code): (zh, en)}}``. An event is a dict with ``kind`` (``admission``,
    ``notice`` or ``checkin``), ``ts`` (aware, UTC), ``year``, ``status`` (the check-in step
    for a check-in) and the stream's own fields."""
    events = _admissions(store, key) + _notices(store, key) + _checkins(store, key)
    for e in events:
        e["ts"] = _aware(e["ts"])
    events.sort(key=_rank)
    codes: dict[str, set[str]] = {}
    for e in events:
        for kind in NAMED:
            if e.get(kind):
                codes.setdefault(kind, set()).add(str(e[kind]))
    for e in events:
        e.pop("event_id", None)
    return {"events": events, "names": names(store, codes)}


def years(store: SqlStore) -> list[int]:
    """The admission years the store holds candidates of (for a lookup that found nothing)."""
    return sorted(int(y) for (y,) in store.rows("SELECT DISTINCT year FROM enrollment_admission_latest"))
