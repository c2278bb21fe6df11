"""The demo's candidates can be looked up: their keys are pseudonyms of made-up 考生号 under
the site's key, and the lookup page names a few of them (demo mode only) — each of which
finds its candidate's story in a store holding the simulated season.

Real engine and real app; the season's events are the simulator's own, for the example
candidates only (the whole season is not needed to find three people).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.pii import pseudonym
from ingest.sim import World
from ingest.sim.enrollment import season
from ingest.site import load_site, store_reference
from ioc_app import read
from ioc_app.app import create_app
from ioc_app.secret import site_key
from ioc_app.settings import DEFAULT_SITE, Settings
from ioc_app.storage import Store
from tests.conftest import route_body, signed_in
from tests.ioc_app.test_lookup import lookup_body
from tests.pages.seed_lookup import insert_events


def make_app(engine_path: Path, tmp: Path, *, demo: bool) -> tuple[Any, Store, str]:
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    from ioc_app.migrate import migrate

    migrate(store)
    store_reference(store, load_site(DEFAULT_SITE))
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=demo,
                        tokens_file=str(tmp / "var" / "tokens.toml"))
    app = create_app(settings, store=store, background=False)
    # Dash's own set-up is done before anything is served: two first requests at once used to
    # race through it, and one failed with a 500
    assert app._got_first_request["setup_server"]
    assert any(o.lstrip(".").startswith("lookup-") for o in app.callback_map)
    return app, store, name


@pytest.fixture(scope="module")
def demo(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app, store, name = make_app(engine_path, tmp_path_factory.mktemp("lookup-demo"), demo=True)
    yield app
    app.server.extensions[read.EXTENSION].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def examples(app: Any) -> list[tuple[str, str]]:
    with app.server.test_request_context("/"):
        return read.lookup_examples()


def test_the_demo_names_numbers_that_find_their_candidates(demo: Any) -> None:
    rt = demo.server.extensions[read.EXTENSION]
    found = examples(demo)
    assert [story for _, story in found] == ["delivered", "remailed", "returned"]
    # the season they come from, simulated with this site's key, seeded for these candidates
    key = site_key(rt.settings)
    keys = {pseudonym(key, number): story for number, story in found}
    world = World(rt.site, rt.settings.zone, pseudonym_key=key)
    year = int(found[0][0][:2]) + 2000
    events: dict[str, list[dict[str, Any]]] = {}
    for hour in season(world, year).values():
        for _, stream, ev in hour:
            if ev.get("candidate_key", ev.get("student_key")) in keys:
                events.setdefault(stream, []).append(ev)
    assert set(events) >= {"enrollment.admission", "enrollment.notice"}
    insert_events(rt.store, events)

    office = demo.server.test_client()
    signed_in(demo, office, roles=("admissions",), name="office")
    page = office.post("/_dash-update-component", json=route_body("/enrollment/lookup"))
    text = orjson.dumps(orjson.loads(page.data)).decode()
    assert all(number in text for number, _ in found)  # shown on the page to try
    for number, story in found:
        body = orjson.dumps(orjson.loads(office.post("/_dash-update-component",
                                                     json=lookup_body(number)).data)).decode()
        assert "该考生的记录" in body, story
        notices = [e for e in events["enrollment.notice"] if e["candidate_key"] == pseudonym(key, number)]
        if story == "remailed":
            assert [e["status"] for e in notices].count("mailed") == 2 and "被退回" in body
        if story == "returned":
            assert "录取 · 退档" in body and "录取 · 已录取" in body
        if story == "delivered":
            assert "已签收" in body


def test_outside_demo_mode_no_number_is_offered(demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = demo.server.extensions[read.EXTENSION]
    assert examples(demo)
    monkeypatch.setattr(rt, "settings", dataclasses.replace(rt.settings, demo=False))
    assert examples(demo) == []
