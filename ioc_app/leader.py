"""Who computes the snapshot: one leader among the processes that run the core.

With Redis several scheduler processes may run the core for redundancy; a key with an
expiry elects one (``RedisLeader``). In embedded mode the one process owns the store and
always leads (``SoleLeader``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

log = logging.getLogger("ioc.core")

LEADER_KEY = "ioc:core:leader"


class RedisLeader:
    """One leader among scheduler processes: a Redis key with expiry, renewed by its holder
    while it runs (every tick, or every ``ioc_app.trigger.LEAD_CHECK_S`` with the commit
    trigger); a crashed leader's key expires and another process takes over."""

    RENEW = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('PEXPIRE', KEYS[1], ARGV[2])
    end
    if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
    return 0
    """

    def __init__(self, client: Any, ttl_s: float, me: str | None = None) -> None:
        self.client = client
        self.ttl_ms = int(ttl_s * 1000)
        self.me = me or uuid.uuid4().hex
        self.held = False
        self._renew = client.register_script(self.RENEW)

    def hold(self) -> bool:
        """Take or renew the lock; False when another process leads (or Redis is away)."""
        try:
            held = bool(self._renew(keys=[LEADER_KEY], args=[self.me, self.ttl_ms]))
        except Exception as exc:
            log.warning("event=core.leader_unknown error=%r", str(exc)[:200])
            held = False
        if held != self.held:
            log.info("event=core.leadership held=%s node=%s", held, self.me)
        self.held = held
        return held

    def release(self) -> None:
        try:
            if self.client.get(LEADER_KEY) == self.me.encode():
                self.client.delete(LEADER_KEY)
        except Exception:  # expiry releases it anyway
            pass
        self.held = False


class SoleLeader:
    """Embedded mode: this process owns the store, so it always leads."""

    held = True
    me = "embedded"

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        pass
