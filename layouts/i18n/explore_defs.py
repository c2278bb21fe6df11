"""The definitions of the query whitelist's measures, as the analyst's file states them (the
About sheet of an ``/explore`` XLSX download): ``explore.def.<domain>.<measure>``. The English
text is the whitelist's own (``metrics/<name>.py``, ``QUERY``); a test keeps every measure
defined in both languages.
"""

from __future__ import annotations

from layouts.i18n.labels import Text

_DEFS: dict[str, tuple[str, str]] = {
    "explore.def.gate.attempts": ("通行尝试次数（通过与被拒之和）",
                                  "pass attempts, passed or denied"),
    "explore.def.gate.in": ("方向为入校且结果为通过的次数",
                            "attempts with result=pass and direction=in"),
    "explore.def.gate.out": ("方向为出校且结果为通过的次数",
                             "attempts with result=pass and direction=out"),
    "explore.def.gate.net_inflow": ("入校减出校（离校多于入校时为负）",
                                    "in − out (negative when more left than came)"),
    "explore.def.gate.denied": ("结果为拒绝的次数", "attempts with result=deny"),
    "explore.def.gate.deny_rate": ("被拒次数 ÷ 通行尝试次数；无尝试时为空",
                                   "denied / attempts; null without attempts"),
    "explore.def.gate.fever": ("体温 ≥ 37.3 ℃ 的通行次数",
                               "attempts with temperature_c ≥ 37.3"),
    "explore.def.network.in_bps_avg": ("入方向速率（bit/s）：各链路采样均值之和",
                                       "inbound bits/s: each link's mean sample, summed over links"),
    "explore.def.network.out_bps_avg": ("出方向速率（bit/s）：各链路采样均值之和",
                                        "outbound bits/s: each link's mean sample, summed over links"),
    "explore.def.network.in_bps_max": ("任一链路入方向的最高采样值",
                                       "highest inbound sample of any one link"),
    "explore.def.network.out_bps_max": ("任一链路出方向的最高采样值",
                                        "highest outbound sample of any one link"),
    "explore.def.network.users_avg": ("在线用户数：各校区×接入方式采样均值之和",
                                      "users online: each campus × access type's mean sample, summed"),
    "explore.def.network.ipv6_share": ("IPv6 用户数 ÷ 在线用户数；无用户时为空",
                                       "ipv6_users / users over the samples; null without users"),
    "explore.def.network.findings": ("安全事件消息数（含更新）",
                                     "security finding events (updates included)"),
    "explore.def.network.incidents": ("本时段内有消息的不同安全事件数",
                                      "distinct incident keys with an event in the bucket"),
    "explore.def.service.case_events": ("任意动作的办件事件数",
                                        "case events of any action"),
    "explore.def.service.submitted": ("动作为提交的办件事件数",
                                      "case events with action=submitted"),
    "explore.def.service.approved": ("动作为审批通过的办件事件数",
                                     "case events with action=approved"),
    "explore.def.service.rejected": ("动作为驳回的办件事件数",
                                     "case events with action=rejected"),
    "explore.def.service.returned": ("动作为退回的办件事件数",
                                     "case events with action=returned"),
    "explore.def.service.completed": ("动作为办结的办件事件数",
                                      "case events with action=completed"),
    "explore.def.service.withdrawn": ("动作为撤回的办件事件数",
                                      "case events with action=withdrawn"),
    "explore.def.service.print_jobs": ("自助打印任务数", "print jobs"),
    "explore.def.service.print_pages": ("打印页数（含失败任务）",
                                        "pages printed (failed jobs included)"),
    "explore.def.service.print_failed": ("结果为失败的打印任务数",
                                         "print jobs with result=failed"),
    "explore.def.service.calls": ("热线来电数", "hotline calls"),
    "explore.def.service.calls_answered": ("结果为接通的来电数",
                                           "calls with outcome=answered"),
    "explore.def.service.calls_abandoned": ("结果为放弃的来电数",
                                            "calls with outcome=abandoned"),
    "explore.def.service.answer_rate": ("接通数 ÷ 来电数；无来电时为空",
                                        "answered / calls; null without calls"),
    "explore.def.service.wait_s_avg": ("平均等待时长（秒）；无来电时为空",
                                       "mean wait in seconds; null without calls"),
    "explore.def.service.wait_s_max": ("最长等待时长（秒）", "longest wait in seconds"),
    "explore.def.service.talk_s_avg": ("平均通话时长（秒）；无来电时为空",
                                       "mean talk time in seconds; null without calls"),
}

TEXTS: dict[str, Text] = {key: {"zh": zh, "en": en} for key, (zh, en) in _DEFS.items()}
