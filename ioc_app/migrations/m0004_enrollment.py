"""Enrollment: admission status changes, the upserted plan, check-in steps.

These are state streams (the latest event per candidate or student is what counts), so
they have no counting rollups; metrics read the latest state with ``argMax``.

The columns are the ``enrollment.*`` contracts as they were when this migration shipped,
written out so the DDL never changes; a later change of a contract needs a new migration.
"""

from __future__ import annotations

from ioc_app.schema import Dialect, Source, enum8

VERSION = 4
NAME = "enrollment"

TS = "DateTime64(3, 'UTC')"
CODE = "LowCardinality(String)"

#: GB/T 2260 codes of the 34 provincial-level divisions, in the contract's order
PROVINCE = enum8(
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
)
BATCH = enum8("early", "regular", "second", "special", "junior_college")
CATEGORY = enum8("general", "art", "sport", "national_special", "university_special", "local_special",
                 "sino_foreign", "preparatory", "minority")
TRACK = enum8("physics", "history", "science", "liberal_arts", "comprehensive")
#: check-in steps in the order a student goes through them
CHECKIN_STEPS = ("arrived", "paid", "dorm", "registered")

ENROLLMENT_ADMISSION = Source(
    "enrollment_admission",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("year", "UInt16"),
        ("candidate_key", "String"),
        ("province", PROVINCE),
        ("batch", BATCH),
        ("category", CATEGORY),
        ("track", TRACK),
        ("college", CODE),
        ("major", CODE),
        ("status", enum8("filed", "admitted", "returned", "withdrawn")),
        ("score", "Float64"),
        ("province_rank", "Nullable(UInt64)"),
        ("received_at", TS),
    ),
    retention_days=3660,
)
ENROLLMENT_PLAN = Source(
    "enrollment_plan",
    (
        ("year", "UInt16"),
        ("province", PROVINCE),
        ("batch", BATCH),
        ("category", CATEGORY),
        ("track", TRACK),
        ("major", CODE),
        ("planned", "UInt64"),
        ("source", CODE),
        ("imported_at", TS),
    ),
    retention_days=3660,
)
PLAN_KEY = ("year", "province", "batch", "category", "track", "major")
ENROLLMENT_CHECKIN = Source(
    "enrollment_checkin",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("year", "UInt16"),
        ("student_key", "String"),
        ("college", CODE),
        ("major", CODE),
        ("campus", CODE),
        ("step", enum8(*CHECKIN_STEPS)),
        ("received_at", TS),
    ),
    retention_days=3660,
)


def statements(d: Dialect) -> list[str]:
    out = d.raw_table(ENROLLMENT_ADMISSION, ("year", "province", "candidate_key", "ts"))
    out += d.plan_table(ENROLLMENT_PLAN, PLAN_KEY)
    out += d.raw_table(ENROLLMENT_CHECKIN, ("year", "student_key", "ts"))
    return out
