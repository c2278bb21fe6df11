"""What the running server holds, and the one way to reach it.

Every route, the read API of the pages and the operations endpoints share one
:class:`Runtime` per app; it sits here, below all of them, so none of them imports another
just to find it (the app builds it, everything else only reads it). The type imports are
for annotations only: this module imports nothing of the product at run time, so anything
may import it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from ingest.offload import Offload
    from ingest.pipeline import Pipeline
    from ingest.site import Site
    from ingest.writer import Writer
    from ioc_app.auth import TokenBook
    from ioc_app.core import SnapshotCore
    from ioc_app.feed import LocalFeed, RedisFeed
    from ioc_app.screens import Screens
    from ioc_app.settings import Settings
    from ioc_app.storage import Store

#: the key of the running :class:`Runtime` in ``flask_app.extensions``
EXTENSION = "ioc"


@dataclass
class Runtime:
    """What the server holds while it runs; pages reach it only through ``ioc_app.read``."""

    settings: Settings
    site: Site
    store: Store
    feed: LocalFeed | RedisFeed
    core: SnapshotCore | None  # None in web workers of the scaled mode (the scheduler runs it)
    tokens: TokenBook
    pipeline: Pipeline
    writer: Writer
    screens: Screens
    offload: Offload | None = None  # Redis mode: ingest requests handled by helper processes
    scheduler: Any = None
    registry: Any = None
    #: the demo's history fill (``ioc_app.demo_history.HistoryFill``), None without the demo
    history: Any = None
    #: web requests being answered now
    in_flight: InFlight = field(default_factory=lambda: InFlight())


class InFlight:
    """Web requests being answered now — not the screens' pushes parked until the next
    version, which wait on purpose. The demo's history fill yields to the others."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._n

    def install(self, server: Any) -> None:
        from flask import g, request

        @server.before_request
        def _started() -> None:
            if request.args.get("wait") is None:
                g.ioc_in_flight = True
                with self._lock:
                    self._n += 1

        @server.teardown_request
        def _ended(_exc: BaseException | None) -> None:
            if g.pop("ioc_in_flight", False):
                with self._lock:
                    self._n -= 1


def runtime() -> Runtime:
    """The runtime of the app serving the current request."""
    found: Runtime = current_app.extensions[EXTENSION]
    return found


def redis_for(settings: Settings) -> Any:
    """A Redis client for the snapshot fan-out, caches and limits, or None without Redis."""
    if not settings.redis_url:
        return None
    from ingest.redis_client import connect

    return connect(settings.redis_url, settings.redis_tls, socket_timeout=5)
