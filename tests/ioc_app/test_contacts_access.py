"""Acknowledging and silencing alerts from /health through the real app on the real engine:
operators may (each action audited, stored, shown with who and when, kept across a restart);
a viewer's callback gets 403 at the gate, and the read refuses again past it. A contact point
that fails shows on /health with its error and next retry.

The alerts are real: the shipped stale-stream rule raises them on an empty store once its
two-minute wait has run (the core is given its ``now``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ioc_app import read
from ioc_app.app import create_app
from ioc_app.migrate import migrate
from ioc_app.settings import Settings
from ioc_app.storage import Store
from layouts import ids
from metrics.alerts import outbox as db
from tests.conftest import route_body
from tests.ioc_app.contacts_receivers import Receiver
from tests.ioc_app.test_small_cells import as_role, trail

ALERT = "stream_stale:gate.pass"
OPERATOR = "duty.op"


def make_app(store: Store, tmp: Path, contacts: Path) -> Any:
    tmp.mkdir(exist_ok=True)
    conf = Settings(clickhouse_url=f"chdb://{tmp / 'store'}", demo=False, contacts=str(contacts),
                    tokens_file=str(tmp / "tokens.toml"), roles_file=str(tmp / "roles.toml"))
    return create_app(conf, store=store, background=False)


@pytest.fixture(scope="module")
def world(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("contacts")
    receiver = Receiver().start()
    contacts = tmp / "contacts.toml"
    contacts.write_text(f'[defaults]\ncontacts = ["duty-hook"]\ngroup_s = 0\n\n[[contact]]\n'
                        f'name = "duty-hook"\nkind = "webhook"\nurl = "{receiver.url}/hook"\n',
                        encoding="utf-8")
    store = Store(f"chdb://{engine_path}", database="t_contacts_" + uuid.uuid4().hex[:8])
    migrate(store)
    app = make_app(store, tmp / "a", contacts)
    core = app.server.extensions[read.EXTENSION].core
    now = datetime.now(UTC)
    core.tick(now)
    core.tick(now + timedelta(seconds=121))  # the stale streams' wait has run: alerts raised
    assert ALERT in [a["id"] for a in core.feed.current().data["alerts"]]
    yield {"app": app, "store": store, "tmp": tmp, "contacts": contacts, "receiver": receiver, "now": now}
    app.server.extensions[read.EXTENSION].pipeline.buffer.close()
    receiver.stop()
    store.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


def pressed(button: str, target: str | None, minutes: int = 60) -> dict[str, Any]:
    """The /health controls' callback as the browser sends it when ``button`` is pressed."""
    names = ("ack", "silence", "lift")
    return {"output": "alerts-ack-result.children",
            "outputs": {"id": "alerts-ack-result", "property": "children"},
            "inputs": [{"id": f"alerts-ack-{n}", "property": "n_clicks", "value": int(n == button)}
                       for n in names],
            "state": [{"id": "alerts-ack-target", "property": "value", "value": target},
                      {"id": "alerts-ack-minutes", "property": "value", "value": minutes},
                      {"id": ids.CONFIG, "property": "data", "value": {"lang": "zh"}}],
            "changedPropIds": [f"alerts-ack-{button}.n_clicks"]}


def operator(app: Any) -> Any:
    from tests.conftest import signed_in

    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.88.{uuid.uuid4().int % 250}.1"
    signed_in(app, client, roles=("viewer", "operator"), name=OPERATOR)
    return client


def health_text(client: Any) -> str:
    answer = client.post("/_dash-update-component", json=route_body("/health"))
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_a_viewer_is_refused_at_the_gate(world: dict[str, Any]) -> None:
    app = world["app"]
    for roles in (("viewer",), ("viewer", "analyst", "admissions")):
        client = as_role(app, *roles)
        answer = client.post("/_dash-update-component", json=pressed("ack", ALERT))
        assert answer.status_code == 403, roles
        answer = client.post("/_dash-update-component", json=pressed("silence", "stream_stale"))
        assert answer.status_code == 403, roles
    assert db.actions_in_force(world["store"], datetime.now(UTC)) == []
    refused = trail(app, "request.refused")
    assert any(r["object"].startswith("callback alerts-ack-result") for r in refused)


