"""The one builder of tap-through links, and how a page picks its layout for the display.

A figure's link must ask /explore exactly the figure's question, in the parameters /explore
reads back (``pages/_explore/question.py``), so the link and the page cannot drift apart; and a
page's layout follows the URL first, then the display it is on.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from layouts.drill import LINK_CLASS, TRACE_KEY, bucket, explore_href, link, points, season_href
from layouts.live import kpi, options
from layouts.ranking import RankRow, ranking_rows
from metrics import query
from pages._explore.question import question_from_query


def params(href: str) -> dict[str, list[str]]:
    url = urlparse(href)
    assert url.path == "/explore"
    return parse_qs(url.query)


#: the whitelist as /explore reads it (``read.whitelist``)
WHITELIST = {"domains": query.describe(), "grains": query.grain_limits()}


def test_a_figure_of_today_asks_today_at_day_grain() -> None:
    href = explore_href("gate", "in", lang="en")
    assert params(href) == {"domain": ["gate"], "grain": ["day"], "measures": ["in"], "range": ["today"],
                            "lang": ["en"]}


def test_the_question_reads_back_as_explore_reads_it() -> None:
    href = explore_href("gate", ["in", "out"], "hour", start="2026-09-01T08:00+08:00",
                        end="2026-09-01T09:00+08:00", filters={"gate_id": ["main-north", "east-main"]},
                        group_by="gate_id")
    assert ",out" in href and "%2B08:00" in href  # commas readable, an offset's "+" escaped
    q = question_from_query(params(href), WHITELIST)
    assert q.domain == "gate" and q.grain == "hour" and q.measures == ("in", "out")
    assert q.group_by == ("gate_id",) and q.filters == (("gate_id", ("east-main", "main-north")),)
    assert (q.preset, q.start, q.end) == ("custom", "2026-09-01T08:00+08:00", "2026-09-01T09:00+08:00")


def test_a_replayed_page_keeps_its_moment() -> None:
    moment = "2026-09-01T10:00:00+08:00"
    assert params(explore_href("gate", "in", at=moment))["at"] == [moment]


def test_a_bucket_is_one_grain_from_its_start() -> None:
    assert bucket("2026-09-01T23:00:00+08:00", "hour") == ("2026-09-01T23:00+08:00", "2026-09-02T00:00+08:00")
    assert bucket("2026-09-01 08:59", "minute") == ("2026-09-01 08:59", "2026-09-01 09:00")


def test_a_season_runs_from_its_january_up_to_now_or_to_the_next_january() -> None:
    ongoing = params(season_href("admitted", 2026, as_of="2026-08-01T02:00:00+00:00",
                                 filters={"province": "42"}) or "")
    assert ongoing == {"domain": ["enrollment"], "grain": ["season"], "measures": ["admitted"],
                       "year": ["2026"], "province": ["42"], "range": ["custom"], "from": ["2026-01-01"]}
    past = params(season_href(("completion", "admitted"), "2025", as_of="2026-08-01T02:00:00+00:00") or "")
    assert past["from"] == ["2025-01-01"] and past["to"] == ["2026-01-01"]
    assert past["measures"] == ["completion,admitted"]
    assert season_href("admitted", None) is None  # before the first season: no link


def test_points_carry_links_only_when_there_are_some() -> None:
    assert points(["/explore?a", None]) == {TRACE_KEY: ["/explore?a", None]}
    assert points([[None, "/explore?b"], [None, None]]) == {TRACE_KEY: [[None, "/explore?b"], [None, None]]}
    assert points("/explore?c") == {TRACE_KEY: "/explore?c"}
    assert points([None, None]) == {} and points([[None]]) == {} and points(None) == {}  # a wall: nothing


def test_tiles_and_rows_are_real_links_with_an_href_and_plain_without() -> None:
    linked = kpi("入校", "gate.today.in", href="/explore?x").to_plotly_json()
    assert linked["type"] == "A" and linked["props"]["href"] == "/explore?x"
    assert LINK_CLASS in linked["props"]["className"]
    assert kpi("入校", "gate.today.in").to_plotly_json()["type"] == "Div"
    rows = ranking_rows([RankRow("a", "A", 3, href="/explore?g=a"), RankRow("b", "B", 2)])
    assert [r.to_plotly_json()["type"] for r in rows] == ["A", "Div"]
    assert rows[0].href == "/explore?g=a"
    assert link("x", None) == "x" and link("x", "/explore?y").href == "/explore?y"


def test_the_url_then_the_display_choose_the_layout() -> None:
    assert options(None, None, None, "tablet") == ("zh", "light", "contain")  # flowing light page
    assert options(None, None, None, "desk") == ("zh", "dark", "contain")  # the canvas
    assert options(None, None, None, "wall") == ("zh", "dark", "contain")
    assert options("en", "dark", None, "tablet") == ("en", "dark", "contain")  # ?theme= wins
    assert options(None, None, "width", "tablet") == ("zh", "dark", "width")  # ?fit= asks for the canvas
    assert options(None, "light", None, "wall") == ("zh", "light", "contain")
    assert options(None, "bogus", "bogus", "tablet") == ("zh", "light", "contain")
