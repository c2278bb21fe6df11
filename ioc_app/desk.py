"""The admissions office's desk figures: computed from the store when a person opens a page
(never from or into the shared snapshot), refused to anyone without the page's permission
even past the gate, and one audit row per reading.

``/enrollment/exact``, ``/enrollment/quality`` and ``/enrollment/notices`` read this way;
each names its permission, its audit action and what the row says of the reading.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from ioc_app.runtime import EXTENSION

log = logging.getLogger("ioc.read")
T = TypeVar("T")


def audited_read(permission: str, refused: str, action: str, year: int, detail: dict[str, Any],
                 compute: Callable[[Any], T], done: Callable[[T], dict[str, Any]] | None = None) -> T | None:
    """``compute(store)`` for whoever may ``permission`` (else PermissionError ``refused``),
    audited as ``action`` on ``enrollment/<year>`` with ``detail`` (and ``done(result)``'s
    entries); None while the store is away (audited ``unavailable``)."""
    from ioc_app import audit
    from ioc_app.access import principal
    from ioc_app.storage import Store, StoreError

    if not principal().may(permission):
        raise PermissionError(refused)
    store = current_app.extensions[EXTENSION].store
    try:
        with Store.origin("request"):
            result = compute(store)
    except StoreError as exc:
        log.warning("event=read.%s_failed year=%d error=%r", action.split(".")[-1], year, str(exc)[:200])
        audit.record(action, object=f"enrollment/{year}", result="unavailable", detail=detail)
        return None
    audit.record(action, object=f"enrollment/{year}", detail={**detail, **(done(result) if done else {})})
    return result