def test_the_read_refuses_without_the_permission_past_the_gate(world: dict[str, Any]) -> None:
    import flask

    from ioc_app.permissions import Principal

    with world["app"].server.test_request_context("/health"):
        flask.g.principal = Principal.person("v", ("viewer", "analyst"), "local")
        with pytest.raises(PermissionError, match="operator"):
            read.acknowledge_alert(ALERT)
        with pytest.raises(PermissionError, match="operator"):
            read.silence_alerts("stream_stale", 60)


def test_an_operator_acknowledges_and_silences_audited_and_shown(world: dict[str, Any]) -> None:
    app, store = world["app"], world["store"]
    client = operator(app)
    answer = client.post("/_dash-update-component", json=pressed("ack", ALERT))
    assert answer.status_code == 200 and "已确认 stream_stale:gate.pass" in answer.get_data(as_text=True)
    answer = client.post("/_dash-update-component", json=pressed("silence", "stream_stale", 240))
    assert answer.status_code == 200 and "已静默 stream_stale" in answer.get_data(as_text=True)
    gone = client.post("/_dash-update-component", json=pressed("ack", "link_utilization:CERNET"))
    assert "该告警已不在活动告警中" in gone.get_data(as_text=True)
    held = {(a.action, a.target, a.actor) for a in db.actions_in_force(store, datetime.now(UTC))}
    assert held == {("ack", ALERT, OPERATOR), ("silence", "stream_stale", OPERATOR)}
    acks = trail(app, "alert.acknowledge")
    assert [(r["actor"], r["object"], r["result"]) for r in acks] == [(OPERATOR, ALERT, "ok")]
    (silence,) = trail(app, "alert.silence")
    assert silence["object"] == "stream_stale" and silence["detail"]["minutes"] == 240
    page = health_text(client)
    assert "已确认" in page and "静默中" in page and OPERATOR in page and ALERT in page


def test_a_failing_contact_point_shows_on_health(world: dict[str, Any]) -> None:
    app, receiver = world["app"], world["receiver"]
    notifier = app.server.extensions[read.EXTENSION].core.notifier
    db.record_action(world["store"], "lift", "stream_stale", OPERATOR, datetime.now(UTC))
    receiver.answers.append((500, b"{}"))
    now = world["now"] + timedelta(seconds=122)  # just after the fixture's alerts were raised
    notifier.run(now)  # they go out: the receiver fails
    assert len(receiver.posts) == 1
    from ioc_app import contacts_actions

    contacts_actions._forget(app.server.extensions[read.EXTENSION])
    page = health_text(operator(app))
    assert "duty-hook" in page and "发送失败" in page and "HTTP 500" in page
    notifier.run(now + timedelta(seconds=31))  # recovered: delivered on the retry
    assert len(receiver.posts) == 2
    assert {c["id"] for c in receiver.posts[1].json["changes"]} >= {ALERT}
    contacts_actions._forget(app.server.extensions[read.EXTENSION])
    page = health_text(operator(app))
    assert "发送失败" not in page and "正常" in page


def test_acknowledgements_and_silences_survive_a_restart(world: dict[str, Any]) -> None:
    store = world["store"]
    db.record_action(store, "silence", "stream_stale", OPERATOR, datetime.now(UTC),
                     until=datetime.now(UTC) + timedelta(hours=1))
    again = make_app(store, world["tmp"] / "b", world["contacts"])  # a new process on the same store
    try:
        page = health_text(operator(again))
        assert "已确认" in page and "静默中" in page and OPERATOR in page
    finally:
        again.server.extensions[read.EXTENSION].pipeline.buffer.close()
