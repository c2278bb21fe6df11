"""The pieces of /explore that need no server: the question a URL asks and the URL a question
makes, presets resolved into the API's ``from``/``to``, the API URL (checked against the real
``metrics.query.parse_spec``), the figures as the table writes them, the chart of an answer,
the table's pages, and a label in both languages for every name of the query whitelist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import dash
import flask
import pytest
from dash._pages import _parse_query_string

from ingest.site import load_site
from ioc_app import read
from ioc_app.settings import DEFAULT_SITE
from layouts.i18n import CATALOGUE, LANGS
from layouts.live import NAV
from metrics.query import QueryError, parse_spec
from pages._explore import answer as ans
from pages._explore import form, question
from tests.conftest import ROOT
from tests.pages.registry import pages_app

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 1, 9, 30, 15, tzinfo=ZONE)


@pytest.fixture(scope="module")
def explore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The page module, imported under an app that uses pages (as the server does), and
    forgotten afterwards: dash's registries are global to the process. The page names codes
    from the running app's site catalogue: a Flask app holding the shipped demo site stands
    in for the server's runtime."""
    server = flask.Flask(__name__)
    server.extensions[read.EXTENSION] = SimpleNamespace(site=load_site(DEFAULT_SITE))
    with pages_app(tmp_path_factory.mktemp("no_pages")), server.app_context():
        from pages import explore as module

        yield module


def unknown(code: str, lang: str = "zh") -> str:
    """How the page shows a code the site catalogue lacks (the test answers' g0, g1 …)."""
    return f"{code}（未登记）" if lang == "zh" else f"{code} (not in catalogue)"


@pytest.fixture(scope="module")
def whitelist() -> dict[str, Any]:
    return read.query_whitelist()


def test_the_page_is_registered_and_in_its_own_navigation(explore: Any) -> None:
    entry = next(p for p in dash.page_registry.values() if p["module"] == explore.__name__)
    assert entry["path"] == "/explore"
    # every page is linked from every header but the wall's rotation, the former overview (kept
    # for comparison with the board at /) and the list of boards (opened by its address)
    linked = [href for _, href in NAV]
    declared = (m for f in (ROOT / "pages").glob("*.py") for m in re.finditer(
        r'register_page\((?:__name__|f"\{__name__\}\.\w+"), path="([^"]+)"', f.read_text(encoding="utf-8")))
    pages = {m.group(1) for m in declared} - {"/wall", "/404", "/overview/classic", "/boards"}
    assert "/explore" in pages and set(linked) == pages and len(linked) == len(set(linked))


def test_without_a_query_the_page_asks_a_sensible_question(explore: Any, whitelist: dict[str, Any]) -> None:
    q = question.question_from_query({}, whitelist)
    assert (q.domain, q.grain, q.preset) == ("gate", "hour", "24h")
    assert q.measures == ("attempts", "in")  # the first measure and its sibling of the same kind
    assert q.group_by == () and q.filters == () and q.start is None and q.end is None
    network = question.question_from_query({"domain": "network"}, whitelist)
    assert network.measures == ("in_bps_avg", "out_bps_avg")


QUESTIONS = [
    dict(domain="gate", grain="hour", measures=("in", "out", "deny_rate"), group_by=("gate_id",),
         filters=(("direction", ("in",)), ("gate_id", ("main-north", "东门"))), preset="7d"),
    dict(domain="service", grain="day", measures=(), group_by=("queue", "outcome"),
         filters=(("queue", ("=1+2",)),), preset="custom", start="2026-08-01T08:00:00+08:00",
         end="2026-08-03"),
    dict(domain="network", grain="minute", measures=("users_avg",), preset="1h"),
]


@pytest.mark.parametrize("fields", QUESTIONS, ids=lambda f: f["domain"])
def test_a_question_survives_its_url(explore: Any, whitelist: dict[str, Any], fields: dict[str, Any]) -> None:
    q = question.Question(**fields)
    search = question.page_search(q, "en", "dark", "2026-09-01T09:00:00+08:00")
    assert "%2B08:00" in search or q.preset != "custom"  # an offset's "+" is not a space
    parsed = _parse_query_string(search)  # as Dash's router hands the page its query
    assert question.question_from_query(parsed, whitelist) == q
    assert (parsed["lang"], parsed["theme"], parsed["at"]) == ("en", "dark", "2026-09-01T09:00:00+08:00")


