"""The gate tiles of the overview and the gate cockpit (/gates)."""

from __future__ import annotations

from layouts.i18n.labels import (
    DENY_REASON,
    DIRECTION,
    GATE_MEASURES,
    GATE_PASSES,
    OTHER,
    STAFF,
    TODAY,
    YESTERDAY,
    Text,
    derive,
)

TEXTS: dict[str, Text] = {
    "gate.section": {"zh": "校园门禁 · 今日", "en": "Campus gates · today"},
    "gate.in": {"zh": "今日入校", "en": "Entries today"},
    "gate.out": {"zh": "今日出校", "en": "Exits today"},
    **derive("gate.{}", GATE_MEASURES),
    # gate cockpit (/gates)
    "gates.title": {"zh": "门禁通行态势", "en": "Gate traffic"},
    "gates.today_tile": {"zh": "今日通行", "en": "Today"},
    "gates.compare": {"zh": "同时段对比", "en": "Same time, other days"},
    "gates.last_hour": {"zh": "近60分钟进出", "en": "Last 60 minutes"},
    "gates.curve": {"zh": "今日与昨日（每10分钟）", "en": "Today vs yesterday (10 min)"},
    "gates.ranking": {"zh": "各门通行排行", "en": "Gates by passes"},
    "gates.heatmap": {"zh": "各门分时热力", "en": "Gate × hour"},
    "gates.deny_reasons": {"zh": "拒绝原因", "en": "Deny reasons"},
    "gates.person_types": {"zh": "人员构成", "en": "Who passes"},
    **derive("gates.{}", DIRECTION),
    "gates.today": TODAY,
    "gates.yesterday": YESTERDAY,
    "gates.vs_today": {"zh": "今日增减", "en": "Today ±"},
    "gates.period_today": TODAY,
    "gates.period_yesterday": YESTERDAY,
    "gates.period_last_week": {"zh": "上周同日", "en": "Last week"},
    "gates.period_last_year": {"zh": "去年同期", "en": "Last year"},
    **derive("gates.reason_{}", DENY_REASON),
    "gates.person_student": {"zh": "学生", "en": "Students"},
    "gates.person_staff": STAFF,
    "gates.person_resident": {"zh": "家属", "en": "Residents"},
    "gates.person_visitor": {"zh": "访客", "en": "Visitors"},
    "gates.person_contractor": {"zh": "施工人员", "en": "Contractors"},
    "gates.person_other": OTHER,
    # the domain's figures in /explore and its streams on /health (ioc_app/domains.py requires them)
    "explore.domain.gate": GATE_PASSES,
    "explore.m.gate.attempts": {"zh": "通行尝试", "en": "Pass attempts"},
    "explore.m.gate.in": {"zh": "入校", "en": "Entries"},
    "explore.m.gate.out": {"zh": "出校", "en": "Exits"},
    "explore.m.gate.passes": {"zh": "通行（进出合计）", "en": "Passes (in + out)"},
    **derive("explore.m.gate.{}", GATE_MEASURES),
    "health.stream.gate.pass": GATE_PASSES,
}
