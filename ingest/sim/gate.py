"""Gate traffic (门禁): a school-day rhythm with morning arrivals, class changes, lunch and
the evening exodus; weekends quieter; ~1.8 % denials with a reason mix; temperature
readings with the occasional fever; and a gate controller that goes offline for a few hours
on some days and uploads its backlog when it is back (late events)."""

from __future__ import annotations

from typing import Any

from ingest.sim.rhythm import bump, local_time, pick, poisson, rng_for
from ingest.sim.world import HOUR_MS, Emission, World

MAX_DELAY_H = 4  # the longest controller outage
DAILY_ATTEMPTS = 110_000
DENY_SHARE = 0.018
CLASS_CHANGES = (9.75, 11.75, 15.75, 17.5)
PERSON_TYPES = (("student", 0.72), ("staff", 0.14), ("resident", 0.06), ("visitor", 0.05),
                ("contractor", 0.02), ("other", 0.01))
METHODS = (("face", 0.78), ("card", 0.12), ("qr", 0.09), ("manual", 0.01))
DENY_REASONS = (("unrecognized", 0.38), ("unauthorized", 0.25), ("expired", 0.2),
                ("temperature", 0.05), ("blacklist", 0.02), ("other", 0.1))


def rate_per_minute(h: float, weekend: bool) -> tuple[float, float]:
    """(attempts per minute, share going in) at local hour ``h``."""
    shape = 0.05 + 1.6 * bump(h, 7.8, 0.5)  # morning arrivals
    shape += 0.9 * bump(h, 12.0, 0.3) + 0.7 * bump(h, 13.8, 0.3)  # lunch out and back
    shape += 1.3 * bump(h, 17.6, 0.6) + 0.6 * bump(h, 21.5, 0.8)  # evening
    shape += 0.35 if 8 <= h <= 22 else 0.0
    if not weekend:
        shape += sum(0.5 * bump(h, c, 0.02) for c in CLASS_CHANGES)
    share_in = 0.8 if h < 10 else 0.25 if 16.5 < h < 19 else 0.35 if h >= 21 else 0.5
    scale = DAILY_ATTEMPTS / (24 * 60 * 0.62) * (0.55 if weekend else 1.0)
    return shape * scale, share_in


def outage(world: World, day: int) -> tuple[str, int, int] | None:
    """The controller outage of a local day, if any: (gate, from ms, to ms)."""
    rng = rng_for(world.seed, "gate-outage", day)
    if rng.random() > 0.4:
        return None
    gate = rng.choice(world.site.gates).code
    offset = local_time(day * 24, world.zone).utcoffset()
    offset_h = round(offset.total_seconds() / 3600) if offset else 0
    start = (day * 24 + rng.randint(8, 18) - offset_h) * HOUR_MS + rng.randrange(HOUR_MS)
    return gate, start, start + rng.randint(60, MAX_DELAY_H * 60 - 10) * 60_000


def hour_events(world: World, hour: int) -> list[Emission]:
    rng = rng_for(world.seed, "gate", hour)
    gates = world.site.gates
    weights = [g.weight for g in gates]
    start = local_time(hour, world.zone)
    day_outages = [o for d in (hour // 24 - 1, hour // 24) if (o := outage(world, d))]
    out: list[Emission] = []
    for minute in range(60):
        h = start.hour + minute / 60
        per_minute, share_in = rate_per_minute(h, start.weekday() >= 5)
        for k in range(poisson(rng, per_minute * world.scale)):
            gate = rng.choices(gates, weights)[0]
            ts = hour * HOUR_MS + minute * 60_000 + rng.randrange(60_000)
            deny = rng.random() < DENY_SHARE
            ev: dict[str, Any] = {
                "event_id": f"g-{hour}-{minute}-{k}",
                "ts": ts,
                "campus": gate.campus,
                "gate_id": gate.code,
                "lane": rng.randint(1, gate.lanes),
                "direction": "in" if rng.random() < share_in else "out",
                "person_type": pick(rng, PERSON_TYPES),
                "method": pick(rng, METHODS),
                "result": "deny" if deny else "pass",
            }
            if deny:
                ev["deny_reason"] = pick(rng, DENY_REASONS)
            if rng.random() < 0.3:
                fever = rng.random() < 0.004
                ev["temperature_c"] = round(rng.uniform(37.3, 38.6) if fever else
                                            min(37.2, max(35.6, rng.gauss(36.5, 0.25))), 1)
            sent = ts
            for gate_id, off, on in day_outages:
                if gate_id == gate.code and off <= ts < on:
                    sent = on + rng.randrange(120_000)  # uploaded when the controller is back
            out.append((sent, "gate.pass", ev))
    return out
