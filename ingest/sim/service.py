"""Online service hall (网上办事大厅): weekday/weekend rhythm, a few services dominating
(visitor pre-registration first), cases moving through approval nodes with realistic
delays, self-service print jobs, and hotline calls with waits and abandons."""

from __future__ import annotations

from typing import Any

from ingest.sim.rhythm import bump, local_time, pick, poisson, rng_for
from ingest.sim.world import HOUR_MS, Emission, World

MAX_DELAY_H = 96  # the slowest approvals take a few days
CASES_PER_WEEKDAY = 800
PRINTS_PER_WEEKDAY = 160
CALLS_PER_DAY = 28
APPLICANTS = (("student", 0.62), ("staff", 0.25), ("external", 0.1), ("alumni", 0.03))
CHANNELS = (("wechat", 0.45), ("mobile", 0.25), ("web", 0.27), ("kiosk", 0.03))
DOCUMENTS = {"enrollment-certificate": "enrollment_certificate", "transcript-zh": "transcript_zh",
             "transcript-en": "transcript_en", "grad-transcript": "transcript_zh",
             "grad-enrollment-certificate": "enrollment_certificate"}
QUEUES = (("network", 0.5), ("campus-card", 0.2), ("accounts", 0.2), ("general", 0.1))


def office_shape(h: float, weekend: bool) -> float:
    """Relative activity at local hour ``h``: office hours with a lunch dip, a late peak."""
    shape = 0.02 + bump(h, 10, 2.5) + 0.8 * bump(h, 15.5, 3) + 0.35 * bump(h, 21, 2)
    return shape * (0.25 if weekend else 1.0)


SHAPE_SUM = sum(office_shape(h + 0.5, False) for h in range(24))


def _case(world: World, rng: Any, key: str, ts: int) -> list[Emission]:
    services = world.site.services
    service = rng.choices(services, [s.weight for s in services])[0]
    base = {"case_id": key, "service_id": service.code, "department": service.department,
            "applicant_type": pick(rng, APPLICANTS), "channel": pick(rng, CHANNELS)}
    events: list[Emission] = []

    def emit(t: int, action: str, node: int) -> None:
        events.append((t, "service.workflow",
                       {**base, "event_id": f"{key}-{len(events)}", "ts": t, "action": action,
                        "node": node}))

    emit(ts, "submitted", 0)
    nodes = 1 if service.printable or service.code == "visitor-registration" else rng.choice((1, 2, 2, 3, 4))
    t = ts
    for node in range(1, nodes + 1):
        t += int(rng.lognormvariate(4.2, 1.1) * 60_000)  # minutes to hours per approval
        t = min(t, ts + (MAX_DELAY_H - 1) * HOUR_MS)
        fate = rng.random()
        if fate < 0.03:
            emit(t, "rejected", node)
            return events
        if fate < 0.06:
            emit(t, "returned", node)
            t += int(rng.uniform(30, 600) * 60_000)
            emit(min(t, ts + (MAX_DELAY_H - 1) * HOUR_MS), "submitted", 0)
        elif fate < 0.07:
            emit(t, "withdrawn", node)
            return events
        emit(t, "approved", node)
    emit(t + rng.randint(1, 30) * 60_000, "completed", nodes)
    return events


def hour_events(world: World, hour: int) -> list[Emission]:
    rng = rng_for(world.seed, "service", hour)
    start = local_time(hour, world.zone)
    weekend = start.weekday() >= 5
    share = office_shape(start.hour + 0.5, weekend) / SHAPE_SUM
    out: list[Emission] = []
    for k in range(poisson(rng, CASES_PER_WEEKDAY * share * world.scale)):
        out.extend(_case(world, rng, f"c-{hour}-{k}", hour * HOUR_MS + rng.randrange(HOUR_MS)))
    terminals = world.site.terminals
    for k in range(poisson(rng, PRINTS_PER_WEEKDAY * share * world.scale) if terminals else 0):
        ts = hour * HOUR_MS + rng.randrange(HOUR_MS)
        printable = [s for s in world.site.services if s.printable]
        service = rng.choice(printable) if printable else None
        doc = DOCUMENTS.get(service.code, "other") if service else "other"
        out.append((ts, "service.print", {
            "event_id": f"p-{hour}-{k}", "ts": ts, "terminal_id": rng.choice(terminals).code,
            "document": doc, "pages": rng.choice((1, 1, 1, 2, 2, 3, 5)),
            "result": "failed" if rng.random() < 0.02 else "ok"}))
    call_share = (0.3 + office_shape(start.hour + 0.5, False)) / (SHAPE_SUM + 7.2)
    for k in range(poisson(rng, CALLS_PER_DAY * call_share * world.scale)):
        ts = hour * HOUR_MS + rng.randrange(HOUR_MS)
        wait = int(rng.expovariate(1 / 35))
        abandoned = wait > 60 and rng.random() < 0.5
        outcome = "abandoned" if abandoned else ("callback" if rng.random() < 0.05 else "answered")
        out.append((ts, "service.call", {
            "event_id": f"call-{hour}-{k}", "ts": ts, "queue": pick(rng, QUEUES), "wait_s": wait,
            "talk_s": 0 if outcome == "abandoned" else int(rng.uniform(40, 600)),
            "outcome": outcome}))
    return out
