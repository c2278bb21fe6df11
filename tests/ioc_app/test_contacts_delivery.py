"""Delivery through the notifier on the real engine, to local receivers: routing, grouping
of bursts, repeat, resolved notices, quiet hours, silence, acknowledgement, retry after a
failure, the outbox taken up by a restarted leader, and nothing dropped silently. Every
round is given its ``now``; nothing waits on the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ioc_app.contacts import Contact, Contacts, Quiet, Route
from ioc_app.contacts_notify import Notifier
from ioc_app.storage import Store
from metrics.alerts import outbox as db
from tests.ioc_app.contacts_receivers import Receiver

ZONE = ZoneInfo("Asia/Shanghai")
#: 10:00 in Shanghai yesterday: a fixed time of day, on a date the tables' TTL keeps
DAY = (datetime.now(UTC) - timedelta(days=1)).date()
T0 = datetime.combine(DAY, time(2, 0), UTC)


def alert(aid: str, severity: str = "warning", domain: str = "network",
          value: float = 0.95) -> dict[str, Any]:
    return {"id": aid, "severity": severity, "domain": domain, "title_zh": f"{aid} 告警",
            "title_en": f"{aid} alert", "since": T0.isoformat(), "value": value, "threshold": 0.9}


@pytest.fixture()
def noc() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture()
def duty() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def notifier(store: Store, receivers: dict[str, Receiver], routes: tuple[Route, ...] = (),
             default: tuple[str, ...] | None = None, **kw: Any) -> Notifier:
    quiet = kw.pop("quiet", None)
    extra = {"max_age": kw.pop("max_age")} if "max_age" in kw else {}
    contacts = {name: Contact(name, "webhook", url=r.url + "/" + name, quiet=quiet, timeout_s=5)
                for name, r in receivers.items()}
    config = Contacts(contacts=contacts, routes=routes,
                      default=tuple(receivers) if default is None else default,
                      public_url="https://ioc.example.edu.cn", **kw)
    return Notifier(config, store, ZONE, **extra)


def changes(r: Receiver) -> list[list[tuple[str, str]]]:
    """Each message the receiver got: its (status, alert id) pairs."""
    return [[(c["status"], c["id"]) for c in p.json["changes"]] for p in r.posts]


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_routes_pick_contact_points_and_a_burst_is_one_message(migrated: Store, noc: Receiver,
                                                                duty: Receiver) -> None:
    n = notifier(migrated, {"noc": noc, "duty": duty}, routes=(Route(("noc",), severity=("critical",)),),
                 default=("duty",), group_s=30)
    a, b, c = alert("link_down:A", "critical"), alert("gate_drop:G1", domain="gate"), alert("gate_drop:G2")
    n.deliver_changes([a, b], T0)
    n.run(T0)
    n.deliver_changes([a, b, c], later(10))
    n.run(later(10))
    assert noc.posts == [] and duty.posts == []  # the group window is still open
    n.run(later(30))
    assert changes(noc) == [[("firing", "link_down:A")]]
    assert changes(duty) == [[("firing", "gate_drop:G1"), ("firing", "gate_drop:G2")]]
    rows = migrated.rows("SELECT contact, status, alerts FROM ioc_alert_delivery")
    assert sorted(rows) == [("duty", "queued", ["gate_drop:G1", "gate_drop:G2"]),
                            ("duty", "sent", ["gate_drop:G1", "gate_drop:G2"]),
                            ("noc", "queued", ["link_down:A"]), ("noc", "sent", ["link_down:A"])]


def test_repeat_until_acknowledged_then_the_recovery(migrated: Store, duty: Receiver) -> None:
    n = notifier(migrated, {"duty": duty}, repeat_s=600, group_s=0)
    a = alert("link_utilization:CERNET")
    n.deliver_changes([a], T0)
    n.run(T0)
    n.run(later(300))
    assert changes(duty) == [[("firing", a["id"])]]
    n.deliver_changes([a], later(600))
    n.run(later(600))
    assert changes(duty)[1:] == [[("repeat", a["id"])]]
    db.record_action(migrated, "ack", a["id"], "op1", later(601))
    n.run(later(1200))
    n.run(later(1900))
    assert len(duty.posts) == 2  # acknowledged: no more repeats
    n.deliver_changes([], later(2000))
    n.run(later(2000))
    assert changes(duty)[2:] == [[("resolved", a["id"])]]
    n.run(later(2001))  # the recovery ended the acknowledgement
    assert db.actions_in_force(migrated, later(2001)) == []


def test_without_acknowledgement_it_keeps_repeating(migrated: Store, duty: Receiver) -> None:
    n = notifier(migrated, {"duty": duty}, repeat_s=600, group_s=0)
    a = alert("link_utilization:CERNET")
    n.deliver_changes([a], T0)
    for s in (0, 600, 1200, 1500, 1800):
        n.run(later(s))
    assert [m[0][0] for m in changes(duty)] == ["firing", "repeat", "repeat", "repeat"]


def test_quiet_hours_hold_messages_and_critical_breaks_through(migrated: Store, duty: Receiver) -> None:
    n = notifier(migrated, {"duty": duty}, repeat_s=3600, group_s=0, quiet=Quiet(time(22), time(7)))
    night = datetime.combine(DAY, time(15, 0), UTC)  # 23:00 in Shanghai
    warn, crit = alert("gate_drop:G1", domain="gate"), alert("link_down:A", "critical")
    n.deliver_changes([warn], night)
    n.run(night)
    seven = datetime.combine(DAY + timedelta(days=1), time(7, 0), ZONE)
    assert duty.posts == [] and [i.due for i in n.outbox()] == [seven]
    n.deliver_changes([warn, crit], night + timedelta(minutes=5))
    n.run(night + timedelta(minutes=5))
    assert changes(duty) == [[("firing", "link_down:A")]]  # critical at once
    n.run(night + timedelta(hours=3))  # repeats of the critical one still come; the warning waits
    assert changes(duty)[1:] == [[("repeat", "link_down:A")]]
    morning = datetime.combine(DAY, time(23, 0), UTC)  # 07:00 in Shanghai
    n.run(morning)
    assert [("firing", "gate_drop:G1")] in changes(duty)  # held, then delivered: never dropped
    assert n.outbox() == []


def test_a_silence_suppresses_then_ends(migrated: Store, duty: Receiver) -> None:
    n = notifier(migrated, {"duty": duty}, repeat_s=600, group_s=0)
    db.record_action(migrated, "silence", "gate_drop", "op1", T0, until=later(3600))
    n.run(T0)  # the leader reads the silence
    a, b = alert("gate_drop:G1", domain="gate"), alert("link_down:A", "critical")
    n.deliver_changes([a, b], later(1))
    n.run(later(1))
    n.run(later(1800))
    assert {m[0] for m in changes(duty)} == {("firing", "link_down:A"), ("repeat", "link_down:A")}
    n.run(later(3601))  # the silence ended with the alert still firing: it is sent now
    assert ("firing", "gate_drop:G1") in changes(duty)[-1]
    db.record_action(migrated, "silence", "gate_drop:G1", "op1", later(3700), until=later(7200))
    n.run(later(3700))
    before = len(duty.posts)
    n.deliver_changes([b], later(3800))  # resolved while silenced: nothing about it
    n.run(later(3800))
    assert all(("resolved", "gate_drop:G1") not in m for m in changes(duty)[before:])


def test_a_lifted_silence_no_longer_holds(migrated: Store) -> None:
    db.record_action(migrated, "silence", "gate_drop", "op1", T0, until=later(3600))
    assert [x.target for x in db.actions_in_force(migrated, later(10))] == ["gate_drop"]
    db.record_action(migrated, "lift", "gate_drop", "op1", later(20))
    assert db.actions_in_force(migrated, later(30)) == []
    assert db.actions_in_force(migrated, later(4000)) == []


def test_a_failed_delivery_is_retried_with_backoff_and_shown(migrated: Store, duty: Receiver) -> None:
    n = notifier(migrated, {"duty": duty}, group_s=0)
    duty.answers.append((500, b"{}"))
    n.deliver_changes([alert("link_down:A", "critical")], T0)
    n.run(T0)
    status = db.delivery_status(migrated, T0)["duty"]
    assert status["status"] == "failed" and "HTTP 500" in status["error"] and status["pending"] == 1
    assert status["next_at"] == later(30) and status["last_sent"] is None
    n.run(later(10))
    assert len(duty.posts) == 1  # not due yet
    n.run(later(30))
    assert len(duty.posts) == 2 and changes(duty)[1] == [("firing", "link_down:A")]
    status = db.delivery_status(migrated, later(30))["duty"]
    assert status["status"] == "sent" and status["pending"] == 0 and status["last_sent"] == later(30)
    assert n.counts == {("duty", "failed"): 1, ("duty", "sent"): 1}
    metrics = {m.name: m.samples for m in n.metrics()}
    assert ("duty", "sent", 1) in [(s.labels["contact"], s.labels["result"], s.value)
                                   for s in metrics["ioc_alert_deliveries"]]


def test_a_restarted_leader_takes_up_the_outbox(migrated: Store, duty: Receiver) -> None:
    first = notifier(migrated, {"duty": duty}, group_s=0)
    duty.answers.extend([(503, b"{}")])
    first.deliver_changes([alert("link_down:A", "critical")], T0)
    first.run(T0)
    (waiting,) = first.outbox()
    second = notifier(migrated, {"duty": duty}, group_s=0)  # the process restarted
    second.run(later(5))
    assert len(duty.posts) == 1  # due again only after the backoff
    second.run(later(31))
    assert len(duty.posts) == 2 and changes(duty)[1] == [("firing", "link_down:A")]
    assert migrated.rows("SELECT status FROM ioc_alert_delivery WHERE id = {i:String} ORDER BY ts, attempt",
                         {"i": waiting.id}) == [("queued",), ("failed",), ("sent",)]


def test_a_message_never_delivered_expires_loudly(migrated: Store, duty: Receiver) -> None:
    n = notifier(migrated, {"duty": duty}, group_s=0, max_age=timedelta(hours=1))
    duty.answers.extend([(500, b"{}")] * 20)
    n.deliver_changes([alert("link_down:A", "critical")], T0)
    for s in range(0, 7300, 300):
        n.run(later(s))
    assert n.outbox() == []
    status = db.delivery_status(migrated, later(7300))["duty"]
    assert status["status"] == "expired" and "HTTP 500" in status["error"]
    assert n.counts[("duty", "expired")] == 1


def test_the_core_hands_its_alerts_over(migrated: Store, duty: Receiver) -> None:
    """The agreed hook: each evaluation's active alerts reach the notifier."""
    from ioc_app.core import SnapshotCore

    core = SnapshotCore(migrated, ZONE, keep_history=False, trigger="tick")
    seen: list[tuple[list[dict[str, Any]], datetime]] = []

    class Probe:
        def deliver_changes(self, alerts: list[dict[str, Any]], now: datetime) -> None:
            seen.append((alerts, now))

    core.notifier = Probe()
    try:
        snap = core.compute(T0)
    finally:
        core.close()
    assert seen == [(snap["alerts"], T0)]


