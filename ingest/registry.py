"""The one list of streams: everything that iterates over streams starts here."""

from __future__ import annotations

from ingest import enrollment, gate, network, service
from ingest.contracts import Stream

STREAMS: tuple[Stream, ...] = gate.STREAMS + network.STREAMS + enrollment.STREAMS + service.STREAMS
BY_NAME: dict[str, Stream] = {s.name: s for s in STREAMS}


def get_stream(name: str) -> Stream:
    """Look a stream up by its contract name, with an error that lists the valid ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown stream {name!r}; use one of: {', '.join(sorted(BY_NAME))}"
        ) from None
