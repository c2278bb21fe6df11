"""The shell around every page: title, navigation, units, status and live-update words.

Alert severities come from ``labels`` (the network.security contract shares them).
"""

from __future__ import annotations

from layouts.i18n.labels import AS_OF, SECONDS, SEVERITY, Text, derive

TEXTS: dict[str, Text] = {
    "app.title": {"zh": "智慧校园运营中心", "en": "Campus Operations Center"},
    "app.short": {"zh": "IOC", "en": "IOC"},
    "nav.overview": {"zh": "总览", "en": "Overview"},
    "nav.language": {"zh": "English", "en": "中文"},
    "overview.title": {"zh": "运营总览", "en": "Operations overview"},
    "unit.people": {"zh": "人次", "en": "passes"},
    "unit.persons": {"zh": "人", "en": "people"},
    "unit.cases": {"zh": "件", "en": "cases"},
    "unit.attempts": {"zh": "次", "en": "attempts"},
    "status.as_of": AS_OF,
    "status.no_data": {"zh": "暂无数据", "en": "No data yet"},
    "status.store_down": {
        "zh": "数据存储暂不可用，正在重试",
        "en": "The data store is unavailable; retrying",
    },
    **derive("severity.{}", SEVERITY),
    "severity.warning": {"zh": "警告", "en": "Warning"},
    "alerts.section": {"zh": "实时告警", "en": "Active alerts"},
    "alerts.none": {"zh": "当前无告警", "en": "No active alerts"},
    "live.as_of": AS_OF,
    "live.connecting": {"zh": "正在连接…", "en": "Connecting…"},
    "live.reconnecting": {"zh": "正在重新连接", "en": "Reconnecting"},
    "live.store_down": {"zh": "数据存储暂不可用", "en": "Data store unavailable"},
    "live.replay": {"zh": "回放", "en": "Replay of"},
    "live.data_age": {"zh": "数据更新于", "en": "Data age"},
    "page.not_found": {"zh": "页面不存在", "en": "Page not found"},
    "page.back_home": {"zh": "返回总览", "en": "Back to the overview"},
    # navigation between the cockpit pages
    "nav.gates": {"zh": "门禁", "en": "Gates"},
    "nav.network": {"zh": "网络", "en": "Network"},
    "nav.enrollment": {"zh": "招生", "en": "Admissions"},
    "nav.service": {"zh": "办事大厅", "en": "Services"},
    "nav.health": {"zh": "数据质量", "en": "Health"},
    "unit.minutes": {"zh": "分钟", "en": "min"},
    "unit.seconds": SECONDS,
    "unit.jobs": {"zh": "份", "en": "jobs"},
    "unit.pages": {"zh": "页", "en": "pages"},
    "unit.calls": {"zh": "通", "en": "calls"},
    "nav.explore": {"zh": "分析", "en": "Explore"},
    "live.bad_at": {
        "zh": "无法显示 at={at} 的历史：请使用 1970–2100 年之间的 RFC 3339 时间，"
              "例如 2026-09-01T08:30:00+08:00。",
        "en": "Cannot show the history at={at}: use an RFC 3339 time within 1970–2100, e.g. "
              "2026-09-01T08:30:00+08:00.",
    },
}
