"""The admissions and service-hall figures without a browser: before the first snapshot, out of
season, and the update that carries only values (it must rebuild what the layout drew)."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import dash
import pytest
from dash import no_update

from layouts.parts import View

SNAP: dict[str, Any] = {
    "version": 7,
    "enrollment": {
        "year": 2026, "plan": 30, "admitted": 25, "completion": 25 / 30,
        "by_province": [{"province": "42", "name": "湖北", "name_en": "Hubei", "plan": 20, "admitted": 18,
                         "completion": 0.9, "min_score": 550.0, "avg_score": 580.25, "max_score": 610.0},
                        {"province": "11", "name": "北京", "name_en": "Beijing", "plan": 10, "admitted": 7,
                         "completion": 0.7, "min_score": 600.0, "avg_score": 620.0, "max_score": 640.0}],
        "by_batch": [{"batch": "regular", "plan": 30, "admitted": 25, "completion": 25 / 30}],
        "by_category": [{"category": "general", "plan": 28, "admitted": 25, "completion": 25 / 28},
                        {"category": "art", "plan": 2, "admitted": 0, "completion": 0.0}],
        "by_major": [{"major": "080901", "name": "计算机科学与技术", "name_en": "Computer Science",
                      "college": "cs", "plan": 30, "admitted": 25, "completion": 25 / 30}],
        "checkin": {"arrived": 1, "paid": 2, "dorm": 3, "registered": 4},
        "admitted_by_day": [{"day": 0, "date": "2026-07-01", "admitted": 5, "last_year": 4},
                            {"day": 1, "date": "2026-07-02", "admitted": None, "last_year": 9}],
        "checkin_by_day": [{"date": "2026-09-01", "arrived": 10, "paid": 9, "dorm": 7, "registered": 4}],
    },
    "service": {
        "top_services": [{"service_id": "a", "name": "甲", "name_en": "A", "submitted": 3}],
        "backlog_by_department": [{"department": "d", "name": "部", "name_en": "Dept", "backlog": 2}],
        "hourly": [{"hour": f"2026-11-22T{h:02d}:00:00+08:00", "submitted": h if h < 10 else None,
                    "completed": 1 if h < 10 else None, "typical_submitted": 2.5, "typical_completed": 1.5,
                    "calls": 2 if h < 10 else None, "answered": 1, "answer_rate": 0.5, "avg_wait_s": 20.0}
                   for h in range(24)],
    },
}


@pytest.fixture(scope="module")
def pages() -> Any:
    """The page modules, imported without an app (``register_page`` needs one) and reading
    the snapshot this test hands them; Dash's global callback registry and ``sys.modules`` are
    left as they were, so an app built later in the session registers the pages cleanly."""
    from dash import _callback

    from ioc_app import read

    saved = (dash.register_page, read.snapshot_for, list(_callback.GLOBAL_CALLBACK_LIST),
             dict(_callback.GLOBAL_CALLBACK_MAP), read.min_cell)
    names = [n for n in ("pages.enrollment", "pages.service") if n not in sys.modules]
    dash.register_page = lambda *a, **k: None  # type: ignore[assignment]
    state: dict[str, Any] = {"snap": SNAP}
    read.snapshot_for = lambda at: state["snap"]  # type: ignore[assignment]
    read.min_cell = lambda: 3  # type: ignore[assignment]
    try:
        yield (importlib.import_module("pages.enrollment"), importlib.import_module("pages.service"), state)
    finally:
        dash.register_page, read.snapshot_for, read.min_cell = saved[0], saved[1], saved[4]
        _callback.GLOBAL_CALLBACK_LIST[:] = saved[2]
        _callback.GLOBAL_CALLBACK_MAP.clear()
        _callback.GLOBAL_CALLBACK_MAP.update(saved[3])
        for name in names:
            sys.modules.pop(name, None)


@pytest.mark.parametrize("snap", [None, {"version": 1, "enrollment": {}, "service": {}}])
def test_figures_before_any_data(pages: Any, snap: dict[str, Any] | None) -> None:
    enrollment, service, _ = pages
    for theme in ("dark", "light"):
        assert len(enrollment.china_map(None, theme=theme)["data"]) == 34
        bars = enrollment.progress_figure(snap, "by_batch", "batch", theme, "zh")
        assert bars["data"][1]["x"] == [] and bars["layout"]["xaxis"]["range"] == [0, 1.0]
        assert enrollment.scores_figure(snap, theme, "en")["data"][0]["x"] == []
        assert enrollment.season_figure(snap, theme, "zh")["data"][0]["y"] == []
        funnel = enrollment.checkin_figure(snap, theme, "zh")["data"][0]
        assert funnel["x"] == [0, 0, 0, 0] and "percent" not in funnel["texttemplate"]  # no "NaN%"
        assert enrollment.checkin_days_figure(snap, theme, "zh")["data"][0]["x"] == []
        assert service.hourly_figure(snap, theme, "zh")["data"][0]["x"] == []
        assert service.calls_figure(snap, theme, "en")["data"][1]["y"] == []
    assert enrollment.major_rows(snap, "zh") == [] and service.top_rows(snap, "en") == []
    for live in (enrollment.LIVE, service.LIVE):  # every part renders before any data too
        assert no_update not in live.render([p.name for p in live.parts], snap, View())


def test_figures_from_a_snapshot(pages: Any) -> None:
    enrollment, service, _ = pages
    bars = enrollment.progress_figure(SNAP, "by_category", "category", "dark", "en")
    assert bars["layout"]["yaxis"]["ticktext"] == ["General", "Arts"]
    assert bars["layout"]["yaxis2"]["ticktext"] == ["25 / 28 · 89.3%", "0 / 2 · 0.0%"]
    assert enrollment.funnel_values(SNAP) == [10, 9, 7, 4]  # reached at least each step
    scores = enrollment.scores_figure(SNAP, "dark", "en")
    assert scores["data"][0]["x"] == ["Hubei", "Beijing"] and scores["data"][0]["y"] == [60.0, 40.0]
    assert scores["data"][1]["y"] == [580.2, 620.0]
    assert [(r.label, r.value) for r in enrollment.major_rows(SNAP, "zh")] == [("计算机科学与技术", 25)]
    hourly = service.hourly_figure(SNAP, "dark", "zh")
    assert hourly["data"][0]["x"][8] == "08:00" and hourly["data"][0]["y"][8] == 8
    assert hourly["layout"]["xaxis"]["tickvals"] == ["00:00", "03:00", "06:00", "09:00", "12:00", "15:00",
                                                     "18:00", "21:00"]


def operations(patch: Any) -> dict[str, Any]:
    return {".".join(map(str, op["location"])): op["params"]["value"]
            for op in patch.to_plotly_json()["operations"]}


def test_update_sends_only_changed_parts_and_only_values(pages: Any) -> None:
    enrollment, service, state = pages
    cfg = {"lang": "zh", "at": None}
    spec = {"version": 7, "theme": "dark"}
    names = [p.name for p in enrollment.LIVE.parts]
    assert enrollment.LIVE.refresh(None, cfg, spec) == (no_update,) * len(names)  # nothing moved
    assert enrollment.LIVE.refresh({"parts": ["nonsense"]}, cfg, spec) == (no_update,) * len(names)

    changed = json.loads(json.dumps(SNAP))
    changed["enrollment"]["by_batch"][0]["admitted"] = 30
    changed["enrollment"]["by_batch"][0]["completion"] = 1.0
    state["snap"] = changed
    try:
        out = dict(zip(names, enrollment.LIVE.refresh({"parts": ["batch"], "version": 8}, cfg, spec),
                       strict=True))
        assert [k for k, v in out.items() if v is not no_update] == ["batch"]
        ops = operations(out["batch"])
        assert ops["data.1.x"] == [1.0] and ops["layout.yaxis2.ticktext"] == ["30 / 30 · 100.0%"]
        assert not any(k.startswith("layout.font") or "marker" in k for k in ops)  # values, not looks

        changed["service"]["top_services"][0]["submitted"] = 4
        top, departments, hourly, calls = service.LIVE.refresh({"parts": ["top"]}, cfg, spec)
        assert top is not no_update and departments is hourly is calls is no_update
    finally:
        state["snap"] = SNAP


def test_each_part_names_the_snapshot_paths_it_is_drawn_from(pages: Any) -> None:
    """A part redraws only when its paths move (the browser compares them): a part whose
    drawing changes with a snapshot edit must name a path that edit touched."""
    enrollment, service, state = pages
    view = View()
    for live, edits in ((enrollment.LIVE, {("enrollment", "by_batch"): [], ("enrollment", "by_major"): [],
                                           ("enrollment", "by_province"): [], ("enrollment", "checkin"): {},
                                           ("enrollment", "admitted_by_day"): [],
                                           ("enrollment", "checkin_by_day"): []}),
                        (service.LIVE, {("service", "top_services"): [], ("service", "hourly"): [],
                                        ("service", "backlog_by_department"): []})):
        before = live.render([p.name for p in live.parts], SNAP, view)
        for (sec, key), empty in edits.items():
            changed = json.loads(json.dumps(SNAP))
            changed[sec][key] = empty
            after = live.render([p.name for p in live.parts], changed, view)
            for part, old, new in zip(live.parts, before, after, strict=True):
                if json.dumps(plotly_json(old), sort_keys=True, default=str) != json.dumps(
                        plotly_json(new), sort_keys=True, default=str):
                    assert f"{sec}.{key}" in part.paths, (part.name, key)
    assert state["snap"] is SNAP


def plotly_json(value: Any) -> Any:
    """A part's value as plain data (a Patch's operations, components as their JSON)."""
    if hasattr(value, "to_plotly_json"):
        return plotly_json(value.to_plotly_json())
    if isinstance(value, dict):
        return {k: plotly_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plotly_json(v) for v in value]
    return value


def test_the_layout_carries_what_its_parts_were_drawn_from(pages: Any) -> None:
    """The browser compares the first snapshot it gets with the values the layout was drawn
    from (``drawn``): a layout one version behind redraws only the parts that moved."""
    from layouts.parts import spec_id, walk

    enrollment, service, _ = pages
    for live in (enrollment.LIVE, service.LIVE):
        spec = next(s.data for s in live.stores(SNAP, View()) if s.id == spec_id(live.page))
        paths = {path for p in live.parts for path in p.paths}
        assert spec["version"] == 7 and set(spec["drawn"]) == paths
        assert all(spec["drawn"][path] == walk(SNAP, path) for path in paths)
        assert any(spec["drawn"].values())  # the test's snapshot has figures for these paths
        before = next(s.data for s in live.stores(None, View()) if s.id == spec_id(live.page))
        assert before["version"] is None and set(before["drawn"]) == paths
        assert all(v is None for v in before["drawn"].values())
    stores = enrollment.LIVE.stores(SNAP, View())
    drawn = next(s.data for s in stores if s.id == spec_id("enrollment"))["drawn"]
    assert drawn["enrollment.by_province"][0]["name"] == "湖北"  # once, though four parts draw from it
