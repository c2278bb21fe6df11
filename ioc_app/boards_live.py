"""The boards a server shows: read from ``IOC_BOARDS``, re-read when a file changes, and the
answers to their questions computed once per cadence for every screen.

A file that breaks after it was shown keeps its last good version on the walls, marked as
such (``Entry.problems`` lists what to fix), so a typo saved on a Friday evening never blanks
the security office's screen. A question is answered at most once per its cadence per
process, whatever the number of screens (``answers``), through the analyst query service and
its shared cache; a screen only ever reads the held answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ioc_app.boards import Board, Problem, Tile
from ioc_app.boards_check import check_file

log = logging.getLogger("ioc.boards")


@dataclass
class Entry:
    """One board file as the server holds it: the board shown (the last good version), and
    the problems of the file as it is now (a board shown despite problems is ``stale``)."""

    file: str
    stamp: int | None
    board: Board | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        """Shown from an earlier version of its file: the file as saved now is broken."""
        return self.board is not None and bool(self.problems)


class Library:
    """The board files of one folder, each re-read when its modification time changes."""

    def __init__(self, root: str | Path, zone: ZoneInfo) -> None:
        self.root = Path(root)
        self.zone = zone
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def entries(self) -> dict[str, Entry]:
        """Slug → entry of every board file of the folder (files that never read as a board are
        keyed by their file name, with their problems)."""
        with self._lock:
            files = sorted(self.root.glob("*.toml")) if self.root.is_dir() else []
            seen = set()
            for path in files:
                key = str(path)
                seen.add(key)
                try:
                    stamp: int | None = path.stat().st_mtime_ns
                except OSError:
                    stamp = None
                old = self._entries.get(key)
                if old is not None and old.stamp == stamp:
                    continue
                board, problems = check_file(path, zone=self.zone)
                if problems:
                    log.warning("event=boards.problems file=%s problems=%d first=%r", path.name,
                                len(problems), str(problems[0])[:300])
                shown = board if board is not None else (old.board if old is not None else None)
                self._entries[key] = Entry(key, stamp, shown, problems)
                if board is not None:
                    log.info("event=boards.loaded file=%s slug=%s tiles=%d", path.name, board.slug,
                             len(board.tiles))
            for gone in set(self._entries) - seen:
                del self._entries[gone]
            out: dict[str, Entry] = {}
            for entry in self._entries.values():
                slug = entry.board.slug if entry.board is not None else Path(entry.file).stem
                if slug in out:  # two files claim one address: the second is a problem of its own
                    clash = Problem(entry.file, entry.board.lines.get("slug", 1) if entry.board else 1,
                                    f"slug {slug!r} is taken by {Path(out[slug].file).name}; give this "
                                    "board another slug")
                    out[f"{slug}~{Path(entry.file).name}"] = Entry(entry.file, entry.stamp, None, [clash])
                    continue
                out[slug] = entry
            return out

    def entry(self, slug: str) -> Entry | None:
        return self.entries().get(slug)


# ---- answers to the boards' questions --------------------------------------------------------

_answers: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
_answer_locks: dict[tuple[Any, ...], threading.Lock] = {}
_guard = threading.Lock()


def period(tile: Tile, now_s: float) -> int:
    """The cadence period ``now_s`` falls in: one answer per period, whoever asks."""
    return int(now_s // tile.cadence_s)


def answers(owner: Any, board: Board, tile: Tile, ask: Callable[[str, dict[str, list[str]]], dict[str, Any]],
            zone: ZoneInfo, now_s: float | None = None) -> dict[str, Any]:
    """The held answer to ``tile``'s question for this period, computed by the first screen
    that asks in it (``ask(domain, args)``: the query service's document) while the others wait
    for it; ``owner`` scopes the answers to one running app. A failed question is answered
    with its error (kept for the period too: a store that is away is not asked by every screen)."""
    q = tile.query
    assert q is not None
    now_s = time.time() if now_s is None else now_s
    key = (id(owner), board.slug, tile.id, q)
    bucket = period(tile, now_s)
    held = _answers.get(key)
    if held is not None and held[0] == bucket:
        return held[1]
    with _guard:
        lock = _answer_locks.setdefault(key, threading.Lock())
    with lock:
        held = _answers.get(key)
        if held is not None and held[0] == bucket:
            return held[1]
        started = time.perf_counter()
        body = ask(q.domain, q.args(datetime.fromtimestamp(now_s, UTC), zone))
        body = {**body, "period": bucket}
        _answers[key] = (bucket, body)
        log.info("event=boards.answered board=%s tile=%s period=%d error=%s ms=%.1f", board.slug, tile.id,
                 bucket, body.get("error", "-"), (time.perf_counter() - started) * 1000)
        return body
