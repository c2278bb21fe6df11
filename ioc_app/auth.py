"""Ingest tokens: one per source system, with the streams it may write.

Only SHA-256 hashes are stored (``IOC_TOKENS_FILE``, TOML); a token is printed once when it
is created. The file is re-read when it changes, so a running server picks up new and
revoked tokens without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import tomli_w

PREFIX = "ioc_"
RECHECK_S = 1.0


class TokenError(ValueError):
    """A token command was given something it cannot use; the message says what to change."""


@dataclass(frozen=True)
class Source:
    """A source system and the streams its token may write (``*`` = every stream)."""

    name: str
    streams: tuple[str, ...]

    def may_write(self, stream: str) -> bool:
        return "*" in self.streams or stream in self.streams


def _hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def _read(path: Path) -> dict[str, dict[str, object]]:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return dict(tomllib.load(fh).get("sources", {}))


def _streams(entry: dict[str, object]) -> tuple[str, ...]:
    """The streams a source may write: the list this module wrote into its TOML entry."""
    return tuple(cast("Iterable[str]", entry.get("streams", ())))


def _write(path: Path, sources: dict[str, dict[str, object]]) -> None:
    """Replace the file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tokens-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"# IOC ingest tokens: hashes only. Manage with 'python -m ioc_app token'.\n")
        tomli_w.dump({"sources": sources}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def create_token(path: str | Path, source: str, streams: list[str], known_streams: set[str]) -> str:
    """Create (or replace) the token of ``source`` and return it; it is not stored."""
    if not source or not all(c.isalnum() or c in "-_." for c in source) or len(source) > 64:
        raise TokenError(f"source {source!r}: use 1–64 letters, digits, '-', '_' or '.'")
    wanted = [s.strip() for s in streams if s.strip()]
    if not wanted:
        raise TokenError("--streams is empty: list stream names separated by commas, or '*'")
    unknown = [s for s in wanted if s != "*" and s not in known_streams]
    if unknown:
        raise TokenError(
            f"unknown stream {unknown[0]!r}; use '*' or some of: {', '.join(sorted(known_streams))}"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    p = Path(path)
    sources = _read(p)
    sources[source] = {
        "hash": _hash(token),
        "streams": sorted(set(wanted)),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write(p, sources)
    return token


def revoke_token(path: str | Path, source: str) -> None:
    p = Path(path)
    sources = _read(p)
    if source not in sources:
        names = ", ".join(sorted(sources)) or "none"
        raise TokenError(f"no token for source {source!r}; sources with tokens: {names}")
    del sources[source]
    _write(p, sources)


def list_sources(path: str | Path) -> list[Source]:
    return [Source(name, _streams(v)) for name, v in sorted(_read(Path(path)).items())]


class TokenBook:
    """Checks bearer tokens against the file, re-reading it whenever it changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._entries: list[tuple[str, Source]] = []
        self._lock = threading.Lock()
        self._checked = 0.0

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < RECHECK_S and self._stamp is not None:
            return  # a revoked token stops working within a second, without a stat per request
        self._checked = now
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        sources = _read(self.path) if stamp else {}
        self._entries = [
            (str(v["hash"]), Source(name, _streams(v)))
            for name, v in sources.items()
        ]
        self._stamp = stamp

    def verify(self, token: str) -> Source | None:
        """The source owning ``token``, or None. Every stored hash is compared in constant
        time, so timing reveals neither which source nor how much of a hash matched."""
        with self._lock:
            self._refresh()
            entries = list(self._entries)
        digest = _hash(token)
        found = None
        for stored, source in entries:
            if hmac.compare_digest(stored.encode(), digest.encode()):
                found = source
        return found
