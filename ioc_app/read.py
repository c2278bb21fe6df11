"""What pages may know of the server: the current snapshot, and nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from ingest.site import Site

EXTENSION = "ioc"


def snapshot() -> dict[str, Any] | None:
    """The live snapshot for the request being served (None before the first one exists).

    Reading never computes: the core publishes, every page request reads what it published.
    """
    current = current_app.extensions[EXTENSION].feed.current()
    return current.data if current is not None else None


def screens() -> list[dict[str, Any]]:
    """The screens that sent heartbeats (``silent`` when they stopped)."""
    return current_app.extensions[EXTENSION].screens.all()


def site() -> Site:
    """The site catalogue the server runs with (gate, link and campus names for labels)."""
    return current_app.extensions[EXTENSION].site


def settings() -> Any:
    """The running settings (zone, tick…), for pages that show or pass them on."""
    return current_app.extensions[EXTENSION].settings


def snapshot_for(at: str | None) -> dict[str, Any] | None:
    """The live snapshot, or with ``at`` (RFC 3339) the stored one shown at that minute."""
    if not at:
        return snapshot()
    import orjson

    from ioc_app.snapshot_api import parse_time
    from metrics import history

    runtime = current_app.extensions[EXTENSION]
    try:
        body = history.at(runtime.store, parse_time(at, runtime.settings.zone))
    except ValueError:
        return None
    return orjson.loads(body) if body else None
