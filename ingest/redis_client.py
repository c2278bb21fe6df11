"""The one way the product opens Redis, and what it asks of the server it opens.

Every Redis client (buffer, seen-set, snapshot fan-out, sessions, screens, query cache, rate
limits) is made by :func:`connect`, so a password in the URL and the TLS options of
``rediss://`` apply to every connection alike. "Accepted means durable" needs Redis to fsync
every write and never evict: :func:`check_durability` refuses a server that does not (unless
told to accept the loss window, which is then logged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import redis

from ioc_app.settings import RedisTLS

log = logging.getLogger("ioc.redis_buffer")

#: every key the product writes to Redis starts with this
PREFIX = "ioc"


class BufferUnavailable(OSError):
    """Redis cannot be reached: nothing was accepted (the API answers 503)."""


_P = ParamSpec("_P")
_T = TypeVar("_T")


def guard(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Turn Redis connection failures into ``BufferUnavailable`` for the layers above."""
    def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise BufferUnavailable(f"Redis is unreachable: {exc}") from exc
    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def buffer_key(table: str) -> str:
    """The Redis Stream that buffers the batches of ``table``."""
    return f"{PREFIX}:buffer:{table}"


def depth_key(table: str) -> str:
    """The count of rows waiting in ``table``'s buffer."""
    return f"{PREFIX}:depth:{table}"


class RedisDurabilityError(RuntimeError):
    """The Redis server cannot promise that an acknowledged event survives a restart."""


def connect(url: str, tls: RedisTLS | None = None, *, socket_timeout: float = 10) -> redis.Redis:
    """The one way the product opens Redis (buffer, snapshot fan-out, sessions, screens, query
    cache, rate limits), so a password in the URL (``redis://:pass@host``) and the TLS options
    of ``rediss://`` apply to every connection alike. ``tls`` is ignored without ``rediss://``
    (the settings refuse that combination)."""
    options: dict[str, Any] = {}
    if urlsplit(url).scheme == "rediss":
        options = (tls or RedisTLS()).ssl_options()
    return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=5,
                                health_check_interval=30, **options)


def check_durability(client: redis.Redis, relaxed: bool = False) -> None:
    """AOF on with ``appendfsync always`` and ``maxmemory-policy noeviction``, or refuse."""
    cfg = {k: v for name in ("appendonly", "appendfsync", "maxmemory-policy")
           for k, v in client.config_get(name).items()}
    problems = []
    if cfg.get("appendonly") != "yes":
        problems.append("appendonly is 'no': set 'appendonly yes'")
    if cfg.get("appendfsync") != "always":
        problems.append(f"appendfsync is '{cfg.get('appendfsync')}': set 'appendfsync always'")
    if cfg.get("maxmemory-policy") != "noeviction":
        problems.append(f"maxmemory-policy is '{cfg.get('maxmemory-policy')}': set "
                        f"'maxmemory-policy noeviction'")
    if not problems:
        return
    message = ("Redis cannot guarantee that accepted events survive a restart: " + "; ".join(problems)
               + " (in redis.conf or with CONFIG SET)")
    if not relaxed:
        raise RedisDurabilityError(message + ", or set IOC_REDIS_DURABILITY=relaxed to accept "
                                   "losing up to a second of accepted events")
    log.warning("event=redis.durability_relaxed loss_window=%r detail=%r",
                "about 1 s of acknowledged events on a Redis crash", message)
