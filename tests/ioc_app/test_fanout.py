"""Fan-out: ClickHouse work does not grow with the number of screens.

A real server (embedded engine) is polled by 1 client, then by 200 concurrent clients once a
second; the statements the store ran are counted by origin (``/metrics``). Screens (paired,
each with its own screen cookie) reading the snapshot must cause no statement at all, and the
core's statements per tick must be the same in both phases. The core's work per tick is read
second by second and its median compared: what the core does on its own schedule (the slow
figures, the minute's history) lands in one second of one phase and is not a screen's cost.
"""

from __future__ import annotations

import itertools
import re
import statistics
import threading
import time
import urllib.request
from pathlib import Path

from tests.conftest import Server, free_port, product_env

CLIENTS = 200
PHASE_S = 6.0


def scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for name, origin, value in re.findall(r'^(ioc_store_statements_total)\{origin="([a-z-]+)"\} (\S+)',
                                          text, flags=re.M):
        out[f"{name}:{origin}"] = float(value)
    out["ticks"] = float(re.search(r"^ioc_core_ticks_total (\S+)", text, flags=re.M).group(1))
    return out


def poll(url: str, cookies: list[str], seconds: float) -> int:
    """One thread per screen cookie GETs the snapshot once a second (bounded); returns 200s seen."""
    clients = len(cookies)
    ok = [0] * clients
    stop_at = time.monotonic() + seconds

    def screen(i: int) -> None:
        etag = None
        time.sleep(i / clients)  # screens are not synchronised
        while time.monotonic() < stop_at:
            req = urllib.request.Request(url + "/api/v1/snapshot",
                                         headers={"Cookie": f"ioc_screen={cookies[i]}"})
            if etag:
                req.add_header("If-None-Match", etag)
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    etag = r.headers["ETag"]
                    ok[i] += 1
            except urllib.error.HTTPError as exc:
                if exc.code == 304:
                    ok[i] += 1
            time.sleep(1.0)

    threads = [threading.Thread(target=screen, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    return sum(ok)


def delta(before: dict[str, float], after: dict[str, float], key: str) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


def watched_poll(url: str, cookies: list[str]) -> tuple[int, list[dict[str, float]]]:
    """:func:`poll` for ``PHASE_S`` while ``/metrics`` is scraped about once a second."""
    served: list[int] = []
    polling = threading.Thread(target=lambda: served.append(poll(url, cookies, PHASE_S)))
    samples = [scrape(url)]
    polling.start()
    while polling.is_alive():
        polling.join(1.0)
        samples.append(scrape(url))
    return (served[0] if served else 0), samples


def test_200_screens_cost_the_store_what_one_does(tmp_path: Path) -> None:
    # the core computing every 0.5 s whatever arrives: its statements per computation are
    # compared (with the commit trigger an idle core computes nothing to compare)
    server = Server(product_env(tmp_path, IOC_TICK_S="0.5", IOC_CORE_TRIGGER="tick"), free_port())
    try:
        server.wait_ready()
        screens = [server.screen(f"wall-{i}") for i in range(CLIENTS)]
        server.wait_drained()  # the pairings' audit rows are written: the store is quiet again
        time.sleep(1.0)  # past the warm-up statements
        rates = []
        for clients in (1, CLIENTS):
            served, samples = watched_poll(server.url, screens[:clients])
            # every screen was answered, repeatedly (how often depends on the machine's load)
            assert served >= clients * 2, served
            assert delta(samples[0], samples[-1], "ticks") >= 2
            assert delta(samples[0], samples[-1], "ioc_store_statements_total:request") == 0
            per_tick = [delta(a, b, "ioc_store_statements_total:core") / delta(a, b, "ticks")
                        for a, b in itertools.pairwise(samples) if delta(a, b, "ticks") >= 1]
            assert len(per_tick) >= 3, per_tick
            rates.append(statistics.median(per_tick))
        assert abs(rates[0] - rates[1]) <= 1.0, rates
    finally:
        server.stop()
