"""The network tiles of the overview and the network cockpit (/network)."""

from __future__ import annotations

from layouts.i18n.labels import (
    ACCESS,
    INCIDENT_CATEGORY,
    INCIDENT_STATUS,
    IPV6_SHARE,
    USERS_ONLINE,
    Text,
    derive,
)

TEXTS: dict[str, Text] = {
    "network.section": {"zh": "校园网络 · 当前", "en": "Campus network · now"},
    "network.peak_utilization": {"zh": "出口带宽最高利用率", "en": "Busiest egress link"},
    "network.users": USERS_ONLINE,
    "network.ipv6_share": IPV6_SHARE,
    "network.utilization": {"zh": "出口链路利用率", "en": "Egress link utilization"},
    "security.section": {"zh": "网络安全态势", "en": "Network security"},
    "security.open": {"zh": "未处置事件", "en": "Open incidents"},
    "security.today": {"zh": "今日新增高危", "en": "New high today"},
    # network cockpit (/network)
    "net.title": {"zh": "网络运行态势", "en": "Network"},
    "net.now": {"zh": "网络 · 当前", "en": "Network · now"},
    "net.wireless_users": {"zh": "无线在线", "en": "On wireless"},
    "net.by_access": {"zh": "接入方式", "en": "By access"},
    "net.links_60m": {"zh": "出口链路近60分钟", "en": "Egress links · last hour"},
    "net.links_now": {"zh": "出口链路当前占用", "en": "Egress links now"},
    "net.by_campus": {"zh": "各校区在线用户", "en": "Online by campus"},
    "net.ipv6_7d": {"zh": "IPv6 占比 · 近7天", "en": "IPv6 share · 7 days"},
    "net.categories": {"zh": "今日安全事件类别", "en": "Incidents today by type"},
    "net.severity": {"zh": "安全事件等级", "en": "Incidents by severity"},
    "net.handling": {"zh": "事件处置 · 近30天", "en": "Handling · 30 days"},
    "net.in": {"zh": "入向", "en": "In"},
    "net.out": {"zh": "出向", "en": "Out"},
    "net.capacity": {"zh": "带宽上限", "en": "Capacity"},
    "net.col_users": {"zh": "在线", "en": "Users"},
    "net.col_ipv6": {"zh": "IPv6", "en": "IPv6"},
    "net.new_today": {"zh": "今日新增", "en": "New today"},
    "net.none_today": {"zh": "今日暂无", "en": "None today"},
    **derive("net.access_{}", ACCESS),
    **derive("net.status_{}", INCIDENT_STATUS),
    **derive("net.cat_{}", INCIDENT_CATEGORY),
    # the domain's figures in /explore and its streams on /health (ioc_app/domains.py requires them)
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
