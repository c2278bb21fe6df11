"""The enrollment domain (招生): admissions, the enrollment plan and September check-in.

Declared once here: the contracts, their tables, the fields holding catalogue codes, and the
labels. Admissions come in seasons, so the domain has no rollups, no query API measures and
no anomaly measures. The live figures are ``metrics/enrollment.py``, the demo traffic
``ingest/sim/enrollment.py``.
"""

from __future__ import annotations

from domains.contracts import SOURCE, Field, Stream, event_stream
from domains.model import Domain, Referenced, Table, Text

#: GB/T 2260 codes of the 34 provincial-level divisions.
PROVINCES = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
)
BATCHES = ("early", "regular", "second", "special", "junior_college")
CATEGORIES = (
    "general", "art", "sport", "national_special", "university_special", "local_special",
    "sino_foreign", "preparatory", "minority",
)
TRACKS = ("physics", "history", "science", "liberal_arts", "comprehensive")
CHECKIN_STEPS = ("arrived", "paid", "dorm", "registered")

YEAR = Field("year", "int", min=2000, max=2100, doc="admission year")
PROVINCE = Field("province", "enum", values=PROVINCES, doc="GB/T 2260 two-digit code")
BATCH = Field("batch", "enum", values=BATCHES)
CATEGORY = Field("category", "enum", values=CATEGORIES)
TRACK = Field("track", "enum", values=TRACKS)
COLLEGE = Field("college", "code", max_len=64, reference="college")
MAJOR = Field("major", "code", max_len=64, reference="major")

ENROLLMENT_ADMISSION = event_stream(
    name="enrollment.admission",
    domain="enrollment",
    title_zh="招生录取",
    title_en="Admissions",
    retention_days=3_660,
    expected_interval_s=86_400,
    counting=False,
    fields=(
        YEAR,
        Field("candidate_key", "key", max_len=64),
        PROVINCE,
        BATCH,
        CATEGORY,
        TRACK,
        COLLEGE,
        MAJOR,
        Field("status", "enum", values=("filed", "admitted", "returned", "withdrawn")),
        Field("score", "float", min=0, max=1000),
        Field("province_rank", "int", required=False, min=1),
    ),
)

ENROLLMENT_PLAN = Stream(
    name="enrollment.plan",
    domain="enrollment",
    title_zh="招生计划",
    title_en="Enrollment plan",
    kind="plan",
    event_id="none",
    retention_days=3_660,
    counting=False,
    key=("year", "province", "batch", "category", "track", "major"),
    fields=(
        YEAR,
        PROVINCE,
        BATCH,
        CATEGORY,
        TRACK,
        MAJOR,
        Field("planned", "int", min=0),
        SOURCE,
    ),
)

ENROLLMENT_CHECKIN = event_stream(
    name="enrollment.checkin",
    domain="enrollment",
    title_zh="迎新报到",
    title_en="Check-in",
    retention_days=3_660,
    expected_interval_s=86_400,
    counting=False,
    fields=(
        YEAR,
        Field("student_key", "key", max_len=64),
        COLLEGE,
        MAJOR,
        Field("campus", "code", max_len=64, reference="campus"),
        Field("step", "enum", values=CHECKIN_STEPS,
              doc="a student counts once, at the furthest step reached"),
    ),
)

STREAMS = (ENROLLMENT_ADMISSION, ENROLLMENT_PLAN, ENROLLMENT_CHECKIN)

TABLES = (
    Table("enrollment.admission", ("year", "province", "candidate_key", "ts")),
    Table("enrollment.plan"),
    Table("enrollment.checkin", ("year", "student_key", "ts")),
)

REFERENCES = (
    Referenced("enrollment.admission", "college", "college", "enrollment_admission", "ts", "count()"),
    Referenced("enrollment.admission", "major", "major", "enrollment_admission", "ts", "count()"),
    Referenced("enrollment.plan", "major", "major", "enrollment_plan", "imported_at", "count()"),
    Referenced("enrollment.checkin", "college", "college", "enrollment_checkin", "ts", "count()"),
    Referenced("enrollment.checkin", "major", "major", "enrollment_checkin", "ts", "count()"),
    Referenced("enrollment.checkin", "campus", "campus", "enrollment_checkin", "ts", "count()"),
)

ADMISSIONS: Text = {"zh": "招生录取", "en": "Admissions"}

LABELS: dict[str, Text] = {
    "health.stream.enrollment.admission": ADMISSIONS,
    "health.stream.enrollment.plan": {"zh": "招生计划", "en": "Admission plan"},
    "health.stream.enrollment.checkin": {"zh": "迎新报到", "en": "Check-in"},
}

DOMAIN = Domain(
    "enrollment", 40, STREAMS, TABLES, references=REFERENCES,
    # admission and check-in events come in seasons: silence is normal, never stale
    stale_after_s={"enrollment.admission": None, "enrollment.checkin": None},
    labels=LABELS,
    figures="metrics.enrollment",
    figure_options=("min_cell",),
    simulator="ingest.sim.enrollment",
)
