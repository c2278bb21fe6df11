"""The network domain (网络) on the ingest side: egress link samples, online users, security
findings.

The contracts and their raw tables. Their rollups, and what the query API and anomaly rules
may ask of them, are declared in ``metrics/network.py``, their labels in
``layouts/i18n/network.py``, their demo traffic in ``ingest/sim/network.py``.
"""

from __future__ import annotations

import polars as pl

from ingest.contracts import Check, Field, event_stream
from ingest.tables import IngestDomain, Table

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

TABLES = (
    Table("network.link", ("link_id", "ts")),
    Table("network.online", ("campus", "access", "ts")),
    Table("network.security", ("incident_key", "ts")),
)

DOMAIN = IngestDomain(
    "network", 20, STREAMS, TABLES,
    simulator="ingest.sim.network",
)
