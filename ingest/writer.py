"""Validate a batch and write it: valid events to the stream's raw table, the rest to the
dead letters. The durable buffer and batching in front of it come with the ingest API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ingest.contracts import Stream
from ingest.deadletter import dead_letter_frame, store_dead_letters
from ingest.validate import ValidationResult, validate
from ioc_app.storage import Store

log = logging.getLogger("ioc.ingest")


def write_events(
    store: Store, stream: Stream, events: Sequence[Any], *, source: str,
    now: datetime | None = None,
) -> ValidationResult:
    """Validate and store one batch; rejected events are written to the dead letters first,
    so a failure of the main insert never loses the explanation of what was wrong."""
    now = now or datetime.now(UTC)
    result = validate(stream, events, source=source, now=now)
    if result.rejected:
        store_dead_letters(store, dead_letter_frame(stream.name, events, result, source, now))
    store.insert(stream.table, result.frame)
    log.info(
        "event=ingest.batch stream=%s source=%s accepted=%d rejected=%d",
        stream.name, source, result.accepted, len(result.rejected),
    )
    return result
