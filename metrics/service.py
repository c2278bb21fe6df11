"""Service-hall KPIs (网上办事大厅): cases, self-service printing and the hotline.

"Today" is [local midnight, now) in the site's zone, read like the gate figures at minute
resolution from the per-minute rollups: the current minute counts whole (an event cannot be
stored before it happens, so this only adds events whose source clock runs a few seconds
ahead). Counts therefore never read raw events, and their cost does not grow with history.

Figures about a case's *state* (backlog, handling time) read ``service_case_state``, one row
per case folded by migration 8: its first submission, latest completion and latest action.
A case's latest action is its event with the greatest ``ts``; at an equal ``ts`` the action
further along wins (``submitted < returned < approved < rejected < withdrawn < completed``),
so the answer never depends on the order events arrived in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics.domain import (
    Dimension,
    Measure,
    MetricsDomain,
    Queryable,
    Referenced,
    Rollup,
    Source,
    Watched,
    both_grains,
    count,
    count_of,
    maximum,
    ratio_of,
    total,
)
from metrics.gate import local_midnight

ACTIONS = ("submitted", "completed", "rejected")
#: Ranks of the actions in ``service_case_state.latest`` (its value modulo 8); the order is the
#: stored encoding of migration 8 and never changes.
CASE_ACTION_RANK = ("submitted", "returned", "approved", "rejected", "withdrawn", "completed")
#: Latest actions that leave a case waiting on the hall.
OPEN_ACTIONS = ("submitted", "approved", "returned")
BACKLOG_DAYS = 90
TOP_SERVICES = 20
MINUTE = timedelta(minutes=1)
TYPICAL_WEEKS = 4
P90 = 0.9

_OPEN_RANKS = ", ".join(str(CASE_ACTION_RANK.index(a) + 1) for a in OPEN_ACTIONS)


def _today(zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """[local midnight, end of the current minute), in UTC."""
    return local_midnight(zone, now), now.astimezone(UTC).replace(second=0, microsecond=0) + MINUTE


def _cases(store: SqlStore) -> str:
    """A subquery with one row per case: ``department, first_submitted, completed, latest``.

    ``FINAL`` merges a case's rows in key order, which is exact where all of them live in one
    table; on a cluster they may be spread over shards, and ``GROUP BY`` folds them across.
    """
    if store.cluster:
        return """SELECT max(department) AS department, min(first_submitted) AS first_submitted,
                         max(completed) AS completed, max(latest) AS latest
                  FROM service_case_state GROUP BY case_id"""
    return "SELECT department, first_submitted, completed, latest FROM service_case_state FINAL"


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def live(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The ``service`` section of the snapshot (two queries)::

        today            {submitted, completed, rejected}   case events of those actions today
        backlog          int   cases whose latest action is submitted/approved/returned and
                               whose first submission lies within 90 days before now
        top_services     [{service_id, name, name_en, submitted}]  at most 20 services with a
                               submission today, most first, ties by service_id ascending;
                               names from the site catalogue (the code when it is not listed)
        handling_minutes {avg, p90, cases}  over the cases whose latest completion is today
                               and that have a stored submission: completion ts - first
                               submitted ts, in minutes; p90 interpolates linearly between the
                               two nearest ranks (Excel PERCENTILE.INC, Polars "linear");
                               avg and p90 null when no case qualifies
        print.today      {jobs, pages, failed}   print jobs, their pages (failed jobs' too),
                               failed jobs
        calls.today      {calls, answered, answer_rate, avg_wait_s}  answer_rate =
                               answered / calls; avg_wait_s = mean wait over all calls
                               (abandoned ones waited too); both null without calls
    """
    start, end = _today(zone, now)
    counts = _today_counts(store, start, end)
    cases = counts.filter(pl.col("part") == "case")
    by_action = dict(cases.group_by("kind").agg(pl.col("n").sum()).iter_rows())
    top = (cases.filter(pl.col("kind") == "submitted")
           .sort(["n", "key"], descending=[True, False]).head(TOP_SERVICES))
    prints = counts.filter(pl.col("part") == "print")
    calls = counts.filter(pl.col("part") == "call")
    n_calls = int(calls["n"].sum())
    answered = int(calls.filter(pl.col("kind") == "answered")["n"].sum())
    return {
        "today": {a: int(by_action.get(a, 0)) for a in ACTIONS},
        **_case_figures(store, start, end, now),
        "top_services": [
            {"service_id": r["key"], "name": r["name"] or r["key"], "name_en": r["name_en"] or r["key"],
             "submitted": int(r["n"])}
            for r in top.iter_rows(named=True)
        ],
        "print": {"today": {
            "jobs": int(prints["n"].sum()),
            "pages": int(prints["extra"].sum()),
            "failed": int(prints.filter(pl.col("kind") == "failed")["n"].sum()),
        }},
        "calls": {"today": {
            "calls": n_calls,
            "answered": answered,
            "answer_rate": _ratio(answered, n_calls),
            "avg_wait_s": _ratio(int(calls["extra"].sum()), n_calls),
        }},
    }


