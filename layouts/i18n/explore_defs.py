"""The definitions of the query whitelist's measures, as the analyst's file states them (the
About sheet of an ``/explore`` XLSX download): ``explore.def.<domain>.<measure>``. The English
text is the whitelist's own (``metrics/<name>.py``, ``QUERY``); a test keeps every measure
defined in both languages.
"""

from __future__ import annotations

from layouts.i18n.labels import Text

_DEFS: dict[str, tuple[str, str]] = {
    "gate.attempts": ("通行尝试次数（通过与被拒之和）", "pass attempts, passed or denied"),
    "gate.in": ("方向为入校且结果为通过的次数", "attempts with result=pass and direction=in"),
    "gate.out": ("方向为出校且结果为通过的次数", "attempts with result=pass and direction=out"),
    "gate.net_inflow": ("入校减出校（离校多于入校时为负）", "in − out (negative when more left than came)"),
    "gate.denied": ("结果为拒绝的次数", "attempts with result=deny"),
    "gate.deny_rate": ("被拒次数 ÷ 通行尝试次数；无尝试时为空", "denied / attempts; null without attempts"),
    "gate.fever": ("体温 ≥ 37.3 ℃ 的通行次数", "attempts with temperature_c ≥ 37.3"),
    "network.in_bps_avg": ("入方向速率（bit/s）：各链路采样均值之和",
                           "inbound bits/s: each link's mean sample, summed over links"),
    "network.out_bps_avg": ("出方向速率（bit/s）：各链路采样均值之和",
                            "outbound bits/s: each link's mean sample, summed over links"),
    "network.in_bps_max": ("任一链路入方向的最高采样值", "highest inbound sample of any one link"),
    "network.out_bps_max": ("任一链路出方向的最高采样值", "highest outbound sample of any one link"),
    "network.users_avg": ("在线用户数：各校区×接入方式采样均值之和",
                          "users online: each campus × access type's mean sample, summed"),
    "network.ipv6_share": ("IPv6 用户数 ÷ 在线用户数；无用户时为空",
                           "ipv6_users / users over the samples; null without users"),
    "network.findings": ("安全事件消息数（含更新）", "security finding events (updates included)"),
    "network.incidents": ("本时段内有消息的不同安全事件数",
                          "distinct incident keys with an event in the bucket"),
    "service.case_events": ("任意动作的办件事件数", "case events of any action"),
    "service.submitted": ("动作为提交的办件事件数", "case events with action=submitted"),
    "service.approved": ("动作为审批通过的办件事件数", "case events with action=approved"),
    "service.rejected": ("动作为驳回的办件事件数", "case events with action=rejected"),
    "service.returned": ("动作为退回的办件事件数", "case events with action=returned"),
    "service.completed": ("动作为办结的办件事件数", "case events with action=completed"),
    "service.withdrawn": ("动作为撤回的办件事件数", "case events with action=withdrawn"),
    "service.print_jobs": ("自助打印任务数", "print jobs"),
    "service.print_pages": ("打印页数（含失败任务）", "pages printed (failed jobs included)"),
    "service.print_failed": ("结果为失败的打印任务数", "print jobs with result=failed"),
    "service.calls": ("热线来电数", "hotline calls"),
    "service.calls_answered": ("结果为接通的来电数", "calls with outcome=answered"),
    "service.calls_abandoned": ("结果为放弃的来电数", "calls with outcome=abandoned"),
    "service.answer_rate": ("接通数 ÷ 来电数；无来电时为空", "answered / calls; null without calls"),
    "service.wait_s_avg": ("平均等待时长（秒）；无来电时为空", "mean wait in seconds; null without calls"),
    "service.wait_s_max": ("最长等待时长（秒）", "longest wait in seconds"),
    "service.talk_s_avg": ("平均通话时长（秒）；无来电时为空",
                           "mean talk time in seconds; null without calls"),
}

TEXTS: dict[str, Text] = {f"explore.def.{key}": {"zh": zh, "en": en} for key, (zh, en) in _DEFS.items()}
