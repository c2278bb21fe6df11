"""How long a restart takes to replay its buffer: 2,000,000 accepted gate events waiting in
the write-ahead log (embedded mode) or in Redis Streams (Redis mode) when the server starts.

For each mode the script accepts the events through the real ingest path (validation, dedup,
the durable buffer) with no writer running, closes everything as a stopped server would,
then opens the buffer again as a restart does and times its writer from start until it
reports the replay complete (``Writer.replay``, what ``/readyz`` shows). The baseline,
measured in the same run on the same rows: plain clickhouse-connect Arrow inserts of
100,000 rows into a fresh store with the same rollups attached.

    .venv/bin/python bench/replay.py [--events 2000000] [--mode both|embedded|redis]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from bench.validate import make_events  # noqa: E402
from ingest.gate import GATE_PASS  # noqa: E402
from ingest.pipeline import build_ingest  # noqa: E402
from ingest.validate import validate  # noqa: E402
from ioc_app.migrate import migrate  # noqa: E402
from ioc_app.storage import Store  # noqa: E402
from tests.conftest import RedisServer  # noqa: E402

CHUNK = 20_000


def frames(total: int) -> list[pl.DataFrame]:
    """Raw request-shaped frames with unique ids (validated again by the pipeline)."""
    now = datetime.now(UTC)
    template = pl.DataFrame(make_events(CHUNK, int(now.timestamp() * 1000)))
    return [template.with_columns(pl.format("replay-{}-{}", pl.lit(k), pl.int_range(CHUNK)).alias("event_id"))
            for k in range(total // CHUNK)]


def fresh_store(engine: Path) -> Store:
    store = Store(f"chdb://{engine}", database="b_" + uuid.uuid4().hex[:10])
    migrate(store)
    return store


def replay(mode: str, engine: Path, work: Path, chunks: list[pl.DataFrame]) -> tuple[float, float, int]:
    """(seconds to accept, seconds to replay, rows stored)."""
    store = fresh_store(engine)
    redis_server = RedisServer(work / f"redis-{mode}") if mode == "redis" else None
    url = redis_server.url if redis_server else ""
    pipeline, _ = build_ingest(store, wal_dir=work / f"wal-{mode}", redis_url=url, consumer="bench")
    started = time.perf_counter()
    for frame in chunks:
        pipeline.submit(GATE_PASS, frame, source="bench")
    accepted_s = time.perf_counter() - started
    pipeline.buffer.close()  # the server stops here with everything still buffered

    _, writer = build_ingest(store, wal_dir=work / f"wal-{mode}", redis_url=url, consumer="bench")
    started = time.perf_counter()
    writer.start()
    while not writer.replay.complete:
        time.sleep(0.01)
    replay_s = time.perf_counter() - started
    writer.stop(drain=False)
    rows = store.rows("SELECT count() FROM gate_pass")[0][0]
    writer.buffer.close()
    if redis_server is not None:
        redis_server.stop()
    return accepted_s, replay_s, rows


def baseline(engine: Path, chunks: list[pl.DataFrame]) -> float:
    store = fresh_store(engine)
    typed = [validate(GATE_PASS, f.to_dicts(), source="bench").frame for f in chunks]
    whole = pl.concat(typed)
    started = time.perf_counter()
    for offset in range(0, whole.height, 100_000):
        store.insert("gate_pass", whole.slice(offset, 100_000))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--mode", choices=("both", "embedded", "redis"), default="both")
    args = parser.parse_args()
    chunks = frames(args.events)
    total = len(chunks) * CHUNK
    with tempfile.TemporaryDirectory(prefix="ioc-replay-") as tmp:
        engine = Path(tmp) / "engine"
        base = baseline(engine, chunks)
        print(f"baseline: {total} rows inserted directly in {base:.2f} s ({total / base:,.0f} rows/s)")
        for mode in (["embedded", "redis"] if args.mode == "both" else [args.mode]):
            accepted, took, rows = replay(mode, engine, Path(tmp), chunks)
            print(f"{mode}: accepted {total} events in {accepted:.2f} s; replay after restart "
                  f"{took:.2f} s ({rows / took:,.0f} rows/s, {took / base:.2f}x the baseline); "
                  f"stored {rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
