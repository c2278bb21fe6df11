"""The audit trail: who did what, from where, to what, with which result.

``Audit.record`` builds one row from the request being served (principal, client address)
and hands it to the durable path the server attached (``attach``); the trail is stored
append-only in ClickHouse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from flask import g, has_request_context

log = logging.getLogger("ioc.audit")

Row = dict[str, Any]


class Audit:
    def __init__(self) -> None:
        self._sinks: list[Callable[[list[Row]], None]] = []

    def attach(self, sink: Callable[[list[Row]], None]) -> None:
        self._sinks.append(sink)

    def record(self, action: str, *, object: str = "", result: str = "ok",
               detail: dict[str, Any] | None = None, actor: str | None = None,
               actor_kind: str | None = None, address: str | None = None) -> Row:
        """One audit row; ``detail`` holds filters, row counts, digests — never personal data."""
        who = getattr(g, "principal", None) if has_request_context() else None
        row: Row = {
            "ts": time.time(),
            "actor_kind": actor_kind or (who.kind if who is not None else "system"),
            "actor": actor if actor is not None else (who.name if who is not None else ""),
            "address": address or (getattr(g, "client_address", "") if has_request_context() else ""),
            "action": action,
            "object": object[:512],
            "result": result,
            "detail": orjson.dumps(detail or {}).decode(),
        }
        for sink in self._sinks:
            sink([row])
        log.info("event=audit action=%s result=%s actor_kind=%s", action, result, row["actor_kind"])
        return row