def test_logs_name_the_contact_point_not_its_key_nor_the_alert(migrated: Store, duty: Receiver,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    import logging

    contact = Contact("duty", "webhook", url=duty.url + "/hook?token=SECRETTOKEN", timeout_s=5)
    n = Notifier(Contacts(contacts={"duty": contact}, default=("duty",), group_s=0), migrated, ZONE)
    duty.answers.append((500, b"{}"))
    a = alert("gate_drop:G1", domain="gate")
    with caplog.at_level(logging.INFO, logger="ioc.contacts"):
        n.deliver_changes([a], T0)
        n.run(T0)
        n.run(later(30))
    events = [r.getMessage() for r in caplog.records]
    assert any(e.startswith("event=contacts.failed contact=duty") for e in events)
    assert any(e.startswith("event=contacts.sent contact=duty") for e in events)
    assert not any("SECRETTOKEN" in e or a["title_zh"] in e for e in events)
    stored = migrated.rows("SELECT error FROM ioc_alert_delivery WHERE status = 'failed'")
    assert stored == [("HTTP 500 Internal Server Error",)]


def test_only_the_leader_sends_and_a_new_leader_starts_from_the_store(migrated: Store,
                                                                     duty: Receiver) -> None:
    leading = {"a": True}
    a = notifier(migrated, {"duty": duty}, group_s=0)
    a.leads = lambda: leading["a"]
    b = notifier(migrated, {"duty": duty}, group_s=0)
    b.leads = lambda: not leading["a"]
    duty.answers.append((500, b"{}"))
    a.deliver_changes([alert("link_down:A", "critical")], T0)
    a.run(T0)
    b.run(T0)  # a follower sends nothing
    assert len(duty.posts) == 1
    leading["a"] = False  # leadership moves to b
    a.run(later(31))
    assert a.outbox() == []
    b.run(later(31))
    assert len(duty.posts) == 2 and changes(duty)[1] == [("firing", "link_down:A")]
    leading["a"] = True  # and back: a does not send its old copy again
    b.run(later(62))
    a.run(later(62))
    assert len(duty.posts) == 2
