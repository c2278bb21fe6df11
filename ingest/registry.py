"""The one list of streams: everything that iterates over streams starts here.

The streams are those of the registered domains (``domains/``), in the domains' order; a
domain registered later (``domains.register``) is seen at once.
"""

from __future__ import annotations

from domains import Live, LiveList
from domains.contracts import Stream

STREAMS: LiveList[Stream] = LiveList(lambda ds: tuple(s for d in ds for s in d.streams))
BY_NAME: Live[str, Stream] = Live(lambda ds: {s.name: s for d in ds for s in d.streams})


def get_stream(name: str) -> Stream:
    """Look a stream up by its contract name, with an error that lists the valid ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown stream {name!r}; use one of: {', '.join(sorted(BY_NAME))}"
        ) from None
