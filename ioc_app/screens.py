"""Open screens and their heartbeats: which walls and tablets show what, and which went silent.

Every cockpit page posts a heartbeat (page, the snapshot version it shows, its JS heap and
DOM size); a paired screen is named by its pairing. ``/health`` lists them and flags a screen silent
after ``IOC_SCREEN_SILENT_S`` (90 s) — a wall that crashed or lost its network is noticed by
the ops center, not by a leader walking past. The server tells each screen how often to beat
(a third of the silence, so one late beat is not yet silence): the pages need no setting of
their own and a changed threshold reaches every open screen with its next beat. Kept in the
process, or in Redis (a hash) when several web workers serve the screens.

The registry is keyed by who beats — a paired screen by its pairing's name, a person's browser
by its address and page — never by a name the browser sends, and it holds at most
``MAX_SCREENS`` entries: past that, the longest-silent ones are forgotten first, so a client
beating with ever new pages cannot grow it without end.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson

SILENT_AFTER_S = 90
FORGET_AFTER_S = 24 * 3600
REDIS_KEY = "ioc:screens"
#: entries kept (a campus has tens of screens; room for every person's tablet besides)
MAX_SCREENS = 500
MAX_BEAT_BYTES = 8192
FIELDS = {"screen": str, "page": str, "version": int, "heap_bytes": int, "dom_nodes": int,
          "lang": str, "width": int, "height": int}


class Screens:
    """The heartbeat registry (in-process, or a Redis hash shared by every web worker)."""

    def __init__(self, redis: Any = None, silent_after_s: float = SILENT_AFTER_S,
                 max_entries: int = MAX_SCREENS) -> None:
        self.redis = redis
        self.max_entries = max_entries
        #: three missed heartbeats: one late beat (a busy tablet) is not yet silence
        self.silent_after_s = silent_after_s
        self.heartbeat_s = round(silent_after_s / 3, 1)
        self._local: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def beat(self, beat: dict[str, Any], address: str, now: float | None = None,
             name: str | None = None) -> dict[str, Any]:
        """Record a beat. A paired screen is listed by its paired name; any other browser (a
        person's tablet) by its address and page — never by a name the browser sends."""
        entry = {k: beat.get(k) for k in FIELDS}
        key = (name or f"{address} {entry.get('page') or ''}").strip()[:80]
        entry["screen"] = key
        entry["address"] = address
        entry["seen"] = now if now is not None else time.time()
        if self.redis is not None:
            self.redis.hset(REDIS_KEY, key, orjson.dumps(entry))
            if self.redis.hlen(REDIS_KEY) > self.max_entries:
                seen = {k: orjson.loads(v)["seen"] for k, v in self.redis.hgetall(REDIS_KEY).items()}
                oldest = sorted(seen, key=seen.__getitem__)[:len(seen) - self.max_entries]
                if oldest:
                    self.redis.hdel(REDIS_KEY, *oldest)
        else:
            with self._lock:
                self._local.pop(key, None)
                self._local[key] = entry  # insertion order is the order of the last beat
                while len(self._local) > self.max_entries:
                    del self._local[next(iter(self._local))]
        return entry

    def all(self, now: float | None = None) -> list[dict[str, Any]]:
        """Every screen seen within a day, silent ones flagged, by name."""
        now = now if now is not None else time.time()
        if self.redis is not None:
            entries = [orjson.loads(v) for v in self.redis.hgetall(REDIS_KEY).values()]
        else:
            with self._lock:
                entries = [dict(v) for v in self._local.values()]
        out = []
        for e in entries:
            age = now - e["seen"]
            if age > FORGET_AFTER_S:
                continue
            out.append({**e, "age_s": round(age, 1), "silent": age > self.silent_after_s})
        return sorted(out, key=lambda e: e["screen"])


def clean_beat(raw: Any) -> dict[str, Any] | None:
    """A heartbeat's known fields, typed and cut to size; None for a body that is not one."""
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        value = raw.get(name)
        if value is None:
            continue
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            out[name] = int(value)
        else:
            out[name] = str(value)[:120]
    return out
