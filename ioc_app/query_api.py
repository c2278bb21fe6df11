"""The analyst query API: ``GET /api/v1/query/<domain>`` as JSON or CSV.

Parameters are validated by :func:`metrics.query.parse_spec` (which owns the whitelist and
the SQL); this module adds what belongs to HTTP: the output formats, the error bodies
(``{"error", "message"}``, 404 for an unknown domain, 400 for anything else a request can
get wrong) and the cache.

Cache: results are memoised as Arrow IPC bytes (:mod:`ioc_app.cache`, never pickled objects)
— in Redis when ``IOC_REDIS_URL`` is set (shared by every worker), in the process otherwise;
an entry that is not IOC's own or not readable Arrow is a miss. The key is built from the
normalised, typed :class:`~metrics.query.QuerySpec` (rounded range, sorted filters), never
from the raw query string, so ``?grain=hour&gate_id=a`` and ``?gate_id=a&grain=hour`` — or a
default range asked twice within the same bucket — share one entry, and JSON and CSV share
it too. A range that reaches into the last few minutes is still filling up and is kept 5 s;
a closed past range 10 minutes (late backlogs are rare and a re-run is cheap). Every answer
says ``X-IOC-Cache: hit`` or ``miss``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import polars as pl
from flask import Blueprint, Flask, Response, current_app, request

from ioc_app import audit
from ioc_app.cache import BytesCache, MemoryBytesCache, RedisBytesCache
from ioc_app.downloads import csv_bytes, guard_columns
from ioc_app.runtime import redis_for
from ioc_app.runtime import runtime as current_runtime
from ioc_app.settings import Settings
from ioc_app.storage import Store, StoreError
from ioc_app.web import failure
from metrics.query import QueryError, QuerySpec, parse_spec, run

log = logging.getLogger("ioc.query")
query_api = Blueprint("ioc_query", __name__, url_prefix="/api/v1")

EXTENSION = "ioc_query"
FORMATS = ("json", "csv")
LIVE_WINDOW = timedelta(minutes=5)
LIVE_TIMEOUT_S = 5
PAST_TIMEOUT_S = 600
KEY_PREFIX = "ioc:query:"


@dataclass(frozen=True)
class QueryState:
    """What the route needs, per app: the cache, the site's zone, the way to the store."""

    cache: BytesCache
    zone: ZoneInfo
    store: Callable[[], Store]

    @property
    def backend(self) -> str:
        return self.cache.backend


def _runtime_store() -> Store:
    return current_runtime().store


def init_query_api(server: Flask, settings: Settings,
                   store_getter: Callable[[], Store] | None = None, redis_client: Any = None) -> None:
    """Register the route on ``server`` with a cache chosen by the settings.

    ``store_getter`` is called per request (default: the running app's store), so the route
    follows the store the runtime holds rather than one captured at start-up. The Redis
    cache uses the app's client (``ioc_app.runtime.redis_for``: its password and TLS options).
    """
    if settings.redis_url:
        if redis_client is None:
            redis_client = redis_for(settings)
        cache: BytesCache = RedisBytesCache(redis_client, KEY_PREFIX)
    else:
        cache = MemoryBytesCache(threshold=500)
    server.extensions[EXTENSION] = QueryState(cache, settings.zone, store_getter or _runtime_store)
    server.register_blueprint(query_api)
    log.info("event=query_api.ready cache=%s", cache.backend)


def cache_timeout(spec: QuerySpec, now: datetime) -> int:
    """Seconds to keep an answer: short while its range may still be filling up."""
    return LIVE_TIMEOUT_S if spec.end > now - LIVE_WINDOW else PAST_TIMEOUT_S


def cache_key(store: Store, spec: QuerySpec, zone: ZoneInfo) -> str:
    """The spec's canonical text, scoped to the store (several sites may share one Redis)."""
    text = f"{store.url}|{store.database}|{spec.cache_key(zone)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"error": code, "message": message}), status=status, headers=headers,
                    mimetype="application/json")


def _cached(state: QueryState, key: str) -> bytes | None:
    try:
        return state.cache.get(key)
    except Exception as exc:  # the cache is an optimisation: a broken Redis must not fail queries
        log.warning("event=query.cache_failed op=get backend=%s error=%r", state.backend, str(exc))
        return None


def _decoded(state: QueryState, payload: bytes) -> pl.DataFrame | None:
    """An entry's rows, or None (a miss) for bytes that are not an Arrow IPC file."""
    try:
        return pl.read_ipc(io.BytesIO(payload))
    except Exception as exc:  # whatever the Arrow reader makes of foreign bytes: recompute
        log.warning("event=query.cache_unreadable backend=%s bytes=%d error=%r", state.backend,
                    len(payload), type(exc).__name__)
        return None


def _remember(state: QueryState, key: str, value: bytes, timeout: int) -> None:
    try:
        state.cache.set(key, value, timeout=timeout)
    except Exception as exc:  # as above
        log.warning("event=query.cache_failed op=set backend=%s error=%r", state.backend, str(exc))


