"""Push to screens (``GET /api/v1/snapshot?wait=``) and the figures that age, computed when read.

Through the real app on the real engine: a held request is answered when the core publishes
a new version (in the process, and through a real redis-server to a web worker's feed), a
wait with nothing new ends in a 304, past the cap the answer is immediate, and the gate
refuses the anonymous before anything is held. ``lag_s`` grows between two reads of one
version without the core computing anything. No test asserts a duration: each waits for a
condition with a generous timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from ioc_app import read
from ioc_app.feed import Published, PushBoard, RedisFeed
from ioc_app.storage import Store
from tests.conftest import RedisServer, app_on, signed_in
from tests.ioc_app.test_core import add_gate_events

TIMEOUT = 60.0


def wait_for(condition: Callable[[], Any], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.fixture()
def client(migrated: Store, tmp_path: Path):
    app = app_on(migrated, tmp_path)
    c = app.server.test_client()
    signed_in(app, c)
    c.app = app
    c.runtime = app.server.extensions[read.EXTENSION]
    yield c
    c.runtime.pipeline.buffer.close()


class Held:
    """A ``?wait=`` request running in its own thread (the test client blocks while held)."""

    def __init__(self, get: Callable[..., Any], version: int, wait: float = 30, cookie: str = "") -> None:
        self.response: Any = None
        headers = {"If-None-Match": f'"{version}"'}
        self.thread = threading.Thread(target=self._run, args=(get, headers, wait), daemon=True)
        self.thread.start()

    def _run(self, get: Callable[..., Any], headers: dict[str, str], wait: float) -> None:
        self.response = get(f"/api/v1/snapshot?wait={wait}", headers=headers)

    def result(self) -> Any:
        self.thread.join(TIMEOUT)
        assert self.response is not None, "the held request was never answered"
        return self.response


def version_of(response: Any) -> int:
    return int(response.headers["ETag"].strip('"'))


def test_a_held_request_answers_when_a_new_version_is_published(client) -> None:
    first = client.get("/api/v1/snapshot")
    board = client.runtime.feed.push
    held = Held(client.get, version_of(first))
    wait_for(lambda: board.held == 1)  # parked on the feed, not answered
    assert held.response is None
    add_gate_events(client.runtime.store, datetime.now(UTC), 3)
    newer = client.runtime.core.tick()
    r = held.result()
    assert r.status_code == 200 and r.headers["IOC-Push"] == "new"
    assert version_of(r) == newer.version > version_of(first)
    assert orjson.loads(r.data)["gate"] == newer.data["gate"]
    assert board.held == 0


def test_a_wait_with_nothing_new_ends_in_304_and_a_client_behind_is_answered_at_once(client) -> None:
    first = client.get("/api/v1/snapshot")
    r = client.get("/api/v1/snapshot?wait=0.3", headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 304 and r.data == b"" and r.headers["IOC-Push"] == "held"
    assert r.headers["ETag"] == first.headers["ETag"]
    # no version, or an older one: the current one at once
    r = client.get("/api/v1/snapshot?wait=30")
    assert r.status_code == 200 and r.headers["IOC-Push"] == "now"
    r = client.get("/api/v1/snapshot?wait=30", headers={"If-None-Match": '"1"'})
    assert r.status_code == 200 and r.headers["IOC-Push"] == "now"
    assert r.headers["ETag"] == first.headers["ETag"]


def test_past_the_cap_the_answer_is_immediate_and_off_means_poll(client) -> None:
    first = client.get("/api/v1/snapshot")
    board = client.runtime.feed.push
    board.limit = 1
    held = Held(client.get, version_of(first))
    wait_for(lambda: board.held == 1)
    busy = client.get("/api/v1/snapshot?wait=30", headers={"If-None-Match": first.headers["ETag"]})
    assert busy.status_code == 304 and busy.headers["IOC-Push"] == "busy"
    board.limit = 0
    off = client.get("/api/v1/snapshot?wait=30", headers={"If-None-Match": first.headers["ETag"]})
    assert off.status_code == 304 and off.headers["IOC-Push"] == "off"
    # a client that is behind gets the version, and is told that push is off
    behind = client.get("/api/v1/snapshot?wait=30", headers={"If-None-Match": '"1"'})
    assert behind.status_code == 200 and behind.headers["IOC-Push"] == "off"
    board.close()  # a stopping server answers the parked one at once, and parks no other
    assert held.result().headers["IOC-Push"] == "closing"
    board.limit = 4
    closing = client.get("/api/v1/snapshot?wait=30", headers={"If-None-Match": first.headers["ETag"]})
    assert closing.status_code == 304 and closing.headers["IOC-Push"] == "closing"
    metrics = client.get("/metrics").data.decode()
    assert 'ioc_push_answers_total{how="busy"} 1.0' in metrics and "ioc_push_held 0.0" in metrics


def test_bad_waits_are_refused_with_what_to_write(client) -> None:
    for raw in ("soon", "0", "-1", "31", "nan"):
        r = client.get(f"/api/v1/snapshot?wait={raw}")
        assert r.status_code == 400 and r.json["error"] == "bad_wait", raw
        assert "at most 30" in r.json["message"]
    r = client.get("/api/v1/snapshot?wait=5&at=2026-01-01T00:00:00Z")
    assert r.status_code == 400 and "live snapshot only" in r.json["message"]
    assert "wait" in client.get("/api/v1/snapshot?wiat=5").json["message"]


def test_the_gate_refuses_push_to_the_anonymous_unpaired_and_unentitled(client) -> None:
    board = client.runtime.feed.push
    stranger = client.app.server.test_client()
    r = stranger.get("/api/v1/snapshot?wait=30", headers={"If-None-Match": '"1"'})
    assert r.status_code == 401 and r.json["error"] == "unauthorized"
    stranger.set_cookie("ioc_screen", "not-a-paired-screen")
    assert stranger.get("/api/v1/snapshot?wait=30").status_code == 401
    admin = client.app.server.test_client()
    signed_in(client.app, admin, roles=("secadmin",), name="admin")
    r = admin.get("/api/v1/snapshot?wait=30")
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    assert board.held == 0 and sum(board.answers.values()) == 0  # refused before the route ran


def test_lag_grows_between_two_reads_without_any_recompute(client) -> None:
    core = client.runtime.core
    add_gate_events(client.runtime.store, datetime.now(UTC), 2)
    published = core.tick()
    ticks = core.stats.ticks
    first = client.get("/api/v1/snapshot")
    lag = orjson.loads(first.data)["freshness"]["gate.pass"]["lag_s"]
    assert lag is not None

    def later() -> bool:
        r = client.get("/api/v1/snapshot")
        assert r.headers["ETag"] == first.headers["ETag"]  # the same version: only the lag aged
        return orjson.loads(r.data)["freshness"]["gate.pass"]["lag_s"] >= lag + 0.5

    wait_for(later)
    assert core.stats.ticks == ticks and core.feed.current() is published
    # the pages read it the same way (the health page's lag column)
    with client.app.server.test_request_context():
        assert read.snapshot()["freshness"]["gate.pass"]["lag_s"] >= lag + 0.5
    assert client.get("/readyz").json["parts"]["streams"]["gate.pass"]["lag_s"] >= lag + 0.5


def test_the_served_copy_advances_every_figure_that_ages() -> None:
    generated = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    data = {"version": 7, "generated_at": generated.isoformat(timespec="milliseconds"),
            "freshness": {"gate.pass": {"lag_s": 1.5, "stale": False}, "quiet": {"lag_s": None}},
            "network": {"links": [{"link_id": "a", "age_s": 2.0}, {"link_id": "b", "age_s": None}]}}
    published = Published.of(data)
    body, served = published.served(now=generated.timestamp() + 10)
    assert served["freshness"]["gate.pass"] == {"lag_s": 11.5, "stale": False}
    assert served["freshness"]["quiet"] == {"lag_s": None}
    assert [link["age_s"] for link in served["network"]["links"]] == [12.0, None]
    assert orjson.loads(body) == served
    assert published.data["freshness"]["gate.pass"]["lag_s"] == 1.5  # the published copy is untouched
    assert orjson.loads(published.body) == data


def test_a_parked_screen_gets_at_most_one_version_per_wake() -> None:
    """Versions published faster than the wake interval reach a parked screen as one (the
    newest at the next wake), and a screen holding what the last wake announced waits for the
    next wake even when a newer version is already in."""
    board = PushBoard(limit=4, min_interval_s=1.0)
    v = [Published.of({"version": n, "generated_at": "2026-09-01T08:00:00+00:00"}) for n in (1, 2, 3)]
    board.announce(v[0])  # the first wake is at once
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(board.wait(1, 30)), daemon=True)
    waiter.start()
    wait_for(lambda: board.held == 1)
    board.announce(v[1])
    board.announce(v[2])
    waiter.join(TIMEOUT)
    how, first = got[0]
    assert how == "new" and first.version in (2, 3)  # 2 only when the machine stalled a whole interval
    how, second = board.wait(first.version, 0.2 if first.version == 3 else 30)
    if first.version == 3:
        assert (how, second) == ("held", None)
    else:
        assert (how, second.version) == ("new", 3)
    assert board.answers["new"] >= 1 and board.held == 0


def test_a_web_workers_feed_wakes_its_held_requests_through_redis(client, tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    core = client.runtime.core
    publisher = redis.Redis.from_url(server.url)
    feed = RedisFeed(redis.Redis.from_url(server.url), tick_s=0.2)
    try:
        core.redis = publisher  # the core publishes to Redis too, as the scheduler process does
        add_gate_events(client.runtime.store, datetime.now(UTC), 2)
        first = core.tick()
        wait_for(lambda: feed.current() is not None and feed.current().version == first.version)
        feed.push.limit = 8
        client.runtime.feed = feed  # this app now serves as a web worker of the scaled mode
        held = Held(client.get, first.version)
        wait_for(lambda: feed.push.held == 1)
        add_gate_events(client.runtime.store, datetime.now(UTC), 3)
        newer = core.tick()
        r = held.result()
        assert r.status_code == 200 and r.headers["IOC-Push"] == "new" and version_of(r) == newer.version
        assert orjson.loads(r.data)["gate"] == newer.data["gate"]
    finally:
        feed.close()
        publisher.close()
        server.stop()


def test_figures_that_only_age_publish_no_new_version() -> None:
    """Two ticks whose snapshots differ only in the lag of a stream and the age of a link's
    sample have the same content: the core keeps the version (the ages are computed when read)."""
    from ioc_app.core import content_digest

    def snap(lag: float, age: float, in_bps: int) -> dict[str, Any]:
        return {"version": 1, "generated_at": "2026-09-01T08:00:00+00:00",
                "freshness": {"gate.pass": {"lag_s": lag, "stale": False}},
                "network": {"links": [{"link_id": "a", "in_bps": in_bps, "age_s": age}]}}

    assert content_digest(snap(1.0, 2.0, 100)) == content_digest(snap(61.0, 62.0, 100))
    assert content_digest(snap(1.0, 2.0, 100)) != content_digest(snap(1.0, 2.0, 101))


def test_a_graceful_stop_answers_the_held_requests_at_once(tmp_path: Path) -> None:
    """The real server (gunicorn): on SIGTERM a held request is answered ``closing`` instead of
    keeping the stop waiting for the end of its wait."""
    import http.client
    import os
    import re
    import signal
    import urllib.request

    from tests.conftest import Server, free_port, product_env

    server = Server(product_env(tmp_path), free_port())
    try:
        server.wait_ready()
        cookie = {"Cookie": f"ioc_screen={server.screen('push-wall')}"}
        etag = None

        def current() -> bool:
            nonlocal etag
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", "/api/v1/snapshot", headers=cookie)
            r = conn.getresponse()
            r.read()
            etag = r.headers.get("ETag")
            return r.status == 200

        wait_for(current)
        got: dict[str, Any] = {}

        def hold() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            conn.request("GET", "/api/v1/snapshot?wait=30", headers={**cookie, "If-None-Match": etag})
            r = conn.getresponse()
            r.read()
            got.update(status=r.status, push=r.headers.get("IOC-Push"))

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()

        def parked() -> bool:
            with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
                found = re.search(r"^ioc_push_held (\S+)$", r.read().decode(), re.M)
            return found is not None and float(found.group(1)) == 1

        wait_for(parked)
        os.killpg(server.proc.pid, signal.SIGTERM)
        holder.join(TIMEOUT)
        # Not "held": its 30 s were not waited out. The answer is the current state, so it is a
        # 304 unless the stopping core's last commit changed the snapshot in the meantime.
        assert got.get("push") == "closing", got
        assert got.get("status") in (200, 304), got
    finally:
        server.stop()
