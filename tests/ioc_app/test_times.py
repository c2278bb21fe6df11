"""One reading of a time for every route: a time without offset is on the site's clock.

The query API, ``/explore``, the snapshot API's and the pages' ``?at=`` and the audit API
all read times with :func:`metrics.times.parse_time`; these tests give each of them the same
text and check they mean the same instant — on the real app and engine, in a zone whose
offset is not zero (Asia/Shanghai, +08:00), so a route that read the text as UTC would be
eight hours off and fail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from ioc_app import read
from ioc_app.app import create_app
from ioc_app.settings import Settings
from ioc_app.storage import Store
from metrics.times import TimeError, parse_time
from tests.conftest import signed_in

ZONE = ZoneInfo("Asia/Shanghai")
#: an hour in the past, on the site's clock, written without offset
LOCAL = (datetime.now(ZONE) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
NAIVE = LOCAL.strftime("%Y-%m-%dT%H:%M")
INSTANT = LOCAL.astimezone(UTC)


def test_a_time_without_offset_is_on_the_sites_clock() -> None:
    assert parse_time("from", NAIVE, ZONE) == INSTANT
    assert parse_time("from", NAIVE.replace("T", " "), ZONE) == INSTANT
    assert parse_time("from", f"{NAIVE}+08:00", ZONE) == INSTANT
    assert parse_time("from", f"{NAIVE} 08:00", ZONE) == INSTANT  # "+" sent unescaped
    assert parse_time("from", INSTANT.strftime("%Y-%m-%dT%H:%M:%SZ"), ZONE) == INSTANT
    assert parse_time("from", "2026-09-01", ZONE) == datetime(2026, 8, 31, 16, tzinfo=UTC)
    assert parse_time("to", "2026-09-01", ZONE, end_of_day=True) == datetime(2026, 9, 1, 16, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "2026-09-01T25:00", "1969-12-31T23:00Z", ""])
def test_what_is_not_a_time_is_refused_saying_what_to_write(raw: str) -> None:
    with pytest.raises(TimeError) as refused:
        parse_time("at", raw, ZONE)
    assert f"at={raw!r}" in refused.value.message and "2026-09-01" in refused.value.message


#: what a page's ``?at=`` check accepts (True) and refuses, as it always has
AT_TEXTS = {
    "2026-09-01T08:00:00+08:00": True, "2026-09-01T08:00:00.123456+08:00": True, "2026-09-01t08:00:00z": True,
    "2026-09-01 08:00 08:00": True, "2026-09-01T08:00:00 08:00": True, "2026-09-01 08:00:00 +08:00": True,
    " 2026-09-01T08:00Z ": True, "2026-09-01T08:00+0800": True, "2026-09-01T08": True, "20260901": True,
    "2026-W36-1": True, "1970-01-01T00:00Z": True, "1970-01-01T00:00:00+14:00": True,
    "2100-12-31T23:59:59-12:00": True,
    "   ": False, "now": False, "1700000000000": False, "2026-9-1": False, "2026-02-30": False,
    "2026-09-01  08:00": False, "2026-09-01T24:00": False, "2026-09-01T08:00:00+25:00": False,
    "2026-09-01T08:00:00+08:00[Asia/Shanghai]": False, "1969-12-31": False, "2101-01-01": False,
    "0001-01-01": False, "9999-12-31T23:59:59Z": False,
}


@pytest.mark.parametrize("raw", [NAIVE, f"{NAIVE} 08:00", "2026-09-01", "2026-09-01 08:00", "20260901T0800",
                                 "2026-09-01T08:00:00z", "yesterday", "2026-13-01", "2101-01-01T00:00Z",
                                 *AT_TEXTS])
def test_the_pages_at_check_agrees_with_the_parser(raw: str) -> None:
    try:
        parse_time("at", raw, ZONE)
        readable = True
    except TimeError:
        readable = False
    assert read.at_is_valid(raw) is readable


@pytest.mark.parametrize(("raw", "readable"), AT_TEXTS.items())
def test_the_pages_at_check_accepts_and_refuses_as_it_always_has(raw: str, readable: bool) -> None:
    assert read.at_is_valid(raw) is readable


def test_a_page_without_at_has_nothing_to_say() -> None:
    assert read.at_is_valid(None) and read.at_is_valid("")


@pytest.fixture()
def app(migrated: Store, tmp_path: Path) -> Iterator[Any]:
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=False, tz="Asia/Shanghai",
                        tokens_file=str(tmp_path / "tokens.toml"), roles_file=str(tmp_path / "roles.toml"))
    dash_app = create_app(settings, store=migrated, background=False)
    yield dash_app.server
    dash_app.server.extensions[read.EXTENSION].pipeline.buffer.close()


def test_every_route_reads_a_time_without_offset_alike(app: Any) -> None:
    runtime = app.extensions[read.EXTENSION]
    runtime.core.tick(INSTANT)  # a snapshot stored at exactly that instant
    client = app.test_client()
    signed_in(app, client, roles=("viewer", "analyst"))
    auditor = app.test_client()
    signed_in(app, auditor, roles=("auditor",), name="auditor")
    later = (LOCAL + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    # the query API: its answer states the range it read
    query = client.get("/api/v1/query/gate", query_string={"grain": "hour", "from": NAIVE, "to": later})
    assert query.status_code == 200, query.data
    assert orjson.loads(query.data)["from"] == LOCAL.isoformat()

    # the audit API: its answer states the range it read (in UTC)
    audit = auditor.get("/api/v1/audit", query_string={"from": NAIVE, "to": later})
    assert audit.status_code == 200, audit.data
    assert orjson.loads(audit.data)["from"] == INSTANT.strftime("%Y-%m-%dT%H:%M:%SZ")

    # the snapshot API: a minute before the stored instant there is none, a minute after it is
    # the one (read as UTC, both would be eight hours later and find it)
    before = (LOCAL - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    after = (LOCAL + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.get("/api/v1/snapshot", query_string={"at": before}).status_code == 404
    found = client.get("/api/v1/snapshot", query_string={"at": after})
    assert found.status_code == 200
    assert datetime.fromisoformat(orjson.loads(found.data)["generated_at"]) == INSTANT

    # the pages' ?at= and /explore's form, through the read API
    with app.test_request_context():
        assert read.snapshot_for(before) is None
        assert datetime.fromisoformat(read.snapshot_for(after)["generated_at"]) == INSTANT  # type: ignore[index]
        assert read.read_time(NAIVE, ZONE) == INSTANT
