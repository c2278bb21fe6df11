"""Admissions (招生) and check-in (迎新): the season timeline of a year — the early batch,
then the regular batch province by province over July and August, a small second batch —
with candidates filed and then admitted or returned, scores and ranks plausible per
province, plans that admissions fill to about 100 %, and the September check-in steps.

Around them the season's other records:

- the provinces' control lines (省控线), published with the plan, one per (province, batch,
  category, track) that has plan rows (none for Taiwan, Hong Kong and Macau, which admit by
  their own exams); admitted scores sit mostly above their line, by a margin that differs by
  province and moves from year to year;
- ranks (位次) that follow scores within a province (a higher score never has a larger rank);
- first choice (一志愿) for about 85 % of candidates (unknown in Taiwan, Hong Kong, Macau);
- admission notices: printed 1–5 days after admission, mailed 0–2 days later, most delivered
  2–6 days after; about 2 % come back (returned), of which every other one is mailed again
  and delivered; a few stay mailed and never arrive, a few are never printed;
- about 0.3 % of admitted candidates returned later (退档), half of them after their notice
  was printed (the office then holds it);
- check-in keyed by the same pseudonym as the admission (``student_key == candidate_key``).

The extra records draw on their own random streams, so the admissions, plans and check-in
steps are those the simulator made before it had them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ingest.enrollment import PROVINCES
from ingest.pii import pseudonym
from ingest.sim.rhythm import local_time, rng_for
from ingest.sim.world import HOUR_MS, Emission, World

DAY_MS = 24 * HOUR_MS

MAX_DELAY_H = 0
HOME = "42"  # the demo university recruits most in its home province
TOTAL_PLAN = 7_000
#: the plan of ``PLAN_YEAR`` is ``TOTAL_PLAN``; it grows by ``PLAN_GROWTH`` a year (earlier
#: seasons are smaller), so year-over-year comparisons differ as a real university's do
PLAN_YEAR = 2026
PLAN_GROWTH = 0.03
OLD_SYSTEM = {"54", "63", "65"}  # provinces still on 理科/文科 tracks
SCALE_900 = {"46"}  # Hainan reports scores out of 900
NO_LINE = {"71", "81", "82"}  # admitted by their own exams: no control line, no first choice
#: every this many admitted candidates one is returned later (about 0.3 %)
LATE_RETURN_EVERY = 333
#: every this many mailed notices one comes back (about 2 %); every other one is mailed again
NOTICE_RETURN_EVERY = 50


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


def season(world: World, year: int) -> dict[int, list[Emission]]:
    """All events of one year's season, by the hour they are sent."""
    return _season(world, year)[0]


def candidate_number(year: int, province: str, cid: int) -> str:
    """A simulated 考生号: 14 digits — the year's last two, the province, a serial number."""
    return f"{year % 100:02d}{province}{cid:010d}"


def examples(world: World, year: int) -> list[tuple[str, str]]:
    """(考生号, story) of a few of the season's candidates worth looking up: the first admitted
    whose notice was delivered, one whose notice came back and was mailed again, one admitted
    and then returned (退档). Only the demo shows them: its numbers are made up."""
    by_hour, numbers = _season(world, year)
    events = [e for hour in sorted(by_hour) for e in by_hour[hour]]
    admitted = {ev["candidate_key"] for _, s, ev in events
                if s == "enrollment.admission" and ev["status"] == "admitted"}
    found: dict[str, str] = {}
    for _, stream, ev in events:
        key = str(ev.get("candidate_key"))
        if stream == "enrollment.notice" and ev["status"] == "delivered":
            found.setdefault("delivered", key)
            if ev["event_id"].endswith("-2"):
                found.setdefault("remailed", key)
        elif stream == "enrollment.admission" and ev["status"] == "returned" and key in admitted:
            found.setdefault("returned", key)
    return [(numbers[found[story]], story) for story in ("delivered", "remailed", "returned")
            if story in found]


