"""Network: egress link samples, online-user samples and security findings."""

from __future__ import annotations

from ingest.network import NETWORK_LINK, NETWORK_ONLINE, NETWORK_SECURITY
from ioc_app.schema import Dialect, Rollup, count, distinct, maximum, total

VERSION = 3
NAME = "network"

LINK = (
    count("samples"),
    total("in_bps_sum", "in_bps"),
    total("out_bps_sum", "out_bps"),
    maximum("in_bps_max", "in_bps"),
    maximum("out_bps_max", "out_bps"),
)
ONLINE = (
    count("samples"),
    total("users_sum", "users"),
    total("ipv6_users_sum", "ipv6_users"),
    maximum("users_max", "users"),
)
SECURITY = (count("findings"), distinct("incidents", "incident_key"))


def statements(d: Dialect) -> list[str]:
    out = d.raw_table(NETWORK_LINK, ("link_id", "ts"))
    out += d.raw_table(NETWORK_ONLINE, ("campus", "access", "ts"))
    out += d.raw_table(NETWORK_SECURITY, ("incident_key", "ts"))
    for grain in ("1m", "1h"):
        out += d.rollup(NETWORK_LINK, Rollup(grain, ("link_id",), LINK))
        out += d.rollup(NETWORK_ONLINE, Rollup(grain, ("campus", "access"), ONLINE))
        out += d.rollup(
            NETWORK_SECURITY, Rollup(grain, ("severity", "category", "status"), SECURITY)
        )
    return out
