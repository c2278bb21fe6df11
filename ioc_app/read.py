"""What pages may know of the server: the current snapshot, and nothing else."""

from __future__ import annotations

from typing import Any

from flask import current_app

EXTENSION = "ioc"


def snapshot() -> dict[str, Any] | None:
    """The live snapshot for the request being served (None before the first one exists).

    Reading never computes: the core publishes, every page request reads what it published.
    """
    current = current_app.extensions[EXTENSION].feed.current()
    return current.data if current is not None else None
