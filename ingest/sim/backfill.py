"""Backfill: generate history through the ingest path at full speed, with a progress bar,
and optionally write the truth (every event produced) to Parquet for independent checks."""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from ingest.contracts import Stream, pl_type
from ingest.registry import get_stream
from ingest.sim import HOUR_MS, Simulator, World


def truth_schema(stream: Stream) -> dict[str, pl.DataType]:
    """Events as sent: ts as epoch ms, every declared field (absent = null)."""
    return {f.name: (pl.Int64() if f.kind == "ts" else pl_type(f)) for f in stream.all_fields}


class TruthWriter:
    """One Parquet file per stream, appended chunk by chunk."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, Any] = {}

    def write(self, stream: Stream, events: list[dict[str, Any]]) -> None:
        import pyarrow.parquet as pq

        schema = truth_schema(stream)
        frame = pl.DataFrame([{k: e.get(k) for k in schema} for e in events], schema=schema,
                             strict=False)
        table = frame.to_arrow()
        if stream.name not in self._writers:
            self._writers[stream.name] = pq.ParquetWriter(self.dir / f"{stream.name}.parquet",
                                                          table.schema)
        self._writers[stream.name].write_table(table)

    def close(self) -> None:
        for w in self._writers.values():
            w.close()


def backfill(submit: Callable[[Stream, list[dict[str, Any]]], Any], world: World, start_ms: int,
             end_ms: int, *, truth: Path | None = None, progress: bool = True,
             only: tuple[str, ...] | None = None) -> Counter[str]:
    """Send every simulated event of ``[start_ms, end_ms)`` (of the ``only`` domains, or all);
    returns accepted counts per stream."""
    from tqdm import tqdm

    sim = Simulator(world, only=only)
    writer = TruthWriter(truth) if truth else None
    accepted: Counter[str] = Counter()
    hours = range(start_ms // HOUR_MS * HOUR_MS, end_ms, HOUR_MS)
    started = time.monotonic()
    sent = 0
    # generate the next hours while the current one is validated and buffered (the two
    # overlap where Polars and the engine release the GIL)
    ahead: queue.Queue[Any] = queue.Queue(maxsize=4)

    def produce() -> None:
        try:
            for t in hours:
                ahead.put(sim.sent_between(max(t, start_ms), min(t + HOUR_MS, end_ms)))
        except BaseException as exc:  # hand any failure to the consumer
            ahead.put(exc)
        ahead.put(None)

    threading.Thread(target=produce, name="ioc-simulate", daemon=True).start()
    with tqdm(total=len(hours), unit="h", desc="simulate", disable=not progress,
              dynamic_ncols=True) as bar:
        while (window := ahead.get()) is not None:
            if isinstance(window, BaseException):
                raise window
            for name, events in window.items():
                stream = get_stream(name)
                if writer:
                    writer.write(stream, events)
                receipt = submit(stream, events)
                accepted[name] += receipt.accepted
                sent += len(events)
            bar.update(1)
            rate = sent / max(time.monotonic() - started, 1e-6)
            bar.set_postfix_str(f"{rate:,.0f} ev/s " + " ".join(
                f"{k.split('.')[1]}={v}" for k, v in sorted(accepted.items())))
    if writer:
        writer.close()
    return accepted
