"""The analyst query service: one question (domain, grain, range, measures, filters)
answered from the store through the cache, in-process.

The route (``GET /api/v1/query/<domain>``, :mod:`ioc_app.routes.query_api`) and the explore page
(through :func:`ioc_app.read.query`) both come here, so a page and the URL it offers for
download are one question with one cache entry, validated and shaped in one place; the page
gets the answer as Python data (:func:`document`), never through a JSON text.

Parameters are validated by :func:`metrics.query.parse_spec` (which owns the whitelist and
the SQL). Cache: results are memoised as Arrow IPC bytes (:mod:`ioc_app.cache`, never
pickled objects) — in Redis when ``IOC_REDIS_URL`` is set (shared by every worker), in the
process otherwise; an entry that is not IOC's own or not readable Arrow is a miss. The key
is built from the normalised, typed :class:`~metrics.query.QuerySpec` (rounded range, sorted
filters), never from the raw query string, so ``?grain=hour&gate_id=a`` and
``?gate_id=a&grain=hour`` — or a default range asked twice within the same bucket — share
one entry, and JSON, CSV and XLSX share it too; ``compare`` is part of the key. A range
that reaches into the last few minutes is still filling up and is kept 5 s; a closed past
range 10 minutes (late backlogs are rare and a re-run is cheap).
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
from flask import Flask, current_app

from ioc_app.access import principal
from ioc_app.cache import BytesCache, MemoryBytesCache, RedisBytesCache
from ioc_app.names import names_of
from ioc_app.runtime import redis_for
from ioc_app.runtime import runtime as current_runtime
from ioc_app.settings import Settings
from ioc_app.storage import Store
from metrics.query import QuerySpec, comparison_range, parse_spec, run_compared, small_cells_apply
from metrics.small_cells import MIN_CELL

log = logging.getLogger("ioc.query")

EXTENSION = "ioc_query"
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
    #: ``IOC_MIN_CELL``: the smallest group whose score statistics an answer shows
    min_cell: int = MIN_CELL

    @property
    def backend(self) -> str:
        return self.cache.backend


def _runtime_store() -> Store:
    return current_runtime().store


def init_query_service(server: Flask, settings: Settings,
                   store_getter: Callable[[], Store] | None = None, redis_client: Any = None) -> None:
    """Give ``server`` the query service, with a cache chosen by the settings.

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
    server.extensions[EXTENSION] = QueryState(cache, settings.zone, store_getter or _runtime_store,
                                              settings.min_cell)
    log.info("event=query_service.ready cache=%s", cache.backend)


def cache_timeout(spec: QuerySpec, now: datetime) -> int:
    """Seconds to keep an answer: short while its range may still be filling up."""
    return LIVE_TIMEOUT_S if spec.end > now - LIVE_WINDOW else PAST_TIMEOUT_S


def cache_key(store: Store, spec: QuerySpec, zone: ZoneInfo, min_cell: int | None = None) -> str:
    """The spec's canonical text, scoped to the store (several sites may share one Redis) and,
    where the small-cell rule shapes the answer, to the rule applied (the admissions role's
    exact answer is another entry)."""
    text = f"{store.url}|{store.database}|{spec.cache_key(zone)}"
    if min_cell is not None:
        text += f"|min_cell={min_cell}"
    return hashlib.sha256(text.encode()).hexdigest()


