"""Admissions (招生) and check-in (迎新): the season timeline of a year — the early batch,
then the regular batch province by province over July and August, a small second batch —
with candidates filed and then admitted or returned, scores and ranks plausible per
province, plans that admissions fill to about 100 %, and the September check-in steps."""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ingest.enrollment import PROVINCES
from ingest.sim.rhythm import local_time, rng_for
from ingest.sim.world import HOUR_MS, Emission, World

MAX_DELAY_H = 0
HOME = "42"  # the demo university recruits most in its home province
TOTAL_PLAN = 7_000
#: the plan of ``PLAN_YEAR`` is ``TOTAL_PLAN``; it grows by ``PLAN_GROWTH`` a year (earlier
#: seasons are smaller), so year-over-year comparisons differ as a real university's do
PLAN_YEAR = 2026
PLAN_GROWTH = 0.03
OLD_SYSTEM = {"54", "63", "65"}  # provinces still on 理科/文科 tracks
SCALE_900 = {"46"}  # Hainan reports scores out of 900


def _track(major: str, province: str) -> str:
    stem = major[:2] in ("07", "08", "09", "10", "12")
    if province in OLD_SYSTEM:
        return "science" if stem else "liberal_arts"
    return "physics" if stem else "history"


def _category(major: str) -> tuple[str, str]:
    """(batch, category) of a major's places."""
    if major.startswith("13"):
        return "early", "art"
    if major in ("040201", "040202K"):
        return "early", "sport"
    if major.endswith("H"):
        return "regular", "sino_foreign"
    return "regular", "general"


def _at(world: World, year: int, month: int, day: int, hour: float) -> int:
    local = datetime(year, month, 1, tzinfo=world.zone) + timedelta(days=day - 1, hours=hour)
    return int(local.timestamp() * 1000)


@lru_cache(maxsize=8)
def season(world: World, year: int) -> dict[int, list[Emission]]:
    """All events of one year's season, by the hour they are sent."""
    rng = rng_for(world.seed, "enrollment", year)
    majors = world.site.majors
    weights = {p: (12.0 if p == HOME else 0.3 if p in ("71", "81", "82") else rng.uniform(0.6, 2.0))
               for p in PROVINCES}
    total_w = sum(weights.values())
    planned_total = TOTAL_PLAN * world.scale * (1 + PLAN_GROWTH) ** (year - PLAN_YEAR)
    out: list[Emission] = []
    plan_sent = _at(world, year, 7, 1, 0)
    order = [p for p in PROVINCES if p != HOME]
    rng.shuffle(order)
    order.insert(0, HOME)
    cid = 0
    for i, province in enumerate(order):
        quota = max(2, round(planned_total * weights[province] / total_w))
        chosen = majors if province == HOME else rng.sample(majors, min(len(majors), rng.randint(8, 20)))
        base = rng.uniform(520, 630) * (1.2 if province in SCALE_900 else 1.0)
        regular_day = 14 + (i * 25) // len(order)  # regular batch windows from mid-July to August
        cells: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for _ in range(quota):
            major = rng.choice(chosen)
            batch, category = _category(major.code)
            if category == "general" and rng.random() < 0.05:
                category = "national_special"
            cells[(batch, category, _track(major.code, province), major.code)] += 1
        for (batch, category, track, major_code), planned in sorted(cells.items()):
            out.append((plan_sent, "enrollment.plan", {
                "year": year, "province": province, "batch": batch, "category": category,
                "track": track, "major": major_code, "planned": planned}))
            college = next(m.college for m in majors if m.code == major_code)
            day = 8 if batch == "early" else regular_day
            filled = planned - 1 if planned >= 5 and rng.random() < 0.15 else planned  # a few seats stay open
            filed = filled + (1 if rng.random() < 0.6 else 0) + int(planned * 0.02)
            for k in range(filed):
                cid += 1
                digest = hashlib.sha1(f"{world.seed}:{year}:{cid}".encode(), usedforsecurity=False).digest()
                # base32 has no long runs of digits, so keys never look like phone numbers
                key = "cand-" + base64.b32encode(digest).decode()[:16].lower()
                score = round(rng.gauss(base + 25, 14), 1)
                rank = max(1, int((base + 90 - score) * 180 * weights[province]))
                ev: dict[str, Any] = {"year": year, "candidate_key": key, "province": province,
                                      "batch": batch, "category": category, "track": track,
                                      "college": college, "major": major_code, "score": score,
                                      "province_rank": rank}
                t_filed = _at(world, year, 7, day, rng.uniform(9, 17))
                out.append((t_filed, "enrollment.admission",
                            {**ev, "event_id": f"{key}-filed", "ts": t_filed, "status": "filed"}))
                t_next = t_filed + int(rng.uniform(4, 40) * HOUR_MS)
                status = "admitted" if k < filled else "returned"
                out.append((t_next, "enrollment.admission",
                            {**ev, "event_id": f"{key}-{status}", "ts": t_next, "status": status}))
                if status == "admitted":
                    out.extend(_checkin(world, rng, year, key, college, major_code))
    by_hour: dict[int, list[Emission]] = defaultdict(list)
    for e in out:
        by_hour[e[0] // HOUR_MS].append(e)
    return dict(by_hour)


def _checkin(world: World, rng: Any, year: int, key: str, college: str, major: str) -> list[Emission]:
    if rng.random() < 0.01:
        return []  # gave up the place
    student = "stu-" + key[5:]
    campus = rng.choice(world.site.campuses).code
    t = _at(world, year, 9, rng.choice((2, 2, 3, 3, 4)), rng.uniform(8, 17))
    out: list[Emission] = []
    for step, p in (("arrived", 1.0), ("paid", 0.96), ("dorm", 0.97), ("registered", 0.98)):
        if rng.random() > p:
            break
        out.append((t, "enrollment.checkin", {
            "event_id": f"{student}-{step}", "ts": t, "year": year, "student_key": student,
            "college": college, "major": major, "campus": campus, "step": step}))
        t += int(rng.uniform(3, 45) * 60_000)
    return out


def hour_events(world: World, hour: int) -> list[Emission]:
    local = local_time(hour, world.zone)
    if not (7 <= local.month <= 9):
        return []
    return season(world, local.year).get(hour, [])
