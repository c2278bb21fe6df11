"""The network domain (网络): egress link samples, online users, security findings.

Declared once here: the contracts, their tables, what the query API and anomaly rules may
ask, the fields holding catalogue codes, and the labels. The live figures are
``metrics/network.py``, the demo traffic ``ingest/sim/network.py``.
"""

from __future__ import annotations

import polars as pl

from domains.contracts import Check, Field, event_stream
from domains.model import (
    Dimension,
    Domain,
    Measure,
    Queryable,
    Referenced,
    Rollup,
    Source,
    Table,
    Text,
    Watched,
    count,
    count_of,
    distinct,
    maximum,
    ratio_of,
    total,
)

NETWORK_LINK = event_stream(
    name="network.link",
    domain="network",
    title_zh="出口带宽",
    title_en="Egress links",
    retention_days=400,
    event_id="derived",
    derive_id_from=("link_id",),
    expected_interval_s=180,
    counting=False,
    fields=(
        Field("link_id", "code", max_len=64, reference="link"),
        Field("in_bps", "int", min=0),
        Field("out_bps", "int", min=0),
        Field("capacity_bps", "int", required=False, min=0, min_exclusive=True,
              doc="defaults to the link's reference capacity"),
    ),
)

NETWORK_ONLINE = event_stream(
    name="network.online",
    domain="network",
    title_zh="在线用户",
    title_en="Online users",
    retention_days=400,
    event_id="derived",
    derive_id_from=("campus", "access"),
    expected_interval_s=600,
    counting=False,
    fields=(
        Field("campus", "code", max_len=64, reference="campus"),
        Field("access", "enum", values=("wired", "wireless", "vpn")),
        Field("users", "int", min=0),
        Field("ipv6_users", "int", min=0, doc="0 <= ipv6_users <= users"),
    ),
    checks=(
        Check(
            "ipv6_users",
            lambda: pl.col("ipv6_users") > pl.col("users"),
            "ipv6_users must not exceed users",
        ),
    ),
)

NETWORK_SECURITY = event_stream(
    name="network.security",
    domain="network",
    title_zh="安全态势",
    title_en="Security findings",
    retention_days=400,
    expected_interval_s=86_400,
    fields=(
        Field("incident_key", "key", max_len=64, doc="updates of one incident share it"),
        Field("severity", "enum", values=("info", "low", "medium", "high", "critical")),
        Field(
            "category",
            "enum",
            values=("weak_password", "compromised_host", "intrusion", "ddos", "malware",
                    "phishing", "vulnerability", "other"),
        ),
        Field("target_system", "str", max_len=128),
        Field("src_ip", "ip", required=False, doc="IPv4 or IPv6 literal"),
        Field("status", "enum", values=("open", "handled", "false_positive")),
    ),
)

STREAMS = (NETWORK_LINK, NETWORK_ONLINE, NETWORK_SECURITY)

LINK = (count("samples"), total("in_bps_sum", "in_bps"), total("out_bps_sum", "out_bps"),
        maximum("in_bps_max", "in_bps"), maximum("out_bps_max", "out_bps"))
ONLINE = (count("samples"), total("users_sum", "users"), total("ipv6_users_sum", "ipv6_users"),
          maximum("users_max", "users"))
SECURITY = (count("findings"), distinct("incidents", "incident_key"))

TABLES = (
    Table("network.link", ("link_id", "ts"),
          tuple(Rollup(g, ("link_id",), LINK) for g in ("1m", "1h"))),
    Table("network.online", ("campus", "access", "ts"),
          tuple(Rollup(g, ("campus", "access"), ONLINE) for g in ("1m", "1h"))),
    Table("network.security", ("incident_key", "ts"),
          tuple(Rollup(g, ("severity", "category", "status"), SECURITY) for g in ("1m", "1h"))),
)

