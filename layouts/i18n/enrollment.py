"""Admissions: the overview tiles, the cockpit (/enrollment), its Excel export and the
admissions office's exact view.
"""

from __future__ import annotations

from layouts.i18n.labels import ADMISSION_YEAR, ADMISSIONS, PLAN_COMPLETION, Text, derive

#: GB/T 2260 provincial-level divisions (the site catalogue names them too; /explore needs a
#: label for every value of a dimension before any catalogue is loaded)
PROVINCES: dict[str, Text] = {
    "11": {"zh": "北京", "en": "Beijing"},
    "12": {"zh": "天津", "en": "Tianjin"},
    "13": {"zh": "河北", "en": "Hebei"},
    "14": {"zh": "山西", "en": "Shanxi"},
    "15": {"zh": "内蒙古", "en": "Inner Mongolia"},
    "21": {"zh": "辽宁", "en": "Liaoning"},
    "22": {"zh": "吉林", "en": "Jilin"},
    "23": {"zh": "黑龙江", "en": "Heilongjiang"},
    "31": {"zh": "上海", "en": "Shanghai"},
    "32": {"zh": "江苏", "en": "Jiangsu"},
    "33": {"zh": "浙江", "en": "Zhejiang"},
    "34": {"zh": "安徽", "en": "Anhui"},
    "35": {"zh": "福建", "en": "Fujian"},
    "36": {"zh": "江西", "en": "Jiangxi"},
    "37": {"zh": "山东", "en": "Shandong"},
    "41": {"zh": "河南", "en": "Henan"},
    "42": {"zh": "湖北", "en": "Hubei"},
    "43": {"zh": "湖南", "en": "Hunan"},
    "44": {"zh": "广东", "en": "Guangdong"},
    "45": {"zh": "广西", "en": "Guangxi"},
    "46": {"zh": "海南", "en": "Hainan"},
    "50": {"zh": "重庆", "en": "Chongqing"},
    "51": {"zh": "四川", "en": "Sichuan"},
    "52": {"zh": "贵州", "en": "Guizhou"},
    "53": {"zh": "云南", "en": "Yunnan"},
    "54": {"zh": "西藏", "en": "Tibet"},
    "61": {"zh": "陕西", "en": "Shaanxi"},
    "62": {"zh": "甘肃", "en": "Gansu"},
    "63": {"zh": "青海", "en": "Qinghai"},
    "64": {"zh": "宁夏", "en": "Ningxia"},
    "65": {"zh": "新疆", "en": "Xinjiang"},
    "71": {"zh": "台湾", "en": "Taiwan"},
    "81": {"zh": "香港", "en": "Hong Kong"},
    "82": {"zh": "澳门", "en": "Macao"},
}
BATCH_CODES = ("early", "regular", "second", "special", "junior_college")
CATEGORY_CODES = ("general", "art", "sport", "national_special", "university_special", "local_special",
                  "sino_foreign", "preparatory", "minority")
TRACKS: dict[str, Text] = {
    "physics": {"zh": "物理类", "en": "Physics"},
    "history": {"zh": "历史类", "en": "History"},
    "science": {"zh": "理科", "en": "Science"},
    "liberal_arts": {"zh": "文科", "en": "Liberal arts"},
    "comprehensive": {"zh": "综合改革", "en": "Comprehensive"},
}

