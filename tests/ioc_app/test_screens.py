"""The heartbeat registry: who shows what, who went silent, and the endpoint's refusals."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask, g

from ioc_app import read
from ioc_app.permissions import ANONYMOUS, Principal
from ioc_app.routes.screens import screens_api
from ioc_app.screens import FORGET_AFTER_S, SILENT_AFTER_S, Screens

T0 = 1_800_000_000.0


def test_a_screen_is_silent_once_its_heartbeats_stop() -> None:
    reg = Screens()
    reg.beat({"page": "overview", "version": 7, "heap_bytes": 10}, "10.0.0.5", now=T0, name="wall-1")
    reg.beat({"screen": "wall-1", "page": "gates"}, "10.0.0.9", now=T0 + 20)  # a name it sends is not read
    at = {e["screen"]: e for e in reg.all(now=T0 + SILENT_AFTER_S)}
    assert set(at) == {"wall-1", "10.0.0.9 gates"}  # unpaired browsers are named by address and page
    assert at["wall-1"]["silent"] is False and at["wall-1"]["version"] == 7
    later = {e["screen"]: e for e in reg.all(now=T0 + SILENT_AFTER_S + 1)}
    assert later["wall-1"]["silent"] is True and later["10.0.0.9 gates"]["silent"] is False
    assert later["wall-1"]["age_s"] == SILENT_AFTER_S + 1
    # a new beat brings it back; a screen silent for a day is forgotten
    reg.beat({"page": "health"}, "10.0.0.5", now=T0 + 500, name="wall-1")
    assert [e["silent"] for e in reg.all(now=T0 + 510) if e["screen"] == "wall-1"] == [False]
    assert [e["screen"] for e in reg.all(now=T0 + 500 + FORGET_AFTER_S + 1)] == []


def test_the_silent_threshold_is_the_registrys() -> None:
    reg = Screens(silent_after_s=5)
    reg.beat({"page": "overview"}, "10.0.0.7", now=T0, name="tablet")
    assert reg.all(now=T0 + 5)[0]["silent"] is False
    assert reg.all(now=T0 + 5.5)[0]["silent"] is True


@pytest.fixture()
def client():
    """The endpoints alone; ``app.config["principal"]`` plays the gate's verdict on who asks."""
    app = Flask(__name__)
    app.extensions[read.EXTENSION] = SimpleNamespace(screens=Screens(silent_after_s=60))
    app.register_blueprint(screens_api)

    @app.before_request
    def _principal() -> None:
        g.principal = app.config.get("principal", ANONYMOUS)

    return app.test_client()


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'"text"', b'{"screen": "w", "version": "7"}', b'{"heap_bytes": true}',
    b'{"width": [1]}',
])
def test_heartbeat_refuses_bad_input(client, body: bytes) -> None:
    r = client.post("/api/v1/heartbeat", data=body, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"] == "bad_heartbeat"
    assert client.get("/api/v1/screens").get_json()["screens"] == []


def test_heartbeat_is_listed(client) -> None:
    client.application.config["principal"] = Principal.screen("wall-1", ("/",))
    r = client.post("/api/v1/heartbeat", json={"screen": "lobby", "page": "overview", "version": 3,
                                               "heap_bytes": 12.5e6, "dom_nodes": 900, "extra": "ignored"})
    assert r.status_code == 200 and r.get_json() == {"ok": True, "screen": "wall-1", "heartbeat_s": 20}
    listed = client.get("/api/v1/screens").get_json()
    assert listed["silent_after_s"] == 60
    [screen] = listed["screens"]
    assert screen["screen"] == "wall-1" and screen["address"] == "127.0.0.1"
    assert screen["heap_bytes"] == 12_500_000 and screen["silent"] is False and "extra" not in screen


def test_a_browser_that_is_not_a_paired_screen_is_named_by_address_and_page(client) -> None:
    for who in (ANONYMOUS, Principal.person("tester", ("viewer",), "local")):
        client.application.config["principal"] = who
        r = client.post("/api/v1/heartbeat", json={"screen": "wall-1", "page": "gates", "version": 3})
        assert r.status_code == 200 and r.get_json()["screen"] == "127.0.0.1 gates"  # never the name it sent
    assert [s["screen"] for s in client.get("/api/v1/screens").get_json()["screens"]] == ["127.0.0.1 gates"]
