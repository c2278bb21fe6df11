"""The admissions season: the provinces' control lines, admission notices, and whether an
admitted major was the candidate's first choice.

- ``enrollment_control_line``: reference data like the plan (the latest import of a key wins,
  read with ``FINAL``), one row per (year, province, batch, category, track).
- ``enrollment_notice``: a candidate's admission notice printed, mailed, delivered or
  returned, keyed by the same pseudonym as their admission; with its freshness view.
- ``first_choice`` (一志愿) on ``enrollment_admission`` and, with ``province_rank``, on the
  per-candidate latest state (migration 8), so figures read both from the candidate's
  current admission. The state's view is replaced by one that carries them, and the state is
  filled again from the stored admissions: each candidate's row is written once more with the
  same version, and a ``ReplacingMergeTree`` keeps the last row written of equal versions, so
  candidates admitted before this migration get their rank too. Running it again changes
  nothing.

The columns are the contracts as they were when this migration shipped, written out.
"""

from __future__ import annotations

from ioc_app.migrations.m0004_enrollment import BATCH, CATEGORY, CODE, PROVINCE, TRACK, TS
from ioc_app.migrations.m0008_state import ADMISSION_STATUS_RANK, _packed, _rank
from ioc_app.schema import Dialect, Source, enum8

VERSION = 18
NAME = "enrollment_season"

NOTICE_STATUSES = ("printed", "mailed", "delivered", "returned")

ENROLLMENT_CONTROL_LINE = Source(
    "enrollment_control_line",
    (
        ("year", "UInt16"),
        ("province", PROVINCE),
        ("batch", BATCH),
        ("category", CATEGORY),
        ("track", TRACK),
        ("control_score", "Float64"),
        ("source", CODE),
        ("imported_at", TS),
    ),
    retention_days=3660,
)
CONTROL_LINE_KEY = ("year", "province", "batch", "category", "track")
ENROLLMENT_NOTICE = Source(
    "enrollment_notice",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("year", "UInt16"),
        ("candidate_key", "String"),
        ("status", enum8(*NOTICE_STATUSES)),
        ("tracking_no", "Nullable(String)"),
        ("carrier", "Nullable(String)"),
        ("received_at", TS),
    ),
    retention_days=3660,
)

#: the latest state's columns after this migration (``version`` last, as migration 8 made it)
LATEST = "enrollment_admission_latest"
LATEST_COLUMNS = ("year", "candidate_key", "status", "province", "batch", "category", "track",
                  "college", "major", "score", "province_rank", "first_choice", "ts")


def _latest_state(d: Dialect) -> list[str]:
    out = d.alter_columns(LATEST, "ADD COLUMN IF NOT EXISTS `province_rank` Nullable(UInt64) AFTER `score`")
    out += d.alter_columns(LATEST, "ADD COLUMN IF NOT EXISTS `first_choice` Nullable(Bool) "
                                   "AFTER `province_rank`")
    version = (f"bitShiftLeft(toUInt128({_packed(_rank('status', ADMISSION_STATUS_RANK))}), 64)"
               f" + cityHash64(event_id)")
    select = ",\n    ".join((*LATEST_COLUMNS, f"{version} AS version"))
    view = f"{d.db}.{d._local(LATEST)}_mv"
    out.append(f"DROP VIEW IF EXISTS {view}{d.on_cluster} SYNC")
    out.append(f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view}{d.on_cluster}\n"
               f"TO {d.db}.{d._local(LATEST)}\n"
               f"AS SELECT\n    {select}\n"
               f"FROM {d.db}.{d._local('enrollment_admission')} AS src")
    out.append(f"INSERT INTO {d.db}.{LATEST}\nSELECT\n    {select}\nFROM {d.db}.enrollment_admission AS src")
    return out


def statements(d: Dialect) -> list[str]:
    out = d.alter_columns("enrollment_admission",
                          "ADD COLUMN IF NOT EXISTS `first_choice` Nullable(Bool) AFTER `province_rank`")
    out += _latest_state(d)
    out += d.plan_table(ENROLLMENT_CONTROL_LINE, CONTROL_LINE_KEY)
    out += d.raw_table(ENROLLMENT_NOTICE, ("year", "candidate_key", "ts"))
    out += d.freshness("enrollment.notice", ENROLLMENT_NOTICE.table)
    return out