def test_names_the_whitelist_does_not_know_are_kept_to_be_refused(explore: Any,
                                                                  whitelist: dict[str, Any]) -> None:
    """A bookmark naming what the whitelist does not know is refused with a message, never
    silently answered as another question: the API refuses unknown measures, dimensions,
    values, grains and compare kinds; the page itself an unknown domain, range or parameter."""
    q = question.question_from_query({"domain": "nope", "grain": "week", "measures": "in,entries",
                                     "group_by": "lane,method", "result": ["maybe", "deny"],
                                     "gate_id": ["", "g1"], "range": "fortnight", "compare": "yesterday",
                                     "colour": "red"}, whitelist)
    assert (q.domain, q.grain, q.preset, q.compare) == ("gate", "week", "24h", "yesterday")
    assert q.measures == ("in", "entries") and q.group_by == ("lane", "method")
    assert q.filters == (("gate_id", ("g1",)), ("result", ("deny", "maybe")))
    assert q.problems == (("explore.bad_domain", "nope"), ("explore.bad_param", "colour"),
                          ("explore.bad_range", "fortnight"))
    args = question.api_args(q, NOW, ZONE)
    assert args["compare"] == ["yesterday"] and args["measures"] == ["in,entries"]
    # a combination the API refuses is kept: the page shows the API's reason
    minute = question.question_from_query({"grain": "minute", "group_by": "method"}, whitelist)
    assert minute.grain == "minute" and minute.group_by == ("method",)
    # an empty measures= is "every applicable measure", as the API without the parameter
    assert question.question_from_query({"measures": ""}, whitelist).measures == ()
    # from/to without a range is a custom range; a preset ignores them
    assert question.question_from_query({"from": "2026-08-01"}, whitelist).preset == "custom"
    assert question.question_from_query({"range": "7d", "from": "2026-08-01"}, whitelist).start is None


def test_presets_count_back_from_now_or_at(explore: Any) -> None:
    q = question.Question("gate")
    assert question.range_params(q._replace(preset="1h"), NOW, ZONE) == (
        "2026-09-01T08:30:15+08:00", "2026-09-01T09:30:15+08:00")
    assert question.range_params(q._replace(preset="today"), NOW, ZONE) == (
        "2026-09-01T00:00:00+08:00", "2026-09-01T09:30:15+08:00")
    assert question.range_params(q._replace(preset="30d"), NOW, ZONE)[0] == "2026-08-02T09:30:15+08:00"
    at = question.range_end("2026-08-15T12:00:00Z", ZONE)
    assert question.range_params(q._replace(preset="24h"), at, ZONE) == (
        "2026-08-14T20:00:00+08:00", "2026-08-15T20:00:00+08:00")
    assert question.range_end("2026-08-15 20:00", ZONE) == at  # a time without offset is the site's
    assert abs(question.range_end("not a time", ZONE) - datetime.now(UTC)) < timedelta(minutes=1)


def test_typed_times_become_the_apis_from_and_to(explore: Any) -> None:
    assert question.time_param("2026-09-01 08:00", ZONE) == "2026-09-01T08:00:00+08:00"
    assert question.time_param(" 2026-09-01 ", ZONE) == "2026-09-01"  # a date is local midnight
    assert question.time_param("2026-09-01T00:00:00Z", ZONE) == "2026-09-01T08:00:00+08:00"
    assert question.time_param("yesterday", ZONE) == "yesterday"  # for the API to refuse, saying why
    assert question.time_param("", ZONE) is None
    assert question.time_text("2026-09-01T00:00:00Z", ZONE) == "2026-09-01 08:00"
    assert question.time_text("2026-09-01", ZONE) == "2026-09-01"
    assert question.time_text(question.time_param("2026-09-01 08:05", ZONE), ZONE) == "2026-09-01 08:05"


