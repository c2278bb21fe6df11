"""Where notification state lives: the delivery log (the outbox's durable half) and the
operators' acknowledgements and silences, in the store (migration 19).

The store is what the web processes and the leader share in every mode, so an operator's
acknowledgement given on any web process reaches the leader that delivers, and both survive
a restart. Reads are small (the latest rows of a few hundred); the delivery worker reads the
actions once per round, off the core's hot path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl

from ioc_app.storage import SqlStore

DELIVERY = "ioc_alert_delivery"
ACTION = "ioc_alert_action"
TS = pl.Datetime("ms", "UTC")
Schema = dict[str, pl.DataType | type[pl.DataType]]
DELIVERY_SCHEMA: Schema = {"id": pl.Utf8, "ts": TS, "contact": pl.Utf8, "kind": pl.Utf8, "status": pl.Utf8,
                   "attempt": pl.UInt16, "next_at": TS, "error": pl.Utf8, "alerts": pl.List(pl.Utf8),
                   "entries": pl.Utf8}
ACTION_SCHEMA: Schema = {"id": pl.Utf8, "ts": TS, "action": pl.Utf8, "target": pl.Utf8, "until": TS,
                 "actor": pl.Utf8}
#: how far back an undelivered message is taken up again after a restart
PENDING_WITHIN = timedelta(hours=24)
#: the longest silence an operator may set
MAX_SILENCE = timedelta(days=7)


@dataclass(frozen=True)
class Action:
    """An acknowledgement or a silence in force: what, who, when, until (silences)."""

    id: str
    action: str  # ack | silence
    target: str  # an alert id ("rule:key") or, for silences, a rule id too
    at: datetime
    actor: str
    until: datetime | None = None

    def covers(self, alert_id: str) -> bool:
        return self.target == alert_id or self.target == alert_id.split(":", 1)[0]


def record_deliveries(store: SqlStore, rows: list[dict[str, Any]]) -> None:
    """Append delivery steps ``{id, ts, contact, kind, status, attempt, next_at, error,
    alerts, entries}`` (``entries`` a list, stored as JSON)."""
    if not rows:
        return
    frame = pl.DataFrame([{**r, "entries": orjson.dumps(r["entries"]).decode()} for r in rows],
                         schema=DELIVERY_SCHEMA)
    store.insert(DELIVERY, frame)


def pending_deliveries(store: SqlStore, now: datetime) -> list[dict[str, Any]]:
    """Messages whose latest step is ``queued`` or ``failed`` (not delivered, not expired),
    queued within ``PENDING_WITHIN``: the outbox a new leader takes up."""
    rows = store.rows(
        f"SELECT id, argMax(contact, (ts, attempt)), argMax(status, (ts, attempt)), "
        f"max(attempt), argMax(next_at, (ts, attempt)), argMax(error, (ts, attempt)), "
        f"argMax(entries, (ts, attempt)), min(ts) "
        f"FROM {DELIVERY} WHERE ts >= {{since:DateTime64(3, 'UTC')}} GROUP BY id "
        f"HAVING argMax(status, (ts, attempt)) IN ('queued', 'failed') ORDER BY min(ts)",
        {"since": (now - PENDING_WITHIN).astimezone(UTC)})
    return [{"id": r[0], "contact": r[1], "status": r[2], "attempt": int(r[3]), "next_at": _aware(r[4]),
             "error": r[5], "entries": orjson.loads(r[6]), "created": _aware(r[7])} for r in rows]


def delivery_status(store: SqlStore, now: datetime) -> dict[str, dict[str, Any]]:
    """Per contact point: last delivery, last step, last error, next retry and how many
    messages wait (latest step queued or failed, within ``PENDING_WITHIN``)."""
    since = {"since": (now - PENDING_WITHIN).astimezone(UTC)}
    out: dict[str, dict[str, Any]] = {}
    for contact, status, error, next_at, sent in store.rows(
            f"SELECT contact, argMax(status, (ts, attempt)), argMaxIf(error, ts, status IN "
            f"('failed', 'expired')), argMax(next_at, (ts, attempt)), maxIf(ts, status = 'sent') "
            f"FROM {DELIVERY} GROUP BY contact"):
        out[contact] = {"status": status, "error": error, "next_at": _aware(next_at),
                        "last_sent": _aware(sent) if sent and sent.year > 1970 else None, "pending": 0}
    for contact, n in store.rows(
            f"SELECT contact, count() FROM (SELECT id, any(contact) AS contact FROM {DELIVERY} "
            f"WHERE ts >= {{since:DateTime64(3, 'UTC')}} GROUP BY id "
            f"HAVING argMax(status, (ts, attempt)) IN ('queued', 'failed')) GROUP BY contact", since):
        blank = {"status": "", "error": "", "next_at": None, "last_sent": None}
        out.setdefault(contact, blank)["pending"] = n
    return out


def record_action(store: SqlStore, action: str, target: str, actor: str, now: datetime,
                  until: datetime | None = None) -> str:
    """Append one action row; returns its id."""
    row_id = str(uuid.uuid4())
    store.insert(ACTION, pl.DataFrame([{"id": row_id, "ts": now.astimezone(UTC), "action": action,
                                        "target": target, "until": until.astimezone(UTC) if until else None,
                                        "actor": actor}], schema=ACTION_SCHEMA))
    return row_id


def actions_in_force(store: SqlStore, now: datetime) -> list[Action]:
    """Acknowledgements not yet ended by their alert's recovery, and silences not expired
    nor lifted after they were set; acknowledgements first, newest first."""
    acks = [Action(str(r[0]), "ack", str(r[1]), _aware(r[2]), str(r[3])) for r in store.rows(
        f"SELECT argMax(id, ts), target, max(ts), argMax(actor, ts) FROM {ACTION} "
        f"WHERE action IN ('ack', 'ack_end') GROUP BY target HAVING argMax(action, ts) = 'ack' "
        f"ORDER BY max(ts) DESC")]
    lifted = {str(r[0]): _aware(r[1]) for r in store.rows(
        f"SELECT target, max(ts) FROM {ACTION} WHERE action = 'lift' "
        f"AND ts >= {{since:DateTime64(3, 'UTC')}} GROUP BY target",
        {"since": (now - MAX_SILENCE).astimezone(UTC)})}
    silences = []
    for row_id, target, at, actor, until in store.rows(
            f"SELECT id, target, ts, actor, until FROM {ACTION} WHERE action = 'silence' "
            f"AND until > {{now:DateTime64(3, 'UTC')}} ORDER BY ts DESC", {"now": now.astimezone(UTC)}):
        at = _aware(at)
        if target in lifted and lifted[target] >= at:
            continue
        silences.append(Action(str(row_id), "silence", str(target), at, str(actor), _aware(until)))
    return acks + silences


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
