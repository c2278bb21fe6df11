"""What pages may know of the server: the current snapshot, and nothing else."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import current_app

from ioc_app.runtime import EXTENSION as RUNTIME_EXTENSION
from ioc_app.wall import WallPlan

if TYPE_CHECKING:
    from ingest.site import Site
    from ioc_app.names import Names

EXTENSION = RUNTIME_EXTENSION  # re-exported: the key the app stores its runtime under
_UTC = ZoneInfo("UTC")


def snapshot() -> dict[str, Any] | None:
    """The live snapshot for the request being served (None before the first one exists).

    Reading never computes: the core publishes, every page request reads what it published
    (with the figures that only age, ``lag_s`` and ``age_s``, as of now).
    """
    current = current_app.extensions[EXTENSION].feed.current()
    return current.served()[1] if current is not None else None


def viewer(nav: tuple[tuple[str, str], ...] | None = None) -> dict[str, Any]:
    """Who the page is for, as the frame needs it: the navigation links they may open, the
    person's name (for the sign-out control) and a paired screen's name."""
    from ioc_app.access import principal
    from ioc_app.permissions import nav_for
    from layouts.live import NAV

    who = principal()
    return {"nav": nav_for(who, nav or NAV), "user": who.name if who.kind == "person" else "",
            "screen": who.name if who.kind == "screen" else None}


def may(permission: str) -> bool:
    """Does whoever is asking hold ``permission`` (e.g. ``export``, ``query``)? Pages use it to
    leave out a link the viewer could not follow; the gate still decides every request."""
    from ioc_app.access import principal

    return principal().may(permission)


def may_open(path: str) -> bool:
    """May whoever is asking open the page at ``path``? (A page rendering another page — the
    wall's rotation — asks before it does.)"""
    from ioc_app.access import principal

    return principal().may_open(path)


#: the cookie ``assets/ioc_display.js`` sets before a page is asked for: ``tablet`` (a touch
#: screen or a narrow window) or ``desk``
DISPLAY_COOKIE = "ioc_display"


def display() -> str:
    """Where the page is shown (``layouts.live.DISPLAYS``): ``wall`` for a paired screen,
    whatever its browser says; ``tablet`` when the browser found a touch screen or a narrow
    window; else ``desk``. It only picks a layout: nothing is allowed or refused by it."""
    from flask import has_request_context, request

    from ioc_app.access import principal

    if principal().kind == "screen":
        return "wall"
    if has_request_context() and request.cookies.get(DISPLAY_COOKIE) == "tablet":
        return "tablet"
    return "desk"


def may_drill() -> bool:
    """Do the cockpit's figures link to their breakdown for whoever is asking? For a person who
    may open ``/explore`` — never for a paired wall screen, where nobody taps."""
    from ioc_app.access import principal

    who = principal()
    return who.kind == "person" and who.may_open("/explore")


def screen_pages() -> tuple[str, ...]:
    """A paired screen's playlist (empty for people: they choose pages with ``?pages=``)."""
    from ioc_app.access import principal

    who = principal()
    return who.pages if who.kind == "screen" else ()


def screens() -> list[dict[str, Any]]:
    """The screens that sent heartbeats (``silent`` when they stopped)."""
    return current_app.extensions[EXTENSION].screens.all()


def site() -> Site:
    """The site catalogue the server runs with (gate, link and campus names for labels)."""
    return current_app.extensions[EXTENSION].site


def names() -> Names:
    """Display names of the catalogue's codes and the contracts' enumerations, in either
    language: the one way a page turns a code into what a person reads."""
    from ioc_app.names import names_of

    return names_of(site())


def settings() -> Any:
    """The running settings (zone, tick…), for pages that show or pass them on."""
    return current_app.extensions[EXTENSION].settings


def snapshot_for(at: str | None) -> dict[str, Any] | None:
    """The live snapshot, or with ``at`` (RFC 3339) the stored one shown at that minute."""
    if not at:
        return snapshot()
    import orjson

    from ioc_app.storage import StoreError
    from metrics import history
    from metrics.times import TimeError, parse_time

    runtime = current_app.extensions[EXTENSION]
    try:
        body = history.shown_at(runtime.store, parse_time("at", at, runtime.settings.zone),
                               runtime.settings.min_cell)
    except TimeError:  # the page says what is wrong with ``at`` (``at_is_valid``)
        return None
    except StoreError as exc:
        log.warning("event=read.history_failed error=%r", str(exc)[:300])
        return None
    return orjson.loads(body) if body else None


def at_is_valid(at: str | None) -> bool:
    """Whether a page's ``?at=`` can be shown: none given, or a time as every route reads it
    (:func:`metrics.times.parse_time`). The frame says so when it cannot, instead of showing
    empty figures. Whether a text is a time does not depend on the zone (which only places a
    time without offset), so this needs no running server."""
    from metrics.times import TimeError, parse_time

    if not at:
        return True
    try:
        parse_time("at", at, _UTC)
    except TimeError:
        return False
    return True


def read_time(text: str | None, zone: ZoneInfo) -> datetime | None:
    """A time as typed or bookmarked into a page (``?at=``, the explore form), read as every
    route reads it (:func:`metrics.times.parse_time`: without offset in the site's ``zone``,
    a date = local midnight), aware; None when it is not one (the API the page calls says why)."""
    from metrics.times import TimeError, parse_time

    if not text or not text.strip():
        return None
    try:
        return parse_time("time", text, zone).astimezone(zone)
    except TimeError:
        return None


# ---- the health page (ingest and data quality) and the wall playlist ----------------------
# The live snapshot carries freshness, alerts and the core's timing; what follows is read
# from the running process (ingest counters, buffer, writer) or from the store on a slower
# clock: a data-quality report does not change by the second, and every /health screen must
# not cost its own queries.

QUALITY_TTL_S = 30.0
_quality: dict[tuple[int, str], tuple[float, list[dict[str, Any]] | None]] = {}
_quality_lock = threading.Lock()
_wall: dict[str, Any] = {}
log = logging.getLogger("ioc.read")


def ingest_counters() -> dict[str, dict[str, int]]:
    """``{stream: {accepted, duplicate, rejected}}``: events this process took in since it started."""
    out: dict[str, dict[str, int]] = {}
    for (stream, outcome), n in current_app.extensions[EXTENSION].pipeline.counters.snapshot().items():
        out.setdefault(stream, {"accepted": 0, "duplicate": 0, "rejected": 0})[outcome] = n
    return out


def pipeline_state() -> dict[str, Any]:
    """The ingest path now: events buffered but not yet stored, the age of the oldest of them,
    rows the writer stored, its consecutive failures, whether the store is refusing writes and
    whether a restart's replay of the buffer is still under way."""
    rt = current_app.extensions[EXTENSION]
    return {
        "buffer_depth": rt.pipeline.buffer.depth,
        "writer_lag_s": round(rt.writer.lag_s(), 1),
        "writer_rows": rt.writer.inserted_rows,
        "writer_failures": rt.writer.failures,
        "store_down": rt.pipeline.store_down_since is not None,
        # a restart is still writing what was buffered before it: figures may lack events
        "replaying": rt.writer.running and not rt.writer.replay.complete,
    }


def demo_history() -> dict[str, Any] | None:
    """Demo mode's background fill of the past (``HistoryFill.progress``): ``{phase, pct,
    events, total, eta_s, …}``, or None when this server fills none."""
    history = current_app.extensions[EXTENSION].history
    return None if history is None else dict(history.progress.state())


def dead_letters_by_reason() -> list[dict[str, Any]] | None:
    """Open dead letters ``[{stream, reason, count, newest}]`` (None while the store is away)."""
    from metrics import quality

    return _memoised("dead_letters", lambda store: quality.dead_letters_by_reason(store, limit=50))


def unknown_references() -> list[dict[str, Any]] | None:
    """Codes of the last 7 days the catalogue lacks ``[{stream, field, kind, code, rows,
    last_seen}]`` (None while the store is away)."""
    from metrics import quality

    return _memoised("unknown_references", lambda store: quality.unknown_references(store, limit=50))


def site_version() -> dict[str, Any]:
    """The site catalogue in force: ``{path, version, counts, loaded_at, versions}`` —
    ``loaded_at`` (this version's last load) and ``versions`` (how many the history holds) are
    None while the store is away."""
    from ingest.site_history import version_of
    from metrics.catalogue_history import version_loaded

    rt = current_app.extensions[EXTENSION]
    version = version_of(rt.site)
    stored = _memoised(f"site_version:{version}", lambda store: _Rows([version_loaded(store, version)]))
    return {"path": rt.site.path, "version": version, "counts": rt.site.counts(),
            **(stored[0] if stored else {"loaded_at": None, "versions": None})}


class _Rows:
    """A computed answer in the shape ``_memoised`` keeps (a frame's ``to_dicts``)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def to_dicts(self) -> list[dict[str, Any]]:
        return self.rows


def _memoised(name: str, compute: Any) -> list[dict[str, Any]] | None:
    """One query per ``QUALITY_TTL_S`` per process, however many screens ask; a failed one is
    not retried before the next period either (a store that is away must not be hammered)."""
    from ioc_app.storage import Store, StoreError

    rt = current_app.extensions[EXTENSION]
    key = (id(rt), name)
    with _quality_lock:
        hit = _quality.get(key)
        if hit is not None and time.monotonic() - hit[0] < QUALITY_TTL_S:
            return hit[1]
        try:
            with Store.origin("request"):
                value: list[dict[str, Any]] | None = compute(rt.store).to_dicts()
        except StoreError as exc:
            log.warning("event=read.quality_failed part=%s error=%r", name, str(exc)[:200])
            value = None
        _quality[key] = (time.monotonic(), value)
        return value


def wall() -> WallPlan:
    """The wall playlist (``IOC_WALL``), re-read when the file changes; a file broken after
    start-up keeps the last good playlist on the walls (and says so in the log)."""
    from ioc_app.wall import WallError, load_wall

    path = current_app.extensions[EXTENSION].settings.wall
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        stamp = None
    if _wall.get("key") != (path, stamp) or "plan" not in _wall:
        try:
            _wall["plan"] = load_wall(path)
        except WallError as exc:
            if "plan" not in _wall:
                raise
            log.warning("event=read.wall_unchanged error=%r", str(exc)[:300])
        _wall["key"] = (path, stamp)
    return _wall["plan"]


def wall_rotation(pages: str | None, interval: str | None,
                  known: set[str]) -> tuple[tuple[str, ...], int, str | None]:
    """``(pages, interval_s, reload_at)`` of one wall screen: its ``?pages=``/``?interval=``
    over the playlist, whose seasons are judged on today's date in the site's zone."""
    from ioc_app.wall import rotation

    plan = wall()
    day = datetime.now(current_app.extensions[EXTENSION].settings.zone).date()
    paths, interval_s = rotation(plan, day, pages, interval, known)
    return paths, interval_s, plan.reload_at


# ---- the analyst's drill-down (/explore) ------------------------------------------------
# The page asks the analyst query service (``ioc_app.query_service``, the code behind the
# API's route) in-process, through its cache, and gets Python data, not JSON text: the
# figures on the page and the file behind its download link are one cache entry, and a page
# never costs ClickHouse more than the URL it offers would.


def query_whitelist() -> dict[str, Any]:
    """What analysts may ask: ``{"domains": {domain: {measures, dimensions}}, "grains":
    {grain: {default_s, max_s, kept_s}}}`` from ``metrics.query`` (never a copy of it)."""
    from metrics import query

    return {"domains": query.describe(), "grains": query.grain_limits()}


def query(domain: str, args: dict[str, list[str]], max_rows: int, lang: str = "zh") -> dict[str, Any]:
    """The answer of ``GET /api/v1/query/<domain>`` for ``args`` (and ``lang``: the names
    beside the codes), as the JSON body's data.

    A refused request comes back as ``{"error", "message"}`` (the API's 400/404 body), an
    unreachable store as ``{"error": "unavailable", "message": <correlation id>}``. An answer
    longer than ``max_rows`` keeps its metadata and ``row_count`` but no ``rows``: a page
    cannot show it, the file can. ``cache`` says whether the query API's cache had it.
    """
    from ioc_app.query_service import answer, document
    from ioc_app.storage import StoreError
    from metrics.query import QueryError

    try:
        result = answer(domain, args, via="explore")
    except QueryError as exc:
        return {"error": exc.code, "message": exc.message}
    except StoreError as exc:  # the page shows a reference; the store's message goes to the log
        from ioc_app.web import logged_failure

        return {"error": "unavailable", "message": logged_failure("store_unavailable", exc, where="explore")}
    count = result.frame.height
    if count > max_rows:
        result = type(result)(result.spec, result.frame.head(0), result.cache)
    body = document(result, lang)
    body["row_count"] = count
    body["cache"] = result.cache
    if count > max_rows:
        body["rows"] = None
    return body


# ---- the admissions office's exact figures (small cells included) -------------------------
# The shared snapshot hides the score statistics of small groups (IOC_MIN_CELL) for every
# screen and person. The admissions role's own view computes the exact ones when it is
# opened — from the store, never from or into the snapshot — and each opening is audited.


def min_cell() -> int:
    """The smallest group of admitted candidates whose scores the shared figures show."""
    return int(current_app.extensions[EXTENSION].settings.min_cell)


def exact_enrollment(year: int | None = None) -> dict[str, Any] | None:
    """The exact enrollment breakdowns of ``year`` (default: the current admission year) for
    the admissions role's view, or None while the store is away. Recorded on the audit
    trail as ``enrollment.exact_view`` (one row per opening; the page does not poll it).
    The gate has already checked ``exact_cells`` (the page's permission); this asks again,
    so a page that called it by mistake gets nothing rather than exact scores."""
    from datetime import UTC

    from ioc_app.desk import audited_read
    from metrics import enrollment, small_cells

    rt = current_app.extensions[EXTENSION]
    y = year if year is not None else enrollment.admission_year(rt.settings.zone, datetime.now(UTC))
    rule = rt.settings.min_cell

    def small(figures: dict[str, Any]) -> dict[str, Any]:
        return {"small_groups": sum(1 for name in enrollment.BREAKDOWNS for r in figures[name]
                                    if small_cells.hidden(r, rule)), "min_cell": rule}

    return audited_read("exact_cells", "exact figures need the admissions role's exact_cells permission",
                        "enrollment.exact_view", y, {"year": y}, lambda store: enrollment.exact(store, y),
                        small)


# ---- the admissions office's status lookup (考生录取状态查询; ioc_app/lookup.py) ----------------
from ioc_app.lookup import MAX_LEN as LOOKUP_MAX_LEN, candidate as lookup_candidate  # noqa: E402,F401,I001
from ioc_app.lookup import examples as lookup_examples  # noqa: E402,F401
# ---- 生源质量分析 (/enrollment/quality): computed when asked, under the asker's rule ----------
from ioc_app.quality_read import (  # noqa: E402,F401  (re-exported for the page)
    quality_default_year,
    quality_exact,
    quality_figures,
    quality_min_cell,
    quality_seasons,
)

# ---- the admissions office's notice tracker (tracking numbers: admissions only) -----------
from ioc_app.notices import notice_tracker as notice_tracker  # noqa: E402


# Notifications: each contact point's state, and the operators' acknowledgements and
# silences (``ioc_app.contacts_actions``: the permission is checked there again, each action
# audited).


def notifications() -> dict[str, Any] | None:
    """``{contacts: [...], actions: [...]}`` for /health (None while the store is away)."""
    from ioc_app import contacts_actions

    return contacts_actions.state(current_app.extensions[EXTENSION])


def acknowledge_alert(alert_id: str) -> None:
    """Acknowledge an active alert (operator; PermissionError, LookupError otherwise)."""
    from ioc_app import contacts_actions

    contacts_actions.acknowledge(current_app.extensions[EXTENSION], alert_id)


def silence_alerts(target: str, minutes: int) -> datetime:
    """Silence an active alert or its rule for ``minutes`` (operator); returns until when."""
    from ioc_app import contacts_actions

    return contacts_actions.silence(current_app.extensions[EXTENSION], target, minutes)


def lift_silence(target: str) -> None:
    """End the silences of an alert or rule now (operator)."""
    from ioc_app import contacts_actions

    contacts_actions.lift(current_app.extensions[EXTENSION], target)


# ---- boards from files (专项指标大屏; ioc_app/boards_read.py) -------------------------------
from ioc_app.boards_read import HOME_BOARD, board_answer, board_view, boards_list  # noqa: E402,F401