def test_the_api_url_asks_the_api_the_same_question(explore: Any) -> None:
    q = question.Question("gate", "hour", ("in", "deny_rate"), ("gate_id",),
                         (("direction", ("in", "out")), ("gate_id", ("东门",))), "custom",
                         "2026-08-31 08:00", "2026-09-01")
    args = question.api_args(q, NOW, ZONE)
    url = question.api_url("gate", args, "csv")
    parts = urlsplit(url)
    assert parts.path == "/api/v1/query/gate"
    query = parse_qs(parts.query)
    assert query.pop("format") == ["csv"]
    assert query["direction"] == ["in", "out"] and query["from"] == ["2026-08-31T08:00:00+08:00"]
    spec = parse_spec("gate", query, ZONE, NOW.astimezone(UTC))  # the real parser, not a copy
    assert spec.measures == ("in", "deny_rate") and spec.group_by == ("gate_id",)
    assert spec.filters == (("direction", ("in", "out")), ("gate_id", ("东门",)))
    assert spec.start == datetime(2026, 8, 31, 0, tzinfo=UTC)
    assert spec.end == datetime(2026, 8, 31, 16, tzinfo=UTC)
    # no measures: the API's default (every applicable one), as the page says
    every = question.api_args(q._replace(measures=()), NOW, ZONE)
    assert "measures" not in every
    assert parse_spec("gate", every, ZONE, NOW.astimezone(UTC)).measures == (
        "attempts", "in", "out", "net_inflow", "denied", "deny_rate", "fever", "passes")
    # and a refused combination is refused by the API with a message to show
    with pytest.raises(QueryError, match="grain=hour"):
        parse_spec("gate", question.api_args(q._replace(grain="minute", group_by=("method",)), NOW, ZONE),
                   ZONE, NOW.astimezone(UTC))


def test_figures_as_the_table_writes_them(explore: Any) -> None:
    assert ans.number_text(1234567, "count") == "1,234,567"
    assert ans.number_text(-3, "count") == "-3"
    assert ans.number_text(0, "count") == "0"
    assert ans.number_text(None, "mean") == "—" and ans.number_text(None, "ratio") == "—"
    assert ans.number_text(0.047123, "ratio") == "4.71%"
    assert ans.number_text(7_500_000_000.0, "mean") == "7,500,000,000.00"
    assert ans.number_text(42, "max") == "42"
    assert ans.bucket_text("2026-09-01T08:00:00+08:00", "hour") == "2026-09-01 08:00"
    assert ans.bucket_text("2026-09-01", "day") == "2026-09-01"


def answer(grain: str = "hour", groups: int = 2, group_by: tuple[str, ...] = ("gate_id",)) -> dict[str, Any]:
    buckets = ["2026-09-01T08:00:00+08:00", "2026-09-01T09:00:00+08:00", "2026-09-01T10:00:00+08:00"]
    if grain == "day":
        buckets = ["2026-09-01", "2026-09-02", "2026-09-03"]
    rows = []
    for b in buckets:
        for g in range(groups):
            row: dict[str, Any] = {grain: b, "in": 10 * g + 1, "deny_rate": None if g == 0 else 0.25}
            row.update({dim: f"g{g}" for dim in group_by})
            rows.append(row)
    return {"domain": "gate", "grain": grain, "measures": ["in", "deny_rate"], "group_by": list(group_by),
            "rows": rows, "from": buckets[0], "to": buckets[-1], "zone": "Asia/Shanghai",
            "row_count": len(rows)}


