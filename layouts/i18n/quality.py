"""生源质量分析 (/enrollment/quality): the page, its tables (``layouts/quality_tables.py``)
and their files (``GET /api/v1/export/enrollment/quality``)."""

from __future__ import annotations

from layouts.i18n.enrollment import TEXTS as _ENROLLMENT
from layouts.i18n.labels import ADMISSION_YEAR, Text

TITLE: Text = {"zh": "生源质量分析", "en": "Intake quality analysis"}
AVG_MARGIN: Text = {"zh": "平均线差", "en": "Average margin"}
FIRST_CHOICE_RATE: Text = {"zh": "一志愿率", "en": "First-choice rate"}

TEXTS: dict[str, Text] = {
    "nav.quality": {"zh": "生源质量", "en": "Intake quality"},
    "quality.title": TITLE,
    "quality.year": ADMISSION_YEAR,
    "quality.no_season": {"zh": "尚无录取数据。", "en": "No admissions in the store yet."},
    "quality.unavailable": _ENROLLMENT["exact.unavailable"],
    "quality.notice_rule": {
        "zh": "录取少于{n}人的组不显示分数、线差和位次（为防推算，可能另有一组一并不显示）；"
              "人数与一志愿率照常显示。",
        "en": "Groups of fewer than {n} admitted show no scores, margins or ranks (so that they cannot be "
              "worked out, one more group may be left empty too); counts and first-choice rates are shown.",
    },
    "quality.notice_exact": {
        "zh": "招生办精确数据：所有组均显示分数、线差和位次，含少于{n}人的组；"
              "每次查看记入审计日志，请勿外传。",
        "en": "Admissions office's exact figures: every group shows its scores, margins and ranks, groups of "
              "fewer than {n} included; each view is audited. Do not pass on.",
    },
    "quality.definitions": {
        "zh": "口径：只计当前状态为“录取”的考生（录取后退档或放弃的不计）。"
              "线差 = 考生分数 − 其所在年度、省份、批次、类别、科类的省控线（无省控线的考生只计入人数）。"
              "位次分位数按最近秩法：n 个位次升序排列后取第 ⌈q·n/100⌉ 个。"
              "一志愿率 = 一志愿录取人数 ÷ 已知是否一志愿的人数。",
        "en": "Definitions: only candidates whose current status is admitted count (admitted then "
              "returned or withdrawn do not). Margin = the candidate's score − the control line of "
              "their year, province, batch, category and track (candidates without a line count in the "
              "numbers only). Rank percentiles by the nearest-rank method: of the n ranks sorted "
              "ascending, the ⌈q·n/100⌉-th. "
              "First-choice rate = admitted to their first choice ÷ those whose first choice is known.",
    },
    "quality.kpi_admitted": {"zh": "录取人数", "en": "Admitted"},
    "quality.kpi_margin": AVG_MARGIN,
    "quality.kpi_rank": {"zh": "位次中位数", "en": "Median rank"},
    "quality.kpi_first_choice": FIRST_CHOICE_RATE,
    "quality.t_season": {"zh": "本年度", "en": "The season"},
    "quality.t_cells": {"zh": "按省份 × 批次 × 类别 × 科类", "en": "By province × batch × category × track"},
    "quality.t_colleges": {"zh": "按学院", "en": "By college"},
    "quality.t_majors": _ENROLLMENT["exact.by_major"],
    "quality.t_provinces": _ENROLLMENT["exact.by_province"],
    "quality.t_trend": {"zh": "近三年趋势（全校）", "en": "Three-year trend (all provinces)"},
    "quality.t_trend_provinces": {"zh": "近三年趋势（按省份）", "en": "Three-year trend by province"},
    "quality.t_by_margin": {"zh": "省份排名：平均线差", "en": "Provinces by average margin"},
    "quality.t_by_change": {"zh": "省份排名：线差较上年变化",
                            "en": "Provinces by change of margin on last year"},
    "quality.col_track": _ENROLLMENT["explore.d.track"],
    "quality.col_control_score": {"zh": "省控线", "en": "Control line"},
    "quality.col_with_line": {"zh": "有省控线人数", "en": "With a line"},
    "quality.col_min_margin": {"zh": "最小线差", "en": "Lowest margin"},
    "quality.col_avg_margin": AVG_MARGIN,
    "quality.col_max_margin": {"zh": "最大线差", "en": "Highest margin"},
    "quality.col_with_rank": {"zh": "有位次人数", "en": "With a rank"},
    "quality.col_rank_p10": {"zh": "位次P10", "en": "Rank P10"},
    "quality.col_rank_p50": {"zh": "位次P50", "en": "Rank P50"},
    "quality.col_rank_p90": {"zh": "位次P90", "en": "Rank P90"},
    "quality.col_first_choice_known": {"zh": "一志愿已知人数", "en": "First choice known"},
    "quality.col_first_choice_rate": FIRST_CHOICE_RATE,
    "quality.col_place": {"zh": "名次", "en": "Place"},
    "quality.col_prev_avg_margin": {"zh": "上年平均线差", "en": "Last year's average margin"},
    "quality.col_change": {"zh": "变化", "en": "Change"},
    "quality.chart_margin": AVG_MARGIN,
    "quality.chart_score": _ENROLLMENT["export.col_avg_score"],
    "quality.complement": _ENROLLMENT["enroll.complement_cell"],
    "quality.small": _ENROLLMENT["exact.small_mark"],
    "quality.export_all": {"zh": "导出全部（Excel）", "en": "Export all (Excel)"},
    "quality.export_xlsx": {"zh": "Excel", "en": "Excel"},
    "quality.export_csv": {"zh": "CSV", "en": "CSV"},
    "quality.export_title": {"zh": "下载本表（记入审计日志）", "en": "Download this table (audited)"},
    "quality.file": {"zh": "生源质量分析", "en": "intake-quality"},
    "quality.report_name": TITLE,
    "quality.table": {"zh": "表", "en": "Table"},
}
