"""The wall playlist: which pages ``/wall`` rotates through, how long each stays, when the
screens reload themselves at night, and the seasons that add pages for a while.

Read from a TOML file (``IOC_WALL``, default ``ioc_app/wall.toml``) and checked whole at
start-up, so a typo stops the product with the key to fix instead of leaving a wall showing
the wrong rotation for weeks. ``/wall?pages=…&interval=…`` overrides one screen's list and
interval; :func:`rotation` applies those overrides with the rules of ``api.md``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

MIN_INTERVAL_S = 10
MAX_INTERVAL_S = 600
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_HOUR_MINUTE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PATH = re.compile(r"^/[A-Za-z0-9_\-/]*(\?[A-Za-z0-9_\-=&.,]*)?$")


class WallError(ValueError):
    """The playlist file cannot be used; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Season:
    """Pages that join the rotation from ``start`` to ``end`` inclusive, ``(month, day)``."""

    name: str
    pages: tuple[str, ...]
    start: tuple[int, int]
    end: tuple[int, int]

    def covers(self, day: date) -> bool:
        """True on the season's days; a range whose end comes before its start crosses the new year."""
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end


@dataclass(frozen=True)
class WallPlan:
    """The playlist as configured."""

    pages: tuple[str, ...]
    interval_s: int
    reload_at: str | None
    seasons: tuple[Season, ...] = ()

    def pages_on(self, day: date) -> tuple[str, ...]:
        """The rotation on a local date: the configured pages, then those of every season
        that covers the day (each page once)."""
        out = list(self.pages)
        for season in self.seasons:
            if season.covers(day):
                out += [p for p in season.pages if p not in out]
        return tuple(out)


def clamp_interval(raw: str | int | float | None, default: int) -> int:
    """Seconds per page from ``?interval=``: clamped to 10–600; unreadable → the default."""
    try:
        value = float(raw) if raw is not None and str(raw).strip() != "" else float(default)
    except ValueError:
        value = float(default)
    if value != value:  # NaN
        value = float(default)
    return int(min(max(value, MIN_INTERVAL_S), MAX_INTERVAL_S))


def split_pages(raw: str | None) -> tuple[str, ...]:
    """The entries of ``?pages=/,/gates``: trimmed, each once, in order; malformed ones dropped.
    Whether a route exists is for the caller to judge (it knows the registered pages)."""
    if not raw:
        return ()
    out: list[str] = []
    for part in raw.split(","):
        entry = part.strip()
        if entry and _PATH.match(entry) and entry not in out:
            out.append(entry)
    return tuple(out)


def rotation(plan: WallPlan, day: date, pages: str | None, interval: str | None,
             known: set[str]) -> tuple[tuple[str, ...], int]:
    """``(pages, interval_s)`` for one screen: an explicit ``?pages=`` list as given (routes
    not in ``known`` and ``/wall`` itself skipped), else the season-aware playlist; when
    nothing is left, the playlist again, then the overview alone."""
    def usable(entries: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(e for e in entries if e.split("?", 1)[0] in known and not e.startswith("/wall"))

    chosen = usable(split_pages(pages)) or usable(plan.pages_on(day)) or ("/",)
    return chosen, clamp_interval(interval, plan.interval_s)


def load_wall(path: str | Path) -> WallPlan:
    """Read and check a playlist file; raises :class:`WallError` saying what to change."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WallError(f"{p}: cannot read the wall playlist ({exc}); check IOC_WALL") from None
    except tomllib.TOMLDecodeError as exc:
        raise WallError(f"{p}: not valid TOML: {exc}; fix the syntax there") from None
    extra = sorted(set(data) - {"pages", "interval_s", "reload_at", "season"})
    if extra:
        raise WallError(f"{p}: unknown key {extra[0]!r}; a playlist has pages, interval_s, "
                        f"reload_at and [[season]] tables")
    pages = _pages(p, "pages", data.get("pages"))
    interval = data.get("interval_s", 30)
    if isinstance(interval, bool) or not isinstance(interval, int) \
            or not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
        raise WallError(f"{p}: interval_s = {interval!r}: write a whole number of seconds from "
                        f"{MIN_INTERVAL_S} to {MAX_INTERVAL_S}")
    reload_at = data.get("reload_at", "")
    if not isinstance(reload_at, str) or (reload_at and not _HOUR_MINUTE.match(reload_at)):
        raise WallError(f'{p}: reload_at = {reload_at!r}: write a local time such as "04:00", '
                        f'or "" for no nightly reload')
    raw_seasons = data.get("season", [])
    if not isinstance(raw_seasons, list):
        raise WallError(f"{p}: 'season' must be an array of tables: write each one as [[season]]")
    seasons = tuple(_season(p, i, s) for i, s in enumerate(raw_seasons))
    return WallPlan(pages, interval, reload_at or None, seasons)


def _pages(p: Path, where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise WallError(f'{p}: {where} must be a non-empty list of page routes, e.g. ["/", "/gates"]')
    for v in value:
        if not _PATH.match(v) or v.startswith("/wall"):
            raise WallError(f"{p}: {where}: {v!r} is not a page route; write routes such as "
                            f'"/gates" (not /wall itself)')
    return tuple(dict.fromkeys(value))


def _season(p: Path, i: int, raw: object) -> Season:
    if not isinstance(raw, dict):
        raise WallError(f"{p}: season #{i + 1} must be a [[season]] table")
    name = raw.get("name")
    label = f"season #{i + 1}" + (f" ({name})" if isinstance(name, str) else "")
    if not isinstance(name, str) or not name.strip():
        raise WallError(f"{p}: {label}: 'name' must be a non-empty string")
    extra = sorted(set(raw) - {"name", "pages", "from", "to"})
    if extra:
        raise WallError(f"{p}: {label}: unknown key {extra[0]!r}; a season has name, pages, from, to")
    bounds = []
    for key in ("from", "to"):
        value = raw.get(key)
        m = _MONTH_DAY.match(value) if isinstance(value, str) else None
        ok = False
        if m:
            try:
                date(2000, int(m.group(1)), int(m.group(2)))  # a leap year: 02-29 is a day
                ok = True
            except ValueError:
                ok = False
        if not ok or m is None:
            raise WallError(f'{p}: {label}: {key} = {value!r}: write a day as "MM-DD", e.g. "07-01"')
        bounds.append((int(m.group(1)), int(m.group(2))))
    return Season(name.strip(), _pages(p, f"{label} pages", raw.get("pages")), bounds[0], bounds[1])