TEXTS: dict[str, Text] = {
    "enrollment.section": ADMISSIONS,
    "enrollment.admitted": {"zh": "已录取", "en": "Admitted"},
    "enrollment.completion": PLAN_COMPLETION,
    "enrollment.year": ADMISSION_YEAR,
    "enrollment.plan": {"zh": "招生计划", "en": "Plan"},
    # admissions cockpit (/enrollment)
    "enroll.title": {"zh": "招生录取驾驶舱", "en": "Admissions cockpit"},
    "enroll.kpis": {"zh": "录取总览", "en": "Admissions at a glance"},
    "enroll.registered": {"zh": "报到注册", "en": "Registered"},
    "enroll.map": {"zh": "各省计划完成率", "en": "Plan completion by province"},
    "enroll.map_top": {"zh": "录取人数前列", "en": "Most admitted"},
    "enroll.no_plan": {"zh": "无计划", "en": "No plan"},
    "enroll.by_batch": {"zh": "分批次录取进度", "en": "Progress by batch"},
    "enroll.by_category": {"zh": "分类别录取进度", "en": "Progress by category"},
    "enroll.top_majors": {"zh": "专业录取 TOP10", "en": "Top 10 majors"},
    "enroll.scores": {"zh": "各省录取分数 · 最低 / 平均 / 最高", "en": "Scores by province · min/avg/max"},
    "enroll.score_min": {"zh": "最低分", "en": "Lowest"},
    "enroll.score_avg": {"zh": "平均分", "en": "Average"},
    "enroll.score_max": {"zh": "最高分", "en": "Highest"},
    "enroll.season": {"zh": "录取进度 · 与上年同期", "en": "Season progress vs last year"},
    "enroll.this_year": {"zh": "本年累计", "en": "This year"},
    "enroll.last_year": {"zh": "上年同期", "en": "Last year"},
    "enroll.checkin": {"zh": "九月迎新报到", "en": "September check-in"},
    "enroll.checkin_by_day": {"zh": "逐日累计", "en": "By day"},
    "enroll.step_arrived": {"zh": "到校", "en": "Arrived"},
    "enroll.step_paid": {"zh": "缴费", "en": "Paid"},
    "enroll.step_dorm": {"zh": "入住", "en": "Moved in"},
    "enroll.step_registered": {"zh": "注册", "en": "Registered"},
    "enroll.batch_early": {"zh": "提前批", "en": "Early"},
    "enroll.batch_regular": {"zh": "本科批", "en": "Undergraduate"},
    "enroll.batch_second": {"zh": "本科二批", "en": "Second batch"},
    "enroll.batch_special": {"zh": "特殊类型批", "en": "Special types"},
    "enroll.batch_junior_college": {"zh": "专科批", "en": "Junior college"},
    "enroll.cat_general": {"zh": "普通类", "en": "General"},
    "enroll.cat_art": {"zh": "艺术类", "en": "Arts"},
    "enroll.cat_sport": {"zh": "体育类", "en": "Sports"},
    "enroll.cat_national_special": {"zh": "国家专项", "en": "National special"},
    "enroll.cat_university_special": {"zh": "高校专项", "en": "University special"},
    "enroll.cat_local_special": {"zh": "地方专项", "en": "Local special"},
    "enroll.cat_sino_foreign": {"zh": "中外合作", "en": "Sino-foreign"},
    "enroll.cat_preparatory": {"zh": "预科", "en": "Preparatory"},
    "enroll.cat_minority": {"zh": "民族班", "en": "Minority class"},
    # admissions export: the cockpit's link and the file of /api/v1/export/enrollment
    "export.link": {"zh": "导出 Excel", "en": "Export to Excel"},
    "export.link_title": {
        "zh": "下载本年度招生录取明细（按省份、批次、类别、学院、专业）",
        "en": "Download this year's admissions by province, batch, category, college and major",
    },
    "export.file": {"zh": "招生录取明细", "en": "admissions"},
    "export.sheet": {"zh": "招生录取明细", "en": "Admissions"},
    "export.about_sheet": {"zh": "说明", "en": "About"},
    "export.col_province_code": {"zh": "省份代码", "en": "Province code"},
    "export.col_province": {"zh": "省份", "en": "Province"},
    "export.col_batch": {"zh": "批次", "en": "Batch"},
    "export.col_category": {"zh": "招生类别", "en": "Category"},
    "export.col_college_code": {"zh": "学院代码", "en": "College code"},
    "export.col_college": {"zh": "学院", "en": "College"},
    "export.col_major_code": {"zh": "专业代码", "en": "Major code"},
    "export.col_major": {"zh": "专业", "en": "Major"},
    "export.col_plan": {"zh": "计划数", "en": "Plan"},
    "export.col_admitted": {"zh": "录取数", "en": "Admitted"},
    "export.col_completion": PLAN_COMPLETION,
    "export.col_min_score": {"zh": "最低分", "en": "Lowest score"},
    "export.col_avg_score": {"zh": "平均分", "en": "Average score"},
    "export.col_max_score": {"zh": "最高分", "en": "Highest score"},
    "export.total": {"zh": "合计", "en": "Total"},
    "export.report": {"zh": "报表", "en": "Report"},
    "export.report_name": {
        "zh": "招生录取明细（按省份、批次、类别、学院、专业）",
        "en": "Admissions by province, batch, category, college and major",
    },
    "export.year": ADMISSION_YEAR,
    "export.all": {"zh": "全部", "en": "All"},
    "export.rows": {"zh": "明细行数", "en": "Rows"},
    "export.generated": {"zh": "生成时间", "en": "Generated"},
    "export.definitions": {"zh": "统计口径", "en": "Definitions"},
    "export.def_admitted": {
        "zh": "录取数：最新状态为“录取”的考生人数；录取后退档或放弃的考生不计入。",
        "en": "Admitted: candidates whose latest status is admitted; a candidate admitted and "
              "then returned or withdrawn is not counted.",
    },
    "export.def_plan": {
        "zh": "计划数：每条招生计划最近一次导入的计划数之和（各科类合计）。",
        "en": "Plan: the sum of the latest import of each plan row (all tracks together).",
    },
    "export.def_completion": {
        "zh": "计划完成率 = 录取数 ÷ 计划数；无计划时留空。",
        "en": "Plan completion = admitted ÷ plan; empty without a plan.",
    },
    "export.def_scores": {
        "zh": "最低分、平均分、最高分：录取考生最新一条记录的分数；无录取时留空。",
        "en": "Lowest, average and highest score: of the admitted candidates, from their latest "
              "record; empty when nobody is admitted.",
    },
    "export.def_college": {
        "zh": "学院：专业在站点目录中的所属学院；目录未收录的专业取其录取考生记录中的学院。",
        "en": "College: the major's college in the site catalogue; for a major it does not list, "
              "the college in its admitted candidates' records.",
    },
    "export.source": {"zh": "数据来源", "en": "Source"},
    "export.small_cells": {"zh": "小样本", "en": "Small cells"},
    "export.small_cells_rule": {
        "zh": "录取少于{n}人的行不显示分数（为防推算，可能另有一行一并不显示）；人数照常显示。",
        "en": "Rows of fewer than {n} admitted show no scores (so that they cannot be worked out, one "
              "more row may be left empty too); counts are shown.",
    },
    "export.exact": {
        "zh": "精确数据（招生办专用）：所有行均显示分数，含少于规定人数的行；请勿外传。",
        "en": "Exact figures (admissions office only): every row shows its scores, small rows "
              "included; do not pass on.",
    },
    "export.exact_link": {"zh": "导出精确数据", "en": "Export exact figures"},
    "export.exact_link_title": {
        "zh": "下载含小样本分数的精确明细（招生办专用，记入审计日志）",
        "en": "Download the exact breakdown, small cells' scores included (admissions office "
              "only; audited)",
    },
    # small cells (IOC_MIN_CELL): why a score is not shown, and the admissions office's exact view
    "enroll.small_cell": {"zh": "少于{n}人，不显示", "en": "fewer than {n}, not shown"},
    "enroll.complement_cell": {"zh": "为防推算，不显示",
                               "en": "not shown, so smaller groups cannot be worked out"},
    "enroll.exact_link": {"zh": "精确分数", "en": "Exact scores"},
    "enroll.exact_link_title": {
        "zh": "查看含小样本的精确分数（招生办专用，每次打开记入审计日志）",
        "en": "See the exact scores, small cells included (admissions office only; each opening "
              "is audited)",
    },
    "exact.title": {"zh": "招生精确数据", "en": "Exact admissions figures"},
    "exact.notice": {
        "zh": "本页显示各组的精确分数，包括录取少于{n}人的组（大屏与其他角色看到的是“少于{n}人，不显示”）。"
              "仅限招生办使用，每次打开均记入审计日志。",
        "en": "This page shows every group's exact scores, groups of fewer than {n} admitted included "
              "(screens and other roles see \"fewer than {n}, not shown\"). For the admissions office "
              "only; each opening is audited.",
    },
    "exact.year": {"zh": "招生年度 {year}", "en": "Admission year {year}"},
    "exact.by_province": {"zh": "按省份", "en": "By province"},
    "exact.by_batch": {"zh": "按批次", "en": "By batch"},
    "exact.by_category": {"zh": "按招生类别", "en": "By category"},
    "exact.by_major": {"zh": "按专业", "en": "By major"},
    "exact.group": {"zh": "组别", "en": "Group"},
    "exact.small": {"zh": "小样本", "en": "Small cell"},
    "exact.small_mark": {"zh": "少于{n}人", "en": "fewer than {n}"},
    "exact.unavailable": {"zh": "数据存储暂不可用，请稍后刷新。",
                          "en": "The store is unavailable; reload in a moment."},
    # the domain's figures in /explore and its streams on /health (ioc_app/domains.py requires them)
    "health.stream.enrollment.admission": ADMISSIONS,
    "health.stream.enrollment.plan": {"zh": "招生计划", "en": "Admission plan"},
    "health.stream.enrollment.control_line": {"zh": "省控线", "en": "Control lines"},
    "health.stream.enrollment.notice": {"zh": "录取通知书", "en": "Admission notices"},
    "health.stream.enrollment.checkin": {"zh": "迎新报到", "en": "Check-in"},
}
# the domain in /explore (ioc_app/domains.py requires a label for each measure, dimension and
# value); words the cockpit and the export already say are shared, not written again
_EXPLORE: dict[str, Text] = {
    "explore.domain.enrollment": ADMISSIONS,
    "explore.m.enrollment.planned": {"zh": "计划数", "en": "Planned"},
    "explore.m.enrollment.filed": {"zh": "投档", "en": "Filed"},
    "explore.m.enrollment.admitted": {"zh": "录取", "en": "Admitted"},
    "explore.m.enrollment.returned": {"zh": "退档", "en": "Returned"},
    "explore.m.enrollment.withdrawn": {"zh": "放弃", "en": "Withdrawn"},
    "explore.m.enrollment.completion": PLAN_COMPLETION,
    "explore.m.enrollment.score_min": {"zh": "最低分", "en": "Lowest score"},
    "explore.m.enrollment.score_avg": {"zh": "平均分", "en": "Average score"},
    "explore.m.enrollment.score_max": {"zh": "最高分", "en": "Highest score"},
    "explore.m.enrollment.arrived": {"zh": "到校（未缴费）", "en": "Arrived (not paid)"},
    "explore.m.enrollment.paid": {"zh": "已缴费（未入住）", "en": "Paid (not moved in)"},
    "explore.m.enrollment.dorm": {"zh": "已入住（未注册）", "en": "Moved in (not registered)"},
    "explore.m.enrollment.registered": {"zh": "已注册", "en": "Registered"},
    "explore.d.year": ADMISSION_YEAR,
    "explore.d.province": {"zh": "省份", "en": "Province"},
    "explore.d.batch": {"zh": "批次", "en": "Batch"},
    "explore.d.track": {"zh": "科类", "en": "Track"},
    "explore.d.college": {"zh": "学院", "en": "College"},
    "explore.d.major": {"zh": "专业", "en": "Major"},
    **derive("explore.v.province.{}", PROVINCES),
    **derive("explore.v.track.{}", TRACKS),
}
_AS_OF = ("，截至该时段末", ", as of the end of the bucket")
_STATUS = {"filed": "投档", "admitted": "录取", "returned": "退档", "withdrawn": "放弃"}
_STEP = {"arrived": "到校", "paid": "缴费", "dorm": "入住", "registered": "注册"}
_SCORE = {"min": ("最低分", "lowest"), "avg": ("平均分", "average"), "max": ("最高分", "highest")}
# the definitions on the About sheet of an /explore download (explore.def.*; English: the whitelist's)
_EXPLORE |= {
    "explore.def.enrollment.planned": {"zh": "本年度招生计划：各计划行最近一次导入的计划数之和",
                                       "en": "the year's plan: sum of the latest import of each plan row"},
    **{f"explore.def.enrollment.{s}": {"zh": f"最新状态为{zh}的考生数{_AS_OF[0]}",
                                       "en": f"candidates whose latest status is {s}{_AS_OF[1]}"}
       for s, zh in _STATUS.items()},
    "explore.def.enrollment.completion": {"zh": "录取数 ÷ 计划数；无计划时为空",
                                          "en": "admitted / planned; null without plan"},
    **{f"explore.def.enrollment.score_{k}": {
        "zh": f"已录取考生的{zh}{_AS_OF[0]}；不足最小单元人数时不显示",
        "en": f"{en} score of the admitted{_AS_OF[1]}; null in a small cell"}
       for k, (zh, en) in _SCORE.items()},
    **{f"explore.def.enrollment.{s}": {"zh": f"报到最远环节为{zh}的新生数{_AS_OF[0]}",
                                       "en": f"students whose furthest check-in step is {s}{_AS_OF[1]}"}
       for s, zh in _STEP.items()},
}
_SAID = {(v["zh"], v["en"]): v for v in TEXTS.values()}
TEXTS |= {k: _SAID.get((v["zh"], v["en"]), v) for k, v in _EXPLORE.items()}
TEXTS |= {f"explore.v.{dim}.{code}": TEXTS[f"enroll.{prefix}_{code}"]
          for dim, prefix, codes in (("batch", "batch", BATCH_CODES), ("category", "cat", CATEGORY_CODES))
          for code in codes}
