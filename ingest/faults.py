"""Fault points: named places on the accept → buffer → insert → acknowledge path where a
fault test kills a process, so the exactly-once promise is checked at the moments that
matter and not only at random times.

``IOC_FAULTS`` (empty in production, where every ``reach`` is one dictionary look-up) names
points with a probability and what dies there, e.g.
``writer.inserted=0.05:group,redis.released=0.03:redis``:

- ``group``: SIGKILL this process's whole process group (the server with its helpers);
- ``self``: SIGKILL this process alone (an ingest helper, say);
- ``redis``: SIGKILL the redis-server this process talks to (only on this machine), then
  fail as if the reply had been lost — the command ran and is durable, the caller never
  learns it;
- ``rewrite``: start an AOF rewrite, then kill redis-server as ``redis`` does.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import time
from typing import Any

from ioc_app.settings import parse_faults

log = logging.getLogger("ioc.faults")

_plan: dict[str, tuple[float, str]] | None = None


def _current() -> dict[str, tuple[float, str]]:
    global _plan
    if _plan is None:
        _plan = parse_faults(os.environ.get("IOC_FAULTS", ""))
    return _plan


def reach(point: str, redis_client: Any = None) -> None:
    """Maybe fail here, as ``IOC_FAULTS`` says; nothing at all when it is empty."""
    planned = _current().get(point)
    if planned is None or random.random() >= planned[0]:
        return
    action = planned[1]
    log.warning("event=fault.injected point=%s action=%s pid=%d", point, action, os.getpid())
    for handler in logging.getLogger().handlers:
        handler.flush()
    if action in ("redis", "rewrite"):
        if redis_client is None:
            return
        _kill_redis(redis_client, rewrite=action == "rewrite")
        import redis

        raise redis.ConnectionError(f"fault point {point}: redis-server killed before its reply")
    if action == "group":
        os.killpg(os.getpgrp(), signal.SIGKILL)
    else:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(5)  # a kill is delivered at once; never carry on past the point


def _kill_redis(client: Any, rewrite: bool) -> None:
    pid = int(client.info("server")["process_id"])
    if rewrite:
        client.bgrewriteaof()
    os.kill(pid, signal.SIGKILL)
