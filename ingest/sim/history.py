"""The demo's past: which spans of sending time make the demo campus look lived-in, and a
generator process that turns them into typed batches for the ingest path.

A fresh demo otherwise starts with today alone, so 昨日 / 上周同日 / 去年同期 and the
enrollment cockpit's "vs last year" read 0. The parts, most visible first:

- ``season:<Y>`` — this year's admission season so far (July on; admissions only),
- ``day:<date>`` — each of the last ``days`` local days (every domain), yesterday first,
- ``season:<Y-1>``, ``season:<Y-2>``… — previous admission seasons (July–September),
- ``day:<date>`` of the same week last year (52 weeks back, so the same weekdays: the gate
  board's 去年同期 compares with that weekday).

``python -m ingest.sim.history`` is the generator: it reads the world and the parts as JSON
on stdin, lowers its own priority and writes framed Arrow IPC batches to stdout (see
:func:`write_message`), so the simulators' Python work runs outside the web process and its
lock; the web process only validates and buffers what it receives. The simulators are
deterministic: a part generated again yields the same event ids.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import polars as pl

from ingest.sim.world import DEMO_PSEUDONYM_KEY, HOUR_MS, World

#: the admissions domain's name: its season parts send that domain alone
SEASON_DOMAIN = "enrollment"
SEASON_MONTHS = (7, 10)  # July 1 to October 1 (check-in runs in September)
#: the same weekday a year ago: 52 weeks back
YEAR_BACK_DAYS = 364
#: at most this many days around that day last year (a week)
YEAR_WEEK = 7
#: hours of sending time per batch the generator writes
WINDOW_H = 3


@dataclass(frozen=True)
class Part:
    """A span of sending time ``[start_ms, end_ms)`` to fill, of the ``only`` domains (all
    when None). ``name`` is what the progress marker records once it is durable."""

    name: str
    start_ms: int
    end_ms: int
    only: tuple[str, ...] | None = None

    @property
    def hours(self) -> float:
        return max(self.end_ms - self.start_ms, 0) / HOUR_MS


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def day_part(day: date, zone: ZoneInfo) -> Part:
    return Part(f"day:{day.isoformat()}", _ms(_midnight(day, zone)),
                _ms(_midnight(day + timedelta(days=1), zone)))


def season_part(year: int, zone: ZoneInfo, until_ms: int | None = None) -> Part:
    start = _ms(datetime(year, SEASON_MONTHS[0], 1, tzinfo=zone))
    end = _ms(datetime(year, SEASON_MONTHS[1], 1, tzinfo=zone))
    return Part(f"season:{year}", start, end if until_ms is None else min(end, until_ms),
                (SEASON_DOMAIN,))


def plan(zone: ZoneInfo, now: datetime, days: int, seasons: int) -> list[Part]:
    """The parts of the demo's past as of ``now`` (see the module docstring), in the order
    they are filled. ``days`` = 0 means no past at all."""
    if days <= 0:
        return []
    local = now.astimezone(zone)
    today = local.date()
    midnight = _ms(_midnight(today, zone))
    parts: list[Part] = []
    if local.month >= SEASON_MONTHS[0] and midnight > _ms(datetime(today.year, SEASON_MONTHS[0], 1,
                                                                    tzinfo=zone)):
        parts.append(season_part(today.year, zone, until_ms=midnight))  # this season so far
    recent = [today - timedelta(days=k) for k in range(1, days + 1)]
    parts += [day_part(d, zone) for d in recent[:1]]
    parts += [season_part(today.year - k, zone) for k in range(1, seasons + 1)]
    parts += [day_part(d, zone) for d in recent[1:]]
    week = min(YEAR_WEEK, days)
    back = today - timedelta(days=YEAR_BACK_DAYS)
    first = back - timedelta(days=(week - 1) // 2)
    parts += [day_part(first + timedelta(days=k), zone) for k in range(week)]
    return parts


# -- the wire: one message = header length, JSON header, payload length, payload ----------
def write_message(out: IO[bytes], header: dict[str, Any], payload: bytes = b"") -> None:
    head = json.dumps(header).encode()
    out.write(struct.pack(">I", len(head)) + head + struct.pack(">Q", len(payload)) + payload)
    out.flush()


def read_message(src: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    """The next message, or None at the end of the stream."""
    raw = src.read(4)
    if len(raw) < 4:
        return None
    head = json.loads(src.read(struct.unpack(">I", raw)[0]))
    size = struct.unpack(">Q", src.read(8))[0]
    return head, src.read(size) if size else b""


def frames(world: World, part: Part) -> Iterator[tuple[str, pl.DataFrame]]:
    """The part's events as typed frames per stream (``ts`` as epoch ms), a few hours of
    sending time at a time, in sending order."""
    from ingest.registry import get_stream
    from ingest.sim import Simulator
    from ingest.sim.backfill import truth_schema

    sim = Simulator(world, cache_hours=WINDOW_H * 2 + 8, only=part.only)
    step = WINDOW_H * HOUR_MS
    for t in range(part.start_ms, part.end_ms, step):
        for name, events in sim.sent_between(t, min(t + step, part.end_ms)).items():
            schema = truth_schema(get_stream(name))
            yield name, pl.DataFrame([{k: e.get(k) for k in schema} for e in events], schema=schema,
                                     strict=False)


def generate(world: World, parts: list[Part], out: IO[bytes]) -> None:
    """Write every part's frames, then ``{"kind": "part", "part": name}`` after each part and
    ``{"kind": "end"}`` at the end."""
    for part in parts:
        for stream, frame in frames(world, part):
            buf = io.BytesIO()
            frame.write_ipc(buf, compression="uncompressed")
            write_message(out, {"kind": "frame", "part": part.name, "stream": stream,
                                "rows": frame.height}, buf.getvalue())
        write_message(out, {"kind": "part", "part": part.name})
    write_message(out, {"kind": "end"})


def job(world_site: str, zone: ZoneInfo, seed: int, scale: float, parts: list[Part], *,
        pseudonym_key: bytes | None = None) -> bytes:
    """The generator's stdin: what :func:`main` reads (the site key travels only in this pipe)."""
    return json.dumps({"site": world_site, "tz": zone.key, "seed": seed, "scale": scale,
                       "key": (pseudonym_key or DEMO_PSEUDONYM_KEY).hex(),
                       "parts": [asdict(p) for p in parts]}).encode()


def main() -> int:
    """The generator process: lowest CPU priority, so pages and the live feed come first."""
    from ingest.site import load_site

    try:
        os.nice(19)
    except OSError:  # not allowed here: run at the priority given
        pass
    spec = json.loads(sys.stdin.buffer.read())
    zone = ZoneInfo(spec["tz"])
    world = World(load_site(spec["site"]), zone, seed=int(spec["seed"]), scale=float(spec["scale"]),
                  pseudonym_key=bytes.fromhex(spec["key"]))
    parts = [Part(p["name"], int(p["start_ms"]), int(p["end_ms"]),
                  tuple(p["only"]) if p["only"] is not None else None) for p in spec["parts"]]
    try:
        generate(world, parts, sys.stdout.buffer)
    except BrokenPipeError:  # the server stopped: nobody is listening any more
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
