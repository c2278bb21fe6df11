"""Campus network (网络): egress link samples every 10 s with the evening peak and a daily
spell of saturation on one link; online users per campus and access type every minute with a
slowly rising IPv6 share; security findings (mostly weak passwords and problem hosts) opened
and later handled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ingest.sim.rhythm import bump, local_time, pick, poisson, rng_for
from ingest.sim.world import HOUR_MS, Emission, World

MAX_DELAY_H = 48  # a finding is handled within two days
LINK_EVERY_S = 10
ONLINE_EVERY_S = 60
ACCESS = (("wireless", 0.62), ("wired", 0.33), ("vpn", 0.05))
CAMPUS_USERS = {"main": 21_000, "east": 9_000, "south": 12_000}
CATEGORIES = (("weak_password", 0.62), ("compromised_host", 0.12), ("vulnerability", 0.1),
              ("malware", 0.06), ("phishing", 0.05), ("intrusion", 0.02), ("ddos", 0.02),
              ("other", 0.01))
SEVERITY = {"weak_password": (("medium", 0.6), ("low", 0.3), ("high", 0.1)),
            "compromised_host": (("high", 0.6), ("critical", 0.2), ("medium", 0.2)),
            "intrusion": (("critical", 0.5), ("high", 0.5)),
            "ddos": (("high", 0.7), ("critical", 0.3))}
SYSTEMS = ("统一身份认证", "教务管理系统", "一卡通平台", "OA办公系统", "科研管理系统", "财务系统",
           "图书馆门户", "网上办事大厅", "邮件系统", "VPN网关", "学工系统", "招生录取系统")


def load_share(h: float, weekend: bool) -> float:
    """Share of capacity used at local hour ``h``: low at night, evening peak."""
    base = 0.12 + 0.25 * bump(h, 10.5, 6) + 0.5 * bump(h, 21.5, 3.5)
    return base * (0.85 if weekend else 1.0)


def ipv6_share(ts_ms: int) -> float:
    """Rising steadily through the years of the dual-stack campaign."""
    years = (ts_ms / 1000 - datetime(2024, 1, 1, tzinfo=UTC).timestamp()) / (365.25 * 86_400)
    return min(0.75, max(0.1, 0.28 + 0.07 * years))


def hour_events(world: World, hour: int) -> list[Emission]:
    rng = rng_for(world.seed, "network", hour)
    start = local_time(hour, world.zone)
    weekend = start.weekday() >= 5
    out: list[Emission] = []
    day_rng = rng_for(world.seed, "network-day", hour // 24)
    hot_link = day_rng.choice(world.site.links).code
    hot_from = (hour // 24 * 24 + day_rng.randint(10, 14)) * HOUR_MS
    for step in range(3600 // LINK_EVERY_S):
        ts = hour * HOUR_MS + step * LINK_EVERY_S * 1000
        h = start.hour + step * LINK_EVERY_S / 3600
        for link in world.site.links:
            share = load_share(h, weekend) * rng.uniform(0.9, 1.1)
            if link.code == hot_link and hot_from <= ts < hot_from + 40 * 60_000:
                share = rng.uniform(0.93, 0.995)  # a spell of saturation
            down = min(link.capacity_bps, int(link.capacity_bps * share * world.scale))
            ev = {"ts": ts, "link_id": link.code, "in_bps": down,
                  "out_bps": int(down * rng.uniform(0.18, 0.3))}
            out.append((ts + rng.randrange(2000), "network.link", ev))
    for step in range(3600 // ONLINE_EVERY_S):
        ts = hour * HOUR_MS + step * ONLINE_EVERY_S * 1000
        h = start.hour + step * ONLINE_EVERY_S / 3600
        presence = 0.08 + 0.55 * bump(h, 15, 18) + 0.3 * bump(h, 21, 4)
        for campus in world.site.campuses:
            people = CAMPUS_USERS.get(campus.code, 8_000) * presence * world.scale
            for access, share in ACCESS:
                users = max(0, int(people * share * rng.uniform(0.97, 1.03)))
                ipv6_users = min(int(users * ipv6_share(ts) * rng.uniform(0.95, 1.05)), users)
                ev = {"ts": ts, "campus": campus.code, "access": access, "users": users,
                      "ipv6_users": ipv6_users}
                out.append((ts + rng.randrange(3000), "network.online", ev))
    daily = 40 * world.scale
    for k in range(poisson(rng, daily / 24)):
        ts = hour * HOUR_MS + rng.randrange(HOUR_MS)
        category = pick(rng, CATEGORIES)
        severity = pick(rng, SEVERITY.get(category, (("medium", 0.5), ("low", 0.3), ("high", 0.2))))
        key = f"inc-{hour}-{k}"
        base: dict[str, Any] = {"incident_key": key, "severity": severity, "category": category,
                                "target_system": rng.choice(SYSTEMS)}
        if category != "weak_password":
            base["src_ip"] = f"10.{rng.randint(1, 60)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
        out.append((ts, "network.security", {**base, "event_id": f"{key}-open", "ts": ts,
                                             "status": "open"}))
        if rng.random() < 0.92:
            closed = ts + rng.randint(20, MAX_DELAY_H * 60 - 1) * 60_000
            status = "false_positive" if rng.random() < 0.08 else "handled"
            out.append((closed, "network.security", {**base, "event_id": f"{key}-{status}",
                                                     "ts": closed, "status": status}))
    return out