def min_cell_for_asker(state: QueryState, spec: QuerySpec) -> int | None:
    """The small-cell rule for whoever asks, where it applies (the scores of ``enrollment``;
    None elsewhere): exact (1) for a person holding ``exact_cells`` (the admissions role),
    ``IOC_MIN_CELL`` for everybody else — as the live pages show them."""
    if not small_cells_apply(spec):
        return None
    return 1 if principal().may("exact_cells") else state.min_cell


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
    min_cell = min_cell_for_asker(state, spec)
    key = cache_key(store, spec, state.zone, min_cell)
    payload = _cached(state, key)
    frame = _decoded(state, payload) if payload is not None else None
    status = "hit" if frame is not None else "miss"
    if frame is None:
        # the plain answer without compare; the small-cell rule where it applies
        frame = run_compared(store, spec, state.zone, now,
                             min_cell=state.min_cell if min_cell is None else min_cell)
        buffer = io.BytesIO()
        frame.write_ipc(buffer)
        _remember(state, key, buffer.getvalue(), cache_timeout(spec, now))
    log.info("event=query.served domain=%s grain=%s measures=%d group_by=%s rows=%d cache=%s "
             "via=%s ms=%.1f", spec.domain, spec.grain, len(spec.measures),
             ",".join(spec.group_by) or "-", frame.height, status, via,
             (time.perf_counter() - started) * 1000)
    return Answer(spec, _with_text_bucket(frame, spec.grain), status)


def _head(result: Answer, zone: ZoneInfo) -> dict[str, Any]:
    spec = result.spec
    return {
        "domain": spec.domain,
        "grain": spec.grain,
        "from": local(spec.start, zone),
        "to": local(spec.end, zone),
        "zone": zone.key,
        "measures": list(spec.measures),
        "group_by": list(spec.group_by),
        "filters": {name: list(values) for name, values in spec.filters},
        **_compare_head(spec, zone),
    }


def _compare_head(spec: QuerySpec, zone: ZoneInfo) -> dict[str, Any]:
    """``compare: {kind, from, to}``: the comparison period the ``*_cmp`` columns cover."""
    if spec.compare is None:
        return {}
    first, last = comparison_range(spec, zone)
    return {"compare": {"kind": spec.compare, "from": local(first, zone), "to": local(last, zone)}}


def named(result: Answer, lang: str) -> pl.DataFrame:
    """The answer's rows with a ``<dimension>_name`` column beside each grouped code column,
    in ``lang`` (catalogue names, enumerations' words; a code the catalogue lacks as the code,
    marked). The code columns stay, so scripts and joins keep working; names are added after
    the cache, so a rename in the catalogue shows at once and both languages share an entry."""
    return names_of(current_runtime().site).with_names(result.frame, result.spec.group_by, lang)


def json_body(result: Answer, lang: str = "zh") -> bytes:
    """The JSON document of an answer, exactly as the route sends it (the rows written by
    Arrow's JSON writer, not through Python objects)."""
    zone = _zone()
    frame = named(result, lang)
    rows = orjson.Fragment(frame.write_json() if frame.height else "[]")
    return orjson.dumps({**_head(result, zone), "rows": rows})


def document(result: Answer, lang: str = "zh") -> dict[str, Any]:
    """The same document as :func:`json_body` as Python data, for a page in this process:
    the rows as dicts, a float that is not a number as None (what JSON's ``null`` reads back
    as), so the page sees exactly what a script reading the API would."""
    frame = named(result, lang).with_columns(pl.col(pl.Float32, pl.Float64).fill_nan(None))
    return {**_head(result, _zone()), "rows": frame.to_dicts()}


def _zone() -> ZoneInfo:
    state: QueryState = current_app.extensions[EXTENSION]
    return state.zone


def _with_text_bucket(frame: pl.DataFrame, grain: str) -> pl.DataFrame:
    """Buckets as text: local RFC 3339 for minutes and hours, ``YYYY-MM-DD`` for days, the
    admission year (``2025``) for seasons."""
    if grain == "season":
        return frame.with_columns(pl.col(grain).cast(pl.String))
    fmt = "%Y-%m-%d" if grain == "day" else "%Y-%m-%dT%H:%M:%S%:z"
    return frame.with_columns(pl.col(grain).dt.to_string(fmt))


def local(t: datetime, zone: ZoneInfo) -> str:
    """``t`` as RFC 3339 in the site's zone (how every answer writes its range)."""
    return t.astimezone(zone).isoformat()
