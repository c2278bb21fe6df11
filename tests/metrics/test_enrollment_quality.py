"""生源质量分析 (metrics/enrollment_quality.py) against the definitions, computed here again in
plain Python over the events sent (the truth export of the simulated seasons, and crafted
seasons sent through the real ingest path): the latest status per candidate, the latest import
of each control line, margins, nearest-rank percentiles, first-choice rates, the three-year
trends, the province rankings and the small-cell rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from ingest.enrollment import (
    BATCHES,
    CATEGORIES,
    ENROLLMENT_ADMISSION,
    ENROLLMENT_CONTROL_LINE,
    PROVINCES,
    TRACKS,
)
from ingest.site import Site, load_site, store_reference
from ioc_app.settings import DEFAULT_SITE
from metrics import enrollment, enrollment_quality
from metrics.small_cells import hidden_groups
from tests.metrics.conftest import SEASON_NOW, ZONE, Week
from tests.metrics.test_enrollment import approx, latest_candidates

SITE = load_site(DEFAULT_SITE)
CELL = ("province", "batch", "category", "track")
LINE_KEY = ("year", *CELL)
STATS_HIDDEN = ("min_score", "avg_score", "max_score", "min_margin", "avg_margin", "max_margin",
                "rank_p10", "rank_p50", "rank_p90")


# --- the independent computation -----------------------------------------------------------


def nearest_rank(ranks: list[int], q: int) -> int | None:
    """The ⌈q·n/100⌉-th of the ranks sorted ascending (1-based), None without ranks."""
    if not ranks:
        return None
    ordered = sorted(ranks)
    position = max(1, -(-q * len(ordered) // 100))
    return ordered[position - 1]


def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [r["score"] for r in rows]
    margins = [r["margin"] for r in rows if r["margin"] is not None]
    ranks = [int(r["province_rank"]) for r in rows if r.get("province_rank") is not None]
    known = [r["first_choice"] for r in rows if r.get("first_choice") is not None]
    return {
        "admitted": len(rows),
        "min_score": min(scores), "avg_score": sum(scores) / len(scores), "max_score": max(scores),
        "with_line": len(margins),
        "min_margin": min(margins) if margins else None,
        "avg_margin": sum(margins) / len(margins) if margins else None,
        "max_margin": max(margins) if margins else None,
        "with_rank": len(ranks),
        **{f"rank_p{q}": nearest_rank(ranks, q) for q in (10, 50, 90)},
        "first_choice_known": len(known), "first_choice": sum(1 for k in known if k),
        "first_choice_rate": sum(1 for k in known if k) / len(known) if known else None,
    }


def hide(rows: list[dict[str, Any]], min_cell: int) -> list[dict[str, Any]]:
    out = [dict(r, small=False) for r in rows]
    if min_cell > 1:
        for i in hidden_groups([r["admitted"] for r in out], min_cell):
            out[i] |= dict.fromkeys(STATS_HIDDEN) | {"small": True}
        for r in out:
            if 0 < r["with_line"] < min_cell:
                r |= dict.fromkeys(("min_margin", "avg_margin", "max_margin"))
            if 0 < r["with_rank"] < min_cell:
                r |= dict.fromkeys(("rank_p10", "rank_p50", "rank_p90"))
    return out


def admitted_rows(adm: pl.DataFrame, lines: pl.DataFrame, site: Site) -> list[dict[str, Any]]:
    """Every candidate whose latest status is admitted, with their margin and college."""
    latest = latest_candidates(adm).filter(pl.col("status") == "admitted")
    line = {}
    if lines.height:  # the latest import of a key wins: the last row sent
        for r in lines.iter_rows(named=True):
            line[tuple(r[k] for k in LINE_KEY)] = r["control_score"]
    colleges = {m.code: m.college for m in site.majors}
    out = []
    for r in latest.iter_rows(named=True):
        control = line.get(tuple(r[k] for k in LINE_KEY))
        margin = None if control is None else r["score"] - control
        out.append({**r, "control_score": control, "margin": margin,
                    "college": colleges.get(r["major"]) or r["college"],
                    "first_choice": r.get("first_choice"), "province_rank": r.get("province_rank")})
    return out


def names(kind: str, code: str, site: Site) -> tuple[str, str]:
    table = {"province": site.provinces, "college": site.colleges, "major": site.majors}[kind]
    found = next((n for n in table if n.code == code), None)
    return (found.name_zh, found.name_en) if found else (code, code)


def grouped(rows: Iterable[dict[str, Any]], keys: tuple[str, ...], site: Site) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[tuple(r[k] for k in keys)].append(r)
    order = {"province": PROVINCES, "batch": BATCHES, "category": CATEGORIES, "track": TRACKS}
    out = []
    for key in sorted(groups, key=lambda k: tuple(order[d].index(v) if d in order else v
                                                  for d, v in zip(keys, k, strict=True))):
        row: dict[str, Any] = {}
        for k, v in zip(keys, key, strict=True):
            row[k] = v
            if k in ("province", "college", "major"):
                row[f"{k}_name"], row[f"{k}_name_en"] = names(k, v, site)
        if "track" in keys:
            row["control_score"] = groups[key][0]["control_score"]
        out.append(row | stats(groups[key]))
    return out


def expected(adm: pl.DataFrame, lines: pl.DataFrame, site: Site, year: int, min_cell: int) -> dict[str, Any]:
    rows = admitted_rows(adm, lines, site)
    of = {y: [r for r in rows if r["year"] == y] for y in range(year - 2, year + 1)}
    short = ("admitted", "avg_score", "avg_margin", "small")
    trend, trend_provinces, provinces = [], [], {}
    for y in range(year - 2, year + 1):
        total = hide([stats(of[y])], min_cell)[0] if of[y] else {"admitted": 0, "avg_score": None,
                                                                 "avg_margin": None, "small": False}
        trend.append({"year": y, **{k: total[k] for k in short}})
        provinces[y] = hide(grouped(of[y], ("province",), site), min_cell)
        trend_provinces += [{"province": r["province"], "province_name": r["province_name"],
                             "province_name_en": r["province_name_en"], "year": y, **{k: r[k] for k in short}}
                            for r in provinces[y]]
    ranked = sorted((r for r in provinces[year] if r["avg_margin"] is not None),
                    key=lambda r: (-r["avg_margin"], r["province"]))
    before = {r["province"]: r for r in provinces[year - 1]}
    changes = []
    for r in provinces[year]:
        b = before.get(r["province"])
        if r["avg_margin"] is not None and b is not None and b["avg_margin"] is not None:
            changes.append({"province": r["province"], "province_name": r["province_name"],
                            "province_name_en": r["province_name_en"], "admitted": r["admitted"],
                            "avg_margin": r["avg_margin"], "prev_admitted": b["admitted"],
                            "prev_avg_margin": b["avg_margin"], "change": r["avg_margin"] - b["avg_margin"]})
    return {
        "year": year, "seasons": [year - 2, year - 1, year],
        "season": hide([stats(of[year])], min_cell)[0] if of[year] else None,
        "cells": hide(grouped(of[year], CELL, site), min_cell),
        "colleges": hide(grouped(of[year], ("college",), site), min_cell),
        "majors": hide(grouped(of[year], ("major",), site), min_cell),
        "provinces": provinces[year],
        "trend": trend, "trend_provinces": trend_provinces,
        "by_margin": [{k: r[k] for k in ("province", "province_name", "province_name_en", "admitted",
                                         "with_line", "avg_margin")} for r in ranked],
        "by_change": sorted(changes, key=lambda r: (-r["change"], r["province"])),
    }


def expected_part(adm: pl.DataFrame, lines: pl.DataFrame, site: Site, year: int, min_cell: int
                  ) -> dict[str, Any]:
    rows = [r for r in admitted_rows(adm, lines, site) if r["year"] == year]
    provinces = grouped(rows, ("province",), site)
    with_line = sum(r["with_line"] for r in provinces)
    margins = [r["margin"] for r in rows if r["margin"] is not None]
    hidden = hidden_groups([r["admitted"] for r in provinces], min_cell)
    shown = [r for i, r in enumerate(provinces) if i not in hidden and r["avg_margin"] is not None
             and r["with_line"] >= min_cell]

    def cut(r: dict[str, Any]) -> dict[str, Any]:
        return {"province": r["province"], "name": r["province_name"], "name_en": r["province_name_en"],
                "admitted": r["admitted"], "avg_margin": r["avg_margin"]}

    small = not margins or 0 < len(rows) < min_cell or len(margins) < min_cell
    return {"avg_margin": None if small else sum(margins) / len(margins), "with_line": with_line,
            "best": [cut(r) for r in sorted(shown, key=lambda r: (-r["avg_margin"], r["province"]))[:3]],
            "worst": [cut(r) for r in sorted(shown, key=lambda r: (r["avg_margin"], r["province"]))[:3]]}


# --- the simulated seasons -------------------------------------------------------------------


def season_truth(season: Week) -> tuple[pl.DataFrame, pl.DataFrame]:
    lines = season.truth.get("enrollment.control_line", pl.DataFrame())
    return season.events("enrollment.admission"), lines


@pytest.mark.parametrize(("year", "min_cell"), [(2025, 1), (2024, 1), (2025, 3)])
def test_figures_match_the_season(season: Week, year: int, min_cell: int) -> None:
    adm, lines = season_truth(season)
    got = enrollment_quality.figures(season.store, year, min_cell=min_cell)
    assert got == approx(expected(adm, lines, season.site, year, min_cell))
    # a real season: lines for most, ranks, first choices known, and returned candidates left out
    s = got["season"]
    assert s["admitted"] > 1000 and s["with_line"] > 0.9 * s["admitted"]
    assert s["with_rank"] > 0.9 * s["admitted"]
    assert 0.75 < s["first_choice_rate"] < 0.95 and s["min_margin"] < s["avg_margin"] < s["max_margin"]
    assert len(got["cells"]) > 30 and len(got["by_margin"]) > 20
    if year == 2025:
        assert len(got["by_change"]) > 20 and [r["year"] for r in got["trend"]] == [2023, 2024, 2025]
    returned = latest_candidates(adm).filter((pl.col("status") == "returned") & (pl.col("year") == year))
    assert returned.height > 0 and s["admitted"] == enrollment.year_totals(season.store, year)["admitted"]


@pytest.mark.parametrize("year", [2025, 2024])
def test_the_snapshot_part_matches_the_season(season: Week, year: int) -> None:
    adm, lines = season_truth(season)
    live = enrollment.live(season.store, season.zone, season.now, year=year)
    assert live["quality"] == approx(expected_part(adm, lines, season.site, year, 3))
    assert live["quality"]["avg_margin"] is not None and len(live["quality"]["best"]) == 3
    assert live["quality"]["best"][0]["avg_margin"] > live["quality"]["worst"][0]["avg_margin"]


def test_cluster_folding_gives_the_same_figures(season: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    single = enrollment_quality.figures(season.store, 2025, min_cell=1)
    monkeypatch.setattr(season.store, "cluster", "campus_cluster")
    assert enrollment_quality.figures(season.store, 2025, min_cell=1) == approx(single)


# --- crafted seasons through the real ingest path ---------------------------------------------

T0 = datetime(2025, 7, 20, 10, tzinfo=ZONE).astimezone(UTC)
BASE = {"province": "42", "batch": "regular", "category": "general", "track": "physics", "college": "cs",
        "major": "080901"}


def adm(key: str, status: str, hours: float, score: float, year: int = 2025, **fields: Any) -> dict[str, Any]:
    at = T0.replace(year=year) + timedelta(hours=hours)
    return {**BASE, **fields, "year": year, "candidate_key": key, "status": status, "score": score,
            "event_id": f"{year}-{key}-{status}-{hours}", "ts": int(at.timestamp() * 1000)}


def line(score: float, year: int = 2025, **fields: Any) -> dict[str, Any]:
    return {**{k: BASE[k] for k in CELL}, **fields, "year": year, "control_score": score}


LINES_FIRST = [line(520.0), line(500.0, province="11"), line(510.0, year=2024), line(505.0, year=2023),
               line(480.0, year=2024, province="11"), line(470.0, track="history")]
LINES_CORRECTED = [line(530.0)]  # the office re-imports Hubei's 2025 physics line: it wins
ADMISSIONS = [
    adm("a1", "filed", 0, 590.0), adm("a1", "admitted", 1, 600.0, province_rank=900, first_choice=True),
    adm("a2", "admitted", 1, 610.5, province_rank=400, first_choice=False),
    adm("a3", "admitted", 1, 640.0, province_rank=120, first_choice=True, major="070101", college="not-math"),
    adm("a4", "admitted", 1, 575.0, first_choice=True),  # no rank
    adm("a5", "admitted", 1, 620.0, province_rank=250),  # first choice unknown
    adm("h1", "admitted", 1, 560.0, track="history", province_rank=3000, first_choice=True),
    adm("r1", "admitted", 1, 999.0, province_rank=1, first_choice=True),
    adm("r1", "returned", 2, 999.0, province_rank=1),  # admitted, then returned (退档): counts nowhere
    adm("w1", "admitted", 1, 998.0), adm("w1", "withdrawn", 3, 998.0),
    adm("b1", "admitted", 1, 580.0, province="11", province_rank=50, first_choice=False),
    adm("b2", "admitted", 1, 560.0, province="11", province_rank=70, first_choice=True),
    adm("b3", "admitted", 1, 600.0, province="11", province_rank=20, first_choice=True),
    adm("s1", "admitted", 1, 605.0, province="31", batch="early", category="art"),  # no line there
    # the two seasons before
    adm("p1", "admitted", 1, 590.0, year=2024, province_rank=500), adm("p2", "admitted", 1, 600.0, year=2024),
    adm("p3", "admitted", 1, 610.0, year=2024, first_choice=False),
    adm("q1", "admitted", 1, 520.0, year=2024, province="11"), adm("q2", "admitted", 1, 530.0, year=2024,
                                                                    province="11"),
    adm("q3", "admitted", 1, 540.0, year=2024, province="11"),
    adm("o1", "admitted", 1, 580.0, year=2023), adm("o2", "returned", 2, 570.0, year=2023),
]


@pytest.fixture()
def crafted(pipeline: Any) -> tuple[Any, pl.DataFrame, pl.DataFrame]:
    store_reference(pipeline.store, SITE)
    first = SEASON_NOW - timedelta(days=90)
    for rows, at in ((LINES_FIRST, first), (LINES_CORRECTED, first + timedelta(days=1))):
        receipt = pipeline.submit(ENROLLMENT_CONTROL_LINE, rows, source="t", now=at)
        assert receipt.errors == []
        pipeline.writer.flush_once(force=True)
    receipt = pipeline.submit(ENROLLMENT_ADMISSION, ADMISSIONS, source="t", now=SEASON_NOW)
    assert receipt.errors == [] and receipt.accepted == len(ADMISSIONS)
    pipeline.writer.flush_once(force=True)
    events = pl.DataFrame(ADMISSIONS, infer_schema_length=None).with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC"))
    return pipeline.store, events, pl.DataFrame(LINES_FIRST + LINES_CORRECTED)


@pytest.mark.parametrize("min_cell", [1, 3])
def test_crafted_seasons(crafted: tuple[Any, pl.DataFrame, pl.DataFrame], min_cell: int) -> None:
    store, events, lines = crafted
    got = enrollment_quality.figures(store, 2025, min_cell=min_cell)
    assert got == approx(expected(events, lines, SITE, 2025, min_cell))
    assert "999" not in str(got) and "998" not in str(got)  # the returned and the withdrawn count nowhere
    hubei = next(r for r in got["cells"] if (r["province"], r["track"]) == ("42", "physics"))
    assert hubei["control_score"] == 530.0 and hubei["admitted"] == 5  # the corrected line; r1 not admitted
    assert [r["college"] for r in got["colleges"]] == ["cs", "math"]  # 070101 is math's, not "not-math"
    assert [r["year"] for r in got["trend"]] == [2023, 2024, 2025] and got["trend"][0]["admitted"] == 1
    assert enrollment_quality.seasons(store) == [2025, 2024, 2023]
    if min_cell == 3:  # the rule is on: Shanghai's one candidate shows no score, its count stays
        shanghai = next(r for r in got["provinces"] if r["province"] == "31")
        assert shanghai["admitted"] == 1 and shanghai["small"] and shanghai["avg_score"] is None
        assert "605.0" not in str(got)
    else:
        assert next(r for r in got["provinces"] if r["province"] == "31")["avg_score"] == 605.0


def test_crafted_part(crafted: tuple[Any, pl.DataFrame, pl.DataFrame]) -> None:
    store, events, lines = crafted
    for min_cell in (1, 3, 6):
        got = enrollment_quality.part(store, 2025, {("province", "42"): ("湖北", "Hubei", "")}, min_cell)
        want = expected_part(events, lines, SITE, 2025, min_cell)
        for r in want["best"] + want["worst"]:  # names from what the section read
            r["name"], r["name_en"] = ("湖北", "Hubei") if r["province"] == "42" else (r["province"],) * 2
        assert got == approx(want), min_cell
    assert [r["province"] for r in enrollment_quality.part(store, 2025, {}, 1)["best"]] == ["42", "11"]
    # the live section computes the same part from its plan cells and the lines it reads with
    # the names (the corrected line, the returned and the withdrawn included)
    for min_cell in (1, 3):
        live = enrollment.live(store, ZONE, T0 + timedelta(days=60), year=2025, min_cell=min_cell)["quality"]
        alone = enrollment_quality.part(store, 2025, {}, min_cell)
        assert (live["avg_margin"], live["with_line"]) == approx((alone["avg_margin"], alone["with_line"]))
        for side in ("best", "worst"):
            assert [(r["province"], r["admitted"]) for r in live[side]] == \
                [(r["province"], r["admitted"]) for r in alone[side]]
            assert [r["avg_margin"] for r in live[side]] == approx([r["avg_margin"] for r in alone[side]])
    assert enrollment_quality.part(store, 2031, {}, 1) == {"avg_margin": None, "with_line": 0, "best": [],
                                                          "worst": []}


def test_a_stored_part_is_shown_under_todays_rule() -> None:
    small, big = {"province": "42", "admitted": 2, "avg_margin": 1.0}, {"province": "11", "admitted": 7,
                                                                        "avg_margin": 0.5}
    stored = {"avg_margin": 12.0, "with_line": 9, "best": [small, big], "worst": [big]}
    shown = enrollment.suppress({"quality": stored}, 3)["quality"]
    assert [r["province"] for r in shown["best"]] == ["11"] and shown["worst"] == stored["worst"]


def test_nearest_rank_is_the_documented_one() -> None:
    assert [nearest_rank(list(range(1, 11)), q) for q in (10, 50, 90)] == [1, 5, 9]
    assert [nearest_rank([7], q) for q in (10, 50, 90)] == [7, 7, 7]
    assert nearest_rank([], 50) is None
