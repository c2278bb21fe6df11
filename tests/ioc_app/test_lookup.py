"""The status lookup (/enrollment/lookup) through the real app: its callback answers the
admissions role with the candidate's timeline and audits each lookup by pseudonym; everybody
else is refused (page and callback), and the refusal is audited like any other.

Real engine, real gate, real session store; the events are seeded with explicit timestamps.
The browser test (tests/pages/test_lookup_browser.py) drives the same page in Chromium
against a server process and proves the typed number leaks nowhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.pii import pseudonym
from ingest.site import load_site, store_reference
from ioc_app import read
from ioc_app.app import AUDIT_EXTENSION, create_app
from ioc_app.secret import site_key
from ioc_app.settings import DEFAULT_SITE, Settings
from ioc_app.storage import Store
from tests.conftest import route_body, signed_in
from tests.pages.seed_lookup import CANDIDATES, events_of, insert_events

FOUND = CANDIDATES["returned"]["number"]


@pytest.fixture(scope="module")
def app(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("lookup")
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    from ioc_app.migrate import migrate

    migrate(store)
    store_reference(store, load_site(DEFAULT_SITE))
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False,
                        tokens_file=str(tmp / "var" / "tokens.toml"))
    dash_app = create_app(settings, store=store, background=False)
    key = site_key(settings)
    for c in CANDIDATES.values():
        insert_events(store, events_of(c, pseudonym(key, c["number"])))
    dash_app.key = key
    yield dash_app
    dash_app.server.extensions[read.EXTENSION].pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def client_as(app: Any, roles: tuple[str, ...]) -> Any:
    c = app.server.test_client()
    c.actor = "u" + uuid.uuid4().hex[:8]
    signed_in(app, c, roles=roles, name=c.actor)
    return c


def trail(app: Any, action: str) -> list[dict[str, Any]]:
    rt = app.server.extensions[read.EXTENSION]
    app.server.extensions[AUDIT_EXTENSION].drain()
    rt.writer.flush_once(force=True)
    frame = rt.store.query("SELECT actor, toString(action) AS action, object, toString(result) AS result, "
                           "detail FROM ioc_audit ORDER BY ts")
    return [{**r, "detail": orjson.loads(r["detail"])} for r in frame.to_dicts() if r["action"] == action]


def every_audit_row(app: Any) -> str:
    rt = app.server.extensions[read.EXTENSION]
    rt.writer.flush_once(force=True)
    return str(rt.store.rows("SELECT * FROM ioc_audit"))


def lookup_body(number: str | None, lang: str = "zh") -> dict[str, Any]:
    return {"output": "..lookup-result.children...lookup-number.value..",
            "outputs": [{"id": "lookup-result", "property": "children"},
                        {"id": "lookup-number", "property": "value"}],
            "inputs": [{"id": "lookup-go", "property": "n_clicks", "value": 1},
                       {"id": "lookup-number", "property": "n_submit", "value": 0}],
            "state": [{"id": "lookup-number", "property": "value", "value": number},
                      {"id": "lookup-opts", "property": "data", "value": {"lang": lang}}],
            "changedPropIds": ["lookup-go.n_clicks"]}


def plain(data: bytes) -> str:
    return orjson.dumps(orjson.loads(data)).decode()


def test_the_office_finds_a_candidate_and_the_lookup_is_audited_by_pseudonym(app: Any) -> None:
    office = client_as(app, ("admissions",))
    assert office.get("/enrollment/lookup").status_code == 200
    page = office.post("/_dash-update-component", json=route_body("/enrollment/lookup"))
    assert page.status_code == 200 and 'autoComplete":"off' in plain(page.data)
    before = len(trail(app, "enrollment.lookup"))
    typed = " " + FOUND[:2] + " " + FOUND[2:8] + "-" + FOUND[8:] + " "  # as the candidate gave it
    r = office.post("/_dash-update-component", json=lookup_body(typed))
    assert r.status_code == 200
    body = plain(r.data)
    key = pseudonym(app.key, FOUND)
    assert key[:10] in body and key not in body  # the first characters name the candidate
    assert FOUND not in body and typed.strip() not in body
    assert '"value":""' in body  # the input is emptied
    assert "录取 · 退档" in body and "录取 · 已录取" in body
    rows = trail(app, "enrollment.lookup")
    assert len(rows) == before + 1
    row = rows[-1]
    assert (row["object"], row["result"], row["actor"]) == (key, "found", office.actor)
    assert row["detail"]["candidate_key"] == key and row["detail"]["found"] is True
    assert FOUND not in every_audit_row(app)


def test_not_found_says_what_to_check_and_is_audited(app: Any) -> None:
    office = client_as(app, ("admissions",))
    missing = "26999907713579"
    r = office.post("/_dash-update-component", json=lookup_body(missing, "en"))
    body = plain(r.data)
    assert r.status_code == 200 and "No candidate found" in body and missing not in body
    assert "admission ticket" in body and "2025" in body  # the number as printed; the years held
    row = trail(app, "enrollment.lookup")[-1]
    assert (row["object"], row["result"]) == (pseudonym(app.key, missing), "not_found")
    assert row["detail"]["found"] is False
    wide = office.post("/_dash-update-component", json=lookup_body("２６９９９９０７７１３５７９"))
    assert "全角" in plain(wide.data)


def test_nothing_typed_is_no_lookup(app: Any) -> None:
    office = client_as(app, ("admissions",))
    before = len(trail(app, "enrollment.lookup"))
    for typed in ("", "  - ", None):
        r = office.post("/_dash-update-component", json=lookup_body(typed))
        assert r.status_code == 200 and "请先输入考生号" in plain(r.data)
    assert len(trail(app, "enrollment.lookup")) == before


@pytest.mark.parametrize("role", ["viewer", "analyst", "operator"])
def test_other_roles_are_refused_the_page_and_its_callback_and_it_is_audited(app: Any, role: str) -> None:
    other = client_as(app, (role,))
    refused_before = len(trail(app, "request.refused"))
    lookups_before = len(trail(app, "enrollment.lookup"))
    assert other.get("/enrollment/lookup").status_code == 403
    assert other.post("/_dash-update-component", json=route_body("/enrollment/lookup")).status_code == 403
    r = other.post("/_dash-update-component", json=lookup_body(FOUND))
    assert r.status_code == 403 and r.json["error"] == "forbidden" and FOUND not in r.data.decode()
    refused = trail(app, "request.refused")[refused_before:]
    assert [(x["actor"], x["result"]) for x in refused] == [(other.actor, "forbidden")] * 3
    assert refused[0]["object"] == "/enrollment/lookup"
    assert refused[2]["object"].startswith("callback ..lookup-result.children")
    assert refused[2]["detail"] == {"permission": "page /enrollment/lookup"}
    assert len(trail(app, "enrollment.lookup")) == lookups_before  # nothing was looked up
    assert FOUND not in every_audit_row(app)


def test_the_navigation_of_other_roles_does_not_offer_it(app: Any) -> None:
    viewer = client_as(app, ("viewer",))
    body = plain(viewer.post("/_dash-update-component", json=route_body("/enrollment")).data)
    assert "/enrollment/lookup" not in body


def test_the_lookup_itself_refuses_a_principal_without_the_permission(app: Any) -> None:
    """Behind the gate, the read function asks again: a page calling it by mistake for a
    viewer gets nothing (and nothing is audited as a lookup)."""
    from flask import g

    from ioc_app.permissions import Principal

    before = len(trail(app, "enrollment.lookup"))
    for roles in (("viewer",), ("analyst",), ()):
        with app.server.test_request_context("/_dash-update-component", method="POST"):
            g.principal = Principal.person("someone", roles, "local")
            with pytest.raises(PermissionError):
                read.lookup_candidate(FOUND)
    with app.server.test_request_context("/_dash-update-component", method="POST"):
        g.principal = Principal.person("office", ("admissions",), "local")
        assert read.lookup_candidate(FOUND)["state"] == "found"
    assert len(trail(app, "enrollment.lookup")) == before + 1
