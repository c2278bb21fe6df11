"""Network: egress link samples, online-user samples and security findings.

The columns are the ``network.*`` contracts as they were when this migration shipped,
written out so the DDL never changes; a later change of a contract needs a new migration.
"""

from __future__ import annotations

from ioc_app.schema import Dialect, Rollup, Source, count, distinct, enum8, maximum, total

VERSION = 3
NAME = "network"

TS = "DateTime64(3, 'UTC')"
CODE = "LowCardinality(String)"

NETWORK_LINK = Source(
    "network_link",
    (
        ("event_id", "Nullable(String)"),
        ("ts", TS),
        ("source", CODE),
        ("link_id", CODE),
        ("in_bps", "UInt64"),
        ("out_bps", "UInt64"),
        ("capacity_bps", "Nullable(UInt64)"),
        ("received_at", TS),
    ),
    retention_days=400,
)
NETWORK_ONLINE = Source(
    "network_online",
    (
        ("event_id", "Nullable(String)"),
        ("ts", TS),
        ("source", CODE),
        ("campus", CODE),
        ("access", enum8("wired", "wireless", "vpn")),
        ("users", "UInt64"),
        ("ipv6_users", "UInt64"),
        ("received_at", TS),
    ),
    retention_days=400,
)
NETWORK_SECURITY = Source(
    "network_security",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("incident_key", "String"),
        ("severity", enum8("info", "low", "medium", "high", "critical")),
        ("category", enum8("weak_password", "compromised_host", "intrusion", "ddos", "malware",
                           "phishing", "vulnerability", "other")),
        ("target_system", "String"),
        ("src_ip", "Nullable(String)"),
        ("status", enum8("open", "handled", "false_positive")),
        ("received_at", TS),
    ),
    retention_days=400,
)

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
