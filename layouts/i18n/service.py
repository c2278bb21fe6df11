"""The service-hall tiles of the overview and the service cockpit (/service)."""

from __future__ import annotations

from layouts.i18n.labels import ANSWER_RATE, ANSWERED, CASE_ACTION, PRINT_MEASURES, Text, derive

TEXTS: dict[str, Text] = {
    "service.section": {"zh": "网上办事大厅 · 今日", "en": "Online service hall · today"},
    "service.submitted": {"zh": "今日提交", "en": "Submitted today"},
    "service.completed": {"zh": "今日办结", "en": "Completed today"},
    "service.backlog": {"zh": "在办积压", "en": "Backlog"},
    "service.calls_answer_rate": {"zh": "热线接通率", "en": "Hotline answer rate"},
    # service hall cockpit (/service)
    "svc.title": {"zh": "网上办事大厅运行", "en": "Service hall operations"},
    "svc.kpis": {"zh": "今日办件", "en": "Cases today"},
    "svc.rejected": {"zh": "今日驳回", "en": "Rejected today"},
    "svc.top": {"zh": "今日办件量 TOP20 事项", "en": "Top 20 services today"},
    "svc.handling": {"zh": "办结时长 · 今日", "en": "Handling time · today"},
    "svc.handling_avg": {"zh": "平均办结时长", "en": "Average"},
    "svc.handling_p90": {"zh": "90分位办结时长", "en": "90th percentile"},
    "svc.handling_cases": {"zh": "统计办件", "en": "Cases counted"},
    "svc.hourly": {"zh": "分时办件 · 今日与典型日", "en": "Cases by hour · today vs a typical day"},
    "svc.submitted": {"zh": "今日提交", "en": "Submitted"},
    "svc.completed": {"zh": "今日办结", "en": "Completed"},
    "svc.typical_submitted": {"zh": "典型日提交", "en": "Typical submitted"},
    "svc.typical_completed": {"zh": "典型日办结", "en": "Typical completed"},
    "svc.backlog_by_department": {"zh": "各部门在办积压", "en": "Backlog by department"},
    "svc.print": {"zh": "自助打印 · 今日", "en": "Printing · today"},
    **derive("svc.{}", PRINT_MEASURES),
    "svc.print_failed": {"zh": "失败任务", "en": "Failed jobs"},
    "svc.hotline": {"zh": "服务热线 · 今日", "en": "Hotline · today"},
    "svc.calls": {"zh": "来电", "en": "Calls"},
    "svc.answered": ANSWERED,
    "svc.answer_rate": ANSWER_RATE,
    "svc.avg_wait": {"zh": "平均等待", "en": "Average wait"},
    "svc.wait_s": {"zh": "平均等待（秒）", "en": "Average wait (s)"},
    # the domain's figures in /explore and its streams on /health (ioc_app/domains.py requires them)
    "explore.domain.service": {"zh": "网上办事大厅", "en": "Online service hall"},
    "explore.m.service.case_events": {"zh": "办件事件", "en": "Case events"},
    **derive("explore.m.service.{}", CASE_ACTION),
    **derive("explore.m.service.{}", PRINT_MEASURES),
    "explore.m.service.print_failed": {"zh": "打印失败", "en": "Failed print jobs"},
    "explore.m.service.calls": {"zh": "热线来电", "en": "Hotline calls"},
    "explore.m.service.calls_answered": {"zh": "接通来电", "en": "Calls answered"},
    "explore.m.service.calls_abandoned": {"zh": "放弃来电", "en": "Calls abandoned"},
    "explore.m.service.answer_rate": ANSWER_RATE,
    "explore.m.service.wait_s_avg": {"zh": "平均等待（秒）", "en": "Mean wait (s)"},
    "explore.m.service.wait_s_max": {"zh": "最长等待（秒）", "en": "Longest wait (s)"},
    "explore.m.service.talk_s_avg": {"zh": "平均通话（秒）", "en": "Mean talk time (s)"},
    "health.stream.service.workflow": {"zh": "办事流程", "en": "Service cases"},
    "health.stream.service.print": {"zh": "自助打印", "en": "Self-service print"},
    "health.stream.service.call": {"zh": "服务热线", "en": "Hotline calls"},
}
