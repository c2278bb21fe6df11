"""The enrollment domain of the analyst query against the simulator's truth export.

Two simulated admission seasons (2024 and 2025, with September check-in; the ``season``
store of ``conftest.py``) are asked questions at the ``day`` and ``season`` grains; each answer
is compared with an independent computation in plain Polars over every event the simulator
sent: for each bucket, the candidates' latest event and the students' furthest step as of the
end of that day (or of all events for a season), grouped and filtered. The season answers are
also checked against the live figures (a tile and its breakdown show the same number), the
comparison with the same day of the previous season, the small-cell rule, and refusals.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import enrollment
from metrics.query import DOMAINS, QueryError, comparison_range, parse_spec, run, run_compared
from metrics.small_cells import hidden_groups
from tests.metrics.conftest import SEASON_NOW, ZONE, Week
from tests.metrics.test_enrollment import TIE_ORDER, approx

STEPS = ("arrived", "paid", "dorm", "registered")
COUNTS = ("planned", "filed", "admitted", "returned", "withdrawn", *STEPS)
SCORES = ("score_min", "score_avg", "score_max")


# --- the independent computation ------------------------------------------------------------


def _colleges(season: Week) -> dict[str, str]:
    return {m.code: m.college for m in season.site.majors}


def _latest(events: pl.DataFrame, key: str, order: pl.Expr) -> pl.DataFrame:
    return events.with_columns(order.alias("_o")).sort("ts", "_o").group_by("year", key).agg(pl.all().last())


def _states(season: Week, year: int, day: date | None) -> dict[str, pl.DataFrame]:
    """Candidates, students and plan rows of ``year`` as of the end of local ``day`` (all
    events when None), each with its dimension columns as strings."""
    colleges = _colleges(season)
    rank = {s: i for i, s in enumerate(TIE_ORDER)}
    adm = season.events("enrollment.admission").filter(pl.col("year") == year)
    chk = season.events("enrollment.checkin").filter(pl.col("year") == year)
    if day is not None:
        adm = adm.filter(pl.col("local").dt.date() <= day)
        chk = chk.filter(pl.col("local").dt.date() <= day)
    candidates = _latest(adm, "candidate_key", pl.col("status").replace_strict(rank, return_dtype=pl.Int64))
    candidates = candidates.with_columns(
        pl.col("major").replace_strict(colleges, default=pl.col("college"), return_dtype=pl.String)
        .alias("college"))
    steps = {s: i for i, s in enumerate(STEPS)}
    chk = chk.with_columns(pl.col("step").replace_strict(steps, return_dtype=pl.Int64).alias("n"))
    students = _latest(chk, "student_key", pl.col("n")).drop("n").join(
        chk.group_by("year", "student_key").agg(pl.col("n").max()), on=["year", "student_key"])
    students = students.with_columns(
        pl.col("major").replace_strict(colleges, default=pl.col("college"), return_dtype=pl.String)
        .alias("college"))
    plan_key = ("year", "province", "batch", "category", "track", "major")
    plan = (season.truth["enrollment.plan"].filter(pl.col("year") == year)
            .group_by(plan_key).agg(pl.col("planned").last()))
    everyone = _latest(season.events("enrollment.admission").filter(pl.col("year") == year), "candidate_key",
                       pl.col("status").replace_strict(rank, return_dtype=pl.Int64))
    seen = (everyone.filter(pl.col("status") == "admitted").group_by("major")
            .agg(pl.col("college").max().alias("seen")))
    plan = plan.join(seen, on="major", how="left").with_columns(
        pl.col("major").replace_strict(colleges, default=pl.col("seen"), return_dtype=pl.String)
        .alias("college"))
    out = {"adm": candidates, "chk": students, "plan": plan}
    return {k: v.with_columns(pl.col("year").cast(pl.String),
                              *(pl.col(c).cast(pl.String) for c in ("province", "batch", "category", "track")
                                if c in v.columns))
            for k, v in out.items()}


def _figures(states: dict[str, pl.DataFrame], group_by: tuple[str, ...], filters: dict[str, list[str]],
             measures: tuple[str, ...]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every measure per group of one bucket's states (exact scores); groups come from the
    states the measures asked for count."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    asked = set(measures)
    if not asked & {"planned", "completion"}:
        states = {**states, "plan": states["plan"].head(0)}
    if not asked & {*TIE_ORDER, "completion", *SCORES}:
        states = {**states, "adm": states["adm"].head(0)}
    if not asked & set(STEPS):
        states = {**states, "chk": states["chk"].head(0)}

    def rows(frame: pl.DataFrame) -> pl.DataFrame:
        for name, values in filters.items():
            if name in frame.columns:
                frame = frame.filter(pl.col(name).is_in(values))
        return frame

    def groups(frame: pl.DataFrame) -> dict[tuple[Any, ...], pl.DataFrame]:
        if not group_by:
            return {(): frame}
        if frame.height == 0 or not set(group_by) <= set(frame.columns):
            return {}
        return {k: g for k, g in frame.group_by(list(group_by), maintain_order=True)}

    def entry(k: tuple[Any, ...]) -> dict[str, Any]:
        return out.setdefault(k, {m: 0 for m in COUNTS} | dict.fromkeys(SCORES))

    for k, g in groups(rows(states["plan"])).items():
        entry(k)["planned"] = int(g["planned"].sum())
    for k, g in groups(rows(states["adm"])).items():
        e = entry(k)
        for s in TIE_ORDER:
            e[s] = g.filter(pl.col("status") == s).height
        a = g.filter(pl.col("status") == "admitted")["score"]
        if a.len():
            e |= {"score_min": a.min(), "score_avg": a.mean(), "score_max": a.max()}
    for k, g in groups(rows(states["chk"])).items():
        e = entry(k)
        for i, s in enumerate(STEPS):
            e[s] = g.filter(pl.col("n") == i).height
    for e in out.values():
        e["completion"] = e["admitted"] / e["planned"] if e["planned"] else None
    return out


def expected(season: Week, grain: str, buckets: list[Any], group_by: tuple[str, ...],
             filters: dict[str, list[str]], measures: tuple[str, ...]) -> pl.DataFrame:
    per_bucket = {}
    for b in buckets:
        states = _states(season, b.year if grain == "day" else b, b if grain == "day" else None)
        per_bucket[b] = _figures(states, group_by, filters, measures)
    seen = sorted({k for figures in per_bucket.values() for k in figures})
    rows = []
    for b in buckets:
        for k in seen:
            e = per_bucket[b].get(k) or ({m: 0 for m in COUNTS} | dict.fromkeys((*SCORES, "completion")))
            rows.append({grain: b, **dict(zip(group_by, k, strict=True)), **{m: e[m] for m in measures}})
    schema: dict[str, Any] = {grain: pl.Date if grain == "day" else pl.Int64,
                              **dict.fromkeys(group_by, pl.String),
                              **{m: pl.Int64 if m in COUNTS else pl.Float64 for m in measures}}
    return pl.DataFrame(rows, schema=schema)


def ask(season: Week, args: dict[str, Any], min_cell: int = 1) -> tuple[Any, pl.DataFrame]:
    spec = parse_spec("enrollment", {k: [v] if isinstance(v, str) else v for k, v in args.items()},
                      ZONE, SEASON_NOW)
    return spec, run(season.store, spec, ZONE, min_cell)


def check(season: Week, args: dict[str, Any]) -> pl.DataFrame:
    spec, got = ask(season, args)
    assert got.columns == [spec.grain, *spec.group_by, *spec.measures]
    buckets = got[spec.grain].unique(maintain_order=True).to_list()
    filters = {name: list(values) for name, values in spec.filters}
    want = expected(season, spec.grain, buckets, spec.group_by, filters, spec.measures)
    # groups that held somebody only between two buckets show as zeros: the truth skips them
    keys = [spec.grain, *spec.group_by]
    extra = got.join(want, on=keys, how="anti")
    assert all(extra[m].fill_null(0).sum() == 0 for m in spec.measures if m in COUNTS), extra
    got = got.join(want.select(keys), on=keys, how="semi")
    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-9, abs_tol=1e-6)
    return got


# --- answers against the truth ----------------------------------------------------------------

QUESTIONS = [
    # the whole season by day, every measure, from before its first event to its end
    {"grain": "day", "from": "2025-06-25", "to": "2025-10-01"},
    {"grain": "day", "from": "2025-07-10", "to": "2025-08-10", "group_by": "province",
     "batch": "regular", "measures": "planned,admitted,completion,score_min,score_avg,score_max"},
    {"grain": "day", "from": "2025-08-28", "to": "2025-10-01", "group_by": "campus",
     "measures": "arrived,paid,dorm,registered"},
    {"grain": "day", "from": "2025-07-15", "to": "2025-09-15", "group_by": "college",
     "measures": "planned,admitted,returned,registered", "major": ["080901", "080902", "0809XX"]},
    # across New Year: a day counts the candidates of its own year, from January 1 again
    {"grain": "day", "from": "2024-12-28", "to": "2025-01-03", "group_by": "year,category",
     "measures": "admitted,filed,score_max"},
    {"grain": "season", "from": "2023-01-01", "to": "2025-12-31", "group_by": "batch,track"},
    {"grain": "season", "from": "2024-01-01", "to": "2025-12-31", "group_by": "college,campus",
     "measures": "arrived,registered", "college": ["cs", "math"]},
    {"grain": "season", "from": "2024-01-01", "to": "2025-12-31", "group_by": "major",
     "measures": "planned,admitted,completion,score_avg", "province": ["42", "11", "44"]},
]


@pytest.mark.parametrize("args", QUESTIONS, ids=lambda a: f"{a['grain']}-{a.get('group_by', 'all')}")
def test_answers_equal_the_truth(season: Week, args: dict[str, Any]) -> None:
    got = check(season, args)
    assert got.height > 0
    counted = [m for m in got.columns if m in COUNTS and m != "planned"]
    assert got.select(pl.sum_horizontal(counted).sum()).item() > 0, "the question holds candidates"


def test_the_season_is_the_live_figure_and_its_breakdown(season: Week) -> None:
    """A tile (the live figures) and its breakdown (a season question) show the same numbers,
    the small-cell rule included."""
    for min_cell in (1, enrollment.MIN_CELL):
        for year in (2024, 2025):
            live = enrollment.live(season.store, ZONE, SEASON_NOW, year=year, min_cell=min_cell)
            args = {"grain": "season", "from": f"{year}-01-01", "to": f"{year}-12-31"}
            _, total = ask(season, {**args, "measures": "planned,admitted,completion," + ",".join(STEPS)},
                           min_cell)
            assert total.to_dicts() == [{"season": year, "planned": live["plan"],
                                         "admitted": live["admitted"],
                                         "completion": pytest.approx(live["completion"]), **live["checkin"]}]
            for dim in ("province", "batch", "category", "track"):
                measures = "planned,admitted,completion,score_min,score_avg,score_max"
                _, split = ask(season, {**args, "group_by": dim, "measures": measures}, min_cell)
                shown = {r[dim]: [r["planned"], r["admitted"], r["completion"], r["score_min"],
                                  r["score_avg"], r["score_max"]] for r in split.to_dicts()}
                tile = {r[dim]: [r["plan"], r["admitted"], r["completion"], r["min_score"], r["avg_score"],
                                 r["max_score"]] for r in live[f"by_{dim}"]}
                assert shown == approx(tile), (year, dim, min_cell)


def test_the_last_day_is_the_live_figure(season: Week) -> None:
    _, got = ask(season, {"grain": "day", "from": "2025-09-20", "to": SEASON_NOW.isoformat(),
                          "measures": "planned,admitted,returned,score_avg," + ",".join(STEPS)})
    live = enrollment.live(season.store, ZONE, SEASON_NOW, min_cell=1)
    last = got.row(-1, named=True)
    assert last["day"] == date(2025, 9, 30)
    assert (last["planned"], last["admitted"]) == (live["plan"], live["admitted"])
    assert {s: last[s] for s in STEPS} == live["checkin"]
    by_batch = live["by_batch"]  # every admitted candidate in one of them
    assert last["score_avg"] == pytest.approx(
        sum(r["avg_score"] * r["admitted"] for r in by_batch) / sum(r["admitted"] for r in by_batch))


def _returned_since(season: Week, year: int, day: date) -> int:
    """Candidates of ``year`` admitted as of the end of ``day`` whose status now is not."""
    then = _states(season, year, day)["adm"].filter(pl.col("status") == "admitted")
    now = _states(season, year, None)["adm"].filter(pl.col("status") != "admitted")
    return then.join(now, on=["year", "candidate_key"]).height


def test_year_over_year_at_the_same_day_of_the_season(season: Week) -> None:
    """``compare=last_year``: each day of the 2025 season beside the same day of 2024's, as
    the cockpit's "vs last year" line has it and as the truth says; a season beside the one
    before; ``previous`` seasons; nothing before the first season the store holds."""
    args = {"grain": ["day"], "from": ["2025-07-01"], "to": ["2025-10-01"], "compare": ["last_year"],
            "measures": ["admitted,registered,score_max"]}
    spec = parse_spec("enrollment", args, ZONE, SEASON_NOW)
    assert comparison_range(spec, ZONE) == (datetime(2024, 7, 1, tzinfo=ZONE),
                                            datetime(2024, 10, 1, tzinfo=ZONE))
    got = run_compared(season.store, spec, ZONE, SEASON_NOW, min_cell=1)
    slow = enrollment.slow(season.store, ZONE, SEASON_NOW)["admitted_by_day"]
    # a day of the query counts the candidates as they stood that day; the cockpit's line
    # counts today's admitted by the day of their admission: the two differ by the candidates
    # admitted by that day and returned (退档) since
    since = {y: [_returned_since(season, y, date(y, 7, 1) + timedelta(days=d["day"])) for d in slow]
             for y in (2024, 2025)}
    assert any(since[2024]) and not since[2024][-1]  # (the simulator returns a few admitted)
    assert got["admitted_cmp"].to_list() == [d["last_year"] + n
                                             for d, n in zip(slow, since[2024], strict=True)]
    assert got["admitted"].to_list() == [d["admitted"] + n for d, n in zip(slow, since[2025], strict=True)]
    assert got["admitted_diff"].to_list() == [a - b for a, b in zip(got["admitted"], got["admitted_cmp"],
                                                                     strict=True)]
    truth = expected(season, "day", [date(2024, 7, 1) + timedelta(days=k) for k in range(92)], (), {},
                     spec.measures)
    assert_frame_equal(got.select(pl.col("day").dt.offset_by("-1y"), *(pl.col(f"{m}_cmp").alias(m)
                                                                        for m in spec.measures)),
                       truth, check_exact=False, rel_tol=1e-9)
    assert got["admitted_cmp"][-1] > 1000 and got["registered_cmp"][-1] > 1000
    # a season beside the season before, and two seasons beside the two before them
    live = {y: enrollment.live(season.store, ZONE, SEASON_NOW, year=y, min_cell=1)["admitted"]
            for y in (2023, 2024, 2025)}
    seasons = {"grain": ["season"], "from": ["2025-01-01"], "to": ["2025-12-31"], "measures": ["admitted"]}
    got = run_compared(season.store, parse_spec("enrollment", {**seasons, "compare": ["last_year"]}, ZONE,
                                                SEASON_NOW), ZONE, SEASON_NOW)
    assert got.to_dicts() == [{"season": 2025, "admitted": live[2025], "admitted_cmp": live[2024],
                               "admitted_diff": live[2025] - live[2024]}]
    both = {**seasons, "from": ["2024-01-01"], "compare": ["previous"]}
    with pytest.raises(QueryError) as err:  # 2022 and 2023: before the first season stored
        run_compared(season.store, parse_spec("enrollment", both, ZONE, SEASON_NOW), ZONE, SEASON_NOW)
    assert err.value.code == "bad_parameter" and "compare=previous" in err.value.message
    first = {**seasons, "from": ["2024-01-01"], "to": ["2024-12-31"], "compare": ["last_year"]}
    with pytest.raises(QueryError):
        run_compared(season.store, parse_spec("enrollment", first, ZONE, SEASON_NOW), ZONE, SEASON_NOW)
    assert live[2023] == 0


def test_small_cells_hide_scores_unless_exact(season: Week) -> None:
    args = {"grain": "day", "from": "2025-08-01", "to": "2025-08-03", "group_by": "major",
            "measures": "admitted,score_min,score_avg,score_max", "province": "44"}
    _, exact = ask(season, args, min_cell=1)
    _, shown = ask(season, args, min_cell=3)
    assert exact.select("day", "major", "admitted").equals(shown.select("day", "major", "admitted"))
    small = 0
    for (day,), rows in exact.group_by("day", maintain_order=True):
        hide = hidden_groups(rows["admitted"].to_list(), 3)
        mine = shown.filter(pl.col("day") == day)
        pairs = zip(mine.iter_rows(named=True), rows.iter_rows(named=True), strict=True)
        for i, (row, was) in enumerate(pairs):
            if i in hide:
                assert (row["score_min"], row["score_avg"], row["score_max"]) == (None, None, None)
                small += 0 < was["admitted"] < 3
            else:  # the two answers sum in the engine's order: a mean may differ in its last bit
                mean = was["score_avg"]
                assert row == {**was, "score_avg": mean if mean is None else pytest.approx(mean)}
    assert small > 0, "the question holds small groups"
    assert exact.filter(pl.col("admitted").is_between(1, 2))["score_avg"].null_count() == 0


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("domain", "args", "needles"), [
    ("gate", {"grain": ["season"]}, ["grain=season is not a grain of gate", "minute, hour, day"]),
    ("enrollment", {"grain": ["hour"]}, ["grain=hour is not a grain of enrollment", "day, season"]),
    ("enrollment", {"grain": ["week"]}, ["grain='week'", "day, season"]),
    ("enrollment", {"measures": ["admitted,enrolled"]}, ["unknown measure 'enrolled'", "planned, filed"]),
    ("enrollment", {"group_by": ["gender"]}, ["cannot group by 'gender'", "year, province, batch"]),
    ("enrollment", {"province": ["99"]}, ["province='99'", "use one of: 11, 12"]),
    ("enrollment", {"batch": ["first"]}, ["batch='first'", "early, regular"]),
    ("enrollment", {"measures": ["admitted"], "group_by": ["campus"]},
     ["campus does not apply to measure admitted", "arrived, paid, dorm, registered"]),
    ("enrollment", {"measures": ["registered"], "province": ["42"]},
     ["province does not apply to measure registered"]),
    ("enrollment", {"grain": ["season"], "from": ["2000-01-01"], "to": ["2025-06-01"]},
     ["too long for grain=season", "at most 20 seasons"]),
    ("enrollment", {"grain": ["day"], "from": ["2020-01-01"], "to": ["2025-06-01"]}, ["at most 800 days"]),
])
def test_bad_questions_are_refused_naming_what_is_allowed(domain: str, args: dict[str, list[str]],
                                                          needles: list[str]) -> None:
    with pytest.raises(QueryError) as err:
        parse_spec(domain, args, ZONE, SEASON_NOW)
    assert err.value.code == "bad_parameter"
    for needle in needles:
        assert needle in err.value.message, err.value.message


def test_seasons_are_whole_admission_years() -> None:
    spec = parse_spec("enrollment", {"grain": ["season"], "from": ["2024-08-01"], "to": ["2025-03-01"]},
                      ZONE, SEASON_NOW)
    assert spec.start == datetime(2024, 1, 1, tzinfo=ZONE) and spec.end == datetime(2026, 1, 1, tzinfo=ZONE)
    default = parse_spec("enrollment", {"grain": ["season"]}, ZONE, SEASON_NOW)
    assert default.start == datetime(2023, 1, 1, tzinfo=ZONE)
    assert default.end == datetime(2026, 1, 1, tzinfo=ZONE)
    assert parse_spec("enrollment", {}, ZONE, SEASON_NOW).grain == "day"
    assert DOMAINS["enrollment"].grains == ("day", "season")
