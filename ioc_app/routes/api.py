"""HTTP API: ingest and dead letters (``/api/v1``). Errors are ``{"error", "message"}``."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from flask import Blueprint, Response, request

from ingest.deadletter import fixed_fields, loads_or_text
from ingest.offload import Request
from ingest.parse import MAX_BYTES, BodyError, body_kind, parse_body
from ingest.pipeline import Backpressure
from ingest.registry import BY_NAME
from ioc_app import audit
from ioc_app.access import principal
from ioc_app.auth import Source
from ioc_app.runtime import runtime as current_runtime
from ioc_app.storage import StoreError
from ioc_app.web import failure
from metrics.deadletter import list_dead_letters

log = logging.getLogger("ioc.api")
api = Blueprint("ioc_api", __name__, url_prefix="/api/v1")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers,
                    mimetype="application/json")


@api.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    if exc.status >= 500:  # the code and a correlation id; what happened goes to the log
        return failure(exc.status, exc.code, exc.message, where=f"api.{exc.code}", headers=exc.headers)
    return _json({"error": exc.code, "message": exc.message}, exc.status, exc.headers)


def _source(stream: str | None = None, admin: bool = False) -> Source:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise ApiError(401, "unauthorized", (
            "send the source system's token as 'Authorization: Bearer <token>' (create one with "
            "'python -m ioc_app token create <source> --streams <streams>')"),
            {"WWW-Authenticate": "Bearer"})
    src = current_runtime().tokens.verify(header[7:].strip())
    if src is None:
        raise ApiError(401, "unauthorized", "the token is unknown or revoked; ask for a new one",
                       {"WWW-Authenticate": "Bearer"})
    if admin and "*" not in src.streams:
        raise ApiError(403, "forbidden", (
            f"source {src.name!r} may not manage dead letters; use a token created with --streams '*'"))
    if stream and not src.may_write(stream):
        raise ApiError(403, "forbidden", (
            f"source {src.name!r} may not write {stream}; its token allows: {', '.join(src.streams)}"))
    return src


def _read_body() -> bytes:
    length = request.content_length
    if length is not None and length > MAX_BYTES:
        raise ApiError(413, "body_too_large", f"the body is larger than {MAX_BYTES // 2**20} MiB; "
                                              "split it into several requests")
    data = request.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ApiError(413, "body_too_large", f"the body is larger than {MAX_BYTES // 2**20} MiB; "
                                              "split it into several requests")
    return data


@api.post("/ingest/<stream_name>")
def ingest(stream_name: str) -> Response:
    stream = BY_NAME.get(stream_name)
    if stream is None:
        raise ApiError(404, "unknown_stream", (
            f"there is no stream {stream_name!r}; use one of: {', '.join(sorted(BY_NAME))}"))
    src = _source(stream.name)
    pipeline = current_runtime().pipeline
    started = time.perf_counter()
    try:
        pipeline.check_capacity()  # a full buffer answers before a 16 MiB body is parsed
        body = _read_body()
        content_type = request.headers.get("Content-Type")
        content_encoding = request.headers.get("Content-Encoding")
        offload = current_runtime().offload
        if offload is not None:
            body_kind(content_type)  # an unsupported type is refused without a round trip
            receipt = offload.submit(stream, Request(body, content_type, content_encoding, src.name))
        else:
            receipt = pipeline.submit(stream, parse_body(body, content_type, content_encoding),
                                      source=src.name)
    except BodyError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    except Backpressure as exc:
        raise ApiError(exc.status, "busy" if exc.status == 429 else "unavailable", exc.message,
                       {"Retry-After": str(exc.retry_after)}) from None
    log.debug("event=api.ingest stream=%s source=%s accepted=%d duplicates=%d rejected=%d ms=%.1f",
             stream.name, src.name, receipt.accepted, receipt.duplicates, receipt.rejected,
             (time.perf_counter() - started) * 1000)
    return _json(receipt.body())


def _limit(raw: str | None, default: int = 100) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        raise ApiError(400, "bad_parameter", f"limit={raw!r}: use a whole number 1–10000") from None
    if not 1 <= value <= 10_000:
        raise ApiError(400, "bad_parameter", f"limit={raw!r}: use a whole number 1–10000")
    return value


def _stream_param(raw: str | None) -> str | None:
    if raw and raw not in BY_NAME:
        raise ApiError(400, "bad_parameter",
                       f"stream={raw!r} is unknown; use one of: {', '.join(sorted(BY_NAME))}")
    return raw or None


def _operator_or_admin_token() -> Source | None:
    """An operator (the gate let them in), or a machine with a ``--streams '*'`` token (its
    source is returned, for the audit row)."""
    if not principal().may("deadletter"):
        return _source(admin=True)
    return None


def _audit(action: str, machine: Source | None, detail: dict[str, Any]) -> None:
    """Dead-letter reads and replays in the audit trail: what was asked and how many — never
    the letters' content."""
    audit.record(action, object="deadletter", detail=detail, actor=machine.name if machine else None,
                 actor_kind="token" if machine else None)