def _today_counts(store: SqlStore, start: datetime, end: datetime) -> pl.DataFrame:
    """Rows ``part, key, kind, n, extra, name, name_en`` of ``[start, end)`` from the minute
    rollups: cases per (service, action) with the service's names, print jobs per result
    (extra = pages), calls per outcome (extra = seconds waited)."""
    # the catalogue's service names come as rows of their own and are joined here: a join in
    # the statement cost more than the counts
    frame = store.query(
        """
        SELECT 'case' AS part, toString(service_id) AS key, toString(action) AS kind,
               sum(events) AS n, toUInt64(0) AS extra,
               CAST(NULL AS Nullable(String)) AS name, CAST(NULL AS Nullable(String)) AS name_en
        FROM service_workflow_1m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
        GROUP BY key, kind
        UNION ALL
        SELECT 'print', '', toString(result), sum(jobs), sum(pages), NULL, NULL
        FROM service_print_1m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
        GROUP BY result
        UNION ALL
        SELECT 'call', '', toString(outcome), sum(calls), sum(wait_s_sum), NULL, NULL
        FROM service_call_1m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
        GROUP BY outcome
        UNION ALL
        SELECT 'name', code, '', 0, 0, any(name_zh), any(name_en)
        FROM ioc_reference FINAL WHERE kind = 'service'
        GROUP BY code
        """,
        {"start": start, "end": end},
    )
    names = frame.filter(pl.col("part") == "name").select("key", "name", "name_en")
    counts = frame.filter(pl.col("part") != "name")
    cases = counts.filter(pl.col("part") == "case").drop("name", "name_en").join(names, on="key", how="left")
    return pl.concat([cases, counts.filter(pl.col("part") != "case")], how="vertical_relaxed")


