"""The admission notice tracker (录取通知书打印和邮寄): where each admitted candidate's notice is.

Definitions (docs/snapshot.md, "enrollment.notices"):

- Only candidates whose *current* admission status is ``admitted`` count (the latest state,
  ``metrics/enrollment_state.py``): a candidate admitted, sent a notice and then returned
  (退档) is in no stage and no exception list.
- A candidate's *notice status* is the status of their latest ``enrollment.notice`` event of
  the admission year: greatest ``ts``, then ``printed < mailed < delivered < returned`` at an
  equal ``ts`` (as admissions break ties), then a hash of the event id. A notice returned and
  mailed again is ``mailed`` again, then ``delivered``.
- The funnel: ``admitted``; ``printed`` = admitted with any notice event; ``mailed`` = notice
  status mailed, delivered or returned; ``delivered`` = notice status delivered;
  ``returned`` = notice status returned. So admitted ≥ printed ≥ mailed ≥ delivered + returned.
- The exceptions, as of ``now`` (the snapshot's time; a replayed snapshot keeps the time it
  was computed at): ``returned`` = notice status returned; ``undelivered`` = notice status
  mailed and that latest mailing at least ``undelivered`` days (× 24 h) before ``now``;
  ``unprinted`` = no notice event and admitted (the latest admission event) at least
  ``unprinted`` days (× 24 h) before ``now``. "Days waiting" is the whole number of 24-hour
  periods since that time (the return, the mailing, the admission). The core recomputes every
  domain at each minute boundary, so a notice crosses its threshold within a minute.

The shared snapshot carries counts only (:func:`live`). The exception rows — candidate
pseudonym, carrier and tracking number (personal data) — are :func:`exceptions`, read for the
admissions role's page and export only, never for the snapshot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ioc_app.storage import SqlStore
from metrics.enrollment_state import candidates as _candidates

#: notice statuses in their tie-break order at an equal ``ts``
STATUSES = ("printed", "mailed", "delivered", "returned")
#: the funnel's stages in order (``returned`` beside ``delivered``: both follow a mailing)
STAGES = ("admitted", "printed", "mailed", "delivered", "returned")
#: the exception lists
KINDS = ("returned", "undelivered", "unprinted")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class NoticeDays:
    """The exception thresholds in days (``IOC_NOTICE_UNDELIVERED_DAYS``,
    ``IOC_NOTICE_UNPRINTED_DAYS``)."""

    undelivered: int = 7
    unprinted: int = 3


#: the settings' defaults
DEFAULT_DAYS = NoticeDays()


def _per_candidate(store: SqlStore, detail: bool = True) -> str:
    """A subquery with one row per admitted candidate of year ``{y}``: ``candidate_key``,
    ``province``, ``province_ord``, ``admitted_ms`` and, from their notice events, ``notice``
    (the notice status, '' without one) and ``notice_ms``. With ``detail`` also ``batch``,
    ``major``, ``carrier`` and ``tracking_no`` (the latest non-empty ones; the lists only: the
    snapshot's counts need neither, and the latest carrier needs the full tie-break).

    The notice status is ``argMax`` over ``ts`` packed with the status (epoch ms × 8 + its
    position, as migration 8 orders admissions): at an equal ``ts`` the status further along
    wins; two events equal in both name the same status, so no further tie-break is needed."""
    columns = ("candidate_key", "status", "province", "ts", *(("batch", "major") if detail else ()))
    admitted = _candidates(store, columns, "year = {y:UInt16}")
    rank = "toUInt8(status)"  # the stored enum numbers STATUSES from 1, in their order
    packed = f"toUInt64(toUnixTimestamp64Milli(ts)) * 8 + {rank}"
    if not detail:
        # the counts need only the latest status and its time: one max() of the packed value
        # per candidate (its status the value mod 8, 0 without a notice; its time the value
        # ÷ 8), the admitted candidates — fewer than their notice events — as the join's built
        # side, and numbers rather than words to carry
        return f"""
        SELECT toLowCardinality(toString(a.province)) AS province, toUInt8(a.province) AS province_ord,
               toUnixTimestamp64Milli(a.ts) AS admitted_ms, toUInt8(n.p % 8) AS st,
               intDiv(n.p, 8) AS notice_ms
        FROM (SELECT candidate_key, max({packed}) AS p FROM enrollment_notice
              WHERE year = {{y:UInt16}} GROUP BY candidate_key) AS n
        RIGHT JOIN ({admitted}) AS a ON n.candidate_key = a.candidate_key
        WHERE a.status = 'admitted'
    """
    order = f"({packed}, cityHash64(event_id))"
    extra = (f""",
                   argMaxIf(ifNull(carrier, ''), {order}, ifNull(carrier, '') != '') AS carrier,
                   argMaxIf(ifNull(tracking_no, ''), {order}, ifNull(tracking_no, '') != '') AS tracking_no"""
             if detail else "")
    picked = ("toString(a.batch) AS batch, toString(a.major) AS major, n.carrier AS carrier, "
              "n.tracking_no AS tracking_no," if detail else "")
    return f"""
        SELECT a.candidate_key AS candidate_key, toString(a.province) AS province,
               toUInt8(a.province) AS province_ord, {picked}
               toUnixTimestamp64Milli(a.ts) AS admitted_ms,
               ifNull(n.notice, '') AS notice, n.notice_ms AS notice_ms
        FROM ({admitted}) AS a
        LEFT JOIN (
            SELECT candidate_key, toString(argMax(status, {packed})) AS notice,
                   toUnixTimestamp64Milli(max(ts)) AS notice_ms{extra}
            FROM enrollment_notice
            WHERE year = {{y:UInt16}}
            GROUP BY candidate_key
        ) AS n ON n.candidate_key = a.candidate_key
        WHERE a.status = 'admitted'
    """


def _exception_flags() -> str:
    """``kind`` of each row of :func:`_per_candidate`: its exception list, '' for none."""
    return """multiIf(notice = 'returned', 'returned',
                      notice = 'mailed' AND {now:Int64} - notice_ms >= {undelivered:Int64}, 'undelivered',
                      notice = '' AND {now:Int64} - admitted_ms >= {unprinted:Int64}, 'unprinted', '')"""


def _params(year: int, now: datetime, days: NoticeDays) -> dict[str, Any]:
    return {"y": year, "now": int(now.astimezone(UTC).timestamp() * 1000),
            "undelivered": days.undelivered * DAY_MS, "unprinted": days.unprinted * DAY_MS}


#: (kind, code) → (name_zh, name_en, parent): the site catalogue's names, as the enrollment
#: section has read them already
Names = Mapping[tuple[str, str], tuple[str, str, str]]


#: what tells whether a year's notices or admissions changed: the database (a store wiped
#: and made anew is another) and the raw rows of the year's two streams (append-only: every
#: accepted event adds one)
_FINGERPRINT = """
    SELECT (SELECT toString(uuid) FROM system.databases WHERE name = currentDatabase()),
           (SELECT count() FROM enrollment_notice WHERE year = {y:UInt16}),
           (SELECT count() FROM enrollment_admission WHERE year = {y:UInt16})
"""
_FRAMES: OrderedDict[tuple[Any, ...], pl.DataFrame] = OrderedDict()
_FRAMES_LOCK = threading.Lock()


def candidates_frame(store: SqlStore, year: int) -> pl.DataFrame:
    """One row per admitted candidate of ``year``: ``province, province_ord, admitted_ms,
    st`` (the notice status: 0 none, else its place in :data:`STATUSES` from 1) ``and
    notice_ms`` (:func:`_per_candidate`). Read again only when the year's notices or
    admissions changed (:data:`_FINGERPRINT`, one cheap statement): the funnel is recomputed
    every tick or minute while notices change a few times a day, and the join of the year's
    notices with its candidates is the enrollment section's costliest statement."""
    key = (store.cluster, year, *store.rows(_FINGERPRINT, {"y": year})[0])
    with _FRAMES_LOCK:
        kept = _FRAMES.get(key)
    if kept is not None:
        return kept
    frame = store.query(_per_candidate(store, detail=False), {"y": year})
    with _FRAMES_LOCK:
        _FRAMES[key] = frame
        while len(_FRAMES) > 8:
            _FRAMES.popitem(last=False)
    return frame


def by_province(store: SqlStore, year: int, now: datetime, days: NoticeDays = DEFAULT_DAYS,
                names: Names | None = None) -> pl.DataFrame:
    """One row per province with admitted candidates, in code order: ``province, name,
    name_en`` (from ``names``, else read from the catalogue; '' when it has none), the stages
    (:data:`STAGES`) and the exception counts (:data:`KINDS`, prefixed ``ex_``), counted from
    :func:`candidates_frame` as of ``now``."""
    p = _params(year, now, days)
    st = pl.col("st")
    printed, mailed, delivered, returned = range(1, len(STATUSES) + 1)  # the stored enum's numbers
    kind = (pl.when(st == returned).then(pl.lit("returned"))
            .when((st == mailed) & (p["now"] - pl.col("notice_ms") >= p["undelivered"]))
            .then(pl.lit("undelivered"))
            .when((st == 0) & (p["now"] - pl.col("admitted_ms") >= p["unprinted"]))
            .then(pl.lit("unprinted"))
            .otherwise(pl.lit("")))
    counted = (candidates_frame(store, year).with_columns(kind.alias("kind"))
               .group_by("province")
               .agg(pl.col("province_ord").first().alias("ord"),
                    pl.len().alias("admitted"), (st >= printed).sum().alias("printed"),
                    (st >= mailed).sum().alias("mailed"),
                    (st == delivered).sum().alias("delivered"),
                    (st == returned).sum().alias("returned"),
                    *((pl.col("kind") == k).sum().alias(f"ex_{k}") for k in KINDS))
               .sort("ord"))
    counts = ("admitted", *STAGES[1:], *(f"ex_{k}" for k in KINDS))
    counted = counted.with_columns(pl.col(c).cast(pl.UInt64) for c in counts)
    if names is None:
        read = store.query("SELECT code, name_zh, name_en FROM ioc_reference FINAL WHERE kind = 'province'")
        given = {c: (zh, en) for c, zh, en in read.iter_rows()}
    else:
        given = {code: (zh, en) for (k, code), (zh, en, _) in names.items() if k == "province"}
    return counted.select(
        "province", "ord",
        pl.col("province").replace_strict({c: zh for c, (zh, _) in given.items()}, default="",
                                          return_dtype=pl.String).alias("name"),
        pl.col("province").replace_strict({c: en for c, (_, en) in given.items()}, default="",
                                          return_dtype=pl.String).alias("name_en"),
        *counts)


def live(store: SqlStore, year: int, now: datetime, days: NoticeDays = DEFAULT_DAYS,
         names: Names | None = None) -> dict[str, Any]:
    """The snapshot part ``enrollment.notices`` of ``year`` as of ``now`` (one query; the
    province names from ``names`` when given), counts only — never a candidate key, carrier or
    tracking number::

        funnel      {admitted, printed, mailed, delivered, returned}
        by_province [{province, name, name_en, admitted, printed, mailed, delivered, returned}]
                    provinces with admitted candidates, in GB/T 2260 code order; names from
                    the site catalogue (the code when not listed)
        exceptions  {returned, undelivered, unprinted}
    """
    frame = by_province(store, year, now, days, names)
    rows = []
    for r in frame.iter_rows(named=True):
        code = str(r["province"])
        rows.append({"province": code, "name": r["name"] or code, "name_en": r["name_en"] or code,
                     **{s: int(r[s]) for s in STAGES}})
    return {
        "funnel": {s: int(frame[s].sum()) if frame.height else 0 for s in STAGES},
        "by_province": rows,
        "exceptions": {k: int(frame[f"ex_{k}"].sum()) if frame.height else 0 for k in KINDS},
    }


#: the columns of :func:`exceptions`
EXCEPTION_SCHEMA: dict[str, Any] = {
    "kind": pl.String, "candidate_key": pl.String,
    "province": pl.String, "province_zh": pl.String, "province_en": pl.String, "batch": pl.String,
    "major": pl.String, "major_zh": pl.String, "major_en": pl.String,
    "admitted_at": pl.Datetime("ms", "UTC"), "notice_status": pl.String,
    "notice_at": pl.Datetime("ms", "UTC"),
    "days_waiting": pl.Int64, "carrier": pl.String, "tracking_no": pl.String,
}


def exceptions(store: SqlStore, year: int, now: datetime, days: NoticeDays = DEFAULT_DAYS,
               kind: str | None = None) -> pl.DataFrame:
    """The exception lists of ``year`` as of ``now`` (the admissions role's page and export;
    one query): one row per candidate in a list (``kind``; all three when None), with the
    candidate pseudonym, province, batch and major (codes and catalogue names), when they
    were admitted, their notice status and its time (null without a notice), the days
    waiting (since the return, the mailing or the admission), and the latest carrier and
    tracking number their notice events named (null when none did). Sorted by list (in
    :data:`KINDS` order), most days waiting first, then province code and pseudonym."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"not an exception list: {kind!r}; use one of: {', '.join(KINDS)}")
    frame = store.query(
        f"""
        SELECT c.kind AS kind, c.candidate_key AS candidate_key, c.province AS province,
               coalesce(nullIf(p.name_zh, ''), c.province) AS province_zh,
               coalesce(nullIf(p.name_en, ''), c.province) AS province_en,
               c.batch AS batch, c.major AS major,
               coalesce(nullIf(m.name_zh, ''), c.major) AS major_zh,
               coalesce(nullIf(m.name_en, ''), c.major) AS major_en,
               c.admitted_ms AS admitted_ms, nullIf(c.notice, '') AS notice_status,
               if(c.notice = '', NULL, c.notice_ms) AS notice_ms,
               intDiv({{now:Int64}} - if(c.kind = 'unprinted', c.admitted_ms, c.notice_ms), {DAY_MS})
                   AS days_waiting,
               nullIf(c.carrier, '') AS carrier, nullIf(c.tracking_no, '') AS tracking_no,
               c.province_ord AS province_ord
        FROM (SELECT *, {_exception_flags()} AS kind FROM ({_per_candidate(store)})) AS c
        LEFT JOIN (SELECT code, name_zh, name_en FROM ioc_reference FINAL WHERE kind = 'province') AS p
            ON p.code = c.province
        LEFT JOIN (SELECT code, name_zh, name_en FROM ioc_reference FINAL WHERE kind = 'major') AS m
            ON m.code = c.major
        WHERE c.kind != '' AND ({{kind:String}} = '' OR c.kind = {{kind:String}})
        """,
        {**_params(year, now, days), "kind": kind or ""},
    )
    if frame.height == 0:
        return pl.DataFrame(schema=EXCEPTION_SCHEMA)
    order = {k: i for i, k in enumerate(KINDS)}
    return (frame.with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int64).alias("kind_ord"))
            .sort("kind_ord", "days_waiting", "province_ord", "candidate_key",
                  descending=[False, True, False, False])
            .with_columns(pl.from_epoch("admitted_ms", time_unit="ms").dt.replace_time_zone("UTC")
                          .alias("admitted_at"),
                          pl.from_epoch("notice_ms", time_unit="ms").dt.replace_time_zone("UTC")
                          .alias("notice_at"))
            .select([pl.col(c).cast(t) for c, t in EXCEPTION_SCHEMA.items()]))
