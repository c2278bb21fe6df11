"""The analyst query API: ``GET /api/v1/query/<domain>`` as JSON, CSV or XLSX.

The question is answered by :mod:`ioc_app.query_service` (validation, cache, store — the
same code the explore page uses); this module adds what belongs to HTTP: the output
formats (XLSX in the language of ``lang``: :mod:`ioc_app.query_file`), the error bodies
(``{"error", "message"}``, 404 for an unknown domain, 400 for anything else a request can
get wrong), the audit row of data leaving and the
``X-IOC-Cache: hit`` or ``miss`` header every answer carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from flask import Blueprint, Flask, Response, current_app, request

from ioc_app import audit, query_file
from ioc_app.downloads import XLSX_TYPE, attachment, csv_bytes, guard_columns
from ioc_app.query_file import xlsx_bytes
from ioc_app.query_service import EXTENSION, QueryState, answer, init_query_service, json_body, local, named
from ioc_app.settings import Settings
from ioc_app.storage import Store, StoreError
from ioc_app.web import failure, refusal
from metrics.query import QueryError, QuerySpec

query_api = Blueprint("ioc_query", __name__, url_prefix="/api/v1")
FORMATS = ("json", "csv", "xlsx")
LANGS = ("zh", "en")


def init_query_api(server: Flask, settings: Settings,
                   store_getter: Callable[[], Store] | None = None, redis_client: Any = None) -> None:
    """The query service on ``server`` (see :func:`~ioc_app.query_service.init_query_service`)
    and its route."""
    init_query_service(server, settings, store_getter, redis_client)
    server.register_blueprint(query_api)


@query_api.get("/query/<domain>")
def query(domain: str) -> Response:
    state: QueryState = current_app.extensions[EXTENSION]
    args = request.args.to_dict(flat=False)
    formats = args.pop("format", ["json"])
    if len(formats) != 1:
        return refusal(400, "bad_parameter", f"format is given {len(formats)} times; give it once")
    if formats[0] not in FORMATS:
        return refusal(400, "bad_parameter", f"format={formats[0]!r}: use one of: {', '.join(FORMATS)}")
    langs = args.pop("lang", ["zh"])
    if len(langs) != 1 or langs[0] not in LANGS:
        return refusal(400, "bad_parameter", f"lang={','.join(langs)!r}: give one of: {', '.join(LANGS)}")
    try:
        result = answer(domain, args, extra=("format", "lang"), via=f"api-{formats[0]}")
    except QueryError as exc:
        return refusal(404 if exc.code == "unknown_domain" else 400, exc.code, exc.message)
    except StoreError as exc:
        return failure(503, "store_unavailable", exc, where="query", headers={"Retry-After": "10"})
    if formats[0] == "csv":
        response = _csv(named(result, langs[0]), result.spec, state.zone)
    elif formats[0] == "xlsx":
        if result.frame.height > query_file.XLSX_MAX_ROWS:
            return refusal(400, "too_many_rows", (
                f"the answer has {result.frame.height:,} rows and an Excel download holds at most "
                f"{query_file.XLSX_MAX_ROWS:,}; narrow the range, filter, use a coarser grain, or "
                f"use format=csv"))
        response = _xlsx(named(result, langs[0]), result.spec, state.zone, langs[0])
    else:
        response = Response(json_body(result, langs[0]), mimetype="application/json")
    # audit: data leaving through the API (a CSV file, or JSON for a script), who, the
    # question, the rows and the digest of the body sent
    spec = result.spec
    audit.record("query.read" if formats[0] == "json" else "query.download", object=spec.domain, detail={
        "format": formats[0], "grain": spec.grain, "compare": spec.compare,
        "from": local(spec.start, state.zone), "to": local(spec.end, state.zone),
        "measures": list(spec.measures), "group_by": list(spec.group_by),
        "filters": {name: list(values) for name, values in spec.filters}, "rows": result.frame.height,
        "sha256": hashlib.sha256(response.get_data()).hexdigest()})
    response.headers["X-IOC-Cache"] = result.cache
    return response


def _csv(frame: pl.DataFrame, spec: QuerySpec, zone: ZoneInfo) -> Response:
    """UTF-8 with a byte-order mark, so Excel shows Chinese codes and names correctly; text
    cells that a spreadsheet would run as a formula get a leading apostrophe."""
    text = [c for c in frame.columns if c in spec.group_by or c.removesuffix("_name") in spec.group_by]
    body = csv_bytes(guard_columns(frame, text))
    stamp = "%Y%m%dT%H%M"
    name = (f"ioc-{spec.domain}-{spec.grain}-{spec.start.astimezone(zone).strftime(stamp)}-"
            f"{spec.end.astimezone(zone).strftime(stamp)}.csv")
    return Response(body, mimetype="text/csv",
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{name}"'})


def _xlsx(frame: pl.DataFrame, spec: QuerySpec, zone: ZoneInfo, lang: str) -> Response:
    """The rows under headers in ``lang`` and a sheet stating the question; named like the CSV."""
    api = request.full_path.rstrip("?")
    body = xlsx_bytes(frame, spec, zone, datetime.now(UTC).astimezone(zone), api, lang)
    stamp = "%Y%m%dT%H%M"
    name = (f"ioc-{spec.domain}-{spec.grain}-{spec.start.astimezone(zone).strftime(stamp)}-"
            f"{spec.end.astimezone(zone).strftime(stamp)}"
            f"{'-' + spec.compare if spec.compare else ''}.xlsx")
    return Response(body, headers={"Content-Type": XLSX_TYPE, "Cache-Control": "no-store",
                                   "Content-Disposition": attachment(name)})
