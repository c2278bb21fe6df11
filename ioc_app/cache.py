"""Caches of bytes: in Redis (shared by every worker) or in this process.

They store and return ``bytes`` only — the caller encodes (Arrow IPC, JSON) and decodes — so
nothing read back is ever turned into objects by a general-purpose deserialiser. A cache
that unpickled what it read would run whatever code somebody able to write to Redis put
there; here a foreign entry (anything without this module's marker, e.g. one written by an
older release or planted by hand) is a miss, is deleted, and is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

log = logging.getLogger("ioc.cache")

#: the first bytes of every entry this module writes; the version lets a later format
#: treat older entries as misses
MARK = b"ioc-bytes-1\n"


class BytesCache(Protocol):
    """What a cache offers: bytes in, bytes (or None for a miss) out."""

    backend: str

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, timeout: int) -> None: ...

    def clear(self) -> None: ...


def _checked(value: bytes) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"a cache keeps bytes, not {type(value).__name__}: encode the value first")
    return value


class RedisBytesCache:
    """Entries under ``prefix`` in Redis, each expiring after its own timeout."""

    backend = "redis"

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def get(self, key: str) -> bytes | None:
        raw = self.client.get(self.prefix + key)
        if raw is None:
            return None
        if not raw.startswith(MARK):
            log.warning("event=cache.foreign_entry backend=redis key=%s bytes=%d action=deleted",
                        self.prefix + key, len(raw))
            self.client.delete(self.prefix + key)
            return None
        return bytes(raw[len(MARK):])

    def set(self, key: str, value: bytes, timeout: int) -> None:
        self.client.set(self.prefix + key, MARK + _checked(value), ex=max(1, int(timeout)))

    def clear(self) -> None:
        """Drop every entry under the prefix (other keys in the same Redis stay)."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=500))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start:start + 500])


class MemoryBytesCache:
    """Up to ``threshold`` entries in this process, the oldest dropped first."""

    backend = "memory"

    def __init__(self, threshold: int = 500) -> None:
        self.threshold = threshold
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def set(self, key: str, value: bytes, timeout: int) -> None:
        value = _checked(value)
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (time.monotonic() + timeout, value)
            now = time.monotonic()
            for stale in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                del self._entries[stale]
            while len(self._entries) > self.threshold:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
