"""The one catalogue of UI text. Chinese is the default; English is complete.

Pages and widgets never hold literal UI strings: they call ``t(key, lang)``. A test checks
that every key has both languages, and that every key the code uses exists.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

CATALOGUE: dict[str, dict[str, str]] = {
    "app.title": {"zh": "智慧校园运营中心", "en": "Campus Operations Center"},
    "app.short": {"zh": "IOC", "en": "IOC"},
    "nav.overview": {"zh": "总览", "en": "Overview"},
    "nav.language": {"zh": "English", "en": "中文"},
    "overview.title": {"zh": "运营总览", "en": "Operations overview"},
    "gate.section": {"zh": "校园门禁 · 今日", "en": "Campus gates · today"},
    "gate.in": {"zh": "今日入校", "en": "Entries today"},
    "gate.out": {"zh": "今日出校", "en": "Exits today"},
    "gate.net_inflow": {"zh": "净流入", "en": "Net inflow"},
    "gate.denied": {"zh": "拒绝通行", "en": "Denied"},
    "gate.deny_rate": {"zh": "拒绝率", "en": "Deny rate"},
    "gate.fever": {"zh": "体温异常", "en": "Fever readings"},
    "network.section": {"zh": "校园网络 · 当前", "en": "Campus network · now"},
    "network.peak_utilization": {"zh": "出口带宽最高利用率", "en": "Busiest egress link"},
    "network.users": {"zh": "在线用户", "en": "Users online"},
    "network.ipv6_share": {"zh": "IPv6 用户占比", "en": "IPv6 share"},
    "service.section": {"zh": "网上办事大厅 · 今日", "en": "Online service hall · today"},
    "service.submitted": {"zh": "今日提交", "en": "Submitted today"},
    "service.completed": {"zh": "今日办结", "en": "Completed today"},
    "enrollment.section": {"zh": "招生录取", "en": "Admissions"},
    "enrollment.admitted": {"zh": "已录取", "en": "Admitted"},
    "enrollment.completion": {"zh": "计划完成率", "en": "Plan completion"},
    "unit.people": {"zh": "人次", "en": "passes"},
    "unit.persons": {"zh": "人", "en": "people"},
    "unit.cases": {"zh": "件", "en": "cases"},
    "unit.attempts": {"zh": "次", "en": "attempts"},
    "status.as_of": {"zh": "数据截至", "en": "Data as of"},
    "status.no_data": {"zh": "暂无数据", "en": "No data yet"},
    "status.store_down": {
        "zh": "数据存储暂不可用，正在重试",
        "en": "The data store is unavailable; retrying",
    },
    "network.utilization": {"zh": "出口链路利用率", "en": "Egress link utilization"},
    "security.section": {"zh": "网络安全态势", "en": "Network security"},
    "security.open": {"zh": "未处置事件", "en": "Open incidents"},
    "security.today": {"zh": "今日新增高危", "en": "New high today"},
    "severity.critical": {"zh": "严重", "en": "Critical"},
    "severity.high": {"zh": "高危", "en": "High"},
    "severity.medium": {"zh": "中危", "en": "Medium"},
    "severity.low": {"zh": "低危", "en": "Low"},
    "severity.info": {"zh": "提示", "en": "Info"},
    "severity.warning": {"zh": "警告", "en": "Warning"},
    "service.backlog": {"zh": "在办积压", "en": "Backlog"},
    "service.calls_answer_rate": {"zh": "热线接通率", "en": "Hotline answer rate"},
    "enrollment.year": {"zh": "招生年度", "en": "Admission year"},
    "enrollment.plan": {"zh": "招生计划", "en": "Plan"},
    "alerts.section": {"zh": "实时告警", "en": "Active alerts"},
    "alerts.none": {"zh": "当前无告警", "en": "No active alerts"},
    "live.as_of": {"zh": "数据截至", "en": "Data as of"},
    "live.connecting": {"zh": "正在连接…", "en": "Connecting…"},
    "live.reconnecting": {"zh": "正在重新连接", "en": "Reconnecting"},
    "live.store_down": {"zh": "数据存储暂不可用", "en": "Data store unavailable"},
    "live.replay": {"zh": "回放", "en": "Replay of"},
    "live.data_age": {"zh": "数据更新于", "en": "Data age"},
    "page.not_found": {"zh": "页面不存在", "en": "Page not found"},
    "page.back_home": {"zh": "返回总览", "en": "Back to the overview"},
}


def normalise_lang(lang: str | None) -> str:
    """A supported language code; anything else falls back to Chinese."""
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG) -> str:
    """The text of ``key`` in ``lang``; an unknown key is a bug and raises ``KeyError``."""
    return CATALOGUE[key][normalise_lang(lang)]
