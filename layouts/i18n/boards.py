"""Boards from files (/boards, /boards/<slug>): the page's own words; a board's titles and
labels are written in both languages in its file."""

from __future__ import annotations

from layouts.i18n.labels import Text

TEXTS: dict[str, Text] = {
    "boards.title": {"zh": "专项指标大屏", "en": "Board"},
    "boards.index_title": {"zh": "专项指标大屏", "en": "Boards"},
    "boards.intro": {"zh": "以下是您可以打开的大屏。每块大屏由网络中心用配置文件编制。",
                     "en": "The boards you may open. Each is composed by the network center in a file."},
    "boards.none": {"zh": "暂无您可以打开的大屏。", "en": "There is no board you may open yet."},
    "boards.not_found": {"zh": "没有这块大屏，或您无权打开。请从大屏列表（/boards）进入。",
                         "en": "There is no such board, or you may not open it; choose one at /boards."},
    "boards.more_rows": {"zh": "另有 {n} 行", "en": "{n} more rows"},
    "boards.unanswered": {"zh": "数据暂不可用，稍后自动重试",
                          "en": "Figures unavailable; retried automatically"},
    "boards.stale": {"zh": "配置文件有误：显示的是上一个正确版本（预览可见问题）",
                     "en": "The board file is broken: showing its last good version (see the preview)"},
    "boards.stale_short": {"zh": "文件有误，显示上一版本", "en": "file broken: last good version"},
    "boards.problems": {"zh": "配置文件问题", "en": "Problems of the board file"},
    "boards.no_problems": {"zh": "文件没有问题。", "en": "The file has no problems."},
}