def test_the_chart_draws_a_line_per_group_and_measure(explore: Any, whitelist: dict[str, Any]) -> None:
    fig, left_out = ans.figure(answer(), whitelist, "zh", "light", revision="q1")
    assert left_out == 0
    names = [tr["name"] for tr in fig["data"]]
    # each code the catalogue lacks shown as the code, marked
    assert names == [f"{unknown('g0')} · 入校", f"{unknown('g0')} · 拒绝率",
                     f"{unknown('g1')} · 入校", f"{unknown('g1')} · 拒绝率"]
    assert fig["data"][0]["x"] == ["2026-09-01 08:00:00", "2026-09-01 09:00:00", "2026-09-01 10:00:00"]
    assert fig["data"][2]["y"] == [11, 11, 11]
    assert fig["data"][1]["y"] == [None, None, None]  # no sample is a gap, not a zero
    assert fig["data"][1]["yaxis"] == "y2" and "yaxis" not in fig["data"][0]  # a ratio beside counts
    assert fig["layout"]["yaxis2"]["tickformat"] == ".0%" and fig["layout"]["uirevision"] == "q1"
    assert fig["layout"]["xaxis"]["tickvals"] == fig["data"][0]["x"]  # a label per hour, none between
    assert all(tr["type"] == "scatter" for tr in fig["data"])
    days, _ = ans.figure(answer("day"), whitelist, "en", "dark")
    assert all(tr["type"] == "bar" for tr in days["data"])
    assert days["data"][0]["name"] == f"{unknown('g0', 'en')} · Entries"
    plain, _ = ans.figure({**answer(groups=1, group_by=()), "measures": ["in"]}, whitelist, "en", "dark")
    assert [tr["name"] for tr in plain["data"]] == ["Entries"] and not plain["layout"]["showlegend"]


def test_gates_are_shown_by_name_largest_first_with_the_code_in_the_tooltip(
        explore: Any, whitelist: dict[str, Any]) -> None:
    counts = (("main-north", 5), ("main-south", 9), ("x-1", 1))
    rows = [{"day": d, "gate_id": g, "in": n, "deny_rate": None}
            for d in ("2026-09-01", "2026-09-02") for g, n in counts]
    a = {**answer("day"), "rows": rows, "row_count": len(rows)}
    dims = {d["name"]: d for d in whitelist["domains"]["gate"]["dimensions"]}
    ordered = ans.by_volume(a, lambda key: ans.value_label(dims["gate_id"], key[0], "zh"))
    assert [r["gate_id"] for r in ordered["rows"]] == ["main-south", "main-north", "x-1"] * 2
    box, _, _ = ans.table_part(ordered, whitelist, "zh", 0)
    cells = [tr.children[1].children for tr in box.children.children[2].children]
    assert [c.children for c in cells[:3]] == ["南门", "北门（学府大道）", unknown("x-1")]
    assert [c.title for c in cells[:3]] == ["main-south", "main-north", "x-1"]  # the code in the tooltip
    assert cells[2].className == "ex-unknown" and cells[0].className is None
    fig, _ = ans.figure(ordered, whitelist, "en", "light")
    assert [tr["name"] for tr in fig["data"]][::2] == [
        "South Gate · Entries", "North Gate (Xuefu Avenue) · Entries", f"{unknown('x-1', 'en')} · Entries"]


def test_the_chart_keeps_the_largest_groups(explore: Any, whitelist: dict[str, Any]) -> None:
    many = answer(groups=ans.CHART_GROUPS + 3)
    fig, left_out = ans.figure(many, whitelist, "en", "light")
    assert left_out == 3
    drawn = {tr["name"].split(" · ")[0] for tr in fig["data"]}
    assert drawn == {unknown(f"g{g}", "en") for g in range(3, ans.CHART_GROUPS + 3)}  # g0–g2 the smallest


def test_enumerations_are_translated_and_null_is_none(explore: Any, whitelist: dict[str, Any]) -> None:
    rows = [{"hour": "2026-09-01T08:00:00+08:00", "deny_reason": None, "in": 3, "deny_rate": 0.0},
            {"hour": "2026-09-01T08:00:00+08:00", "deny_reason": "expired", "in": 0, "deny_rate": 1.0}]
    a = {**answer(), "group_by": ["deny_reason"], "rows": rows, "row_count": 2}
    box, line, page = ans.table_part(a, whitelist, "zh", 0)
    text = str(box)
    assert "（无）" in text and "证件过期" in text and "100.00%" in text
    assert line == "第 1–2 行，共 2 行" and page == 0


def test_the_table_pages_through_every_row(explore: Any, whitelist: dict[str, Any]) -> None:
    a = answer(groups=40)  # 120 rows
    box, line, page = ans.table_part(a, whitelist, "en", 1)
    assert page == 1 and line == f"Rows {ans.PAGE_ROWS + 1}–{2 * ans.PAGE_ROWS} of 120"
    _, line, page = ans.table_part(a, whitelist, "en", 99)  # past the end: the last page
    assert page == 2 and line == f"Rows {2 * ans.PAGE_ROWS + 1}–120 of 120"
    head = box.children.children[1].children.children
    assert [th.children for th in head] == ["Hour", "Gate", "Entries", "Deny rate"]
    empty, line, _ = ans.table_part({**a, "rows": []}, whitelist, "en", 0)
    assert "No data in this range" in str(empty) and line == ""


