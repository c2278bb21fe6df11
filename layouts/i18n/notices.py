"""Admission notices (录取通知书): the cockpit's notice funnel and margin tiles, the admissions
office's exceptions page (/enrollment/notices) and its export."""

from __future__ import annotations

from layouts.i18n.enrollment import TEXTS as ENROLLMENT
from layouts.i18n.labels import Text

#: a notice returned to the office: a stage of the funnel and an exception list
RETURNED: Text = {"zh": "被退回", "en": "Returned"}

TEXTS: dict[str, Text] = {
    # the cockpit's tiles
    "notices.tile": {"zh": "录取通知书寄送", "en": "Admission notices"},
    "notices.stage_admitted": ENROLLMENT["enrollment.admitted"],
    "notices.stage_printed": {"zh": "已打印", "en": "Printed"},
    "notices.stage_mailed": {"zh": "已寄出", "en": "Mailed"},
    "notices.stage_delivered": {"zh": "已妥投", "en": "Delivered"},
    "notices.stage_returned": RETURNED,
    "notices.seg_unprinted": {"zh": "未打印", "en": "Not printed"},
    # the exception counts under the cockpit's funnel (short: three share the funnel's width)
    "notices.short_returned": RETURNED,
    "notices.short_undelivered": {"zh": "逾期未妥投", "en": "Overdue"},
    "notices.short_unprinted": {"zh": "逾期未打印", "en": "Unprinted"},
    "notices.seg_printed": {"zh": "待寄出", "en": "Awaiting mailing"},
    "notices.seg_transit": {"zh": "在途", "en": "In transit"},
    "notices.link": {"zh": "通知书异常", "en": "Notice exceptions"},
    "notices.link_title": {"zh": "查看被退回、逾期未妥投、逾期未打印的考生名单（招生办专用，记入审计日志）",
                           "en": "See the candidates whose notice was returned, is overdue for delivery "
                                 "or is not printed (admissions office only; audited)"},
    "margin.tile": {"zh": "生源质量 · 线差", "en": "Intake quality · margin"},
    "margin.unit": {"zh": "分", "en": "pts"},
    "margin.best": {"zh": "线差最高", "en": "Highest margin"},
    "margin.worst": {"zh": "线差最低", "en": "Lowest margin"},
    "margin.link": {"zh": "生源质量分析", "en": "Intake quality"},
    "margin.link_title": {"zh": "按省份、批次、专业分析分数、线差、位次与一志愿率",
                          "en": "Scores, margins, ranks and first-choice rates by province, batch "
                                "and major"},
    # the exceptions page
    "notices.title": {"zh": "录取通知书跟踪", "en": "Admission notice tracker"},
    "notices.intro": {
        "zh": "截至 {now}：已寄出超过 {undelivered} 天未妥投、录取超过 {unprinted} 天未打印的通知书，"
              "以及被退回的通知书。本页含考生快递单号，仅限招生办使用，每次打开与导出均记入审计日志。",
        "en": "As of {now}: notices mailed over {undelivered} days ago and not delivered, candidates "
              "admitted over {unprinted} days ago without a printed notice, and returned notices. "
              "This page shows tracking numbers: admissions office only; each opening and export is "
              "audited.",
    },
    "notices.funnel_title": {"zh": "各省寄送进度", "en": "Progress by province"},
    "notices.kind_returned": RETURNED,
    "notices.kind_undelivered": {"zh": "逾期未妥投", "en": "Overdue for delivery"},
    "notices.kind_unprinted": {"zh": "逾期未打印", "en": "Not printed in time"},
    "notices.count": {"zh": "{n} 人", "en": "{n}"},
    "notices.more": {"zh": "仅显示前 {shown} 人，共 {n} 人；完整名单请导出。",
                     "en": "Showing the first {shown} of {n}; export for the full list."},
    "notices.export_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "notices.col_candidate": {"zh": "考生（化名）", "en": "Candidate (pseudonym)"},
    "notices.col_admitted_at": {"zh": "录取时间", "en": "Admitted at"},
    "notices.col_status": {"zh": "通知书状态", "en": "Notice status"},
    "notices.col_status_at": {"zh": "状态时间", "en": "Status time"},
    "notices.col_days": {"zh": "等待天数", "en": "Days waiting"},
    "notices.col_carrier": {"zh": "承运商", "en": "Carrier"},
    "notices.col_tracking": {"zh": "快递单号", "en": "Tracking number"},
    "notices.col_kind": {"zh": "异常类别", "en": "Exception"},
    "notices.none": {"zh": "无异常", "en": "No exceptions"},
    # the export's words
    "notices.file": {"zh": "录取通知书异常", "en": "admission-notice-exceptions"},
    "notices.sheet": {"zh": "异常名单", "en": "Exceptions"},
    "notices.about_kind": {"zh": "异常类别", "en": "Exception list"},
    "notices.about_as_of": {"zh": "截至", "en": "As of"},
    "notices.about_rules": {"zh": "口径", "en": "Definitions"},
    "notices.about_rule": {
        "zh": "仅统计当前录取状态为“录取”的考生；通知书状态取该考生最新一条通知书事件。"
              "被退回：最新状态为退回；逾期未妥投：最新状态为已寄出且寄出已满 {undelivered} 天"
              "（每天 24 小时）；逾期未打印：无通知书事件且录取已满 {unprinted} 天。"
              "等待天数为自退回、寄出或录取起满 24 小时的天数。",
        "en": "Only candidates whose current admission status is admitted count; a notice's status is the "
              "candidate's latest notice event. Returned: latest status returned. Overdue for delivery: "
              "latest status mailed, {undelivered} days (24 h each) or more ago. Not printed in time: no "
              "notice event, admitted {unprinted} days or more ago. Days waiting: whole 24-hour periods "
              "since the return, the mailing or the admission.",
    },
    "notices.about_personal": {"zh": "个人信息", "en": "Personal data"},
    "notices.about_personal_text": {
        "zh": "快递单号属个人信息，仅限招生办工作使用，不得外传；本次导出已记入审计日志。",
        "en": "Tracking numbers are personal data, for the admissions office's work only; this export "
              "is on the audit trail.",
    },
}
