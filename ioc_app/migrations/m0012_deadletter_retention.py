"""Dead letters get their own, short retention: 30 days instead of the raw tables' 400.

A dead letter is evidence for fixing a sender, not history; keeping it for a month is
enough to notice, fix and replay, and keeps whatever a rejected event carried out of the
store soon. ``IOC_DEADLETTER_DAYS`` changes it at start (``metrics.deadletter.keep_for``).
"""

from __future__ import annotations

from ioc_app.schema import Dialect

VERSION = 12
NAME = "deadletter_retention"
RETENTION_DAYS = 30


def statements(d: Dialect) -> list[str]:
    return d.alter("ioc_deadletter", f"MODIFY TTL toDateTime(received_at) + INTERVAL {RETENTION_DAYS} DAY")
