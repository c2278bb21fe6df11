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

from datetime import UTC, datetime
from typing import Any

from flask import current_app

from ioc_app.runtime import EXTENSION
from metrics import enrollment_notices as notices
from metrics.enrollment import admission_year

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
    from ioc_app.desk import audited_read

    rt = current_app.extensions[EXTENSION]
    now = datetime.now(UTC)
    y = year if year is not None else admission_year(rt.settings.zone, now)
    days = notice_days(rt.settings)

    def read(store: Any) -> dict[str, Any]:
        rows = notices.exceptions(store, y, now, days)
        return {"year": y, "now": now, "days": {"undelivered": days.undelivered, "unprinted": days.unprinted},
                "by_province": notices.by_province(store, y, now, days).to_dicts(),
                "exceptions": {k: rows.filter(rows["kind"] == k).to_dicts() for k in notices.KINDS}}

    return audited_read(
        PERMISSION, "the notice tracker needs the admissions role's admissions_tools permission",
        "enrollment.notices_view", y, {"year": y}, read,
        lambda got: {"rows": {k: len(v) for k, v in got["exceptions"].items()},
                     "undelivered_days": days.undelivered, "unprinted_days": days.unprinted})