def test_every_name_of_the_whitelist_has_a_label_in_each_language(whitelist: dict[str, Any]) -> None:
    keys = []
    for domain, entry in whitelist["domains"].items():
        keys.append(f"explore.domain.{domain}")
        keys += [f"explore.{kind}.{domain}.{m['name']}" for m in entry["measures"] for kind in ("m", "def")]
        for dim in entry["dimensions"]:
            keys.append(f"explore.d.{dim['name']}")
            keys += [f"explore.v.{dim['name']}.{v}" for v in dim["values"]]
    keys += [f"explore.{part}.{g}" for g in whitelist["grains"] for part in ("grain", "col")]
    keys += [f"explore.{part}.{c}" for c in question.COMPARE for part in ("compare", "cmp_col")]
    keys += [f"explore.month.{i}" for i in range(1, 13)] + [f"explore.weekday.{i}" for i in range(7)]
    missing = [k for k in keys if k not in CATALOGUE or set(CATALOGUE[k]) != set(LANGS)]
    assert missing == []


def test_the_grain_hint_says_the_limits(explore: Any, whitelist: dict[str, Any]) -> None:
    assert form.grain_hint(whitelist, "minute", "en") == "at most 2 days per question · kept for 63 days"
    assert form.grain_hint(whitelist, "hour", "zh") == "单次最长 92 天"


def test_picked_days_are_a_custom_range_to_the_midnight_after() -> None:
    from pages._explore import dates

    assert dates.picked_range("2026-12-01", "2026-12-03") == ("2026-12-01", "2026-12-04")
    assert dates.picked_range("2026-12-03T00:00:00", "2026-12-01") == ("2026-12-01", "2026-12-04")
    assert dates.picked_range("2026-12-01", None) is None
    assert ans.picker_dates("2026-12-01", "2026-12-04", ZONE) == ("2026-12-01", "2026-12-03")
    assert ans.picker_dates("2026-12-01T08:00:00+08:00", "2026-12-01T17:00:00+08:00", ZONE) == (
        "2026-12-01", "2026-12-01")
    words = dates.words("zh")
    assert words["months"][11] == "十二月" and words["days"][:2] == ["日", "一"]
    assert dates.words("en")["months"][11] == "December"


def test_a_compared_answer_has_its_columns_and_dashed_series(whitelist: dict[str, Any]) -> None:
    rows = [{"hour": f"2026-09-01T0{h}:00:00+08:00", "in": 5 + h, "in_cmp": 3, "in_diff": 2 + h,
             "deny_rate": 0.5, "deny_rate_cmp": None, "deny_rate_diff": None} for h in range(2)]
    a = {"domain": "gate", "grain": "hour", "measures": ["in", "deny_rate"], "group_by": [], "rows": rows,
         "compare": {"kind": "last_year", "from": "2025-09-01T00:00:00+08:00",
                     "to": "2025-09-01T02:00:00+08:00"}}
    box, _, _ = ans.table_part(a, whitelist, "zh", 0)
    head = [th.children for th in box.children.children[1].children.children]
    assert head == ["时间（小时）", "入校", "入校（去年同期）", "入校（差值）", "拒绝率",
                    "拒绝率（去年同期）", "拒绝率（差值）"]
    cells = [td.children for td in box.children.children[2].children[0].children]
    assert cells[1:4] == ["5", "3", "+2"] and cells[5:] == ["—", "—"]
    assert ans.diff_text(0.0123, "ratio", "en") == "+1.23 pp" and ans.diff_text(-3, "count", "zh") == "-3"
    fig, _ = ans.figure(a, whitelist, "en", "light")
    names = [(t["name"], t["line"].get("dash")) for t in fig["data"]]
    assert names[:2] == [("Entries", None), ("Entries · Same period last year", "dash")]


