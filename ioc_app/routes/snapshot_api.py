"""``GET /api/v1/snapshot``: the live snapshot as published by the core, or a stored one.

Serving the live snapshot costs no ClickHouse work: the bytes were serialised once by the
core, and a screen that already has the version gets a 304. ``?at=`` reads the snapshot
history; ``?year=`` recomputes only the enrollment section for another admission year
(once per year and snapshot version, however many ask). Both keep the small-cell rule
(``IOC_MIN_CELL``): a stored snapshot from before it, or from a smaller setting, is served
with the small groups' score statistics null.

Push: ``?wait=<seconds>`` with ``If-None-Match`` of the current version parks the request on
the feed (``ioc_app.feed.PushBoard``) until the next version — answered ``200`` with it — or
until the wait ends (``304``). ``IOC-Push`` says how it was answered (``new``, ``held``, or at
once: ``now``, ``busy`` past the cap, ``off``, ``closing``), so a screen knows whether to keep
pushing or to poll for a while. The live body is served with the figures that only age
(``lag_s``, ``age_s``) computed at serving time; the ETag stays the version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, g, jsonify, request

from ioc_app.notices import notice_days
from ioc_app.runtime import runtime as current_runtime
from ioc_app.storage import StoreError
from ioc_app.web import failure
from metrics import enrollment, history
from metrics.times import TimeError, parse_time

snapshot_api = Blueprint("ioc_snapshot", __name__)
ALLOWED = ("at", "year", "wait")
#: the longest a request may be held (below the usual 60 s read timeout of reverse proxies)
MAX_WAIT_S = 30.0
_year_cache: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
_year_lock = threading.Lock()


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    response = jsonify(error=code, message=message)
    response.status_code = status
    response.headers.update(headers)
    return response


def _json(body: bytes, etag: str | None = None) -> Response:
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    if etag:
        response.headers["ETag"] = etag
    return response


@snapshot_api.get("/api/v1/snapshot")
def snapshot() -> Response:
    runtime = current_runtime()
    unknown = sorted(set(request.args) - set(ALLOWED))
    if unknown:
        return _error(400, "unknown_parameter",
                      f"unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(ALLOWED)}")
    wait = None
    if "wait" in request.args:
        wait = _wait_s(request.args["wait"])
        if wait is None:
            return _error(400, "bad_wait", f"wait={request.args['wait'][:32]!r}: the seconds to hold the "
                          f"request until the next version, a number above 0 and at most {MAX_WAIT_S:g}")
        if "at" in request.args or "year" in request.args:
            return _error(400, "bad_wait", "wait holds the live snapshot only: leave it out with at= "
                                           "or year=")
    if "at" in request.args:
        return _at(runtime, request.args["at"])
    current = runtime.feed.current()
    if current is None:
        return failure(503, "no_snapshot", "no snapshot has been computed yet", where="snapshot",
                       headers={"Retry-After": "1"})
    if "year" in request.args:
        return _for_year(runtime, current, request.args["year"])
    held = _held_version(current)
    if wait is not None:
        return _push(runtime, current, held, wait)
    if held == current.version:
        return _not_modified(current)
    return _json(current.served()[0], current.etag)


def _wait_s(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 < value <= MAX_WAIT_S else None


def _held_version(current: Any) -> int | None:
    """The version the client says it holds (``If-None-Match``), or None."""
    if request.if_none_match.contains(str(current.version)):
        return int(current.version)
    for tag in request.if_none_match.as_set():
        if tag.isdigit():
            return int(tag)
    return None


def _not_modified(current: Any, push: str | None = None) -> Response:
    response = Response(status=304)
    response.headers["ETag"] = current.etag
    response.headers["Cache-Control"] = "no-cache"
    if push:
        response.headers["IOC-Push"] = push
    return response


def _push(runtime: Any, current: Any, held: int | None, wait: float) -> Response:
    """Answer when the client lacks the current version, else park until the next one."""
    g.ioc_push = True  # held for seconds on purpose: its latency is observed apart
    how, found = ("now", current) if held is None else runtime.feed.push.wait(held, wait)
    if found is None:
        latest = runtime.feed.current() or current
        if held == latest.version:
            return _not_modified(latest, how)
        found = latest  # answered without waiting (off, busy, closing) to a client that is behind
    response = _json(found.served()[0], found.etag)
    response.headers["IOC-Push"] = how
    return response


def _at(runtime: Any, raw: str) -> Response:
    try:
        when = parse_time("at", raw, runtime.settings.zone)
    except TimeError as exc:
        return _error(400, "bad_time", exc.message)
    try:
        body = history.shown_at(runtime.store, when, runtime.settings.min_cell)
    except StoreError as exc:
        return failure(503, "store_unavailable", exc, where="snapshot.history", headers={"Retry-After": "10"})
    if body is None:
        return _error(404, "not_found", f"no snapshot was stored at or before {raw}; "
                      "history starts when the core first ran — choose a later time")
    return _json(body)


def _for_year(runtime: Any, current: Any, raw: str) -> Response:
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        return _error(400, "bad_year", f"year={raw!r}: use an admission year such as 2026 (2000–2100)")
    year = int(raw)
    key = (year, current.version)
    with _year_lock:
        section = _year_cache.get(key)
        if section is None:
            now = datetime.fromisoformat(current.data["generated_at"]).astimezone(UTC)
            section = enrollment.live(runtime.store, runtime.settings.zone, now, year,
                                      min_cell=runtime.settings.min_cell,
                                      notice_days=notice_days(runtime.settings))
            _year_cache[key] = section
            while len(_year_cache) > 8:
                _year_cache.popitem(last=False)
    # the other sections as served now (their figures that age, computed when read)
    body = orjson.dumps({**current.served()[1], "enrollment": section})
    return _json(body, f'"{current.version}-{year}"')
