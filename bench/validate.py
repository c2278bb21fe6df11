"""Validation throughput: 1,000,000 gate events through ``ingest.validate``.

Prints events/s for parsed JSON events (dicts) and for an all-string CSV-style frame, beside
two baselines measured in the same run on the same events: building a Polars frame from the
dicts with no checks at all (``pl.from_dicts``), and parsing the events' JSON with orjson.

    .venv/bin/python bench/validate.py [--events N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
import polars as pl

from ingest.gate import GATE_PASS
from ingest.validate import validate, validate_frame


def make_events(n: int, now_ms: int) -> list[dict]:
    rng = random.Random(1)
    gates = [f"gate-{i:02d}" for i in range(11)]
    out = []
    for i in range(n):
        deny = rng.random() < 0.02
        ev = {"event_id": f"bench-{i}", "ts": now_ms - rng.randrange(86_400_000),
              "campus": "main", "gate_id": rng.choice(gates), "lane": rng.randint(1, 8),
              "direction": rng.choice(("in", "out")), "person_type": "student",
              "method": rng.choice(("face", "card", "qr")), "result": "deny" if deny else "pass"}
        if deny:
            ev["deny_reason"] = "expired"
        if rng.random() < 0.3:
            ev["temperature_c"] = round(rng.uniform(36, 37.6), 1)
        out.append(ev)
    return out


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    now = datetime.now(UTC)
    events = make_events(args.events, int(now.timestamp() * 1000))
    blob = orjson.dumps(events)
    csv_frame = pl.from_dicts(events, infer_schema_length=None).with_columns(pl.all().cast(pl.String))
    n = len(events)

    result = validate(GATE_PASS, events, source="bench", now=now)
    assert result.accepted == n and not result.errors, result.errors[:3]

    t_dicts = best(lambda: validate(GATE_PASS, events, source="bench", now=now), args.repeat)
    t_frame = best(lambda: validate_frame(GATE_PASS, csv_frame, source="bench", now=now), args.repeat)
    t_from_dicts = best(lambda: pl.from_dicts(events, infer_schema_length=None), args.repeat)
    t_orjson = best(lambda: orjson.loads(blob), args.repeat)

    print(f"bench=validate events={n} repeat={args.repeat} cpus={os.cpu_count()} "
          f"polars_threads={pl.thread_pool_size()}")
    rows = [
        ("validate(dicts)", t_dicts),
        ("validate_frame(csv strings)", t_frame),
        ("baseline pl.from_dicts (no checks)", t_from_dicts),
        ("baseline orjson.loads", t_orjson),
    ]
    for name, secs in rows:
        print(f"{name:38s} {n / secs:>12,.0f} events/s  ({secs:.3f} s)")
    print(f"ratio validate(dicts) / pl.from_dicts      = {t_from_dicts / t_dicts:.2f}x the baseline's rate")
    print(f"ratio validate(dicts) / orjson.loads       = {t_orjson / t_dicts:.2f}x the baseline's rate")


if __name__ == "__main__":
    main()