QUERY = Queryable(
    "network",
    dimensions=(
        Dimension("link_id", "egress link code"),
        Dimension("campus", "campus code"),
        Dimension("access", "access type", NETWORK_ONLINE.field("access").values),
        Dimension("severity", "security finding severity", NETWORK_SECURITY.field("severity").values),
        Dimension("category", "security finding category", NETWORK_SECURITY.field("category").values),
        Dimension("status", "security finding status", NETWORK_SECURITY.field("status").values),
    ),
    sources=(
        Source(
            "network.link", "network_link",
            minute=("link_id",), hour=("link_id",), series=("link_id",),
            parts=(("samples", "sum(samples)"), ("in_sum", "sum(in_bps_sum)"),
                   ("out_sum", "sum(out_bps_sum)"), ("in_max", "max(in_bps_max)"),
                   ("out_max", "max(out_bps_max)")),
        ),
        Source(
            "network.online", "network_online",
            minute=("campus", "access"), hour=("campus", "access"), series=("campus", "access"),
            parts=(("samples", "sum(samples)"), ("users_sum", "sum(users_sum)"),
                   ("ipv6_sum", "sum(ipv6_users_sum)")),
        ),
        Source(
            "network.security", "network_security",
            minute=("severity", "category", "status"), hour=("severity", "category", "status"),
            parts=(("findings", "sum(findings)"), ("incidents", "uniqExactMerge(incidents)")),
        ),
    ),
    measures=(
        Measure("in_bps_avg", "network.link", "sum(p_in_sum / p_samples)", "mean",
                "inbound bits/s: each link's mean sample, summed over links"),
        Measure("out_bps_avg", "network.link", "sum(p_out_sum / p_samples)", "mean",
                "outbound bits/s: each link's mean sample, summed over links"),
        Measure("in_bps_max", "network.link", "max(p_in_max)", "max",
                "highest inbound sample of any one link"),
        Measure("out_bps_max", "network.link", "max(p_out_max)", "max",
                "highest outbound sample of any one link"),
        Measure("users_avg", "network.online", "sum(p_users_sum / p_samples)", "mean",
                "users online: each campus × access type's mean sample, summed"),
        ratio_of("ipv6_share", "network.online", "ipv6_sum", "users_sum",
                 "ipv6_users / users over the samples; null without users"),
        count_of("findings", "network.security", "findings", "security finding events (updates included)"),
        count_of("incidents", "network.security", "incidents",
                 "distinct incident keys with an event in the bucket"),
    ),
)

WATCHED = {
    "in_bps": Watched("network_link_1m", "sum(in_bps_sum)", "sum(samples)", ("link_id",),
                      "mean inbound bits per second of the samples"),
    "out_bps": Watched("network_link_1m", "sum(out_bps_sum)", "sum(samples)", ("link_id",),
                       "mean outbound bits per second of the samples"),
}

REFERENCES = (
    Referenced("network.link", "link_id", "link", "network_link_1h", "hour", "sum(samples)"),
    Referenced("network.online", "campus", "campus", "network_online_1h", "hour", "sum(samples)"),
)

# labels the network tiles and /explore share
USERS_ONLINE: Text = {"zh": "在线用户", "en": "Users online"}
IPV6_SHARE: Text = {"zh": "IPv6 用户占比", "en": "IPv6 share"}

LABELS: dict[str, Text] = {
    "explore.domain.network": {"zh": "校园网络", "en": "Campus network"},
    "explore.m.network.in_bps_avg": {"zh": "入向速率均值（bit/s）", "en": "Inbound, mean (bit/s)"},
    "explore.m.network.out_bps_avg": {"zh": "出向速率均值（bit/s）", "en": "Outbound, mean (bit/s)"},
    "explore.m.network.in_bps_max": {"zh": "入向速率峰值（bit/s）", "en": "Inbound, peak (bit/s)"},
    "explore.m.network.out_bps_max": {"zh": "出向速率峰值（bit/s）", "en": "Outbound, peak (bit/s)"},
    "explore.m.network.users_avg": {"zh": "在线用户均值", "en": "Users online, mean"},
    "explore.m.network.ipv6_share": IPV6_SHARE,
    "explore.m.network.findings": {"zh": "安全事件记录", "en": "Security finding events"},
    "explore.m.network.incidents": {"zh": "安全事件数", "en": "Security incidents"},
    "health.stream.network.link": {"zh": "出口链路", "en": "Egress links"},
    "health.stream.network.online": USERS_ONLINE,
    "health.stream.network.security": {"zh": "安全事件", "en": "Security incidents"},
}

DOMAIN = Domain(
    "network", 20, STREAMS, TABLES, QUERY, WATCHED, REFERENCES,
    # samples arrive every 10–60 s; security findings are rare
    stale_after_s={"network.link": 5 * 60, "network.online": 10 * 60, "network.security": 24 * 3600},
    labels=LABELS,
    figures="metrics.network",
    simulator="ingest.sim.network",
)
