"""Delivering alert changes to the contact points: grouping, repeats, quiet hours,
acknowledgements, silences, and an outbox that retries until the message is taken.

The core hands every evaluation's active alerts to :meth:`Notifier.deliver_changes` — in
the leader only, and cheaply: it compares them with the last ones in memory and notes what
was raised and what resolved. Everything slow (reading the operators' actions, sending,
recording each attempt) happens in :meth:`Notifier.run`, a scheduler job of its own, so a
robot that hangs never delays a snapshot.

- **Grouping.** Changes for one contact point wait ``group_s`` from the first of them and go
  out as one message: a burst of alerts is one message, not twenty.
- **Repeat.** A firing alert is sent again every ``repeat_s`` until it resolves or an
  operator acknowledges it; its recovery is sent as a resolved notice.
- **Quiet hours** (per contact point, site time zone): messages are held until the quiet
  hours end (never dropped); repeats are skipped meanwhile. Severities listed in
  ``breakthrough`` (default: critical) are sent at once.
- **Silence** (a rule or one alert, for a time): nothing about it is sent; an alert still
  firing when the silence ends is sent then.
- **Never silently dropped.** Every message is recorded ``queued`` before it is sent, then
  ``sent`` or ``failed`` (with the error and the next retry, backing off from 30 s to 30
  min); a new leader takes up the undelivered ones. A message still undelivered after
  ``max_age`` is recorded ``expired`` and logged as an error. /health shows each contact
  point's state; /metrics counts the attempts.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ioc_app.contacts import Contacts
from ioc_app.contacts_send import DeliveryError, send
from ioc_app.contacts_text import render
from ioc_app.storage import SqlStore
from metrics.alerts import SEVERITIES
from metrics.alerts import outbox as db

log = logging.getLogger("ioc.contacts")

EVERY_S = 5.0
FIRST_RETRY_S = 30.0
LAST_RETRY_S = 1800.0
MAX_AGE = timedelta(hours=24)


@dataclass
class Item:
    """One message in the outbox."""

    id: str
    contact: str
    entries: list[dict[str, Any]]
    created: datetime
    due: datetime
    attempt: int = 0
    error: str = ""

    @property
    def severity(self) -> str:
        ranks = [SEVERITIES.index(e["alert"].get("severity", "info")) for e in self.entries
                 if e["alert"].get("severity") in SEVERITIES]
        return SEVERITIES[min(ranks, default=len(SEVERITIES) - 1)]


def backoff_s(attempt: int) -> float:
    """Seconds before retry ``attempt`` + 1: 30 s, doubling, at most 30 min."""
    return min(FIRST_RETRY_S * 2 ** max(attempt - 1, 0), LAST_RETRY_S)


class Notifier:
    """The leader's notification state and outbox (see the module's docstring)."""

    def __init__(self, contacts: Contacts, store: SqlStore, zone: ZoneInfo, *,
                 leads: Callable[[], bool] = lambda: True,
                 sender: Callable[..., None] = send, max_age: timedelta = MAX_AGE) -> None:
        self.contacts = contacts
        self.store = store
        self.zone = zone
        self.leads = leads
        self.sender = sender
        self.max_age = max_age
        self.counts: Counter[tuple[str, str]] = Counter()
        self._active: dict[str, dict[str, Any]] = {}
        self._sent: dict[tuple[str, str], datetime] = {}  # (alert, contact) → last firing/repeat
        self._pending: dict[str, list[dict[str, Any]]] = {}  # contact → changes in the group window
        self._opened: dict[str, datetime] = {}  # contact → when its group window opened
        self._outbox: dict[str, Item] = {}
        self._actions: list[db.Action] = []
        self._ack_ends: list[str] = []
        self._unwritten: list[dict[str, Any]] = []
        self._loaded = False
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    # -- called by the core ---------------------------------------------------------------
    def deliver_changes(self, active_alerts: list[dict[str, Any]], now: datetime) -> None:
        """Note what was raised and what resolved since the last evaluation (no I/O)."""
        if not self.contacts.contacts:
            return
        with self._lock:
            current = {str(a["id"]): a for a in active_alerts}
            for aid, alert in current.items():
                if aid not in self._active and not self._silenced(aid, now):
                    for c in self.contacts.route(alert):
                        self._add(c, "firing", alert, now)
            for aid, alert in self._active.items():
                if aid not in current:
                    self._resolved(aid, alert, now)
            self._active = current

    def _resolved(self, aid: str, alert: dict[str, Any], now: datetime) -> None:
        told = [c for (a, c) in self._sent if a == aid]
        for c in told:
            del self._sent[(aid, c)]
        if any(x.action == "ack" and x.target == aid for x in self._actions):
            self._ack_ends.append(aid)
        if not self.contacts.resolved or self._silenced(aid, now):
            return
        for c in told:
            self._add(c, "resolved", alert, now)

    def _add(self, contact: str, status: str, alert: dict[str, Any], now: datetime) -> None:
        self._pending.setdefault(contact, []).append({"status": status, "alert": alert,
                                                      "at": now.astimezone(UTC).isoformat()})
        self._opened.setdefault(contact, now)
        if status != "resolved":
            self._sent[(str(alert["id"]), contact)] = now

    def _silenced(self, aid: str, now: datetime) -> bool:
        return any(x.action == "silence" and x.covers(aid) and x.until is not None and x.until > now
                   for x in self._actions)

    def _acked(self, aid: str) -> bool:
        return any(x.action == "ack" and x.target == aid for x in self._actions)

    # -- the delivery job -----------------------------------------------------------------
    def run(self, now: datetime | None = None) -> None:
        """One round: take up the stored outbox (first round), read the operators' actions,
        queue what is due (groups, repeats) and send what may be sent now."""
        if not self.contacts.contacts:
            return
        if not self.leads():
            self._follow()
            return
        now = now or datetime.now(UTC)
        with self._run_lock:
            self._load(now)
            self._read_actions(now)
            with self._lock:
                fresh = self._plan(now)
            self._write([self._row(item, "queued", now) for item in fresh])
            for item in sorted(self._outbox.values(), key=lambda i: (i.due, i.created)):
                if item.due <= now:
                    self._attempt(item, now)
            self._write([])

    def _follow(self) -> None:
        """Another process leads now: forget the outbox (it takes it up from the store) so a
        later leadership here starts from the store too, never from a stale copy."""
        if not self._loaded:
            return
        with self._run_lock, self._lock:
            self._outbox.clear()
            self._pending.clear()
            self._opened.clear()
            self._sent.clear()
            self._active = {}
            self._loaded = False
        log.info("event=contacts.follower")

    def _load(self, now: datetime) -> None:
        if self._loaded:
            return
        try:
            pending = db.pending_deliveries(self.store, now)
        except Exception as exc:  # the store is away: try again next round
            log.warning("event=contacts.outbox_unreadable error=%r", str(exc)[:200])
            return
        for p in pending:
            self._outbox.setdefault(p["id"], Item(p["id"], p["contact"], p["entries"], p["created"],
                                                  p["next_at"] or now, p["attempt"], p["error"]))
        self._loaded = True
        if pending:
            log.info("event=contacts.outbox_taken_up messages=%d", len(pending))

    def _read_actions(self, now: datetime) -> None:
        ends, self._ack_ends = self._ack_ends, []
        try:
            for aid in ends:
                db.record_action(self.store, "ack_end", aid, "", now)
            actions = db.actions_in_force(self.store, now)
        except Exception as exc:  # keep the last known ones; the ends are written next round
            self._ack_ends.extend(ends)
            log.warning("event=contacts.actions_unreadable error=%r", str(exc)[:200])
            return
        with self._lock:
            self._actions = actions

    def _plan(self, now: datetime) -> list[Item]:
        for aid, alert in self._active.items():
            if self._silenced(aid, now):
                continue
            for c in self.contacts.route(alert):
                last = self._sent.get((aid, c))
                if last is None:  # raised while silenced, or a pending change was dropped
                    self._add(c, "firing", alert, now)
                elif (self.contacts.repeat_s and not self._acked(aid)
                      and (now - last).total_seconds() >= self.contacts.repeat_s
                      and c in self.contacts.contacts
                      and not self.contacts.contacts[c].quiet_now(now, self.zone, alert.get("severity", ""))):
                    self._add(c, "repeat", alert, now)
        fresh = []
        for c, opened in list(self._opened.items()):
            if (now - opened).total_seconds() < self.contacts.group_s:
                continue
            entries = self._pending.pop(c, [])
            del self._opened[c]
            if entries:
                item = Item(str(uuid.uuid4()), c, entries, now, now)
                self._outbox[item.id] = item
                fresh.append(item)
        return fresh

    def _attempt(self, item: Item, now: datetime) -> None:
        contact = self.contacts.contacts.get(item.contact)
        if contact is None or now - item.created > self.max_age:
            item.error = item.error or "the contact point is no longer configured"
            log.error("event=contacts.expired contact=%s message=%s attempts=%d error=%r",
                      item.contact, item.id, item.attempt, item.error)
            self._finish(item, "expired", now)
            return
        if contact.quiet_now(now, self.zone, item.severity) and contact.quiet is not None:
            item.due = contact.quiet.ends_after(now, self.zone)  # held, not dropped
            return
        item.attempt += 1
        try:
            message = render(item.entries, contact.lang, self.zone, self.contacts.public_url)
            self.sender(contact, message, item.entries)
        except DeliveryError as exc:
            item.error = str(exc)
            item.due = now + timedelta(seconds=backoff_s(item.attempt))
            self.counts[(item.contact, "failed")] += 1
            log.warning("event=contacts.failed contact=%s kind=%s message=%s attempt=%d retry_s=%.0f "
                        "error=%r", item.contact, contact.kind, item.id, item.attempt,
                        (item.due - now).total_seconds(), item.error)
            self._unwritten.append(self._row(item, "failed", now, next_at=item.due))
            return
        log.info("event=contacts.sent contact=%s kind=%s message=%s changes=%d attempt=%d",
                 item.contact, contact.kind, item.id, len(item.entries), item.attempt)
        self._finish(item, "sent", now)

    def _finish(self, item: Item, status: str, now: datetime) -> None:
        self._outbox.pop(item.id, None)
        self.counts[(item.contact, status)] += 1
        self._unwritten.append(self._row(item, status, now))

    def _row(self, item: Item, status: str, now: datetime, next_at: datetime | None = None) -> dict[str, Any]:
        kind = self.contacts.contacts[item.contact].kind if item.contact in self.contacts.contacts else ""
        return {"id": item.id, "ts": now.astimezone(UTC), "contact": item.contact, "kind": kind,
                "status": status, "attempt": item.attempt,
                "next_at": next_at.astimezone(UTC) if next_at else None,
                "error": item.error if status != "sent" else "",
                "alerts": sorted({str(e["alert"].get("id")) for e in item.entries}), "entries": item.entries}

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Record the steps; when the store is away they wait in memory for the next round
        (the messages themselves are still sent)."""
        self._unwritten.extend(rows)
        if not self._unwritten:
            return
        try:
            db.record_deliveries(self.store, self._unwritten)
        except Exception as exc:
            log.warning("event=contacts.log_unwritten rows=%d error=%r", len(self._unwritten), str(exc)[:200])
            return
        self._unwritten = []

    # -- inspection, scheduling -----------------------------------------------------------
    def outbox(self) -> list[Item]:
        """The messages not yet delivered, oldest first."""
        return sorted(list(self._outbox.values()), key=lambda i: i.created)

    def metrics(self) -> Iterator[Any]:
        """Prometheus families: attempts by contact point and result, messages waiting."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        counter = CounterMetricFamily("ioc_alert_deliveries", "Alert notification attempts by contact "
                                      "point and result (sent, failed, expired)",
                                      labels=["contact", "result"])
        for (contact, result), n in sorted(list(self.counts.items())):
            counter.add_metric([contact, result], n)
        yield counter
        waiting = GaugeMetricFamily("ioc_alert_outbox", "Alert notifications not yet delivered",
                                    labels=["contact"])
        per = Counter(i.contact for i in list(self._outbox.values()))
        for name in self.contacts.contacts:
            waiting.add_metric([name], per.get(name, 0))
        yield waiting

    def schedule(self, scheduler: Any) -> None:
        """The delivery job, every ``EVERY_S``, never two at once."""
        if scheduler is None or not self.contacts.contacts:
            return
        scheduler.add_job(self.run, "interval", seconds=EVERY_S, id="contacts-deliver", max_instances=1,
                          coalesce=True, misfire_grace_time=None)


def notifier_for(settings: Any, store: SqlStore, leads: Callable[[], bool]) -> Notifier:
    """The notifier of the configured contact points (``IOC_CONTACTS``; none: it does nothing)."""
    from ioc_app.contacts import load_contacts

    return Notifier(load_contacts(settings.contacts, settings.public_url), store, settings.zone, leads=leads)
