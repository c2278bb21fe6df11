"""Component id namespaces, so two widgets never collide and callbacks name ids in one way."""

from __future__ import annotations

#: the live machinery every cockpit page carries (one page is shown at a time)
CONFIG = "ioc-live-config"
VERSION = "ioc-live-version"
TICK = "ioc-live-tick"
CLOCK = "ioc-clock"
BADGE = "ioc-badge"
BAD_AT = "ioc-bad-at"  # the message of a page asked for an unreadable ?at=


def graph(page: str, name: str) -> str:
    """Id of a page's chart (a plain string: figures are patched one by one)."""
    return f"{page}-graph-{name}"


def ranking(page: str, name: str) -> str:
    """Id of a page's ranking board (its rows are re-rendered when the order changes)."""
    return f"{page}-ranking-{name}"
