"""The tracking number of an admission notice is personal data the product keeps on purpose:
stored as sent, never refused for its shape (courier numbers are long digit runs), and never
repeated in a rejection message or a dead letter."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from ingest import pii
from ingest.enrollment import ENROLLMENT_NOTICE
from ingest.pipeline import Pipeline
from ingest.validate import validate
from metrics.deadletter import list_dead_letters

NOW = datetime.now(UTC).replace(microsecond=0)  # (dead letters expire: they are kept from now)
TS = int(NOW.timestamp() * 1000) - 3_600_000
#: an EMS number (13 digits), one shaped like an 18-digit ID number with a valid check digit,
#: one shaped like a bank card (16 digits passing Luhn), one like a mobile number
NUMBERS = ("1123456789012", "11010519491231002X", "4111111111111111", "13912345678")


def notice(i: int, number: str, status: str = "mailed") -> dict:
    return {"event_id": f"n{i}", "ts": TS, "year": 2026, "candidate_key": f"pcand{i}",
            "status": status, "tracking_no": number, "carrier": "EMS"}


def test_numbers_of_any_shape_are_stored_as_sent(pipeline: Pipeline) -> None:
    assert all(pii.contains_pii(n, "text") for n in NUMBERS[1:])  # any other text field refuses them
    r = pipeline.submit(ENROLLMENT_NOTICE, [notice(i, n) for i, n in enumerate(NUMBERS)],
                        source="post", now=NOW)
    assert (r.accepted, r.rejected) == (len(NUMBERS), 0), r.errors
    pipeline.writer.flush_once(force=True)
    stored = pipeline.store.rows("SELECT tracking_no FROM enrollment_notice ORDER BY event_id")
    assert [row[0] for row in stored] == list(NUMBERS)


def test_a_rejected_notice_never_repeats_its_number(pipeline: Pipeline) -> None:
    number = NUMBERS[0]
    # what keeps it out: the generic rules do not see a 13-digit run as personal data at all,
    # so only the contract's personal flag redacts it (remove that, and this test fails)
    assert pii.redact_value(number, b"k" * 32) == number
    too_long = "9" * 70
    events = [notice(1, number, status="lost"), notice(2, too_long)]
    r = pipeline.submit(ENROLLMENT_NOTICE, events, source="post", now=NOW)
    assert r.rejected == 2
    messages = orjson.dumps(r.errors).decode()
    assert {e["field"] for e in r.errors} == {"status", "tracking_no"}
    assert number not in messages and too_long not in messages
    pipeline.writer.flush_once(force=True)
    letters = list_dead_letters(pipeline.store, "enrollment.notice")
    assert letters.height == 2
    kept = orjson.dumps(letters.to_dicts(), default=str).decode()
    assert number not in kept and too_long not in kept
    raws = [orjson.loads(raw) for raw in letters["raw"].to_list()]
    assert all(raw["tracking_no"].startswith(pii.REDACTED) for raw in raws)
    assert all(raw["carrier"] == "EMS" and raw["candidate_key"].startswith("pcand") for raw in raws)
    # equal numbers redact alike (an operator can tell two letters are about one parcel)
    again = pipeline.submit(ENROLLMENT_NOTICE, [{**notice(3, number, status="lost")}], source="post", now=NOW)
    assert again.rejected == 1
    pipeline.writer.flush_once(force=True)
    hashes = {orjson.loads(raw)["tracking_no"] for raw in
              list_dead_letters(pipeline.store, "enrollment.notice")["raw"].to_list()}
    assert len(hashes) == 2


def test_the_message_of_a_bad_number_says_what_to_change() -> None:
    r = validate(ENROLLMENT_NOTICE, [notice(1, "8" * 65)], source="post", now=NOW)
    (error,) = r.errors
    assert error["reason"] == "too_long" and "at most 64 characters" in error["message"]
    assert "8" * 20 not in error["message"]
