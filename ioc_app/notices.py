"""The admissions office's notice tracker, as the page ``/enrollment/notices`` reads it
(re-exported by ``ioc_app/read.py``).

The exception lists name candidates (their pseudonym) and carry courier tracking numbers,
personal data: they are computed from the store when a person of the admissions role opens
the page (permission ``admissions_tools``, checked by the gate and again here), never put in
the shared snapshot, and each opening is recorded on the audit trail as
``enrollment.notices_view`` with the year and the rows shown per list (never a key or a
tracking number).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from ioc_app import audit
from ioc_app.runtime import EXTENSION
from ioc_app.storage import Store, StoreError
from metrics import enrollment_notices as notices
from metrics.enrollment import admission_year

log = logging.getLogger("ioc.notices")
#: the permission of the page, its export and this read
PERMISSION = "admissions_tools"


def notice_days(settings: Any) -> notices.NoticeDays:
    """The exception thresholds of the running settings."""
    return notices.NoticeDays(settings.notice_undelivered_days, settings.notice_unprinted_days)


def notice_tracker(year: int | None = None) -> dict[str, Any] | None:
    """``{year, now, days: {undelivered, unprinted}, by_province: [rows], exceptions: {kind:
    [rows]}}`` of ``year`` (default: the current admission year) as of now, for the admissions
    role's page; None while the store is away. Province rows are those of
    :func:`metrics.enrollment_notices.by_province`, exception rows those of
    :func:`metrics.enrollment_notices.exceptions` (tracking numbers included)."""
    from ioc_app.access import principal

    if not principal().may(PERMISSION):
        raise PermissionError("the notice tracker needs the admissions role's admissions_tools permission")
    rt = current_app.extensions[EXTENSION]
    now = datetime.now(UTC)
    y = year if year is not None else admission_year(rt.settings.zone, now)
    days = notice_days(rt.settings)
    try:
        with Store.origin("request"):
            provinces = notices.by_province(rt.store, y, now, days)
            rows = notices.exceptions(rt.store, y, now, days)
    except StoreError as exc:
        log.warning("event=read.notices_failed year=%d error=%r", y, str(exc)[:200])
        audit.record("enrollment.notices_view", object=f"enrollment/{y}", result="unavailable",
                     detail={"year": y})
        return None
    lists = {k: rows.filter(rows["kind"] == k).to_dicts() for k in notices.KINDS}
    audit.record("enrollment.notices_view", object=f"enrollment/{y}",
                 detail={"year": y, "rows": {k: len(v) for k, v in lists.items()},
                         "undelivered_days": days.undelivered, "unprinted_days": days.unprinted})
    return {"year": y, "now": now, "days": {"undelivered": days.undelivered, "unprinted": days.unprinted},
            "by_province": provinces.to_dicts(), "exceptions": lists}
