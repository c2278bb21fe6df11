"""Reading the audit trail: ``GET /api/v1/audit`` and the auditor's page ``/admin/audit``.

Both answer the ``auditor`` role only (``ioc_app.permissions``: the ``audit`` permission);
the gate refuses everybody else — security administrators and operators included — before
this module runs. There is no route that writes, changes or deletes the trail.

Parameters (each at most once): ``from`` and ``to`` (RFC 3339, e.g.
``2025-05-01T08:00:00+08:00``; or a date, ``2025-05-01``, read as that whole day in the
site's zone; a time without offset is the site's time; default the last 7 days up to now),
``user`` (the actor, exactly), ``action`` (exactly, or a prefix ending with ``*``:
``screen.*``), ``limit`` (1–100000, default 1000 for the API and 200 on the page), and for the
API ``format=json|csv``. Rows come newest first. Anything else is a 400 naming the allowed
parameters; errors are ``{"error", "message"}``.

Reading the trail is itself recorded (``audit.read``: the filters, the format and the rows).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import orjson
import polars as pl
from flask import Blueprint, Response, request

from ioc_app.access import current as current_access
from ioc_app.downloads import attachment, csv_bytes, guard_columns
from ioc_app.plain import lang, render
from ioc_app.runtime import runtime as current_runtime
from ioc_app.storage import StoreError
from ioc_app.web import failure, refusal
from layouts.i18n import t
from metrics.audit import COLUMNS, audit_rows
from metrics.times import TimeError, parse_time

log = logging.getLogger("ioc.audit_api")
audit_api = Blueprint("ioc_audit", __name__)

FORMATS = ("json", "csv")
API_PARAMETERS = ("from", "to", "user", "action", "format", "limit")
PAGE_PARAMETERS = ("from", "to", "user", "action", "limit", "lang")
DEFAULT_SPAN = timedelta(days=7)
API_LIMIT, PAGE_LIMIT, MAX_LIMIT = 1000, 200, 100_000
#: text columns a spreadsheet must show literally (formula injection)
TEXT = ("actor_kind", "actor", "address", "action", "object", "result", "detail")


class AuditQueryError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AuditQuery:
    start: datetime
    end: datetime
    user: str
    action: str
    limit: int
    fmt: str

    def detail(self, zone: ZoneInfo) -> dict[str, Any]:
        """The filters as the audit row of the read keeps them (the ``user`` asked for is the
        row's object, not its detail)."""
        return {"from": self.start.astimezone(zone).isoformat(), "to": self.end.astimezone(zone).isoformat(),
                "action": self.action, "limit": self.limit, "format": self.fmt}


def _instant(name: str, raw: str, zone: ZoneInfo, end: bool) -> datetime:
    """The product's one time reader (:mod:`metrics.times`); a date as ``to`` includes that
    whole day."""
    try:
        return parse_time(name, raw, zone, end_of_day=end)
    except TimeError as exc:
        raise AuditQueryError(exc.message) from None


def parse(args: Mapping[str, Sequence[str]], allowed: tuple[str, ...], zone: ZoneInfo,
          now: datetime, default_limit: int) -> AuditQuery:
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise AuditQueryError(f"unknown parameter {unknown[0]!r}; allowed: {', '.join(allowed)}")
    for name, values in args.items():
        if len(values) > 1:
            raise AuditQueryError(f"{name} is given {len(values)} times; give it once")
    one = {name: values[0] for name, values in args.items()}
    end = _instant("to", one["to"], zone, True) if one.get("to", "").strip() else now
    start = _instant("from", one["from"], zone, False) if one.get("from", "").strip() else end - DEFAULT_SPAN
    if start >= end:
        raise AuditQueryError(f"from ({start.isoformat()}) is not before to ({end.isoformat()}); "
                              f"give an earlier from or a later to")
    fmt = one.get("format", "json") or "json"
    if fmt not in FORMATS:
        raise AuditQueryError(f"format={fmt!r}: use one of: {', '.join(FORMATS)}")
    raw_limit = one.get("limit", "").strip()
    try:
        limit = int(raw_limit) if raw_limit else default_limit
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise AuditQueryError(f"limit={raw_limit!r}: use a whole number 1–{MAX_LIMIT}")
    user = one.get("user", "").strip()
    action = one.get("action", "").strip()
    if len(user) > 128 or len(action) > 64:
        raise AuditQueryError("user is at most 128 characters and action at most 64; shorten them")
    return AuditQuery(start, end, user, action, limit, fmt)


def _refused(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return refusal(status, code, message, {"Cache-Control": "no-store", **(headers or {})})


def _rows(q: AuditQuery) -> pl.DataFrame:
    frame = audit_rows(current_runtime().store, q.start, q.end, user=q.user, action=q.action, limit=q.limit)
    return frame.with_columns(pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%.3fZ"))


def _recorded(q: AuditQuery, via: str, rows: int, body: bytes | None = None) -> None:
    zone = current_runtime().settings.zone
    detail = {**q.detail(zone), "rows": rows, "via": via}
    if body is not None:
        detail["sha256"] = hashlib.sha256(body).hexdigest()
    current_access().audit.record("audit.read", object=q.user, detail=detail)


def _detail_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


@audit_api.get("/api/v1/audit")
def audit_list() -> Response:
    zone = current_runtime().settings.zone
    try:
        q = parse(request.args.to_dict(flat=False), API_PARAMETERS, zone, datetime.now(UTC), API_LIMIT)
        frame = _rows(q)
    except AuditQueryError as exc:
        return _refused(400, "bad_parameter", exc.message)
    except StoreError as exc:
        return failure(503, "store_unavailable", exc, where="audit", headers={"Retry-After": "10"})
    if q.fmt == "csv":
        body = csv_bytes(guard_columns(frame.select(COLUMNS), TEXT))
        _recorded(q, "api", frame.height, body)
        stamp = "%Y%m%dT%H%M"
        name = (f"ioc-audit-{q.start.astimezone(zone).strftime(stamp)}-"
                f"{q.end.astimezone(zone).strftime(stamp)}.csv")
        return Response(body, headers={"Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
                                       "Content-Disposition": attachment(name)})
    rows = frame.to_dicts()
    for row in rows:
        row["detail"] = _detail_value(row["detail"])
    body = orjson.dumps({"from": q.start.isoformat().replace("+00:00", "Z"),
                         "to": q.end.isoformat().replace("+00:00", "Z"),
                         "count": len(rows), "rows": rows})
    _recorded(q, "api", len(rows))
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})


@audit_api.get("/admin/audit")
def audit_page() -> Response:
    zone = current_runtime().settings.zone
    language = lang()
    args = request.args.to_dict(flat=False)
    shown = {k: (v[0] if v else "") for k, v in args.items() if k in PAGE_PARAMETERS and k != "lang"}
    error, rows, status = "", [], 200
    csv_url = ""
    try:
        q = parse(args, PAGE_PARAMETERS, zone, datetime.now(UTC), PAGE_LIMIT)
        frame = audit_rows(current_runtime().store, q.start, q.end, user=q.user, action=q.action,
                           limit=q.limit)
        rows = [{**r, "ts": r["ts"].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")}
                for r in frame.to_dicts()]
        _recorded(q, "page", len(rows))
        csv_url = "/api/v1/audit?" + urlencode(
            {**{k: v for k, v in shown.items() if v}, "format": "csv"})
    except AuditQueryError as exc:
        error, status = exc.message, 400
    except StoreError as exc:
        log.warning("event=audit.store_unavailable error=%r", str(exc)[:300])
        error, status = t("admin.audit_unavailable", language), 503
    return render("audit.html", status, title=t("admin.audit", language), error=error, rows=rows,
                  filters=shown, csv_url=csv_url, zone=zone.key, box_class="wide")
