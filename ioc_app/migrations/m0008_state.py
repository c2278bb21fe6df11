"""Latest-state tables: one row per service-hall case, admission candidate and new student.

The live figures that depend on an entity's *latest* event (case backlog, a candidate's
status, a student's furthest check-in step) would otherwise need an ``argMax`` over every
raw event of the window on each tick, whose cost grows with the history kept. These tables
hold the state already folded per entity, filled by materialized views as events arrive, so
a tick reads them with ``FINAL`` (one row per entity, merged in key order) instead.

Every state column folds with ``min``/``max`` (or a ``ReplacingMergeTree`` version), so a
row written twice changes nothing: the backfill below may run again after an interruption,
and events arriving between the view's creation and the backfill are simply seen twice.

The latest event is chosen by ``(ts, rank)`` packed into one ``UInt64`` (epoch ms × 8 +
rank), which keeps the fold a plain numeric ``max``. The rank breaks ties between events of
one entity with the same ``ts``, deterministically: the action further along the path wins
(an approval and a completion in the same millisecond leave the case completed). For a
candidate, whose row carries the event's fields, the version also holds a hash of the event
id, so two different events with the same ``ts`` and status resolve the same way whatever
order they arrive in.

On a cluster the views write the shard-local tables, as every rollup does; the raw tables
are sharded by event id, so the rows of one entity may sit on several shards, where ``FINAL``
alone would see each shard's part of it. The metrics therefore fold the rows with ``GROUP BY``
over the entity key (the same min/max/argMax) when the store is a cluster.

Column types, check-in steps and retentions are those of the raw tables as migrations 4 and
5 created them (their frozen ``Source`` declarations), never the live contracts, so this DDL
never changes.
"""

from __future__ import annotations

from ioc_app.migrations.m0004_enrollment import CHECKIN_STEPS, ENROLLMENT_ADMISSION, ENROLLMENT_CHECKIN
from ioc_app.migrations.m0005_service import SERVICE_WORKFLOW
from ioc_app.schema import Dialect

VERSION = 8
NAME = "state"

#: Tie-break order of case actions at an equal ``ts`` (rank = position + 1, 1…6).
CASE_ACTION_RANK = ("submitted", "returned", "approved", "rejected", "withdrawn", "completed")
#: Tie-break order of admission statuses at an equal ``ts``.
ADMISSION_STATUS_RANK = ("filed", "admitted", "returned", "withdrawn")
#: "No such event" in a min/max-folded time column: never earlier / later than a real one.
NEVER = "toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')"
NONE_YET = "toDateTime64(0, 3, 'UTC')"

TS = "DateTime64(3, 'UTC')"


def _rank(column: str, order: tuple[str, ...]) -> str:
    values = ", ".join(f"'{v}'" for v in order)
    return f"indexOf([{values}], toString({column}))"


def _packed(rank: str) -> str:
    return f"toUInt64(toUnixTimestamp64Milli(ts)) * 8 + {rank}"


def _view_and_backfill(d: Dialect, name: str, source: str, select: str, group_by: str) -> list[str]:
    """The view that keeps ``name`` current, then the one-off fill from the events stored so far
    (``src`` names the raw table in ``select``)."""
    tail = f"\nGROUP BY {group_by}" if group_by else ""
    return [
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {d.db}.{d._local(name)}_mv{d.on_cluster}\n"
        f"TO {d.db}.{d._local(name)}\n"
        f"AS SELECT\n    {select}\n"
        f"FROM {d.db}.{d._local(source)} AS src{tail}",
        f"INSERT INTO {d.db}.{name}\nSELECT\n    {select}\nFROM {d.db}.{source} AS src{tail}",
    ]


def _case_state(d: Dialect) -> list[str]:
    name = "service_case_state"
    ddl = d.table(
        name,
        [
            ("case_id", "String"),
            ("service_id", "SimpleAggregateFunction(max, LowCardinality(String))"),
            ("department", "SimpleAggregateFunction(max, LowCardinality(String))"),
            # the first submission; NEVER when none is stored
            ("first_submitted", f"SimpleAggregateFunction(min, {TS})"),
            # the latest completion; NONE_YET when the case was never completed
            ("completed", f"SimpleAggregateFunction(max, {TS})"),
            # epoch ms of the latest event × 8 + the rank of its action
            ("latest", "SimpleAggregateFunction(max, UInt64)"),
        ],
        engine="AggregatingMergeTree",
        order_by="(case_id)",
        ttl=f"toDateTime(intDiv(latest, 8000)) + INTERVAL {SERVICE_WORKFLOW.retention_days} DAY",
        shard_key="cityHash64(case_id)",
    )
    select = ",\n    ".join((
        "case_id",
        "max(service_id) AS service_id",
        "max(department) AS department",
        f"min(if(action = 'submitted', ts, {NEVER})) AS first_submitted",
        f"max(if(action = 'completed', ts, {NONE_YET})) AS completed",
        f"max({_packed(_rank('action', CASE_ACTION_RANK))}) AS latest",
    ))
    return ddl + _view_and_backfill(d, name, SERVICE_WORKFLOW.table, select, "case_id")


def _admission_latest(d: Dialect) -> list[str]:
    name = "enrollment_admission_latest"
    cols = ("year", "candidate_key", "status", "province", "batch", "category", "track", "college",
            "major", "score", "ts")
    ddl = d.table(
        name,
        [*((c, ENROLLMENT_ADMISSION.type_of(c)) for c in cols), ("version", "UInt128")],
        engine="ReplacingMergeTree",
        engine_args="version",
        partition_by="year",
        order_by="(year, candidate_key)",
        ttl=f"toDateTime(ts) + INTERVAL {ENROLLMENT_ADMISSION.retention_days} DAY",
        shard_key="cityHash64(year, candidate_key)",
    )
    version = (f"bitShiftLeft(toUInt128({_packed(_rank('status', ADMISSION_STATUS_RANK))}), 64)"
               f" + cityHash64(event_id)")
    select = ",\n    ".join((*cols, f"{version} AS version"))
    return ddl + _view_and_backfill(d, name, ENROLLMENT_ADMISSION.table, select, "")


def _checkin_state(d: Dialect) -> list[str]:
    name = "enrollment_checkin_state"
    step_type = ENROLLMENT_CHECKIN.type_of("step")
    reached = [(f"reached_{s}", f"SimpleAggregateFunction(min, {TS})") for s in CHECKIN_STEPS]
    ddl = d.table(
        name,
        [("year", ENROLLMENT_CHECKIN.type_of("year")), ("student_key", "String"),
         ("step", f"SimpleAggregateFunction(max, {step_type})"), *reached],
        engine="AggregatingMergeTree",
        partition_by="year",
        order_by="(year, student_key)",
        ttl=f"toDateTime(reached_{CHECKIN_STEPS[0]}) + INTERVAL {ENROLLMENT_CHECKIN.retention_days} DAY",
        shard_key="cityHash64(year, student_key)",
    )
    select = ",\n    ".join((
        "year",
        "student_key",
        "max(step) AS step",
        # the first time the student had reached at least this step (``src.step``: the
        # event's step, not the folded one named ``step`` above)
        *(f"min(if(src.step >= '{s}', ts, {NEVER})) AS reached_{s}" for s in CHECKIN_STEPS),
    ))
    return ddl + _view_and_backfill(d, name, ENROLLMENT_CHECKIN.table, select, "year, student_key")


def statements(d: Dialect) -> list[str]:
    return _case_state(d) + _admission_latest(d) + _checkin_state(d)
