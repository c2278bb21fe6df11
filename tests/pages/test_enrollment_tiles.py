"""The admissions cockpit's notice and margin tiles drawn from a snapshot section built here
(``pages/_enrollment/tiles.py``): what each part shows, in both languages, and which links
each viewer gets — the analysis for people who may drill, none on a paired wall screen, the
notice lists for admissions, the quality page for those who may open it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
from dash import html

from ioc_app.permissions import Principal
from ioc_app.roles import PERMISSIONS
from pages._enrollment import tiles


def row(province: str, name: str, name_en: str, admitted: int, margin: float) -> dict[str, Any]:
    """A province of ``enrollment.quality.best`` / ``worst``, in the agreed shape."""
    return {"province": province, "name": name, "name_en": name_en, "admitted": admitted,
            "avg_margin": margin}


SNAP: dict[str, Any] = {
    "generated_at": "2025-08-20T10:00:00+08:00",
    "enrollment": {
        "year": 2025,
        "notices": {
            "funnel": {"admitted": 120, "printed": 100, "mailed": 80, "delivered": 60, "returned": 4},
            "by_province": [
                {"province": "11", "name": "北京", "name_en": "Beijing", "admitted": 20, "printed": 18,
                 "mailed": 15, "delivered": 10, "returned": 1},
                {"province": "42", "name": "湖北", "name_en": "Hubei", "admitted": 100, "printed": 82,
                 "mailed": 65, "delivered": 50, "returned": 3},
            ],
            "exceptions": {"returned": 4, "undelivered": 2, "unprinted": 7},
        },
        "quality": {
            "avg_margin": 48.26, "with_line": 118,
            "best": [row("46", "海南", "Hainan", 9, 81.5), row("42", "湖北", "Hubei", 100, 55.0),
                     row("11", "北京", "Beijing", 20, 40.25)],
            "worst": [row("65", "新疆", "Xinjiang", 5, -3.5), row("63", "青海", "Qinghai", 4, 2.0),
                      row("11", "北京", "Beijing", 20, 40.25)],
        },
    },
}


@pytest.fixture()
def as_who() -> Iterator[Any]:
    """Run the tiles' code in a request of a person holding ``roles`` (or a paired screen)."""
    app = flask.Flask(__name__)
    contexts = []

    def enter(*roles: str, screen: bool = False) -> None:
        ctx = app.test_request_context("/enrollment")
        ctx.push()
        contexts.append(ctx)
        flask.g.principal = (Principal.screen("wall-1", ("/enrollment",)) if screen
                             else Principal.person("p", roles, "local"))

    yield enter
    for ctx in reversed(contexts):
        ctx.pop()


def texts(node: Any) -> list[str]:
    """Every string in a component tree, in order."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list | tuple):
        return [s for child in node for s in texts(child)]
    children = getattr(node, "children", None)
    return texts(children) if children is not None else []


def find(node: Any, cls: str) -> list[Any]:
    out = []
    if isinstance(node, list | tuple):
        return [n for child in node for n in find(child, cls)]
    if cls in (getattr(node, "className", "") or "").split():
        out.append(node)
    children = getattr(node, "children", None)
    return out + (find(children, cls) if children is not None else [])


def test_the_funnel_and_the_provinces_bars(as_who: Any) -> None:
    as_who("viewer")
    fig = tiles.funnel_figure(SNAP, "dark", "zh")
    assert fig["data"][0]["x"] == [120, 100, 80, 60]
    assert fig["data"][0]["y"] == ["已录取", "已打印", "已寄出", "已妥投"]
    href = fig["data"][0]["ioc_href"]
    assert href[1:] == [None, None, None]  # notice stages have no question in /explore
    query = parse_qs(urlsplit(href[0]).query)
    assert (query["domain"], query["grain"], query["measures"], query["year"]) == (
        ["enrollment"], ["season"], ["admitted"], ["2025"])

    bars = tiles.provinces_figure(SNAP, "light", "en")
    assert bars["data"][0]["x"] == ["Beijing", "Hubei"]
    assert [tr["name"] for tr in bars["data"]] == ["Delivered", "In transit", "Returned", "Awaiting mailing",
                                                   "Not printed"]
    parts = [tr["y"] for tr in bars["data"]]
    # Beijing: 10 delivered, 4 in transit, 1 returned, 3 printed not mailed, 2 not printed
    assert [p[0] for p in parts] == [10, 4, 1, 3, 2] and [p[1] for p in parts] == [50, 12, 3, 17, 18]
    assert all(parse_qs(urlsplit(h).query)["province"] == [code]
               for h, code in zip(bars["data"][0]["ioc_href"], ("11", "42"), strict=True))


def test_the_margin_tile(as_who: Any) -> None:
    as_who("viewer")
    body = tiles.margin_tile_body(SNAP, "zh")
    assert "48.3" in texts(body) and "分" in texts(body)
    best, worst = tiles.margin_rows(SNAP, "zh")
    assert texts(best) == ["线差最高", "海南", "+81.5", "湖北", "+55.0", "北京", "+40.2"]
    assert texts(worst) == ["线差最低", "新疆", "-3.5", "青海", "+2.0", "北京", "+40.2"]
    best_en, _ = tiles.margin_rows(SNAP, "en")
    assert texts(best_en)[:3] == ["Highest margin", "Hainan", "+81.5"]
    # before a season, or before the quality figures exist: dashes and "no data"
    empty_best, _ = tiles.margin_rows({"enrollment": {"year": 2025}}, "zh")
    assert texts(empty_best) == ["线差最高", "暂无数据"]
    assert "—" in texts(tiles.margin_tile_body(None, "zh"))


@pytest.mark.parametrize(("roles", "screen"), [(("viewer",), False), (("admissions",), False),
                                                (("analyst",), False), ((), True)])
def test_links_follow_the_viewers_permissions(as_who: Any, roles: tuple[str, ...], screen: bool) -> None:
    as_who(*roles, screen=screen)
    fig = tiles.funnel_figure(SNAP, "dark", "zh")
    bars = tiles.provinces_figure(SNAP, "dark", "zh")
    if screen:  # nobody taps a wall
        assert "ioc_href" not in fig["data"][0] and all("ioc_href" not in tr for tr in bars["data"])
    else:
        assert fig["data"][0]["ioc_href"][0].startswith("/explore?")
    notices = tiles.notices_actions("zh")
    assert (notices is not None) == ("admissions" in roles)
    if notices is not None:
        assert isinstance(notices, html.A) and notices.href == "/enrollment/notices?lang=zh"
    quality = tiles.margin_actions("en")
    may = any("quality" in PERMISSIONS[r] for r in roles)
    assert (quality is not None) == may
    if quality is not None:
        assert quality.href == "/enrollment/quality?lang=en"


def test_the_exception_counts_are_bound_to_the_snapshot() -> None:
    body = tiles.notices_tile_body(SNAP, "dark", "zh")
    figures = find(body, "pes-figure-value")
    assert [f.to_plotly_json()["props"]["data-ioc-path"] for f in figures] == [
        "enrollment.notices.exceptions.returned", "enrollment.notices.exceptions.undelivered",
        "enrollment.notices.exceptions.unprinted"]