def test_the_grain_control_offers_the_domains_own_grains(explore: Any, whitelist: dict[str, Any]) -> None:
    """Enrollment answers days and seasons, the streams minutes, hours and days: the form
    offers exactly those; a link's grain the domain refuses stays on screen, marked."""
    assert whitelist["domains"]["enrollment"]["grains"] == ["day", "season"]
    assert whitelist["domains"]["enrollment"]["default_grain"] == "day"
    assert whitelist["domains"]["gate"]["default_grain"] == "hour"
    values = {d: [o["value"] for o in form.grain_options(whitelist, d, "zh")] for d in whitelist["domains"]}
    assert values["enrollment"] == ["day", "season"] and values["gate"] == ["minute", "hour", "day"]
    assert all("season" not in v for d, v in values.items() if d != "enrollment")
    assert [o["label"] for o in form.grain_options(whitelist, "enrollment", "en")] == ["Day", "Season"]
    # a shared link asking gates per season, or for a grain nobody knows: kept, for the refusal
    marked = form.grain_options(whitelist, "gate", "zh", "season")[-1]
    assert marked == {"label": "招生季 ?", "value": "season"}
    assert form.grain_options(whitelist, "gate", "en", "week")[-1] == {"label": "week ?", "value": "week"}
    assert len(form.grain_options(whitelist, "gate", "en", "hour")) == 3
    season = question.question_from_query({"domain": "gate", "grain": "season", "range": "7d"}, whitelist)
    assert season.grain == "season"  # not rewritten: the API says which grains gates take
    with pytest.raises(QueryError, match="minute, hour, day"):
        parse_spec("gate", question.api_args(season, NOW, ZONE), ZONE, NOW.astimezone(UTC))


def test_a_link_without_grain_or_range_takes_the_domains_defaults(explore: Any,
                                                                  whitelist: dict[str, Any]) -> None:
    q = question.question_from_query({"domain": "enrollment"}, whitelist)
    assert (q.grain, q.preset) == ("day", "30d")
    seasons = question.question_from_query({"domain": "enrollment", "grain": "season"}, whitelist)
    assert seasons.preset == "season"
    minutes = question.question_from_query({"domain": "network", "grain": "minute"}, whitelist)
    assert minutes.preset == "1h"
    spec = parse_spec("enrollment", question.api_args(q, NOW, ZONE), ZONE, NOW.astimezone(UTC))
    assert spec.grain == "day" and spec.start == datetime(2026, 8, 2, tzinfo=ZONE).astimezone(UTC)


def test_the_season_preset_is_the_admission_year_so_far(explore: Any) -> None:
    q = question.Question("enrollment", "season", preset="season")
    assert question.range_params(q, NOW, ZONE) == ("2026-01-01T00:00:00+08:00", "2026-09-01T09:30:15+08:00")
    spec = parse_spec("enrollment", question.api_args(q, NOW, ZONE), ZONE, NOW.astimezone(UTC))
    assert (spec.start, spec.end) == (datetime(2026, 1, 1, tzinfo=ZONE), datetime(2027, 1, 1, tzinfo=ZONE))
    at = question.range_end("2025-08-15", ZONE)  # a replayed moment: its own season
    assert question.range_params(q, at, ZONE)[0] == "2025-01-01T00:00:00+08:00"


def test_switching_domain_takes_its_default_grain_only_when_it_must(explore: Any,
                                                                    whitelist: dict[str, Any]) -> None:
    gate = question.Question("gate", "hour", ("in",), ("gate_id",), (("direction", ("in",)),), "7d",
                             compare="last_year")
    enrollment = question.for_domain(gate, "enrollment", whitelist)
    assert (enrollment.grain, enrollment.preset, enrollment.compare) == ("day", "30d", "last_year")
    assert enrollment.measures == question.default_measures(whitelist["domains"]["enrollment"])
    assert enrollment.group_by == () and enrollment.filters == ()
    # what the switch asks, the API answers (the real parser, no refusal)
    spec = parse_spec("enrollment", question.api_args(enrollment, NOW, ZONE), ZONE, NOW.astimezone(UTC))
    assert spec.grain == "day" and spec.measures == enrollment.measures
    seasons = enrollment._replace(grain="season", preset="season")
    back = question.for_domain(seasons, "service", whitelist)
    assert (back.grain, back.preset, back.start, back.end) == ("hour", "24h", None, None)
    parse_spec("service", question.api_args(back, NOW, ZONE), ZONE, NOW.astimezone(UTC))
    # a grain the new domain takes is kept, and so is the range the analyst set
    days = question.Question("gate", "day", preset="custom", start="2026-08-01", end="2026-08-15")
    kept = question.for_domain(days, "enrollment", whitelist)
    assert (kept.grain, kept.preset, kept.start, kept.end) == ("day", "custom", "2026-08-01", "2026-08-15")
    assert question.for_domain(seasons, "enrollment", whitelist).grain == "season"


