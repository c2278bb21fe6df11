"""Seed a store for the admissions and service-hall cockpits, and print what the screens must show.

Run as ``python -m tests.pages.seed_enrollment_service chdb:///path`` before the server starts
(the embedded engine has one owner per process). The events are made up here, deterministic
and shaped like a real season and a real morning at the hall; the expected figures are
counted from these events directly (never from the product's metrics), and printed as one
JSON line for the browser test to compare with what is on screen.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ingest.enrollment import BATCHES, CATEGORIES, PROVINCES
from ingest.registry import get_stream
from ingest.site import load_site
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics.enrollment import MIN_CELL, hidden_groups

ZONE = ZoneInfo("Asia/Shanghai")
HOME = "42"
HOUR_PROFILE = (0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.2, 2.6, 3.2, 3.0, 2.6, 1.4, 1.8, 2.8, 3.0,
                2.7, 2.2, 1.2, 0.9, 0.8, 0.6, 0.4, 0.2)


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def insert(store: Store, stream: str, events: list[dict[str, Any]]) -> int:
    s = get_stream(stream)
    result = validate(s, events, source="seed")
    assert not result.errors, result.errors[:3]
    store.insert(s.table, result.frame)
    return result.accepted


def enrollment(store: Store, now_ms: int, rng: random.Random) -> dict[str, Any]:
    """A season of admissions (this year and last), its plan and the September check-in."""
    site = load_site(DEFAULT_SITE)
    majors = list(site.majors)
    year = datetime.fromtimestamp(now_ms / 1000, ZONE).year
    latest = now_ms - 3_600_000  # nothing in the future, whatever the date the test runs on

    def at(y: int, month: int, day: int, hour: float) -> int:
        return min(latest, ms(datetime(y, month, day, tzinfo=ZONE) + timedelta(hours=hour)))

    def batch_category(code: str) -> tuple[str, str]:
        if code.startswith("13"):
            return "early", "art"
        if code.endswith("H"):
            return "regular", "sino_foreign"
        return "regular", "general"

    plan_rows: list[dict[str, Any]] = []
    admissions: list[dict[str, Any]] = []
    admitted: list[dict[str, Any]] = []  # one per admitted candidate of this year
    last_year_admitted = 0
    provinces = [p for p in PROVINCES if p != "71"]  # Taiwan: no plan, no admissions
    for i, province in enumerate(provinces):
        quota = (900 if province == HOME else rng.randint(4, 12) if province in ("81", "82")
                 else rng.randint(25, 140))
        chosen = rng.sample(majors, min(len(majors), 12 if province == HOME else rng.randint(3, 7)))
        fill = 0.97 if province == HOME else rng.choice((0.55, 0.7, 0.82, 0.9, 0.96, 1.0, 1.0, 1.04))
        base = rng.uniform(520, 640) * (1.2 if province == "46" else 1.0)
        cells: Counter[tuple[str, str, str, str]] = Counter()
        for _ in range(quota):
            major = rng.choice(chosen)
            batch, category = batch_category(major.code)
            if category == "general" and rng.random() < 0.08:
                category = "national_special"
            track = "physics" if major.code[:2] in ("07", "08", "09", "10", "12") else "history"
            cells[(batch, category, track, major.code)] += 1
        day = 10 + (i * 30) // len(provinces)
        for (batch, category, track, major_code), planned in sorted(cells.items()):
            plan_rows.append({"year": year, "province": province, "batch": batch, "category": category,
                              "track": track, "major": major_code, "planned": planned})
            college = next(m.college for m in majors if m.code == major_code)
            when = (7, 5) if batch == "early" else (7, day) if day <= 31 else (8, day - 31)
            n_admit = round(planned * fill)
            for k in range(n_admit + 2):  # two more filed and then returned
                key = f"{year}-{province}-{major_code}-{category}-{k}"
                score = round(base + rng.gauss(0, 18) + (30 if batch == "early" else 0), 1)
                hour = 9 + rng.random() * 8
                common = {"year": year, "candidate_key": key, "province": province, "batch": batch,
                          "category": category, "track": track, "college": college, "major": major_code,
                          "score": score}
                filed = at(year, when[0], when[1], hour)
                admissions.append({**common, "event_id": f"f-{key}", "ts": filed, "status": "filed"})
                final = "admitted" if k < n_admit else "returned"
                admissions.append({**common, "event_id": f"a-{key}", "ts": min(latest, filed + 7_200_000),
                                   "status": final})
                if final == "admitted":
                    admitted.append({**common, "ts": min(latest, filed + 7_200_000)})
            # last year: a similar season, a little smaller
            for k in range(round(planned * 0.93)):
                key = f"{year - 1}-{province}-{major_code}-{category}-{k}"
                admissions.append({
                    "year": year - 1, "candidate_key": key, "province": province, "batch": batch,
                    "category": category, "track": track, "college": college, "major": major_code,
                    "score": round(base + rng.gauss(0, 18), 1), "event_id": f"l-{key}", "status": "admitted",
                    "ts": ms(datetime(year - 1, when[0], when[1], tzinfo=ZONE) + timedelta(hours=10 + k % 6)),
                })
                last_year_admitted += 1
    insert(store, "enrollment.plan", plan_rows)
    # the provinces' control lines (省控线) of this year's cells: the margin tile's figures
    lines = random.Random(3)
    cells = sorted({(r["province"], r["batch"], r["category"], r["track"]) for r in plan_rows})
    insert(store, "enrollment.control_line", [
        {"year": year, "province": p, "batch": b, "category": c, "track": t,
         "control_score": float(round(lines.uniform(470, 560)))} for p, b, c, t in cells])
    insert(store, "enrollment.admission", admissions)

    # September check-in: students by the furthest step they reached
    furthest_weights = (("registered", 0.82), ("dorm", 0.08), ("paid", 0.05), ("arrived", 0.05))
    steps = ("arrived", "paid", "dorm", "registered")
    checkins: list[dict[str, Any]] = []
    furthest: Counter[str] = Counter()
    for n, student in enumerate(admitted[: int(len(admitted) * 0.9)]):
        r, acc = rng.random(), 0.0
        last = "registered"
        for step, w in furthest_weights:
            acc += w
            if r < acc:
                last = step
                break
        furthest[last] += 1
        arrival = at(year, 9, 1 + n % 4, 8 + rng.random() * 9)
        for j, step in enumerate(steps[: steps.index(last) + 1]):
            checkins.append({"event_id": f"c-{n}-{step}", "ts": min(latest, arrival + j * 1_200_000),
                             "year": year, "student_key": f"s{n}", "college": student["college"],
                             "major": student["major"], "campus": site.campuses[n % len(site.campuses)].code,
                             "step": step})
    insert(store, "enrollment.checkin", checkins)

    def breakdown(dim: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(lambda: {"plan": 0, "admitted": 0, "scores": []})
        for row in plan_rows:
            out[row[dim]]["plan"] += row["planned"]
        for cand in admitted:
            out[cand[dim]]["admitted"] += 1
            out[cand[dim]]["scores"].append(cand["score"])
        result = {}
        for key, v in out.items():
            s = v.pop("scores")
            result[key] = {**v, "completion": v["admitted"] / v["plan"] if v["plan"] else None,
                           "min_score": min(s) if s else None, "max_score": max(s) if s else None,
                           "avg_score": sum(s) / len(s) if s else None}
        # the small-cell rule (IOC_MIN_CELL, default 3) over the rows in the snapshot's order
        order = {"province": PROVINCES, "batch": BATCHES, "category": CATEGORIES}.get(dim)
        keys = sorted(result, key=lambda k: (order.index(k) if order else 0, k))
        for i in hidden_groups([result[k]["admitted"] for k in keys], MIN_CELL):
            result[keys[i]] |= {"min_score": None, "max_score": None, "avg_score": None}
        return result

    plan = sum(r["planned"] for r in plan_rows)
    return {
        "year": year, "plan": plan, "admitted": len(admitted), "completion": len(admitted) / plan,
        "last_year_admitted": last_year_admitted,
        "by_province": breakdown("province"), "by_batch": breakdown("batch"),
        "by_category": breakdown("category"), "by_major": breakdown("major"),
        "major_names": {m.code: [m.name_zh, m.name_en] for m in majors},
        "province_names": {p.code: [p.name_zh, p.name_en] for p in site.provinces},
        "a_major": [majors[0].code, majors[0].college],
        "checkin": {s: furthest[s] for s in steps},
        "notices": notices(store, admitted, now_ms, random.Random(7)),
    }


DAY_MS = 86_400_000
#: the notice tracker's thresholds (IOC_NOTICE_UNDELIVERED_DAYS, IOC_NOTICE_UNPRINTED_DAYS)
UNDELIVERED_DAYS, UNPRINTED_DAYS = 7, 3


def notices(store: Store, admitted: list[dict[str, Any]], now_ms: int, rng: random.Random) -> dict[str, Any]:
    """Admission notices of this year's admitted: most delivered, some on their way, a few
    returned (some mailed again), a few never printed. Every time is at least three hours away
    from an exception threshold as of now, so the server, computing a little later, agrees."""
    latest = now_ms - 3_600_000

    def clear_of(ts: int, days: int) -> bool:
        return abs(now_ms - ts - days * DAY_MS) > 3 * 3_600_000

    events: list[dict[str, Any]] = []
    funnel = dict.fromkeys(("admitted", "printed", "mailed", "delivered", "returned"), 0)
    exceptions = dict.fromkeys(("returned", "undelivered", "unprinted"), 0)
    by_province: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(funnel, 0))
    for n, cand in enumerate(admitted):
        r = rng.random()
        plan = ("delivered" if r < 0.62 else "mailed" if r < 0.8 else "printed" if r < 0.88
                else "returned" if r < 0.92 else "remailed" if r < 0.95 else "none")
        if plan == "none" and not clear_of(cand["ts"], UNPRINTED_DAYS):
            plan = "printed"
        steps = {"printed": ["printed"], "mailed": ["printed", "mailed"],
                 "delivered": ["printed", "mailed", "delivered"],
                 "returned": ["printed", "mailed", "returned"],
                 "remailed": ["printed", "mailed", "returned", "mailed"], "none": []}[plan]
        times = [min(latest, cand["ts"] + (i + 1) * DAY_MS) for i in range(len(steps))]
        if steps and steps[-1] == "mailed" and not clear_of(times[-1], UNDELIVERED_DAYS):
            steps, times = [*steps, "delivered"], [*times, latest]
        for i in range(1, len(times)):  # one after the other, also where "latest" caps them
            times[i] = max(times[i], times[i - 1] + 1000)
        for i, (status, ts) in enumerate(zip(steps, times, strict=True)):
            event = {"event_id": f"n-{n}-{i}", "ts": ts, "year": cand["year"],
                     "candidate_key": cand["candidate_key"], "status": status}
            if status == "mailed":
                event |= {"carrier": "EMS", "tracking_no": f"EM{n:07d}{i}CN"}
            events.append(event)
        final = steps[-1] if steps else None
        stages = {"admitted": True, "printed": bool(steps),
                  "mailed": final in ("mailed", "delivered", "returned"), "delivered": final == "delivered",
                  "returned": final == "returned"}
        for stage, hit in stages.items():
            funnel[stage] += hit
            by_province[cand["province"]][stage] += hit
        exceptions["returned"] += final == "returned"
        exceptions["undelivered"] += final == "mailed" and now_ms - times[-1] >= UNDELIVERED_DAYS * DAY_MS
        exceptions["unprinted"] += final is None and now_ms - cand["ts"] >= UNPRINTED_DAYS * DAY_MS
    insert(store, "enrollment.notice", events)
    return {"funnel": funnel, "exceptions": exceptions, "by_province": dict(by_province),
            "tracking": sorted({e["tracking_no"] for e in events if "tracking_no" in e})[:50]}


def service(store: Store, now_ms: int, rng: random.Random) -> dict[str, Any]:
    """This morning at the hall (cases, prints, calls), four earlier same weekdays, a backlog."""
    site = load_site(DEFAULT_SITE)
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    midnight = datetime.combine(now.astimezone(ZONE).date(), datetime.min.time(), ZONE)
    start_ms, end_ms = ms(midnight) + 60_000, now_ms - 2_000
    elapsed_h = now.astimezone(ZONE).hour + 1
    # in the first hours after local midnight few cases could finish within today: some must,
    # or the handling times have no sample to compare
    short_day = end_ms - start_ms < 2 * 3_600_000

    def moment(day0: datetime, hours: int, lo: int, hi: int) -> int:
        """A time on ``day0``'s local day, following the hall's daily rhythm within its first
        ``hours`` hours, clipped to [lo, hi]."""
        hour = rng.choices(range(hours), weights=HOUR_PROFILE[:hours])[0]
        t = ms(day0) + hour * 3_600_000 + rng.randrange(3_600_000)
        return max(lo, min(hi, t))

    services = sorted(site.services, key=lambda s: -s.weight)[:24]
    counts = [48, 45, 41, 38, 35, 33, 30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 9, 8, 7, 5, 4, 3, 2]
    events: list[dict[str, Any]] = []
    submitted_today = completed_today = rejected_today = 0
    durations: list[float] = []
    backlog: Counter[str] = Counter()
    hour_sub: Counter[int] = Counter()
    hour_done: Counter[int] = Counter()
    n = 0

    def case(svc: Any, kind: str, first: int, actions: list[tuple[str, int]]) -> None:
        nonlocal n
        n += 1
        cid = f"{kind}-{n}"
        for j, (action, ts) in enumerate([("submitted", first), *actions]):
            events.append({"event_id": f"{cid}-{j}", "ts": ts, "case_id": cid, "service_id": svc.code,
                           "department": svc.department, "applicant_type": "student", "channel": "web",
                           "action": action, "node": j})

    for svc, count in zip(services, counts, strict=True):
        for _ in range(count):
            first = moment(midnight, elapsed_h, start_ms, end_ms)
            submitted_today += 1
            hour_sub[datetime.fromtimestamp(first / 1000, ZONE).hour] += 1
            r = rng.random()
            done_at = first + rng.randint(3, 95) * 60_000 + rng.randrange(60_000)
            if short_day and r < 0.45 and done_at >= end_ms:  # today has barely begun:
                done_at = first + (end_ms - first) // 2  # its cases are handled within it
            if r < 0.45 and done_at < end_ms:
                case(svc, "t", first, [("approved", min(first + 60_000, (first + done_at) // 2)),
                                       ("completed", done_at)])
                completed_today += 1
                durations.append((done_at - first) / 60_000)
                hour_done[datetime.fromtimestamp(done_at / 1000, ZONE).hour] += 1
            elif r < 0.53 and done_at < end_ms:
                case(svc, "t", first, [("rejected", done_at)])
                rejected_today += 1
            else:
                case(svc, "t", first, [("approved", min(end_ms, first + 60_000))] if r < 0.7 else [])
                backlog[svc.department] += 1
    # the same weekday of the four weeks before: the typical day, every case completed that day
    ref_sub: Counter[int] = Counter()
    ref_done: Counter[int] = Counter()
    for week in (1, 2, 3, 4):
        day0 = midnight - timedelta(days=7 * week)
        for _ in range(240 + 15 * week):
            svc = rng.choice(services)
            first = moment(day0, 24, ms(day0), ms(day0) + 86_400_000 - 3 * 3_600_000)
            done = first + rng.randint(5, 120) * 60_000
            case(svc, "r", first, [("completed", done)])
            ref_sub[datetime.fromtimestamp(first / 1000, ZONE).hour] += 1
            ref_done[datetime.fromtimestamp(done / 1000, ZONE).hour] += 1
    # older cases still open (in the backlog) and some beyond its 90 days (not)
    for k in range(60):
        svc = rng.choice(services)
        days = 3 + k if k < 50 else 95 + k
        days += 1 if days % 7 == 0 else 0  # not on the typical day's reference days
        case(svc, "o", now_ms - days * 86_400_000, [("returned", now_ms - days * 86_400_000 + 3_600_000)])
        if days <= 89:
            backlog[svc.department] += 1
    insert(store, "service.workflow", events)

    terminals = [t.code for t in site.terminals]
    prints = [{"event_id": f"p{i}", "ts": moment(midnight, elapsed_h, start_ms, end_ms),
               "terminal_id": terminals[i % len(terminals)], "document": "transcript_zh",
               "pages": 1 + i % 6, "result": "failed" if i % 13 == 5 else "ok"} for i in range(57)]
    insert(store, "service.print", prints)
    calls = []
    for i in range(83):
        outcome = "abandoned" if i % 11 == 4 else "callback" if i % 17 == 8 else "answered"
        calls.append({"event_id": f"h{i}", "ts": moment(midnight, elapsed_h, start_ms, end_ms),
                      "queue": "main", "wait_s": 5 + (i * 7) % 90,
                      "talk_s": 0 if outcome != "answered" else 60 + i, "outcome": outcome})
    insert(store, "service.call", calls)

    durations.sort()
    rank = 0.9 * (len(durations) - 1)
    lo = int(rank)
    p90 = durations[lo] + (durations[min(lo + 1, len(durations) - 1)] - durations[lo]) * (rank - lo)
    answered = sum(1 for c in calls if c["outcome"] == "answered")
    names = {s.code: [s.name_zh, s.name_en] for s in site.services}
    departments = {d.code: [d.name_zh, d.name_en] for d in site.departments}
    return {
        "submitted": submitted_today, "completed": completed_today, "rejected": rejected_today,
        "backlog": sum(backlog.values()),
        "backlog_by_department": [[d, names_of(departments, d), v] for d, v in backlog.items()],
        "top": [[s.code, names[s.code], c] for s, c in zip(services, counts, strict=True)][:20],
        "handling_avg": sum(durations) / len(durations), "handling_p90": p90,
        "handling_cases": len(durations),
        "hour_submitted": dict(hour_sub), "hour_completed": dict(hour_done),
        "typical_submitted": {h: v / 4 for h, v in ref_sub.items()},
        "typical_completed": {h: v / 4 for h, v in ref_done.items()},
        "print_jobs": len(prints), "print_pages": sum(p["pages"] for p in prints),
        "print_failed": sum(1 for p in prints if p["result"] == "failed"),
        "calls": len(calls), "answered": answered, "answer_rate": answered / len(calls),
        "avg_wait_s": sum(c["wait_s"] for c in calls) / len(calls),
    }


def names_of(table: dict[str, list[str]], code: str) -> list[str]:
    return table.get(code, [code, code])


def main(url: str) -> None:
    store = Store(url)
    migrate(store)
    now_ms = int(time.time() * 1000)
    rng = random.Random(20260901)
    expected = {"enrollment": enrollment(store, now_ms, rng), "service": service(store, now_ms, rng)}
    sys.stdout.write(json.dumps(expected, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
