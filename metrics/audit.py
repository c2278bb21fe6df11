"""The audit trail as the auditor reads it (``GET /api/v1/audit``, ``/admin/audit``)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from ioc_app.storage import SqlStore

TABLE = "ioc_audit"
COLUMNS = ("ts", "actor_kind", "actor", "address", "action", "object", "result", "detail")


def audit_rows(store: SqlStore, start: datetime, end: datetime, *, user: str = "", action: str = "",
               limit: int = 1000) -> pl.DataFrame:
    """Rows with ``start <= ts < end``, newest first, each once (``LIMIT 1 BY id``).

    ``user``: the actor, exactly. ``action``: exactly, or every action under a prefix when it
    ends with ``*`` (``screen.*``, ``signin*``).
    """
    prefix = action.endswith("*")
    return store.query(
        f"""
        SELECT toString(id) AS id, ts, toString(actor_kind) AS actor_kind, actor, address,
               toString(action) AS action, object, toString(result) AS result, detail
        FROM {TABLE}
        WHERE ts >= {{start:DateTime64(3, 'UTC')}} AND ts < {{end:DateTime64(3, 'UTC')}}
          AND ({{user:String}} = '' OR actor = {{user:String}})
          AND ({{action:String}} = ''
               OR ({{prefix:UInt8}} = 0 AND action = {{action:String}})
               OR ({{prefix:UInt8}} = 1 AND startsWith(action, {{action:String}})))
        ORDER BY ts DESC, id
        LIMIT 1 BY id
        LIMIT {{limit:UInt32}}
        """,
        {"start": start, "end": end, "user": user, "action": action.rstrip("*") if prefix else action,
         "prefix": int(prefix), "limit": limit},
    )
