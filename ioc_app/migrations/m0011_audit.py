"""The audit trail: who did what, from where, to what, with which result.

Append-only: rows arrive only through the ingest buffer's internal ``ioc_audit`` stream (the
same durable path and writer as events); no route or command updates or deletes them, and
rows leave only by the TTL. ``id`` is the row's own id: a row that a crash made the product
hand to the buffer twice (a command's spool file taken up again) is read once
(``LIMIT 1 BY id`` in ``metrics.audit``).

``actor_kind``: ``person``, ``screen``, ``token`` (a machine's bearer token), ``system`` (the
product itself and its command line), ``anonymous`` (a request with no credentials, e.g. a
refused API call or a failed sign-in before the name is known). ``detail`` is a JSON object
of filters, counts and digests — never personal data.
"""

from __future__ import annotations

from ioc_app.schema import Dialect

VERSION = 11
NAME = "audit"
#: how long the trail is kept (the specification asks for at least 180 days; the raw event
#: tables keep 400 by default)
RETENTION_DAYS = 400


def statements(d: Dialect) -> list[str]:
    return d.table(
        "ioc_audit",
        [
            ("id", "UUID"),
            ("ts", "DateTime64(3, 'UTC')"),
            ("actor_kind", "Enum8('person' = 1, 'screen' = 2, 'token' = 3, 'system' = 4, 'anonymous' = 5)"),
            ("actor", "String"),
            ("address", "String"),
            ("action", "LowCardinality(String)"),
            ("object", "String"),
            ("result", "LowCardinality(String)"),
            ("detail", "String"),
        ],
        engine="MergeTree",
        partition_by="toYYYYMM(ts)",
        order_by="(ts, id)",
        ttl=f"toDateTime(ts) + INTERVAL {RETENTION_DAYS} DAY",
        shard_key="cityHash64(id)",
    )
