"""A board's preview in real headless Chromium: the file's problems listed beside the board,
and a board whose file broke after it was shown kept on screen, marked — then the fixed file
shown, all without restarting the server."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import product_env
from tests.pages.browsing import serving

pytestmark = pytest.mark.browser

BOARD = """\
title = {{ zh = "{zh}", en = "Preview" }}
[[tile]]
id = "today"
kind = "{kind}"
title = {{ zh = "今日入校", en = "Entries today" }}
at = [1, 1]
size = [4, 2]
[[tile.item]]
label = {{ zh = "今日入校", en = "Entries today" }}
path = "gate.today.in"
"""


def save(path: Path, text: str) -> None:
    """Write ``text`` with a modification time surely later than the file's last one."""
    path.write_text(text, encoding="utf-8")
    later = time.time_ns() + 2 * 10**9
    os.utime(path, ns=(later, later))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("boards-preview")
    folder = tmp / "boards"
    folder.mkdir()
    save(folder / "desk.toml", BOARD.format(zh="值班台", kind="number"))
    with serving(product_env(tmp, IOC_BOARDS=str(folder))) as srv:
        srv.folder = folder  # type: ignore[attr-defined]
        yield srv


def opened(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
    page.errors = errors
    return page


def test_preview_lists_the_problems_and_keeps_the_last_good_board(
    server: Any, browser: Any, shots: Path
) -> None:
    path = server.folder / "desk.toml"
    page = opened(browser, f"{server.url}/boards/desk?preview=1")
    assert page.locator(".boards-problems").inner_text().strip().endswith("文件没有问题。")
    assert page.locator(".boards-stale-mark").count() == 0
    # broken after it was shown: the board stays, marked; the preview says what to change
    save(path, BOARD.format(zh="值班台", kind="nummber"))
    page.reload(wait_until="networkidle")
    page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
    page.screenshot(path=str(shots / "preview-broken.png"))
    problems = page.locator(".boards-problem").all_inner_texts()
    assert problems == [
        f"{path.name}:4: unknown tile kind 'nummber'; use one of: number, trend, bar, ranking, donut, "
        "heatmap, china_map, table, progress, funnel, alerts, text"
    ]
    assert page.locator(".boards-stale-mark").is_visible()
    assert page.locator("[data-ioc-path='gate.today.in']").count() == 1  # the last good board
    # a screen without preview: the board and the mark, no list of problems
    wall = opened(browser, f"{server.url}/boards/desk")
    assert wall.locator(".boards-stale-mark").is_visible() and wall.locator(".boards-problems").count() == 0
    # fixed: the new version, unmarked
    save(path, BOARD.format(zh="新值班台", kind="number"))
    wall.reload(wait_until="networkidle")
    assert wall.locator(".ioc-title").first.inner_text() == "新值班台"
    assert wall.locator(".boards-stale-mark").count() == 0
    assert page.errors == [] and wall.errors == []