@dataclass(frozen=True)
class Answer:
    """One analyst query answered: the normalised spec, the rows (buckets as text, as every
    format sends them) and whether the cache had them."""

    spec: QuerySpec
    frame: pl.DataFrame
    cache: str


def answer(domain: str, args: dict[str, list[str]], extra: tuple[str, ...] = (),
           via: str = "api") -> Answer:
    """The answer to ``args`` (each parameter → its values) for the running app.

    The route and the explore page both come here, so a page and the URL it offers for
    download are one question with one cache entry, validated and shaped in one place.
    ``via`` names the asker in the log. Raises :class:`QueryError` for a request to change
    and :class:`StoreError` when the store is away (neither is cached).
    """
    state: QueryState = current_app.extensions[EXTENSION]
    started = time.perf_counter()
    now = datetime.now(UTC)
    spec = parse_spec(domain, args, state.zone, now, extra=extra)
    store = state.store()
    key = cache_key(store, spec, state.zone)
    payload = _cached(state, key)
    frame = _decoded(state, payload) if payload is not None else None
    status = "hit" if frame is not None else "miss"
    if frame is None:
        frame = run(store, spec, state.zone)
        buffer = io.BytesIO()
        frame.write_ipc(buffer)
        _remember(state, key, buffer.getvalue(), cache_timeout(spec, now))
    log.info("event=query.served domain=%s grain=%s measures=%d group_by=%s rows=%d cache=%s "
             "via=%s ms=%.1f", spec.domain, spec.grain, len(spec.measures),
             ",".join(spec.group_by) or "-", frame.height, status, via,
             (time.perf_counter() - started) * 1000)
    return Answer(spec, _with_text_bucket(frame, spec.grain), status)


def json_body(result: Answer) -> bytes:
    """The JSON document of an answer, exactly as the route sends it."""
    state: QueryState = current_app.extensions[EXTENSION]
    spec, frame, zone = result.spec, result.frame, state.zone
    body = {
        "domain": spec.domain,
        "grain": spec.grain,
        "from": _local(spec.start, zone),
        "to": _local(spec.end, zone),
        "zone": zone.key,
        "measures": list(spec.measures),
        "group_by": list(spec.group_by),
        "filters": {name: list(values) for name, values in spec.filters},
        "rows": orjson.Fragment(frame.write_json() if frame.height else "[]"),
    }
    return orjson.dumps(body)


@query_api.get("/query/<domain>")
def query(domain: str) -> Response:
    state: QueryState = current_app.extensions[EXTENSION]
    args = request.args.to_dict(flat=False)
    formats = args.pop("format", ["json"])
    if len(formats) != 1:
        return _error(400, "bad_parameter", f"format is given {len(formats)} times; give it once")
    if formats[0] not in FORMATS:
        return _error(400, "bad_parameter", f"format={formats[0]!r}: use one of: {', '.join(FORMATS)}")
    try:
        result = answer(domain, args, extra=("format",), via=f"api-{formats[0]}")
    except QueryError as exc:
        return _error(404 if exc.code == "unknown_domain" else 400, exc.code, exc.message)
    except StoreError as exc:
        return failure(503, "store_unavailable", exc, where="query", headers={"Retry-After": "10"})
    if formats[0] == "csv":
        response = _csv(result.frame, result.spec, state.zone)
    else:
        response = Response(json_body(result), mimetype="application/json")
    # audit: data leaving through the API (a CSV file, or JSON for a script), who, the
    # question, the rows and the digest of the body sent
    spec = result.spec
    audit.record("query.download" if formats[0] == "csv" else "query.read", object=spec.domain, detail={
        "format": formats[0], "grain": spec.grain, "from": _local(spec.start, state.zone),
        "to": _local(spec.end, state.zone), "measures": list(spec.measures), "group_by": list(spec.group_by),
        "filters": {name: list(values) for name, values in spec.filters}, "rows": result.frame.height,
        "sha256": hashlib.sha256(response.get_data()).hexdigest()})
    response.headers["X-IOC-Cache"] = result.cache
    return response


def _with_text_bucket(frame: pl.DataFrame, grain: str) -> pl.DataFrame:
    """Buckets as text: local RFC 3339 for minutes and hours, ``YYYY-MM-DD`` for days."""
    fmt = "%Y-%m-%d" if grain == "day" else "%Y-%m-%dT%H:%M:%S%:z"
    return frame.with_columns(pl.col(grain).dt.to_string(fmt))


def _local(t: datetime, zone: ZoneInfo) -> str:
    return t.astimezone(zone).isoformat()


def _csv(frame: pl.DataFrame, spec: QuerySpec, zone: ZoneInfo) -> Response:
    """UTF-8 with a byte-order mark, so Excel shows Chinese codes and names correctly; text
    cells that a spreadsheet would run as a formula get a leading apostrophe."""
    body = csv_bytes(guard_columns(frame, spec.group_by))
    stamp = "%Y%m%dT%H%M"
    name = (f"ioc-{spec.domain}-{spec.grain}-{spec.start.astimezone(zone).strftime(stamp)}-"
            f"{spec.end.astimezone(zone).strftime(stamp)}.csv")
    return Response(body, mimetype="text/csv",
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{name}"'})
