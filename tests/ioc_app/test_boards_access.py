"""Who may open a board: the roles its file names (a role including everything one of them may
do counts), a paired screen its playlist's boards; nobody else sees it listed, rendered or
answered — its page, its callbacks and its questions alike."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from ioc_app.access import EXTENSION
from ioc_app.app import create_app
from ioc_app.migrate import migrate
from ioc_app.settings import Settings
from ioc_app.storage import Store
from tests.conftest import route_body, signed_in

BOARD = """\
title = {{ zh = "{zh}", en = "{en}" }}
roles = {roles}
[[tile]]
id = "rank"
kind = "ranking"
title = {{ zh = "访客排行", en = "Visitors by gate" }}
at = [1, 1]
size = [6, 3]
catalogue = "gate"
[tile.query]
domain = "gate"
measures = ["in"]
group_by = ["gate_id"]
range = "today"
grain = "day"
"""


@pytest.fixture(scope="module")
def app(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    tmp = tmp_path_factory.mktemp("boards-access")
    folder = tmp / "boards"
    folder.mkdir()
    (folder / "lobby.toml").write_text(
        BOARD.format(zh="大厅屏", en="Lobby", roles='["viewer"]'), encoding="utf-8"
    )
    (folder / "admissions-desk.toml").write_text(
        BOARD.format(zh="招办专屏", en="Admissions desk", roles='["admissions"]'), encoding="utf-8"
    )
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    settings = Settings(
        clickhouse_url=f"chdb://{engine_path}",
        demo=False,
        tokens_file=str(tmp / "tokens.toml"),
        boards=str(folder),
    )
    dash_app = create_app(settings, store=store, background=False)
    yield dash_app
    dash_app.server.extensions["ioc"].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def rendered(client: object, path: str) -> str:
    r = client.post("/_dash-update-component", json=route_body(path))  # type: ignore[attr-defined]
    assert r.status_code == 200, (path, r.status_code)
    return orjson.dumps(orjson.loads(r.data)).decode()


def questions(client: object, slug: str) -> object:
    """The question tiles' callback, as a screen of board ``slug`` asks it every few seconds."""
    body = {
        "output": '..boards-qheld.data...{"tile":["ALL"],"type":"boards-query"}.children..',
        "outputs": [
            {"id": "boards-qheld", "property": "data"},
            [{"id": {"tile": "rank", "type": "boards-query"}, "property": "children"}],
        ],
        "inputs": [{"id": "boards-qtick", "property": "n_intervals", "value": 1}],
        "state": [
            {"id": "boards-spec", "property": "data", "value": {"slug": slug, "theme": "dark"}},
            {"id": "boards-qheld", "property": "data", "value": {}},
            {"id": "ioc-live-config", "property": "data", "value": {"lang": "en"}},
        ],
        "changedPropIds": ["boards-qtick.n_intervals"],
    }
    return client.post("/_dash-update-component", json=body)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "roles,lobby,desk",
    [
        (("viewer",), True, False),
        (("analyst",), True, False),  # an analyst may do all a viewer may: the viewer board opens
        (("admissions",), True, True),
        (("secadmin",), False, False),  # no page at all
    ],
)
def test_a_board_opens_for_its_roles_only(
    app: object, roles: tuple[str, ...], lobby: bool, desk: bool
) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=roles, name="p_" + "_".join(roles))
    if not lobby and not desk:
        r = client.post("/_dash-update-component", json=route_body("/boards"))
        assert r.status_code == 403
        return
    listing = rendered(client, "/boards")
    assert ("/boards/lobby" in listing) is lobby and ("/boards/admissions-desk" in listing) is desk
    assert ("招办专屏" in listing) is desk
    for slug, allowed in (("lobby", lobby), ("admissions-desk", desk)):
        page = rendered(client, f"/boards/{slug}")
        assert ("访客排行" in page) is allowed, slug
        assert ("没有这块大屏" in page) is not allowed  # refused like a board that does not exist
        answer = questions(client, slug)
        # the question answered (no visitors yet: the board says so), or nothing at all
        assert answer.status_code == 200
        assert ("No data yet" in answer.data.decode()) is allowed, answer.data[:300]