@api.get("/deadletter")
def deadletter_list() -> Response:
    machine = _operator_or_admin_token()
    allowed = {"stream", "limit"}
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise ApiError(400, "bad_parameter",
                       f"unknown parameter {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    try:
        frame = list_dead_letters(current_runtime().store, _stream_param(request.args.get("stream")),
                                  _limit(request.args.get("limit")))
    except StoreError as exc:
        raise ApiError(503, "store_unavailable", f"the store is unreachable: {exc}",
                       {"Retry-After": "10"}) from None
    _audit("deadletter.read", machine, {"stream": request.args.get("stream") or "",
                                        "limit": _limit(request.args.get("limit")), "count": frame.height})
    rows = frame.with_columns(frame["received_at"].dt.to_string("%Y-%m-%dT%H:%M:%S%.3fZ")).to_dicts()
    for row in rows:
        row["raw"] = loads_or_text(row["raw"])
        row["errors"] = loads_or_text(row["errors"])
    return _json({"count": len(rows), "letters": rows})


@api.post("/deadletter/replay")
def deadletter_replay() -> Response:
    """Body: ``{"ids": [...]}`` and/or ``{"stream": s, "limit": n}``; optional
    ``{"fixes": {"<id>": {corrected event}}}``."""
    machine = _operator_or_admin_token()
    try:
        body = orjson.loads(_read_body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc.msg}") from None
    if not isinstance(body, dict) or set(body) - {"ids", "stream", "limit", "fixes"}:
        raise ApiError(400, "bad_parameter",
                       "send a JSON object with some of: ids (list), stream, limit, fixes (id → event)")
    ids = body.get("ids") or []
    fixes = body.get("fixes") or {}
    if not isinstance(ids, list) or not isinstance(fixes, dict):
        raise ApiError(400, "bad_parameter", "ids must be a list of letter ids; fixes an object id → event")
    ids = [str(i) for i in ids] + [str(i) for i in fixes if str(i) not in ids]
    stream = _stream_param(body.get("stream"))
    if not ids and not stream:
        raise ApiError(400, "bad_parameter", "name the letters to replay: ids, or a stream (with limit)")
    rt = current_runtime()
    try:
        letters = list_dead_letters(rt.store, stream, _limit(str(body.get("limit", 10_000))), ids)
        summary = rt.pipeline.replay(letters, {str(k): v for k, v in fixes.items()})
    except Backpressure as exc:
        raise ApiError(exc.status, "busy", exc.message, {"Retry-After": str(exc.retry_after)}) from None
    except StoreError as exc:
        raise ApiError(503, "store_unavailable", f"the store is unreachable: {exc}",
                       {"Retry-After": "10"}) from None
    _audit("deadletter.replay", machine, {
        "stream": stream or "", "limit": _limit(str(body.get("limit", 10_000))), "ids": len(ids),
        "fixes": len(fixes), "count": letters.height, **summary})
    if fixes:
        _audit("deadletter.fix", machine, fixed_fields(letters, {str(k): v for k, v in fixes.items()}))
    return _json({"letters": letters.height, **summary})
