"""Commit notifications: which tables the writer has just committed, for the aggregation core.

In one process (embedded mode) the writer calls the core directly (``Writer.add_listener``).
With Redis the writer and the core may run in different processes (``python -m ioc_app
ingest`` and ``scheduler``): after each confirmed insert the writer counts the table in a
Redis hash and publishes its name (``RedisCommits``); the core's process subscribes
(``CommitListener``). Pub/sub drops messages while a subscriber is disconnected, so the
listener also compares the hash's counters every ``CHECK_S`` seconds and reports the tables
whose counter moved without a message: a dropped message delays a change by seconds, it
never loses it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("ioc.commits")

CHANNEL = "ioc:commits"
COUNTS_KEY = "ioc:commits:count"
CHECK_S = 5.0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCommits:
    """The writer's side: count and announce each committed table (a writer listener)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, table: str) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hincrby(COUNTS_KEY, table, 1)
            pipe.publish(CHANNEL, table)
            pipe.execute()
        except Exception as exc:  # the rows are stored; the core's own schedule catches up
            log.warning("event=commits.publish_failed table=%s error=%r", table, str(exc)[:200])


class CommitListener:
    """The core's side: ``on_commit(tables)`` for every announced commit, and for the tables
    whose counter moved without an announcement (checked every ``check_s``)."""

    def __init__(self, client: Any, on_commit: Callable[[Iterable[str]], None],
                 check_s: float = CHECK_S) -> None:
        self.client = client
        self.on_commit = on_commit
        self.check_s = check_s
        self.received = 0
        self.recovered = 0  # tables reported by the counter check (their message was lost)
        self._counts: dict[str, int] | None = None
        self._announced: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ioc-commits", daemon=True)

    def start(self) -> CommitListener:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                self.check()
                checked = time.monotonic()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=self.check_s)
                    if message and message.get("type") == "message":
                        table = _text(message["data"])
                        self.received += 1
                        self._announced.add(table)
                        self.on_commit((table,))
                    if time.monotonic() - checked >= self.check_s:
                        self.check()
                        checked = time.monotonic()
                pubsub.close()
            except Exception as exc:  # Redis away: the check after reconnecting catches up
                log.warning("event=commits.listen_failed error=%r", str(exc)[:200])
                self._stop.wait(1.0)

    def check(self) -> set[str]:
        """Report the tables whose commit counter moved since the last check without their
        message having arrived; returns them."""
        counts = {_text(k): int(v) for k, v in self.client.hgetall(COUNTS_KEY).items()}
        before, self._counts = self._counts, counts
        announced, self._announced = self._announced, set()
        if before is None:  # the first look: nothing to compare with yet
            return set()
        missed = {t for t, n in counts.items() if n != before.get(t) and t not in announced}
        if missed:
            self.recovered += len(missed)
            log.info("event=commits.recovered tables=%s", ",".join(sorted(missed)))
            self.on_commit(missed)
        return missed
