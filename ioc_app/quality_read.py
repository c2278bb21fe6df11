"""生源质量分析 for the page (``/enrollment/quality``): what ``ioc_app.read`` re-exports.

The figures are computed from the store when the page (or its year choice) asks, never for
the shared snapshot: the admissions role (``exact_cells``) gets them exact, every other
holder of ``quality`` (the analyst) under the small-cell rule (``IOC_MIN_CELL``). Each view
is recorded on the audit trail as ``enrollment.quality_view`` (year, exact or not).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from ioc_app.runtime import EXTENSION

log = logging.getLogger("ioc.read")


def quality_exact() -> bool:
    """Does whoever is asking see the exact figures (the admissions role)?"""
    from ioc_app.access import principal

    return principal().may("exact_cells")


def quality_min_cell() -> int:
    """The small-cell rule the asker's figures follow: 1 (exact) or ``IOC_MIN_CELL``."""
    return 1 if quality_exact() else int(current_app.extensions[EXTENSION].settings.min_cell)


def quality_seasons() -> list[int] | None:
    """Admission years with candidates in the store, newest first (None while it is away)."""
    from ioc_app.storage import Store, StoreError
    from metrics import enrollment_quality

    try:
        with Store.origin("request"):
            return enrollment_quality.seasons(current_app.extensions[EXTENSION].store)
    except StoreError as exc:
        log.warning("event=read.quality_seasons_failed error=%r", str(exc)[:200])
        return None


def quality_default_year() -> int:
    """The current admission year (the calendar year in the site's zone)."""
    from metrics.enrollment import admission_year

    return admission_year(current_app.extensions[EXTENSION].settings.zone, datetime.now(UTC))


def quality_figures(year: int) -> dict[str, Any] | None:
    """Every table of the page for ``year`` (``metrics.enrollment_quality.figures``) under the
    asker's rule, or None while the store is away; audited. Refused (PermissionError) to
    anyone without ``quality``: the gate checked it already, this asks again."""
    from ioc_app.desk import audited_read
    from metrics import enrollment_quality

    min_cell = quality_min_cell()
    detail = {"year": year, "exact": min_cell == 1, "min_cell": min_cell}
    return audited_read("quality", "the source-quality figures need the quality permission",
                        "enrollment.quality_view", year, detail,
                        lambda store: enrollment_quality.figures(store, year, min_cell=min_cell))