def test_lowest_and_highest_keep_their_decimals(explore: Any, whitelist: dict[str, Any]) -> None:
    """A minimum score of 612.5 is written 612.5 in the table and the chart's hover; counts
    stay whole, means two places, ratios percent."""
    assert ans.number_text(612.5, "min") == "612.5" and ans.number_text(688.25, "max") == "688.25"
    assert ans.number_text(612.0, "min") == "612" and ans.number_text(7.5e9, "max") == "7,500,000,000"
    assert ans.number_text(612.1 + 1e-12, "min") == "612.1"  # a float's last bits are not a decimal
    assert ans.number_text(1234, "count") == "1,234" and ans.number_text(640.4567, "mean") == "640.46"
    assert ans.diff_text(1.5, "min", "en") == "+1.5" and ans.diff_text(-2.0, "max", "en") == "-2"
    rows = [{"season": "2025", "score_min": 598.5, "score_avg": 640.4567, "score_max": 688.0,
             "admitted": 120},
            {"season": "2026", "score_min": 612.5, "score_avg": 651.25, "score_max": 690.5, "admitted": 130}]
    a = {"domain": "enrollment", "grain": "season", "group_by": [], "rows": rows, "row_count": 2,
         "measures": ["score_min", "score_avg", "score_max", "admitted"]}
    box, _, _ = ans.table_part(a, whitelist, "zh", 0)
    cells = [[td.children for td in tr.children] for tr in box.children.children[2].children]
    assert cells == [["2025", "598.5", "640.46", "688", "120"], ["2026", "612.5", "651.25", "690.5", "130"]]
    fig, _ = ans.figure(a, whitelist, "en", "light")
    hover = {tr["name"]: tr["hovertemplate"] for tr in fig["data"]}
    assert all(":,.6~f}" in hover[n] for n in ("Lowest score", "Highest score", "Admitted"))
    assert ":,.2f}" in hover["Average score"]
    # a season is an admission year: bars labelled 2025, 2026 (not "01-01 00:00")
    assert all(tr["type"] == "bar" for tr in fig["data"]) and fig["data"][0]["x"] == ["2025", "2026"]
    axis = fig["layout"]["xaxis"]
    assert axis["tickformat"] == "%Y" and axis["tickvals"] == ["2025", "2026"]


def test_the_excel_file_keeps_the_decimals_of_a_score() -> None:
    """The download holds the full value, and shows it: 612.5, not 613 (a whole peak keeps
    the thousands format; the CSV writes values as stored)."""
    import io

    import polars as pl
    from openpyxl import load_workbook

    from ioc_app.query_file import xlsx_bytes

    spec = parse_spec("enrollment", {"grain": ["season"], "measures": ["score_min,score_max,admitted"],
                                     "from": ["2025-01-01"]}, ZONE, NOW.astimezone(UTC))
    frame = pl.DataFrame({"season": ["2025", "2026"], "score_min": [598.0, 612.5],
                          "score_max": [688.25, None], "admitted": [120, 130]})
    data = xlsx_bytes(frame, spec, ZONE, NOW, "/api/v1/query/enrollment", "zh")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [["2025", 598, 688.25, 120], ["2026", 612.5, None, 130]]
    formats = [[c.number_format for c in row[1:]] for row in sheet.iter_rows(min_row=2)]
    assert formats[0] == ["#,##0", "#,##0.0#####", "#,##0"] and formats[1][0] == "#,##0.0#####"