def test_a_screen_opens_the_boards_of_its_playlist(app: object) -> None:
    access = app.server.extensions[EXTENSION]  # type: ignore[attr-defined]
    screen = app.server.test_client()  # type: ignore[attr-defined]
    code = access.screens.offer("lobby-wall", ("/boards/lobby",))
    assert screen.get(f"/wall/pair?code={code}").status_code == 303
    assert "访客排行" in rendered(screen, "/boards/lobby")
    refused = screen.post("/_dash-update-component", json=route_body("/boards/admissions-desk"))
    assert refused.status_code == 403
    assert screen.post("/_dash-update-component", json=route_body("/gates")).status_code == 403
    assert "No data yet" in questions(screen, "lobby").data.decode()
    assert "No data yet" not in questions(screen, "admissions-desk").data.decode()


def test_a_broken_file_keeps_its_board_on_screen_marked_and_the_preview_lists_why(app: object) -> None:
    folder = Path(app.server.extensions["ioc"].settings.boards)  # type: ignore[attr-defined]
    path = folder / "changing.toml"
    path.write_text(BOARD.format(zh="会变的屏", en="Changing", roles='["viewer"]'), encoding="utf-8")
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=("viewer",), name="p_changing")
    page = rendered(client, "/boards/changing")
    assert "会变的屏" in page and "显示的是上一个正确版本" not in page
    broken = BOARD.format(zh="会变的屏", en="Changing", roles='["viewer"]').replace(
        'kind = "ranking"', 'kind = "pie"'
    )
    path.write_text(broken, encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    page = rendered(client, "/boards/changing")
    assert "访客排行" in page and "显示的是上一个正确版本" in page  # the last good board, marked
    assert "unknown tile kind" not in page  # the problems are for the preview
    r = client.post("/_dash-update-component", json=route_body("/boards/changing", "?preview=1"))
    preview = orjson.dumps(orjson.loads(r.data)).decode()
    assert "changing.toml:5: unknown tile kind 'pie'" in preview and "访客排行" in preview
    assert str(path.parent) not in preview  # the server's folders are not shown
    listing = rendered(client, "/boards")
    assert "/boards/changing" in listing and "文件有误，显示上一版本" in listing


def test_a_wall_rotates_through_boards(app: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=("viewer",), name="p_wall")
    r = client.post(
        "/_dash-update-component",
        json=route_body("/wall", "?pages=/boards/lobby,/boards/admissions-desk,/gates"),
    )
    wall = orjson.dumps(orjson.loads(r.data)).decode()
    # the board first, as the canvas; the board the viewer may not open is left out
    assert '"data-wall-pages":"/boards/lobby,/gates"' in wall and "访客排行" in wall


def test_a_board_replays_at_a_time(app: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=("viewer",), name="p_replay")
    r = client.post("/_dash-update-component", json=route_body("/boards/lobby", "?at=2026-03-02T10:00"))
    page = orjson.dumps(orjson.loads(r.data)).decode()
    # the question asked as of that time (nothing then: the tile says so), the frame in replay
    assert r.status_code == 200 and "访客排行" in page and "暂无数据" in page
    assert '"at":"2026-03-02T10:00"' in page
    bad = client.post("/_dash-update-component", json=route_body("/boards/lobby", "?at=yesterday-ish"))
    assert bad.status_code == 200 and "ioc-bad-at" in bad.data.decode()


def live_links(client: object) -> object:
    """The snapshot tiles' callback of ``/`` (the overview board), asked to redraw the link bars
    under the network tile's cards."""
    body = {
        "output": '..boards-drawn.data...{"tile":["ALL"],"type":"boards-live"}.children..',
        "outputs": [
            {"id": "boards-drawn", "property": "data"},
            [{"id": {"tile": "network", "type": "boards-live"}, "property": "children"}],
        ],
        "inputs": [{"id": "boards-changed", "property": "data", "value": {"tiles": ["network"]}}],
        "state": [
            {"id": "boards-spec", "property": "data",
             "value": {"slug": "overview", "home": True, "theme": "dark"}},
            {"id": "ioc-live-config", "property": "data", "value": {"lang": "en"}},
        ],
        "changedPropIds": ["boards-changed.data"],
    }
    return client.post("/_dash-update-component", json=body)  # type: ignore[attr-defined]


@pytest.mark.parametrize("roles,allowed", [(("viewer",), True), (("secadmin",), False)])
def test_the_front_page_is_the_overview_board_with_the_rule_of_the_front_page(
    app: object, roles: tuple[str, ...], allowed: bool
) -> None:
    """``/`` shows the overview board (the shipped one: this boards folder has none) to whoever
    may open the cockpits; the former Python page stays at /overview/classic under the same rule."""
    client = app.server.test_client()  # type: ignore[attr-defined]
    signed_in(app, client, roles=roles, name="front_" + "_".join(roles))
    for path in ("/", "/overview/classic"):
        r = client.post("/_dash-update-component", json=route_body(path))
        assert (r.status_code == 200) is allowed, (path, r.status_code)
    if allowed:
        front = rendered(client, "/")
        assert "boards-grid" in front and "校园门禁 · 今日" in front and "运营总览" in front
        assert '"page":"overview"' in front  # its screens report the overview, as always
        classic = rendered(client, "/overview/classic")
        assert "overview-graph-links" in classic and "boards-grid" not in classic


def test_a_screen_paired_with_the_front_page_runs_the_overview_board_only(app: object) -> None:
    access = app.server.extensions[EXTENSION]  # type: ignore[attr-defined]
    front, other, lobby = (app.server.test_client() for _ in range(3))  # type: ignore[attr-defined]
    for client, name, pages in ((front, "front-wall", ("/",)), (other, "gates-wall", ("/gates",)),
                                (lobby, "lobby-only", ("/boards/lobby",))):
        code = access.screens.offer(name, pages)
        assert client.get(f"/wall/pair?code={code}").status_code == 303
    assert "boards-grid" in rendered(front, "/")
    redrawn = live_links(front)
    assert redrawn.status_code == 200 and "boards-graph-network" in redrawn.data.decode()  # redrawn
    assert live_links(other).status_code == 403  # not its playlist: refused at the gate
    # a screen of another board reaches the boards' callbacks, but not the front page's board
    shown = live_links(lobby)
    assert shown.status_code == 200 and "boards-graph-network" not in shown.data.decode()
    # the front page's rule opens the overview board, never another one
    assert "No data yet" not in questions(front, "lobby").data.decode()
    assert other.post("/_dash-update-component", json=route_body("/")).status_code == 403


def test_a_board_names_codes_by_the_dimension_they_are(app: object, tmp_path: Path) -> None:
    """A tile whose file names no catalogue still shows names: a question's codes by its first
    group_by, a snapshot list's by its label; a code the catalogue lacks is shown marked."""
    from dataclasses import replace

    from ioc_app.boards_read import library
    from tests.pages.registry import pages_app

    # the page module is imported inside a pages app, which forgets it afterwards: Dash's page
    # registry is global to the process, and the next app would find its pages twice
    with pages_app(tmp_path):
        from pages.boards import namer  # registered outside a request, as Dash requires

        with app.server.test_request_context("/"):  # type: ignore[attr-defined]
            rank = library().entry("lobby").board.tile("rank")  # type: ignore[union-attr]
            asked = replace(rank, catalogue=None)  # group_by = ["gate_id"], no catalogue
            assert namer(asked, "zh")("main-north") == "北门（学府大道）"
            assert namer(asked, "en")("nowhere-gate") == "nowhere-gate (not in catalogue)"
            listed = replace(rank, catalogue=None, query=None, path="network.links", label="link_id")
            assert namer(listed, "zh")("cernet") == "教育网（CERNET）"
            severity = replace(rank, catalogue=None, query=None, path="x", label="severity")
            assert namer(severity, "zh")("high") == "高危"  # an enumeration's word
