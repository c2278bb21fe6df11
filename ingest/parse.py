"""Request bodies → events: JSON (array or object), NDJSON, CSV; optional gzip.

Limits are enforced while reading, not after: a gzip bomb is stopped at the first byte past
16 MiB of output, never inflated in full.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

import orjson
import polars as pl

MAX_BYTES = 16 * 1024 * 1024
MAX_EVENTS = 100_000
TYPES = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "text/csv": "csv",
}


class BodyError(Exception):
    """A body that cannot be taken as a whole: ``status`` 400/413/415 and a message that says
    what to change."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def body_kind(content_type: str | None) -> str:
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in TYPES:
        raise BodyError(415, "unsupported_media_type", (
            f"Content-Type {media or '(none)'!r} is not accepted; send application/json (an array "
            f"of events or one object), application/x-ndjson (one event per line) or text/csv "
            f"(a header row of field names)"))
    return TYPES[media]


def decode_body(body: bytes, content_encoding: str | None) -> bytes:
    """Undo the content encoding within the size limit."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        if len(body) > MAX_BYTES:
            raise _too_large()
        return body
    if encoding != "gzip":
        raise BodyError(415, "unsupported_encoding",
                        f"Content-Encoding {encoding!r} is not accepted; use gzip or none")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_BYTES + 1)
    except zlib.error as exc:
        raise BodyError(400, "bad_gzip", f"the body is not valid gzip ({exc}); compress it with gzip "
                                         f"or drop the Content-Encoding header") from None
    if len(out) > MAX_BYTES or inflater.unconsumed_tail:
        raise _too_large()
    if not inflater.eof:
        raise BodyError(400, "bad_gzip", "the gzip body is truncated; send the whole compressed body")
    return out


def _too_large() -> BodyError:
    return BodyError(413, "body_too_large", (
        f"the body is larger than {MAX_BYTES // (1024 * 1024)} MiB (after decompression); "
        f"split it into several requests"))


def _too_many(n: int | str) -> BodyError:
    return BodyError(413, "too_many_events", (
        f"the body holds {n} events; at most {MAX_EVENTS:,} per request — split it"))


def _position(data: bytes, pos: int) -> str:
    line = data.count(b"\n", 0, pos) + 1
    col = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
    return f"line {line}, column {col} (byte {pos})"


def parse_json(data: bytes) -> list[Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, "bad_json", (
            f"the body is not valid JSON at {_position(data, exc.pos)}: {exc.msg}; "
            f"send UTF-8 JSON (NaN and Infinity are not JSON)")) from None
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise BodyError(400, "bad_json", "the JSON body must be an array of events or one event object")
    if len(value) > MAX_EVENTS:
        raise _too_many(len(value))
    return value


def parse_ndjson(data: bytes) -> list[Any]:
    events: list[Any] = []
    start = 0
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if line.strip():
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise BodyError(400, "bad_ndjson", (
                    f"line {lineno} (byte {start + exc.pos}) is not valid JSON: {exc.msg}; "
                    f"send one JSON object per line")) from None
            if len(events) > MAX_EVENTS:
                raise _too_many(f"more than {MAX_EVENTS:,}")
        start += len(line) + 1
    return events


def parse_csv(data: bytes) -> pl.DataFrame:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(400, "bad_csv", (
            f"the CSV body is not UTF-8 at {_position(data, exc.start)}; save it as UTF-8 "
            f"(spreadsheets: CSV UTF-8)")) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte-order mark from spreadsheet exports
    if not data.strip():
        return pl.DataFrame()
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        text = str(exc).split("\n")[0]
        raise BodyError(400, "bad_csv", (
            f"the CSV body cannot be read: {text}; send a header row of field names and one row "
            f"per event, comma-separated, quoted with \"")) from None
    if frame.height > MAX_EVENTS:
        raise _too_many(frame.height)
    return frame


def parse_body(body: bytes, content_type: str | None, content_encoding: str | None
               ) -> list[Any] | pl.DataFrame:
    kind = body_kind(content_type)
    data = decode_body(body, content_encoding)
    if kind == "json":
        return parse_json(data)
    if kind == "ndjson":
        return parse_ndjson(data)
    return parse_csv(data)
