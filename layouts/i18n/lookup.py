"""The admissions office's status lookup (/enrollment/lookup, 考生录取状态查询)."""

from __future__ import annotations

from layouts.i18n.labels import Text

TEXTS: dict[str, Text] = {
    "lookup.title": {"zh": "考生录取状态查询", "en": "Candidate status lookup"},
    "lookup.link": {"zh": "考生查询", "en": "Look up a candidate"},
    "lookup.link_title": {"zh": "按考生号查询一名考生的录取、通知书和报到记录"
                                "（招生办专用，每次查询记入审计）",
                          "en": "One candidate's admission, notice and check-in records by their "
                                "candidate number (admissions office only; each lookup is audited)"},
    "lookup.label": {"zh": "考生号", "en": "Candidate number (考生号)"},
    "lookup.placeholder": {"zh": "按考生提供的号码输入，如准考证上所印",
                           "en": "As given, e.g. on the admission ticket"},
    "lookup.go": {"zh": "查询", "en": "Look up"},
    "lookup.notice": {
        "zh": "号码只用于本次查询：服务器收到后立即按导入时的方法换算成加密标识（假名）再查找，"
              "号码本身不保存、不写入日志，也不会显示回来。每次查询都记入审计日志（查询人、加密标识、是否找到）。",
        "en": "The number serves this lookup only: the server turns it at once into the keyed pseudonym "
              "import stores and searches by that; the number itself is never stored, logged or shown "
              "back. Each lookup is recorded in the audit trail (who, the pseudonym, found or not)."},
    "lookup.empty": {"zh": "请先输入考生号。", "en": "Type a candidate number first."},
    "lookup.too_long": {"zh": "号码过长（最多 {n} 个字符），请核对后重新输入。",
                        "en": "That is too long for a candidate number (at most {n} characters); "
                              "check it and type it again."},
    "lookup.ref": {"zh": "查询标识：", "en": "Lookup reference: "},
    "lookup.ref_title": {"zh": "加密标识（假名）的前几位，可在审计日志中对应本次查询；不是考生号",
                         "en": "The first characters of the pseudonym, to match this lookup in the audit "
                               "trail; not the candidate number"},
    "lookup.found": {"zh": "该考生的记录", "en": "This candidate's records"},
    "lookup.examples": {"zh": "演示数据中可查询的考生号（虚构）：",
                        "en": "Made-up candidate numbers in the demo data: "},
    "lookup.example_delivered": {"zh": "已录取，通知书已签收", "en": "admitted, notice delivered"},
    "lookup.example_remailed": {"zh": "通知书被退回后重新寄出", "en": "notice returned, then mailed again"},
    "lookup.example_returned": {"zh": "录取后退档", "en": "admitted, then returned"},
    "lookup.not_found": {"zh": "未找到该考生", "en": "No candidate found"},
    "lookup.not_found_body": {"zh": "已导入的录取、通知书和报到数据中都没有这个号码的记录。请核对：",
                              "en": "The admissions, notice and check-in data hold no record of this "
                                    "number. Please check:"},
    "lookup.check_number": {"zh": "号码是否与准考证上印的考生号完全一致"
                                  "（通常为 14 位数字；空格和短横线不影响查询）；",
                            "en": "that the number is exactly the candidate number printed on the "
                                  "admission ticket (usually 14 digits; spaces and dashes do not matter);"},
    "lookup.check_year": {"zh": "考生的录取年份是否已导入：现有数据包含 {years} 年的考生；",
                          "en": "that the candidate's admission year has been imported: the data hold "
                                "candidates of {years};"},
    "lookup.check_no_year": {"zh": "录取数据是否已导入：目前还没有任何考生的录取记录；",
                             "en": "that the admissions have been imported: no candidate's admission "
                                   "is recorded yet;"},
    "lookup.check_column": {"zh": "录取名单导入时用的是哪一列号码（考生号、准考证号或身份证号），"
                                  "请输入同一种号码。",
                            "en": "which number the admission list was imported with (考生号, 准考证号 or "
                                  "身份证号), and type the same kind of number."},
    "lookup.check_wide": {"zh": "输入中含有全角字符：请改用半角数字和字母。",
                          "en": "The number holds full-width characters: type it with half-width digits "
                                "and letters."},
    "lookup.unavailable": {"zh": "数据库暂时无法访问，请稍后再查（本次查询已记入审计）。",
                           "en": "The store cannot be reached just now; try again shortly (this lookup "
                                 "was audited)."},
    "lookup.summary": {"zh": "当前状态：", "en": "Now: "},
    "lookup.no_notice": {"zh": "通知书尚未打印", "en": "notice not printed yet"},
    "lookup.no_checkin": {"zh": "尚未报到", "en": "not checked in yet"},
    "lookup.zone": {"zh": "时间为 {zone} 时区的当地时间，按时间先后排列。",
                    "en": "Times are local to {zone}, oldest first."},
    "lookup.col_event": {"zh": "事件", "en": "Event"},
    "lookup.col_detail": {"zh": "详情", "en": "Details"},
    "lookup.kind_admission": {"zh": "录取", "en": "Admission"},
    "lookup.kind_notice": {"zh": "录取通知书", "en": "Admission notice"},
    "lookup.kind_checkin": {"zh": "新生报到", "en": "Arrival"},
    "lookup.notice_printed": {"zh": "已打印", "en": "printed"},
    "lookup.notice_mailed": {"zh": "已寄出", "en": "mailed"},
    "lookup.notice_delivered": {"zh": "已签收", "en": "delivered"},
    "lookup.notice_returned": {"zh": "被退回", "en": "returned to sender"},
    "lookup.score": {"zh": "成绩 {v}", "en": "score {v}"},
    "lookup.rank": {"zh": "位次 {v}", "en": "rank {v}"},
    "lookup.tracking": {"zh": "运单号 {v}", "en": "tracking no. {v}"},
    "lookup.year": {"zh": "{v} 年", "en": "{v}"},
}
