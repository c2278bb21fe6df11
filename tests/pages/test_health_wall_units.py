"""The pieces of /health and /wall that need no server: formatting, stream states, the
screens table, and how the wall turns a page's layout into a slide."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dash
import pytest

from layouts import ids
from layouts.live import frame
from tests.pages.registry import pages_app


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The two page modules, imported under an app that uses pages (as the server does), and
    forgotten afterwards: the app factory imports them again under its own module names, and
    dash's registries are global to the process."""
    with pages_app(tmp_path_factory.mktemp("no_pages")):
        from pages import health, wall

        def flowing(lang: str = "zh", theme: str = "dark", fit: str = "contain", screen: str | None = None,
                    **query: Any) -> Any:
            return frame("fake", "health.title", [dash.html.Div(query.get("marker", ""), id="fake-marker")],
                         lang=lang, theme=theme, fit=fit, screen=screen)

        dash.register_page("tests.pages.fake_flow", path="/fake-flow", title="IOC", layout=flowing)
        yield health, wall


def test_durations_and_ages_read_as_a_wall_reads_them(pages: Any) -> None:
    health, _ = pages
    assert health.duration(None, "zh") == "—"
    assert health.duration(42.4, "zh") == "42秒" and health.duration(42.4, "en") == "42 s"
    assert health.duration(600, "en") == "10 min" and health.duration(3 * 3600, "zh") == "3小时"
    assert health.duration(3 * 86_400, "en") == "3 d"
    assert health.ago(120, "en") == "2 min ago" and health.ago(5, "zh") == "5秒前"


def test_stream_states(pages: Any) -> None:
    health, _ = pages
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    recent = (now - timedelta(minutes=2)).isoformat()
    assert health.stream_state({"stale": False, "last_event_ts": recent, "stale_after_s": 900}, now) == "ok"
    assert health.stream_state({"stale": True, "last_event_ts": None, "stale_after_s": 900}, now) == "stale"
    # seasonal streams are never stale: quiet out of season, live when events come in
    old = (now - timedelta(days=60)).isoformat()
    seasonal = {"stale": False, "stale_after_s": None}
    assert health.stream_state({**seasonal, "last_event_ts": old}, now) == "seasonal"
    assert health.stream_state({**seasonal, "last_event_ts": recent}, now) == "ok"
    assert health.stream_state({}, now) == "none"


def test_silent_screens_come_first_and_in_red(pages: Any) -> None:
    health, _ = pages
    screens = [{"screen": "a-tablet", "page": "gates", "version": 7, "heap_bytes": 21e6, "age_s": 3,
                "silent": False},
               {"screen": "wall-2", "page": "overview", "version": 5, "heap_bytes": None, "age_s": 400,
                "silent": True}]
    rows = health.screens_table(screens, "en").children.children[2].children
    assert [r.children[0].children for r in rows] == ["wall-2", "a-tablet"]
    assert rows[0].className == "hw-silent" and rows[1].className is None
    assert rows[0].children[5].children.children == "Silent"
    assert rows[0].children[4].children == "7 min ago" and rows[1].children[3].children == "21 MB"
    many = [{**screens[0], "screen": f"s{i}"} for i in range(9)]
    more = health.screens_table(many, "zh").children.children[2].children[-1]
    assert more.children.children == "另有 3 项"  # six rows fit a wall tile
    assert health.screens_table([], "en").children == "No screen has reported yet"


def test_wall_slide_is_the_canvas_with_the_nightly_reload(pages: Any) -> None:
    _, wall = pages
    opts = {"lang": "en", "theme": "light", "fit": "width", "screen": "wall-3"}
    slide, title = wall.render("/fake-flow?marker=hello", opts, "04:00")
    assert title == "Data pipeline & quality" and slide.className == "wall-slide"
    nodes = list(wall._walk(slide))
    classes = " ".join(str(getattr(n, "className", "") or "") for n in nodes)
    assert "ioc-flow" not in classes.split() and "ioc-canvas" in classes.split()  # a wall never scrolls
    assert "ioc-theme-light" in classes.split()  # …and keeps the theme's colours
    [config] = [n for n in nodes if getattr(n, "id", None) == ids.CONFIG]
    assert config.data["reload_at"] == "04:00" and config.data["screen"] == "wall-3"
    assert [n.children for n in nodes if getattr(n, "id", None) == "fake-marker"] == ["hello"]
    # a page that raises stays out: the wall keeps what it shows (see wall.show)
    with pytest.raises(StopIteration):
        wall.render("/no-such-page", opts, None)


def test_the_wall_playlist_file_ships_with_the_pages(pages: Any) -> None:
    from ioc_app.settings import DEFAULT_WALL
    from ioc_app.wall import load_wall

    routes = {p.stem for p in (Path(__file__).resolve().parents[2] / "pages").glob("*.py")}
    for path in load_wall(DEFAULT_WALL).pages_on(datetime(2026, 7, 15).date()):
        name = {"/": "overview"}.get(path, path.strip("/"))
        assert name in routes, path


def test_the_site_catalogue_in_force_reads_as_the_ops_team_needs(pages: Any) -> None:
    health, _ = pages
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    info = {"path": "/etc/ioc/site.toml", "version": "f749dabc85670a21",
            "loaded_at": now - timedelta(hours=2), "versions": 3,
            "counts": {"campus": 3, "gate": 11, "major": 58}}

    def text(lang: str, **change: Any) -> list[str]:
        row = health.site_row({**info, **change}, lang, zone, now)
        return [row[0].children, row[1].children, row[2].children,
                " · ".join(c.children for c in row[3].children)]

    assert text("zh") == ["站点目录", "site.toml · 版本 f749dabc · 14:00:00 载入", "历史保留旧名称（3 版）",
                          "校区 3 · 校门 11 · 专业 58"]
    assert text("en", loaded_at=None, versions=None) == [
        "Site catalogue", "site.toml · v. f749dabc · not stored yet (run migrate)",
        "history keeps old names (versions: 1)", "3 campuses · 11 gates · 58 majors"]
