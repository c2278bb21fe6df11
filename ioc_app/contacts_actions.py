"""What /health shows and does about notifications: each contact point's state, and the
operators' acknowledgements and silences.

Acknowledging and silencing change who is woken at night, so they need the operator role's
``alerts_ack`` permission — checked here again past the gate — and each one is on the audit
trail. They are stored (``metrics.alerts.outbox``), so they hold across restarts and reach
the leader that delivers wherever it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ioc_app.contacts import ContactsError, load_contacts
from metrics.alerts import outbox as db

log = logging.getLogger("ioc.contacts")

PERMISSION = "alerts_ack"
#: the silence durations offered on /health, minutes
SILENCE_MINUTES = (30, 60, 240, 1440)
TTL_S = 5.0
_memo: dict[int, tuple[float, dict[str, Any] | None]] = {}
_memo_lock = threading.Lock()


def configured(settings: Any) -> list[tuple[str, str]]:
    """The contact points of ``IOC_CONTACTS`` as (name, kind); none when the file is unusable
    here (the leader, which refuses to start with it, says why)."""
    try:
        contacts = load_contacts(settings.contacts, settings.public_url)
    except ContactsError as exc:
        log.warning("event=contacts.unreadable error=%r", str(exc)[:200])
        return []
    return [(c.name, c.kind) for c in contacts.contacts.values()]


def state(rt: Any, now: datetime | None = None) -> dict[str, Any] | None:
    """``{contacts: [{name, kind, state, last_sent, error, next_at, pending}], actions: [Action]}``
    (state ok|failing|idle), read at most once per ``TTL_S`` per server; None while the
    store is away."""
    from ioc_app.storage import Store

    now = now or datetime.now(UTC)
    with _memo_lock:
        hit = _memo.get(id(rt))
        if hit is not None and time.monotonic() - hit[0] < TTL_S:
            return hit[1]
        value: dict[str, Any] | None
        try:
            with Store.origin("request"):
                status = db.delivery_status(rt.store, now)
                actions = db.actions_in_force(rt.store, now)
        except Exception as exc:
            log.warning("event=contacts.state_unreadable error=%r", str(exc)[:200])
            value = None
        else:
            names = configured(rt.settings)
            kinds = dict(names) | {n: s.get("kind", "") for n, s in status.items() if n not in dict(names)}
            rows = []
            for name in [n for n, _ in names] + sorted(n for n in status if n not in dict(names)):
                s = status.get(name, {})
                failing = s.get("status") in ("failed", "expired") or (s.get("pending", 0) and s.get("error"))
                rows.append({"name": name, "kind": kinds.get(name, ""),
                             "state": "failing" if failing else "ok" if s.get("last_sent") else "idle",
                             "last_sent": s.get("last_sent"), "error": s.get("error", "") if failing else "",
                             "next_at": s.get("next_at") if failing else None,
                             "pending": s.get("pending", 0)})
            value = {"contacts": rows, "actions": actions}
        _memo[id(rt)] = (time.monotonic(), value)
        return value


def _forget(rt: Any) -> None:
    with _memo_lock:
        _memo.pop(id(rt), None)


def _allowed() -> str:
    from ioc_app.access import principal

    who = principal()
    if not who.may(PERMISSION):
        raise PermissionError("acknowledging and silencing alerts need the operator role")
    return who.name


def _active(rt: Any) -> dict[str, dict[str, Any]]:
    current = rt.feed.current()
    alerts = current.data.get("alerts", []) if current is not None else []
    return {str(a["id"]): a for a in alerts}


def acknowledge(rt: Any, alert_id: str, now: datetime | None = None) -> None:
    """Acknowledge an active alert: no more repeats; its recovery is still sent."""
    from ioc_app import audit

    actor = _allowed()
    if alert_id not in _active(rt):
        raise LookupError(f"{alert_id!r} is not an active alert")
    db.record_action(rt.store, "ack", alert_id, actor, now or datetime.now(UTC))
    audit.record("alert.acknowledge", object=alert_id)
    _forget(rt)


def silence(rt: Any, target: str, minutes: int, now: datetime | None = None) -> datetime:
    """Silence an active alert, or every alert of its rule, for ``minutes``; returns until."""
    from ioc_app import audit

    actor = _allowed()
    if minutes not in SILENCE_MINUTES:
        raise ValueError(f"silence for one of {', '.join(map(str, SILENCE_MINUTES))} minutes")
    active = _active(rt)
    if target not in active and target not in {a.split(":", 1)[0] for a in active}:
        raise LookupError(f"{target!r} is neither an active alert nor the rule of one")
    now = now or datetime.now(UTC)
    until = now + timedelta(minutes=minutes)
    db.record_action(rt.store, "silence", target, actor, now, until)
    audit.record("alert.silence", object=target, detail={"minutes": minutes,
                                                          "until": until.astimezone(UTC).isoformat()})
    _forget(rt)
    return until


def lift(rt: Any, target: str, now: datetime | None = None) -> None:
    """End the silences of ``target`` (an alert or a rule) now."""
    from ioc_app import audit

    actor = _allowed()
    if not target:
        raise LookupError("name the alert or rule whose silences end")
    db.record_action(rt.store, "lift", target, actor, now or datetime.now(UTC))
    audit.record("alert.silence_lift", object=target)
    _forget(rt)
