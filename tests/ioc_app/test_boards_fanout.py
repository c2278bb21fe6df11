"""Fan-out of a query-backed board: 200 screens cost the store what one does.

A real server (embedded engine) shows a board of two questions asked every 10 s. First one
screen, then 200 screens (paired, each with its own cookie) ask for the board's question tiles
once a second — ten times as often as a board's page does — for two whole cadence periods
each; the statements the store ran for requests are counted (``/metrics``). Each period's
answer is computed once, by the first screen that asks in it: both phases cost two answers.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import Server, free_port, product_env
from tests.ioc_app.test_fanout import scrape

CLIENTS = 200
CADENCE_S = 10
BOARD = f"""\
title = {{ zh = "扇出", en = "Fan-out" }}
grid = [12, 6]
[[tile]]
id = "rank"
kind = "ranking"
title = {{ zh = "今日入校 · 按校门", en = "Entries by gate" }}
at = [1, 1]
size = [6, 3]
cadence_s = {CADENCE_S}
[tile.query]
domain = "gate"
measures = ["in"]
group_by = ["gate_id"]
range = "today"
grain = "day"
[[tile]]
id = "hours"
kind = "trend"
title = {{ zh = "近24小时", en = "Last 24 h" }}
at = [7, 1]
size = [6, 3]
cadence_s = {CADENCE_S}
[tile.query]
domain = "gate"
measures = ["in", "out"]
range = "24h"
grain = "hour"
"""
BODY = json.dumps(
    {
        "output": '..boards-qheld.data...{"tile":["ALL"],"type":"boards-query"}.children..',
        "outputs": [
            {"id": "boards-qheld", "property": "data"},
            [{"id": {"tile": t, "type": "boards-query"}, "property": "children"} for t in ("rank", "hours")],
        ],
        "inputs": [{"id": "boards-qtick", "property": "n_intervals", "value": 1}],
        "state": [
            {"id": "boards-spec", "property": "data", "value": {"slug": "fan", "theme": "dark"}},
            {"id": "boards-qheld", "property": "data", "value": {}},
            {"id": "ioc-live-config", "property": "data", "value": {"lang": "zh"}},
        ],
        "changedPropIds": ["boards-qtick.n_intervals"],
    }
).encode()


def ask(url: str, cookies: list[str], seconds: float) -> int:
    """One thread per screen asks for the question tiles once a second; returns answers seen."""
    ok = [0] * len(cookies)
    stop_at = time.monotonic() + seconds

    def screen(i: int) -> None:
        time.sleep(i / len(cookies))  # screens are not synchronised
        while time.monotonic() < stop_at:
            req = urllib.request.Request(
                url + "/_dash-update-component",
                data=BODY,
                headers={"Cookie": f"ioc_screen={cookies[i]}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    body = r.read()
                    ok[i] += r.status == 200 and b"boards-query" in body
            except urllib.error.URLError:
                pass
            time.sleep(1.0)

    threads = [threading.Thread(target=screen, args=(i,)) for i in range(len(cookies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return sum(ok)


def next_period() -> None:
    """Wait until just after a cadence period begins (a phase then spans whole periods)."""
    time.sleep(CADENCE_S - time.time() % CADENCE_S + 0.3)


def test_200_screens_on_a_query_board_cost_the_store_what_one_does(tmp_path: Path) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "fan.toml").write_text(BOARD, encoding="utf-8")
    server = Server(product_env(tmp_path, IOC_BOARDS=str(boards)), free_port())
    try:
        server.wait_ready()
        screens = [server.screen(f"wall-{i}", ("/boards/fan",)) for i in range(CLIENTS)]
        server.wait_drained()  # the pairings' audit rows are written: the store is quiet again
        # what one answer to each question costs: one screen asking once in a period
        next_period()
        before = scrape(server.url)
        assert ask(server.url, screens[:1], 0.5) == 1
        one = scrape(server.url)["ioc_store_statements_total:request"] - before.get(
            "ioc_store_statements_total:request", 0.0
        )
        assert one > 0  # the questions were really asked of the store
        costs = []
        for clients in (1, CLIENTS):
            next_period()
            before = scrape(server.url)
            answered = ask(server.url, screens[:clients], 2 * CADENCE_S - 1.0)
            after = scrape(server.url)
            assert answered >= clients, (clients, answered)  # every screen got its board's answers
            costs.append(
                after["ioc_store_statements_total:request"]
                - before.get("ioc_store_statements_total:request", 0.0)
            )
        # two periods: each question answered twice — by one screen asking every second (the
        # query cache alone would answer it again every few seconds), and by 200 alike
        assert costs == [2 * one, 2 * one], (one, costs)
    finally:
        server.stop()
