"""``GET /api/v1/snapshot``: the live snapshot as published by the core, or a stored one.

Serving the live snapshot costs no ClickHouse work: the bytes were serialised once by the
core, and a screen that already has the version gets a 304. ``?at=`` reads the snapshot
history; ``?year=`` recomputes only the enrollment section for another admission year
(once per year and snapshot version, however many ask). Both keep the small-cell rule
(``IOC_MIN_CELL``): a stored snapshot from before it, or from a smaller setting, is served
with the small groups' score statistics null.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, jsonify, request

from ioc_app.runtime import runtime as current_runtime
from ioc_app.storage import StoreError
from ioc_app.web import failure
from metrics import enrollment, history
from metrics.times import TimeError, parse_time

snapshot_api = Blueprint("ioc_snapshot", __name__)
ALLOWED = ("at", "year")
_year_cache: OrderedDict[tuple[int, int], bytes] = OrderedDict()
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
    if "at" in request.args:
        return _at(runtime, request.args["at"])
    current = runtime.feed.current()
    if current is None:
        return failure(503, "no_snapshot", "no snapshot has been computed yet", where="snapshot",
                       headers={"Retry-After": "1"})
    if "year" in request.args:
        return _for_year(runtime, current, request.args["year"])
    if request.if_none_match.contains(str(current.version)):
        response = Response(status=304)
        response.headers["ETag"] = current.etag
        return response
    return _json(current.body, current.etag)


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
        body = _year_cache.get(key)
        if body is None:
            now = datetime.fromisoformat(current.data["generated_at"]).astimezone(UTC)
            section = enrollment.live(runtime.store, runtime.settings.zone, now, year,
                                      min_cell=runtime.settings.min_cell)
            body = orjson.dumps({**current.data, "enrollment": section})
            _year_cache[key] = body
            while len(_year_cache) > 8:
                _year_cache.popitem(last=False)
    return _json(body, f'"{current.version}-{year}"')
