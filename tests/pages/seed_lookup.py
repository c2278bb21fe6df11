"""Candidates for the status lookup's tests, with every event at an explicit time of the 2025
season (never today's date), and a seeding entry for a server's store.

``python -m tests.pages.seed_lookup`` runs before the server starts (the embedded engine has
one owner per process) with the product's settings: it migrates the store, loads the site
catalogue and reads JSON from **standard input** — ``{"<name>": "<number>"}``, the numbers to
seed the candidates of ``CANDIDATES`` under (a test may pass a fresh number for one) — so a
number never appears in a process listing. It keys each candidate by the pseudonym import
would give the number (the site key of these settings) and prints nothing.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ingest.registry import get_stream
from ingest.validate import validate
from ioc_app.storage import Store

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2025
ADMISSION = {"year": YEAR, "province": "42", "batch": "regular", "category": "general", "track": "physics",
             "college": "cs", "major": "080901", "score": 612.5, "province_rank": 8765}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(YEAR, month, day, hour, minute, tzinfo=ZONE)


#: name → its number and its events (stream, local time, fields), deliberately not in time order
CANDIDATES: dict[str, dict[str, Any]] = {
    # admitted, notice returned by the courier then mailed again and delivered, checked in
    "full": {"number": "25420107724680", "events": [
        ("enrollment.checkin", at(9, 1, 11, 40), {"step": "registered", "campus": "main"}),
        ("enrollment.admission", at(7, 10, 9), {"status": "filed"}),
        ("enrollment.notice", at(7, 12, 10), {"status": "printed"}),  # the admission's instant
        ("enrollment.admission", at(7, 12, 10), {"status": "admitted"}),
        ("enrollment.notice", at(7, 14, 11), {"status": "mailed", "carrier": "EMS",
                                              "tracking_no": "EA123456789CN"}),
        ("enrollment.notice", at(7, 18, 16), {"status": "returned", "carrier": "EMS",
                                              "tracking_no": "EA123456789CN"}),
        ("enrollment.notice", at(7, 20, 9, 30), {"status": "mailed", "carrier": "SF",
                                                 "tracking_no": "SF1402583697021"}),
        ("enrollment.notice", at(7, 23, 14, 10), {"status": "delivered", "carrier": "SF",
                                                  "tracking_no": "SF1402583697021"}),
        ("enrollment.checkin", at(9, 1, 8, 30), {"step": "arrived", "campus": "main"}),
        ("enrollment.checkin", at(9, 1, 9), {"step": "paid", "campus": "main"}),
        ("enrollment.checkin", at(9, 1, 10, 15), {"step": "dorm", "campus": "main"}),
    ]},
    # admitted, notice printed, then returned by the university (退档)
    "returned": {"number": "25420107735791", "events": [
        ("enrollment.admission", at(7, 16, 15), {"status": "returned"}),
        ("enrollment.admission", at(7, 10, 9), {"status": "filed"}),
        ("enrollment.admission", at(7, 12, 10), {"status": "admitted"}),
        ("enrollment.notice", at(7, 15, 9), {"status": "printed"}),
    ]},
}


def events_of(candidate: dict[str, Any], key: str) -> dict[str, list[dict[str, Any]]]:
    """The candidate's events per stream, keyed by ``key`` (the pseudonym)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for i, (stream, ts, fields) in enumerate(candidate["events"]):
        common: dict[str, Any] = {"event_id": f"lk-{key}-{i}", "ts": int(ts.timestamp() * 1000), "year": YEAR}
        if stream == "enrollment.admission":
            event = {**ADMISSION, **common, "candidate_key": key, **fields}
        elif stream == "enrollment.notice":
            event = {**common, "candidate_key": key, **fields}
        else:
            event = {**common, "student_key": key, "college": ADMISSION["college"],
                     "major": ADMISSION["major"], **fields}
        out.setdefault(stream, []).append(event)
    return out


def insert_events(store: Store, events: dict[str, list[dict[str, Any]]]) -> None:
    for name, rows in events.items():
        stream = get_stream(name)
        result = validate(stream, rows, source="seed")
        assert not result.errors, result.errors[:3]
        store.insert(stream.table, result.frame)


def main() -> None:
    from ingest.pii import pseudonym
    from ingest.site import load_site, store_reference
    from ioc_app.migrate import migrate
    from ioc_app.secret import site_key
    from ioc_app.settings import load_settings

    numbers: dict[str, str] = json.loads(sys.stdin.read())
    settings = load_settings(dotenv=None)
    store = Store(settings.clickhouse_url)
    migrate(store)
    store_reference(store, load_site(settings.site))
    key = site_key(settings)
    for name, candidate in CANDIDATES.items():
        insert_events(store, events_of(candidate, pseudonym(key, numbers.get(name, candidate["number"]))))
    store.close()


if __name__ == "__main__":
    main()