def _case_figures(store: SqlStore, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """``backlog`` and ``handling_minutes`` from one pass over the case states.

    On one node the aggregates read the ``FINAL`` table directly, with ``done`` and ``minutes``
    as aliases of the statement: a subquery between them cost about an eighth more (each of
    its columns carried through for every case) for the same answer."""
    done = ("completed >= {start:DateTime64(3, 'UTC')} AND completed < {end:DateTime64(3, 'UTC')} "
            "AND first_submitted <= completed AS done")
    minutes = ("(toUnixTimestamp64Milli(completed) - toUnixTimestamp64Milli(first_submitted)) / 60000 "
               "AS minutes")
    source = f"({_cases(store)})" if store.cluster else "service_case_state FINAL"
    row = store.query(
        f"""
        WITH {done}, {minutes}
        SELECT
            countIf(modulo(latest, 8) IN ({_OPEN_RANKS})
                    AND first_submitted BETWEEN {{since:DateTime64(3, 'UTC')}}
                                            AND {{end:DateTime64(3, 'UTC')}}) AS backlog,
            countIf(done) AS cases,
            avgIf(minutes, done) AS avg_minutes,
            quantileExactInclusiveIf({P90})(minutes, done) AS p90_minutes
        FROM {source}
        """,
        {"since": now - timedelta(days=BACKLOG_DAYS), "start": start, "end": end},
    ).row(0, named=True)
    cases = int(row["cases"])
    return {
        "backlog": int(row["backlog"]),
        "handling_minutes": {
            "avg": float(row["avg_minutes"]) if cases else None,
            "p90": float(row["p90_minutes"]) if cases else None,
            "cases": cases,
        },
    }


def slow(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Figures of the service wall that may lag a minute (two queries)::

        hourly  [{hour, submitted, completed, typical_submitted, typical_completed,
                  calls, answered, answer_rate, avg_wait_s}]
                one row per local clock hour 0-23 of today, ``hour`` = its local RFC 3339
                start; today's figures count that hour's events so far (as ``live``) and are
                null for hours not begun; ``typical_*`` = the mean count in the same clock hour
                over those of the same weekday 1-4 weeks back that have any case event (null
                when none has)
        typical_days  how many reference days the typical figures average
        backlog_by_department [{department, name, name_en, backlog}]
                the backlog (as in ``live``) by the case's department, departments with a
                backlog only, largest first, ties by department code; names from the site
                catalogue (the code when it is not listed)
    """
    return {**_hourly(store, zone, now), "backlog_by_department": _backlog_by_department(store, now)}


def _day_span(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of a calendar day, in UTC (23 or 25 hours long
    on a daylight-saving change)."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    return local_midnight(zone, noon), local_midnight(zone, noon + timedelta(days=1))


def _hourly(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    start, end = _today(zone, now)
    local_now = now.astimezone(zone)
    ref_days = [local_now.date() - timedelta(days=7 * k) for k in range(1, TYPICAL_WEEKS + 1)]
    ref = " OR ".join(
        f"(minute >= {{r{i}:DateTime('UTC')}} AND minute < {{r{i}e:DateTime('UTC')}})"
        for i in range(len(ref_days)))
    params: dict[str, Any] = {"start": start, "end": end, "tz": zone.key}
    for i, d in enumerate(ref_days):
        params[f"r{i}"], params[f"r{i}e"] = _day_span(zone, d)
    frame = store.query(
        f"""
        SELECT 'case' AS part, toString(toDate(minute, {{tz:String}})) AS day,
               toHour(minute, {{tz:String}}) AS hour, toString(action) AS kind,
               sum(events) AS n, toUInt64(0) AS w
        FROM service_workflow_1m
        WHERE (minute >= {{start:DateTime('UTC')}} AND minute < {{end:DateTime('UTC')}}) OR {ref}
        GROUP BY day, hour, kind
        UNION ALL
        SELECT 'call', toString(toDate(minute, {{tz:String}})) AS day, toHour(minute, {{tz:String}}) AS hour,
               toString(outcome), sum(calls), sum(wait_s_sum)
        FROM service_call_1m
        WHERE minute >= {{start:DateTime('UTC')}} AND minute < {{end:DateTime('UTC')}}
        GROUP BY day, hour, outcome
        """,
        params,
    ).with_columns(pl.col("hour").cast(pl.Int64))
    today = local_now.date().isoformat()
    now_f = frame.filter(pl.col("day") == today)
    ref_f = frame.filter((pl.col("part") == "case") & (pl.col("day") != today))
    n_ref = ref_f["day"].n_unique()

    def per_hour(src: pl.DataFrame, name: str, part: str, kind: str | None = None,
                 value: str = "n") -> pl.DataFrame:
        keep = pl.col("part") == part
        if kind:
            keep = keep & (pl.col("kind") == kind)
        return src.filter(keep).group_by("hour").agg(pl.col(value).sum().alias(name))

    table = pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int64})
    for piece in (
        per_hour(now_f, "submitted", "case", "submitted"),
        per_hour(now_f, "completed", "case", "completed"),
        per_hour(now_f, "calls", "call"),
        per_hour(now_f, "answered", "call", "answered"),
        per_hour(now_f, "wait", "call", value="w"),
        per_hour(ref_f, "ref_submitted", "case", "submitted"),
        per_hour(ref_f, "ref_completed", "case", "completed"),
    ):
        table = table.join(piece, on="hour", how="left")
    begun = pl.col("hour") <= local_now.hour
    table = table.fill_null(0).with_columns(
        *(pl.when(begun).then(pl.col(c)).alias(c) for c in ("submitted", "completed", "calls", "answered")),
        *((pl.col(f"ref_{c}") / n_ref if n_ref else pl.lit(None, pl.Float64)).alias(f"typical_{c}")
          for c in ("submitted", "completed")),
        pl.when(pl.col("calls") > 0).then(pl.col("answered") / pl.col("calls")).alias("answer_rate"),
        pl.when(pl.col("calls") > 0).then(pl.col("wait") / pl.col("calls")).alias("avg_wait_s"),
    )
    day = local_now.date()
    rows = [
        {"hour": datetime(day.year, day.month, day.day, r.pop("hour"), tzinfo=zone).isoformat(), **r}
        for r in table.select(
            "hour", "submitted", "completed", "typical_submitted", "typical_completed",
            "calls", "answered", "answer_rate", "avg_wait_s",
        ).to_dicts()
    ]
    return {"hourly": rows, "typical_days": n_ref}


def _backlog_by_department(store: SqlStore, now: datetime) -> list[dict[str, Any]]:
    frame = store.query(
        f"""
        SELECT toString(c.department) AS department, count() AS backlog,
               any(d.name_zh) AS name, any(d.name_en) AS name_en
        FROM ({_cases(store)}) AS c
        LEFT JOIN (SELECT code, name_zh, name_en FROM ioc_reference FINAL WHERE kind = 'department') AS d
            ON d.code = toString(c.department)
        WHERE modulo(c.latest, 8) IN ({_OPEN_RANKS})
          AND c.first_submitted BETWEEN {{since:DateTime64(3, 'UTC')}} AND {{end:DateTime64(3, 'UTC')}}
        GROUP BY department
        ORDER BY backlog DESC, department
        SETTINGS join_use_nulls = 1
        """,
        {"since": now - timedelta(days=BACKLOG_DAYS), "end": now.replace(second=0, microsecond=0) + MINUTE},
    )
    return [{"department": r["department"], "name": r["name"] or r["department"],
             "name_en": r["name_en"] or r["department"], "backlog": int(r["backlog"])}
            for r in frame.iter_rows(named=True)]


def today_actions(store: SqlStore, zone: ZoneInfo, now: datetime | None = None) -> dict[str, int]:
    """Counts of case events today by action: ``live(...)["today"]`` for callers that need
    nothing else."""
    now = now or datetime.now(UTC)
    cases = _today_counts(store, *_today(zone, now)).filter(pl.col("part") == "case")
    got = dict(cases.group_by("kind").agg(pl.col("n").sum()).iter_rows())
    return {a: int(got.get(a, 0)) for a in ACTIONS}


# --------------------------------------------------------------------------- the declaration

# the service contracts' enumerations, in contract order (ioc_app/domains.py checks them)
CASE_ACTIONS = ("submitted", "approved", "rejected", "returned", "completed", "withdrawn")
APPLICANT_TYPES = ("student", "staff", "alumni", "external")
CHANNELS = ("web", "mobile", "wechat", "kiosk")
DOCUMENTS = ("enrollment_certificate", "transcript_zh", "transcript_en", "other")
PRINT_RESULTS = ("ok", "failed")
OUTCOMES = ("answered", "abandoned", "callback")

QUERY = Queryable(
    "service",
    dimensions=(
        Dimension("service_id", "online service code"),
        Dimension("department", "department code"),
        Dimension("applicant_type", "who applied", APPLICANT_TYPES),
        Dimension("channel", "where they applied", CHANNELS),
        Dimension("action", "case event action", CASE_ACTIONS),
        Dimension("terminal_id", "print terminal code"),
        Dimension("document", "printed document", DOCUMENTS),
        Dimension("print_result", "print job result", PRINT_RESULTS,
                  column="result"),
        Dimension("queue", "hotline queue"),
        Dimension("outcome", "call outcome", OUTCOMES),
    ),
    sources=(
        Source(
            "service.workflow", "service_workflow",
            minute=("service_id", "action"),
            hour=("service_id", "department", "applicant_type", "channel", "action"),
            parts=(("events", "sum(events)"),
                   *((a, f"sumIf(events, action = '{a}')") for a in CASE_ACTIONS)),
        ),
        Source(
            "service.print", "service_print",
            minute=("terminal_id", "document", "print_result"),
            hour=("terminal_id", "document", "print_result"),
            parts=(("jobs", "sum(jobs)"), ("pages", "sum(pages)"),
                   ("failed", "sumIf(jobs, result = 'failed')")),
        ),
        Source(
            "service.call", "service_call",
            minute=("queue", "outcome"), hour=("queue", "outcome"),
            parts=(("calls", "sum(calls)"), ("answered", "sumIf(calls, outcome = 'answered')"),
                   ("abandoned", "sumIf(calls, outcome = 'abandoned')"), ("wait", "sum(wait_s_sum)"),
                   ("talk", "sum(talk_s_sum)"), ("wait_max", "max(wait_s_max)")),
        ),
    ),
    measures=(
        count_of("case_events", "service.workflow", "events", "case events of any action"),
        *(count_of(a, "service.workflow", a, f"case events with action={a}") for a in CASE_ACTIONS),
        count_of("print_jobs", "service.print", "jobs", "print jobs"),
        count_of("print_pages", "service.print", "pages", "pages printed (failed jobs included)"),
        count_of("print_failed", "service.print", "failed", "print jobs with result=failed"),
        count_of("calls", "service.call", "calls", "hotline calls"),
        count_of("calls_answered", "service.call", "answered", "calls with outcome=answered"),
        count_of("calls_abandoned", "service.call", "abandoned", "calls with outcome=abandoned"),
        ratio_of("answer_rate", "service.call", "answered", "calls", "answered / calls; null without calls"),
        ratio_of("wait_s_avg", "service.call", "wait", "calls", "mean wait in seconds; null without calls",
                 "mean"),
        Measure("wait_s_max", "service.call", "max(p_wait_max)", "max", "longest wait in seconds"),
        ratio_of("talk_s_avg", "service.call", "talk", "calls",
                 "mean talk time in seconds; null without calls", "mean"),
    ),
)

WATCHED = {
    "submitted": Watched("service_workflow_1m", "sumIf(events, action = 'submitted')", None,
                         ("service_id",), "cases submitted"),
    "calls": Watched("service_call_1m", "sum(calls)", None, ("queue",), "hotline calls"),
    "prints": Watched("service_print_1m", "sum(jobs)", None, ("terminal_id",), "print jobs"),
}

REFERENCES = (
    Referenced("service.workflow", "service_id", "service", "service_workflow_1h", "hour", "sum(events)"),
    Referenced("service.print", "terminal_id", "terminal", "service_print_1h", "hour", "sum(jobs)"),
)

# the rollups of the service streams the figures above read (ioc_app/declared.py makes their DDL)
ROLLUPS = (
    Rollup("service.workflow", "1m", ("service_id", "action"), (count("events"),)),
    Rollup("service.workflow", "1h", ("service_id", "department", "applicant_type", "channel", "action"),
           (count("events"),)),
    *both_grains("service.print", ("terminal_id", "document", "result"),
                 (count("jobs"), total("pages", "pages"))),
    *both_grains("service.call", ("queue", "outcome"), (
        count("calls"), total("wait_s_sum", "wait_s"), total("talk_s_sum", "talk_s"),
        maximum("wait_s_max", "wait_s"))),
)

DOMAIN = MetricsDomain(
    "service", 30, live, slow,
    # the service hall is quiet at night
    stale_after_s={"service.workflow": 6 * 3600, "service.print": 24 * 3600, "service.call": 24 * 3600},
    rollups=ROLLUPS, query=QUERY, watched=WATCHED, references=REFERENCES,
)
