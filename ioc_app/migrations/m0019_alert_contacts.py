"""Alert notifications: every delivery attempt, and the operators' acknowledgements and
silences.

- ``ioc_alert_delivery``: one row per step of a message to a contact point (``queued``,
  ``sent``, ``failed`` with the error and the next retry, ``expired``). The row carries the
  message's changes (alert titles and figures, never personal data), so a message that was
  not delivered when the server stopped is taken up again by the next leader: the latest row
  of a message id says where it is.
- ``ioc_alert_action``: ``ack`` (an alert acknowledged: no more repeats), ``ack_end`` (the
  acknowledged alert resolved), ``silence`` (a rule or an alert, ``until``), ``lift`` (the
  silences of a target ended early), with who and when. Append-only; the latest rows say
  what holds, so both survive a restart.
"""

from __future__ import annotations

from ioc_app.schema import Dialect

VERSION = 19
NAME = "alert_contacts"
TS = "DateTime64(3, 'UTC')"
DELIVERY_DAYS = 90
ACTION_DAYS = 400


def statements(d: Dialect) -> list[str]:
    out = d.table(
        "ioc_alert_delivery",
        [
            ("id", "String"),
            ("ts", TS),
            ("contact", "LowCardinality(String)"),
            ("kind", "LowCardinality(String)"),
            ("status", "LowCardinality(String)"),
            ("attempt", "UInt16"),
            ("next_at", f"Nullable({TS})"),
            ("error", "String"),
            ("alerts", "Array(String)"),
            ("entries", "String"),
        ],
        engine="MergeTree",
        partition_by="toYYYYMM(ts)",
        order_by="(contact, ts, id)",
        ttl=f"toDateTime(ts) + INTERVAL {DELIVERY_DAYS} DAY",
        shard_key="cityHash64(id)",
    )
    out += d.table(
        "ioc_alert_action",
        [
            ("id", "String"),
            ("ts", TS),
            ("action", "LowCardinality(String)"),
            ("target", "String"),
            ("until", f"Nullable({TS})"),
            ("actor", "String"),
        ],
        engine="MergeTree",
        partition_by="toYYYYMM(ts)",
        order_by="(ts, id)",
        ttl=f"toDateTime(ts) + INTERVAL {ACTION_DAYS} DAY",
        shard_key="cityHash64(target)",
    )
    return out