@lru_cache(maxsize=8)
def _season(world: World, year: int) -> tuple[dict[int, list[Emission]], dict[str, str]]:
    """The season's events by hour, and each candidate's pseudonym → 考生号."""
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
    numbers: dict[str, str] = {}
    extra = _Extra(world, year)
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
        out += _control_lines(world, year, province, base, {c[:3] for c in cells}, plan_sent)
        first_choice = extra.first_choice_rate(province)
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
                number = candidate_number(year, province, cid)
                key = pseudonym(world.pseudonym_key, number)  # as import turns a 考生号 into a key
                numbers[key] = number
                score = round(rng.gauss(base + 25, 14), 1)
                rank = max(1, int((base + 90 - score) * 180 * weights[province]))
                ev: dict[str, Any] = {"year": year, "candidate_key": key, "province": province,
                                      "batch": batch, "category": category, "track": track,
                                      "college": college, "major": major_code, "score": score,
                                      "province_rank": rank}
                if first_choice is not None:
                    ev["first_choice"] = extra.rng.random() < first_choice
                t_filed = _at(world, year, 7, day, rng.uniform(9, 17))
                out.append((t_filed, "enrollment.admission",
                            {**ev, "event_id": f"{key}-filed", "ts": t_filed, "status": "filed"}))
                t_next = t_filed + int(rng.uniform(4, 40) * HOUR_MS)
                status = "admitted" if k < filled else "returned"
                out.append((t_next, "enrollment.admission",
                            {**ev, "event_id": f"{key}-{status}", "ts": t_next, "status": status}))
                if status == "admitted":
                    steps = _checkin(world, rng, year, key, college, major_code)
                    after = extra.after_admission(ev, key, t_next)
                    out += after
                    if not any(s == "enrollment.admission" for _, s, _ in after):
                        out += steps  # (a candidate returned later never checks in)
    by_hour: dict[int, list[Emission]] = defaultdict(list)
    for e in out:
        by_hour[e[0] // HOUR_MS].append(e)
    return dict(by_hour), numbers


def _checkin(world: World, rng: Any, year: int, key: str, college: str, major: str) -> list[Emission]:
    if rng.random() < 0.01:
        return []  # gave up the place
    student = key  # check-in keys a student by the pseudonym of their 考生号, as admissions do
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


def _control_lines(world: World, year: int, province: str, base: float,
                   cells: set[tuple[str, str, str]], sent: int) -> list[Emission]:
    """The province's control lines of the year for its (batch, category, track) cells: the
    centre of the admitted scores less the province's margin (steady over the years, with a
    yearly move), a little apart per cell."""
    if province in NO_LINE:
        return []
    steady = rng_for(world.seed, "enrollment-line", int(province)).uniform(15, 60)
    rng = rng_for(world.seed, f"enrollment-line-{province}", year)
    margin = steady + rng.uniform(-10, 10)
    scale = 1.2 if province in SCALE_900 else 1.0
    out: list[Emission] = []
    for batch, category, track in sorted(cells):
        line = base + 25 - margin * scale + rng.uniform(-6, 6)
        out.append((sent, "enrollment.control_line", {
            "year": year, "province": province, "batch": batch, "category": category, "track": track,
            "control_score": round(line, 0)}))
    return out


class _Extra:
    """The season's first choices, notices and later returns, from their own random stream."""

    def __init__(self, world: World, year: int) -> None:
        self.world, self.year = world, year
        self.rng = rng_for(world.seed, "enrollment-notice", year)
        self.admitted = self.rng.randrange(LATE_RETURN_EVERY)  # a phase: where the count starts
        self.mailed = self.rng.randrange(NOTICE_RETURN_EVERY)

    def first_choice_rate(self, province: str) -> float | None:
        if province in NO_LINE:
            return None
        return 0.92 if province == HOME else self.rng.uniform(0.75, 0.92)

    def _office(self, after: int, days: int) -> int:
        """Office hours (9–17 local) ``days`` days after the day of ``after``, never before it."""
        local = datetime.fromtimestamp(after / 1000, self.world.zone)
        day = datetime(local.year, local.month, local.day, tzinfo=self.world.zone) + timedelta(days=days)
        return max(int((day + timedelta(hours=self.rng.uniform(9, 17))).timestamp() * 1000), after + HOUR_MS)

    def _tracking(self) -> tuple[str, str]:
        if self.rng.random() < 0.9:  # China Post's EMS: 13 digits
            return "EMS", "1" + str(self.rng.randrange(10**11, 10**12))
        return "SF", "SF" + str(self.rng.randrange(10**12, 10**13))

    def after_admission(self, ev: dict[str, Any], key: str, admitted: int) -> list[Emission]:
        """Notice events of an admitted candidate, and their later return when they have one."""
        rng, out = self.rng, []
        self.admitted += 1
        late = self.admitted % LATE_RETURN_EVERY == 0
        returned_at: int | None = None
        if late and self.admitted // LATE_RETURN_EVERY % 2:  # returned before the notice is printed
            returned_at = admitted + int(rng.uniform(3, 20) * HOUR_MS)
        elif late or rng.random() >= 0.005:  # (a few are never printed)
            printed = self._office(admitted, rng.randint(1, 5))
            out.append(self._notice(key, printed, "printed"))
            if late:  # returned after printing: the office holds the notice
                returned_at = printed + int(rng.uniform(6, 60) * HOUR_MS)
            else:
                out += self._mail(key, self._office(printed, rng.randint(0, 2)), first=True)
        if returned_at is not None:
            out.append((returned_at, "enrollment.admission", {
                **ev, "event_id": f"{key}-returned", "ts": returned_at, "status": "returned"}))
        return out

    def _mail(self, key: str, mailed: int, *, first: bool) -> list[Emission]:
        rng = self.rng
        carrier, number = self._tracking()
        tag = "" if first else "-2"
        out = [self._notice(key, mailed, "mailed", tag, carrier, number)]
        self.mailed += 1
        if first and self.mailed % NOTICE_RETURN_EVERY == 0:
            back = mailed + int(rng.uniform(3, 8) * DAY_MS)
            out.append(self._notice(key, back, "returned", tag, carrier, number))
            if self.mailed // NOTICE_RETURN_EVERY % 2:  # mailed again (a corrected address)
                out += self._mail(key, self._office(back, rng.randint(1, 4)), first=False)
        elif rng.random() >= 0.015:  # (a few never arrive)
            arrived = mailed + int(rng.uniform(2, 6) * DAY_MS)
            out.append(self._notice(key, arrived, "delivered", tag, carrier, number))
        return out

    def _notice(self, key: str, ts: int, status: str, tag: str = "", carrier: str | None = None,
                number: str | None = None) -> Emission:
        ev: dict[str, Any] = {"event_id": f"{key}-notice-{status}{tag}", "ts": ts, "year": self.year,
                              "candidate_key": key, "status": status}
        if number is not None:
            ev |= {"carrier": carrier, "tracking_no": number}
        return ts, "enrollment.notice", ev


def hour_events(world: World, hour: int) -> list[Emission]:
    local = local_time(hour, world.zone)
    if not (7 <= local.month <= 9):
        return []
    return season(world, local.year).get(hour, [])
