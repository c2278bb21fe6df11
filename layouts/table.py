"""A plain report table for wall and tablet: fixed columns, tabular figures, no scrolling.

A wall cannot scroll, so a table shows at most ``limit`` rows and says how many more there
are; cells never wrap (a wrapped row would push the table out of its tile) and each column's
share of the width is fixed by the page, so figures stay put while values change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html


def table(head: Sequence[str], rows: Sequence[Sequence[Any]], *, widths: Sequence[int] | None = None,
          numeric: Sequence[int] = (), row_classes: Sequence[str] | None = None, limit: int | None = None,
          more: str = "+{n}", empty: str = "", cls: str = "") -> html.Div:
    """``rows`` of cells (text or components) under ``head``; ``widths`` in percent per column,
    ``numeric`` the indexes of right-aligned number columns, ``row_classes`` one class per row;
    beyond ``limit`` rows a last line reads ``more`` with ``{n}`` the rows left out; no rows at
    all shows ``empty``."""
    if not rows:
        return html.Div(empty, className=f"ioc-table-empty {cls}".strip())
    shown = list(rows[:limit] if limit else rows)
    left_out = len(rows) - len(shown)

    def cell(tag: Any, value: Any, i: int) -> Any:
        return tag(value, className="ioc-td-num" if i in numeric else "ioc-td")

    cols = [html.Col(style={"width": f"{w}%"}) for w in widths] if widths else []
    body = [html.Tr([cell(html.Td, v, i) for i, v in enumerate(r)],
                    className=(row_classes[k] if row_classes else "") or None)
            for k, r in enumerate(shown)]
    if left_out > 0:
        body.append(html.Tr(html.Td(more.replace("{n}", str(left_out)), colSpan=len(head),
                                    className="ioc-td-more")))
    return html.Div(html.Table([
        html.Colgroup(cols) if cols else None,
        html.Thead(html.Tr([cell(html.Th, h, i) for i, h in enumerate(head)])),
        html.Tbody(body),
    ], className="ioc-table"), className=f"ioc-table-box {cls}".strip())
