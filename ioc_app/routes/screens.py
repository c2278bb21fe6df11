"""The screens' routes: ``POST /api/v1/heartbeat`` (every cockpit page beats) and
``GET /api/v1/screens`` (the list ``/health`` shows); the registry is :mod:`ioc_app.screens`."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, g, jsonify, request

from ioc_app.access import principal
from ioc_app.runtime import runtime as current_runtime
from ioc_app.screens import MAX_BEAT_BYTES, clean_beat

screens_api = Blueprint("ioc_screens", __name__)


@screens_api.post("/api/v1/heartbeat")
def heartbeat() -> Response:
    runtime = current_runtime()
    raw = request.stream.read(MAX_BEAT_BYTES + 1)
    if len(raw) > MAX_BEAT_BYTES:
        response = jsonify(error="too_large", message=f"a heartbeat is at most {MAX_BEAT_BYTES} bytes; "
                                                      f"send only its fields")
        response.status_code = 413
        return response
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    beat = clean_beat(body)
    if beat is None:
        response = jsonify(error="bad_heartbeat", message="send a JSON object with screen, page, "
                           "version, heap_bytes, dom_nodes (numbers as numbers)")
        response.status_code = 400
        return response
    who = principal()
    entry = runtime.screens.beat(beat, getattr(g, "client_address", None) or request.remote_addr or "unknown",
                                 name=who.name if who.kind == "screen" else None)
    return jsonify(ok=True, screen=entry["screen"], heartbeat_s=runtime.screens.heartbeat_s)


@screens_api.get("/api/v1/screens")
def screens() -> Response:
    runtime = current_runtime()
    return jsonify(screens=runtime.screens.all(), silent_after_s=runtime.screens.silent_after_s)
