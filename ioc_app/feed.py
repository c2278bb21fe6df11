"""Where a process reads the published snapshot, and where screens wait for the next one.

The core publishes each new version once, as bytes (:class:`Published`): into the process
(:class:`LocalFeed`, embedded mode) or to Redis, whose pub/sub every web worker listens to
(:class:`RedisFeed`). Reading never computes, so 200 screens cost the store nothing.

Push (``GET /api/v1/snapshot?wait=``): a screen that already holds the current version parks
its request on the feed's :class:`PushBoard` — one ``threading.Condition`` per process —
until a new version is announced or its wait ends. A parked request holds a server thread and
nothing else (no store session, no lock another route takes), and at most ``IOC_PUSH_HELD``
are parked per process: the server is started with that many threads on top of the ones that
serve everything else, so held requests never take a thread from ingest or the pages. Beyond
the cap the answer is immediate and the screen polls. Announcements are coalesced to at most
one per ``PUSH_MIN_INTERVAL_S`` (4 a second), so however fast the core publishes, a screen
receives at most 4 versions a second.

Figures that only age are computed when read: ``freshness.<stream>.lag_s`` (seconds from the
newest event's arrival) and ``network.links[].age_s`` (seconds since the link's latest
sample) are as of the core's ``generated_at`` in the published bytes; :meth:`Published.served`
adds the time since then, so a snapshot the core has not recomputed for minutes still says how
old the data is *now*. The patched bytes are kept for ``SERVED_REUSE_S``, so a burst of
readers serialises once; the ETag stays the version (the figures did not change).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

import orjson

log = logging.getLogger("ioc.feed")

SNAPSHOT_KEY = "ioc:snapshot"
SNAPSHOT_CHANNEL = "ioc:snapshot"
#: at most this often a parked screen is woken: ≤ 4 versions a second per screen
PUSH_MIN_INTERVAL_S = 0.25
#: how long the served bytes of one version (with the figures that age patched) are reused
SERVED_REUSE_S = 0.2


@dataclass(frozen=True)
class Published:
    """A snapshot as served: the JSON bytes every reader gets, and its version."""

    version: int
    body: bytes
    parsed: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    _served: list[Any] = field(default_factory=list, compare=False, repr=False)

    @cached_property
    def data(self) -> dict[str, Any]:
        return self.parsed if self.parsed is not None else orjson.loads(self.body)

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @classmethod
    def of(cls, snapshot: dict[str, Any]) -> Published:
        return cls(int(snapshot["version"]), orjson.dumps(snapshot), snapshot)

    @cached_property
    def generated(self) -> float | None:
        """``generated_at`` as a Unix time (None when the snapshot has none)."""
        raw = self.data.get("generated_at")
        try:
            return datetime.fromisoformat(raw).timestamp() if isinstance(raw, str) else None
        except ValueError:
            return None

    def served(self, now: float | None = None) -> tuple[bytes, dict[str, Any]]:
        """The body and data as served at ``now`` (Unix time): the figures that only age
        (``lag_s``, ``age_s``) advanced from ``generated_at`` to ``now``. Reused for
        ``SERVED_REUSE_S`` (monotonic), so many readers cost one serialisation."""
        clock = time.monotonic()
        cached = self._served[:] if self._served else None
        if cached is not None and clock - cached[0] < SERVED_REUSE_S:
            return cached[1], cached[2]
        now = time.time() if now is None else now
        if self.generated is None:
            return self.body, self.data
        data = aged(self.data, max(now - self.generated, 0.0))
        body = orjson.dumps(data)
        self._served[:] = [clock, body, data]
        return body, data


def aged(data: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``data`` with every figure that only ages advanced by ``seconds`` (a shallow copy: the
    published dict is shared by every reader and never changed)."""
    out = dict(data)
    fresh = data.get("freshness")
    if isinstance(fresh, dict):
        out["freshness"] = {name: _advance(f, "lag_s", seconds) for name, f in fresh.items()}
    for part in ("backup", "shipping"):  # the newest good backup's age, the last shipment's
        if isinstance(data.get(part), dict):
            out[part] = _advance(data[part], "lag_s", seconds)
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("links"), list):
        out["network"] = {**network, "links": [_advance(link, "age_s", seconds) for link in network["links"]]}
    return out


def _advance(entry: Any, key: str, seconds: float) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get(key), int | float):
        return entry
    return {**entry, key: round(entry[key] + seconds, 3)}


