"""The ranking board: order, bars, numbers as the browser writes them, stable keys."""

from __future__ import annotations

from typing import Any

from layouts import ids
from layouts.ranking import RankRow, format_number, rank_order, ranking, ranking_rows


def _props(component: Any) -> dict[str, Any]:
    return component.to_plotly_json()["props"]


def _parts(row: Any) -> dict[str, Any]:
    """A rendered row's rank, name, value text and bar segment widths."""
    no, name, value, bar = _props(row)["children"]
    return {"no": _props(no)["children"], "name": _props(name)["children"],
            "value": _props(value)["children"], "value_key": _props(value)["key"],
            "widths": [_props(seg)["style"]["width"] for seg in _props(bar)["children"]],
            "key": _props(row)["key"]}


def test_numbers_match_the_browser_format() -> None:
    assert format_number(1234) == "1,234"
    assert format_number(99_999, lang="zh") == "99,999"
    assert format_number(123_456, lang="zh") == "12.3万"
    assert format_number(123_456, lang="en") == "123,456"
    assert format_number(2_345_678, lang="en") == "2.35M"
    assert format_number(345_000_000, lang="zh") == "3.45亿"
    assert format_number(0.4567, "ratio") == "45.7%"
    assert format_number(-12, "signed") == "−12" and format_number(5, "signed") == "+5"
    assert format_number(None) == "—"


def test_rows_are_ranked_largest_first_with_ties_by_name() -> None:
    rows = [RankRow("b", "Beta", 5), RankRow("a", "Alpha", 5), RankRow("c", "Gamma", 9),
            RankRow("d", "D", None)]
    assert [r.key for r in rank_order(rows)] == ["c", "a", "b", "d"]


def test_bars_are_relative_to_the_top_and_split_in_parts() -> None:
    rows = [RankRow("n", "North", 1801, (1234, 567)), RankRow("e", "East", 500, (300, 200))]
    first, second = (_parts(r) for r in ranking_rows(rows, lang="zh"))
    assert first["no"] == "1" and first["name"] == "North" and first["value"] == "1,801"
    assert first["widths"] == [f"{100 * 1234 / 1801:.2f}%", f"{100 * 567 / 1801:.2f}%"]
    assert second["no"] == "2"
    assert second["widths"] == [f"{100 * 300 / 1801:.2f}%", f"{100 * 200 / 1801:.2f}%"]
    # keyed by the item, and the value by its text: React moves rows and re-mounts (flips) a
    # value only when it changed
    assert first["key"] == "n" and first["value_key"] == "n:1,801"


def test_limit_max_value_and_the_empty_board() -> None:
    rows = [RankRow(str(i), f"S{i}", i) for i in range(30)]
    shown = ranking_rows(rows, limit=20, max_value=100)
    assert len(shown) == 20 and _parts(shown[0])["widths"] == ["29.00%"]
    empty = ranking_rows([], empty="暂无数据")
    assert len(empty) == 1 and _props(empty[0])["children"] == "暂无数据"
    zero = _parts(ranking_rows([RankRow("z", "Zero", 0)])[0])
    assert zero["widths"] == ["0.00%"]  # no division by zero


def test_the_board_owns_its_id_and_shares_the_height_evenly() -> None:
    board = ranking("gates", "gates", [RankRow("n", "North", 3)], slots=11, legend=("入校", "出校"))
    head, rows = _props(board)["children"]
    assert _props(rows)["id"] == ids.ranking("gates", "gates") == "gates-ranking-gates"
    assert _props(rows)["style"] == {"--ioc-rank-n": "11"}
    assert len(_props(head)["children"]) == 2
    compact = ranking("service", "top", [], compact=True, limit=20)
    assert "ioc-ranking-compact" in _props(compact)["className"]
    assert _props(_props(compact)["children"][1])["style"] == {"--ioc-rank-n": "20"}
