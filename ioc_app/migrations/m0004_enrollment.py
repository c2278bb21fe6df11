"""Enrollment: admission status changes, the upserted plan, check-in steps.

These are state streams (the latest event per candidate or student is what counts), so
they have no counting rollups; metrics read the latest state with ``argMax``.
"""

from __future__ import annotations

from ingest.enrollment import ENROLLMENT_ADMISSION, ENROLLMENT_CHECKIN, ENROLLMENT_PLAN
from ioc_app.schema import Dialect

VERSION = 4
NAME = "enrollment"


def statements(d: Dialect) -> list[str]:
    out = d.raw_table(ENROLLMENT_ADMISSION, ("year", "province", "candidate_key", "ts"))
    out += d.plan_table(ENROLLMENT_PLAN)
    out += d.raw_table(ENROLLMENT_CHECKIN, ("year", "student_key", "ts"))
    return out