class PushBoard:
    """Screens' requests parked until the next version (one ``Condition`` per process).

    ``wait`` answers at once when the screen is behind what was last announced, parks it
    otherwise — at most ``limit`` parked at a time — and returns when an announcement names
    another version, when its time is up, or when the server is stopping (``close``).
    """

    def __init__(self, limit: int = 0, min_interval_s: float = PUSH_MIN_INTERVAL_S) -> None:
        self.limit = limit
        self.min_interval_s = min_interval_s
        self._cond = threading.Condition()
        self._held = 0
        self._latest: Published | None = None
        self._woken: Published | None = None  # what the last wake told the parked screens
        self._woken_at = 0.0
        self._deferred = False
        self._closing = False
        self.answers: dict[str, int] = {}

    @property
    def held(self) -> int:
        return self._held

    def announce(self, published: Published) -> None:
        """A new version: wake the parked screens now, or at the next allowed moment."""
        with self._cond:
            if self._latest is not None and published.version <= self._latest.version:
                return
            self._latest = published
            wait = self._woken_at + self.min_interval_s - time.monotonic()
            if wait <= 0:
                self._wake()
            elif not self._deferred:
                self._deferred = True
                timer = threading.Timer(wait, self._wake_deferred)
                timer.daemon = True
                timer.start()

    def _wake_deferred(self) -> None:
        with self._cond:
            self._deferred = False
            self._wake()

    def _wake(self) -> None:  # with the condition held
        self._woken, self._woken_at = self._latest, time.monotonic()
        self._cond.notify_all()

    def wait(self, version: int | None, timeout: float) -> tuple[str, Published | None]:
        """``(how, published)``: ``now`` with the version to send at once (the screen is
        behind), ``new`` with the version announced while it waited, ``held`` (its time is up,
        nothing new), ``busy`` (``limit`` screens are parked already), ``off`` (push is off:
        ``limit`` 0) or ``closing`` (the server is stopping)."""
        with self._cond:
            how, found = self._wait(version, timeout)
            self.answers[how] = self.answers.get(how, 0) + 1
            return how, found

    def _wait(self, version: int | None, timeout: float) -> tuple[str, Published | None]:
        if self._closing:
            return "closing", None
        if self.limit <= 0:
            return "off", None
        latest, woken = self._latest, self._woken
        if latest is not None and version not in (latest.version, woken.version if woken else None):
            return "now", latest
        if self._held >= self.limit:
            return "busy", None
        self._held += 1
        try:
            deadline = time.monotonic() + timeout
            while not self._closing:
                woken = self._woken
                if woken is not None and woken.version != version and (
                        self._latest is None or version != self._latest.version):
                    return "new", woken
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "held", None
                self._cond.wait(remaining)
            return "closing", None
        finally:
            self._held -= 1

    def close(self) -> None:
        """The server is stopping: every parked screen is answered now, and no new one parks."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()


class Feed(Protocol):
    """Where a process reads the current snapshot from."""

    push: PushBoard

    def current(self) -> Published | None: ...


class LocalFeed:
    """The snapshot held in this process (the core runs here)."""

    def __init__(self) -> None:
        self._current: Published | None = None
        self.push = PushBoard()

    def put(self, published: Published) -> None:
        self._current = published
        self.push.announce(published)

    def current(self) -> Published | None:
        return self._current


class RedisFeed:
    """The snapshot as published to Redis, for web workers that do not run the core.

    A listener thread keeps the last pub/sub message (and announces it to the screens parked
    here); when none came for a few ticks (a restart of Redis, a missed message) the key is
    read instead, at most once per second.
    """

    def __init__(self, client: Any, tick_s: float = 1.0) -> None:
        self.client = client
        self.tick_s = tick_s
        self.push = PushBoard()
        self._current: Published | None = None
        self._received = 0.0
        self._polled = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="ioc-feed", daemon=True)
        self._thread.start()

    def _take(self, body: bytes | None) -> None:
        if not body:
            return
        published = Published(int(orjson.loads(body)["version"]), body)
        if self._current is None or published.version >= self._current.version:
            if self._current is None or published.version > self._current.version:
                self._current = published
                self.push.announce(published)
        self._received = time.monotonic()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(SNAPSHOT_CHANNEL)
                self._take(self.client.get(SNAPSHOT_KEY))
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self._take(message["data"])
            except Exception as exc:  # Redis away: keep the last snapshot, retry soon
                log.warning("event=feed.redis_error error=%r", str(exc)[:200])
                self._stop.wait(1.0)

    def current(self) -> Published | None:
        now = time.monotonic()
        if now - self._received > 3 * self.tick_s and now - self._polled > 1.0:
            self._polled = now
            try:
                self._take(self.client.get(SNAPSHOT_KEY))
            except Exception as exc:
                log.warning("event=feed.redis_error error=%r", str(exc)[:200])
        return self._current

    def close(self) -> None:
        self._stop.set()
        self.push.close()
