"""People's sessions, kept on the server: the cookie holds a random id and nothing else.

Kept in Redis when it is configured (every web worker and host sees the same sessions),
otherwise in the access file beside the server (a restart keeps them). Checking one is a
key lookup, never a store query. The id is stored only as its SHA-256, so a copy of the
file or of Redis gives nobody a session. An idle session ends after ``IOC_SESSION_IDLE_MIN``
and any session after ``IOC_SESSION_MAX_H``; sign-out, ``user disable`` and CAS single
logout delete it, and every worker sees that at its next request.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

from ioc_app.accessdb import AccessDB

#: the last-seen time is written at most this often: idle timeouts are minutes, and a write
#: per request would cost every page load a disk write
TOUCH_EVERY_S = 30.0
PREFIX = "ioc:session:"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Found:
    """A looked-up session: ``body`` when it is valid, else why not (missing, idle, expired)."""

    body: dict[str, Any] | None
    state: str


class Sessions:
    """The session store (SQLite access file, or Redis when a client is given)."""

    def __init__(self, db: AccessDB, redis: Any = None, idle_s: float = 1800,
                 max_s: float = 12 * 3600) -> None:
        self.db = db
        self.redis = redis
        self.idle_s = idle_s
        self.max_s = max_s

    def create(self, body: dict[str, Any], now: float | None = None) -> str:
        """A new session (a new id every time: signing in rotates the session)."""
        now = now if now is not None else time.time()
        token = secrets.token_urlsafe(32)
        key = _digest(token)
        record = {**body, "created": now, "seen": now}
        if self.redis is not None:
            pipe = self.redis.pipeline()
            pipe.set(PREFIX + key, orjson.dumps(record), ex=int(self.max_s) + 60)
            pipe.sadd(f"{PREFIX}by:{body['name']}", key)
            if body.get("cas_ticket"):
                pipe.set(f"{PREFIX}cas:{_digest(body['cas_ticket'])}", key, ex=int(self.max_s) + 60)
            pipe.execute()
        else:
            self.db.connect().execute(
                "INSERT INTO sessions(id, body, name, created, seen) VALUES (?,?,?,?,?)",
                (key, orjson.dumps(record).decode(), body["name"], now, now))
        return token

    def get(self, token: str, now: float | None = None) -> Found:
        now = now if now is not None else time.time()
        key = _digest(token)
        if self.redis is not None:
            raw = self.redis.get(PREFIX + key)
            record = orjson.loads(raw) if raw else None
        else:
            row = self.db.connect().execute("SELECT body, seen FROM sessions WHERE id=?", (key,)).fetchone()
            record = {**orjson.loads(row[0]), "seen": row[1]} if row else None
        if record is None:
            return Found(None, "missing")
        if now - record["created"] > self.max_s:
            self._delete_key(key, record["name"], record.get("cas_ticket"))
            return Found(record, "expired")
        if now - record["seen"] > self.idle_s:
            self._delete_key(key, record["name"], record.get("cas_ticket"))
            return Found(record, "idle")
        if now - record["seen"] > TOUCH_EVERY_S:
            record["seen"] = now
            if self.redis is not None:
                self.redis.set(PREFIX + key, orjson.dumps(record), keepttl=True)
            else:
                self.db.connect().execute("UPDATE sessions SET seen=? WHERE id=?", (now, key))
        return Found(record, "ok")

    def _delete_key(self, key: str, name: str, ticket: str | None = None) -> None:
        if self.redis is not None:
            pipe = self.redis.pipeline()
            pipe.delete(PREFIX + key)
            pipe.srem(f"{PREFIX}by:{name}", key)
            if ticket:
                pipe.delete(f"{PREFIX}cas:{_digest(ticket)}")
            pipe.execute()
        else:
            self.db.connect().execute("DELETE FROM sessions WHERE id=?", (key,))

    def delete(self, token: str) -> dict[str, Any] | None:
        """End a session; returns what it was (for the audit row), or None."""
        found = self.get(token)
        if found.body is not None:
            self._delete_key(_digest(token), found.body["name"], found.body.get("cas_ticket"))
        return found.body if found.state == "ok" else None

    def delete_person(self, name: str) -> int:
        """End every session of a person (disabled, or roles taken away)."""
        if self.redis is not None:
            keys = [k.decode() if isinstance(k, bytes) else k
                    for k in self.redis.smembers(f"{PREFIX}by:{name}")]
            if keys:
                self.redis.delete(*[PREFIX + k for k in keys], f"{PREFIX}by:{name}")
            return len(keys)
        return self.db.connect().execute("DELETE FROM sessions WHERE name=?", (name,)).rowcount

    def delete_cas_ticket(self, ticket: str) -> str | None:
        """CAS single logout names the service ticket the session began with."""
        if self.redis is not None:
            key = self.redis.get(f"{PREFIX}cas:{_digest(ticket)}")
            if not key:
                return None
            key = key.decode() if isinstance(key, bytes) else key
            raw = self.redis.get(PREFIX + key)
            name = orjson.loads(raw)["name"] if raw else ""
            self._delete_key(key, name, ticket)
            return name or None
        c = self.db.connect()
        for row in c.execute("SELECT id, body, name FROM sessions"):
            if orjson.loads(row[1]).get("cas_ticket") == ticket:
                c.execute("DELETE FROM sessions WHERE id=?", (row[0],))
                return str(row[2])
        return None
