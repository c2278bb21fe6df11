"""Property-based tests of every stream contract: valid events pass, each mutation is
rejected with the reason ``events.md`` names, and the valid neighbours still pass."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.contracts import REASONS
from ingest.registry import STREAMS
from ingest.validate import validate
from tests.ingest.strategies import NOW, mutate, mutations, valid_event

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.name)
def test_valid_events_pass(stream) -> None:
    @SETTINGS
    @given(st.lists(valid_event(stream), min_size=1, max_size=20))
    def check(events) -> None:
        result = validate(stream, events, source="prop", now=NOW)
        assert result.errors == []
        assert result.accepted == len(events)
        assert result.frame["source"].null_count() == 0
        if stream.kind == "event":
            assert result.frame["event_id"].null_count() == 0
            assert str(result.frame["ts"].dtype) == "Datetime(time_unit='ms', time_zone='UTC')"

    check()


@pytest.mark.parametrize(
    ("stream", "field", "reason"),
    [(s, f, r) for s in STREAMS for f, r in mutations(s)],
    ids=lambda v: getattr(v, "name", v),
)
def test_mutation_rejected_with_reason(stream, field, reason) -> None:
    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(valid_event(stream), valid_event(stream))
    def check(good, victim) -> None:
        bad = mutate(victim, stream, field, reason)
        result = validate(stream, [good, bad, good], source="prop", now=NOW)
        assert result.rejected == [1], result.errors
        assert (field, reason) in {(e["field"], e["reason"]) for e in result.errors}
        assert result.index == [0, 2]
        for e in result.errors:
            assert e["message"] and e["index"] == 1

    check()


def test_every_reason_is_provoked_by_some_mutation_or_case() -> None:
    provoked = {r for s in STREAMS for _, r in mutations(s)}
    # the remaining reasons have dedicated tests in test_validate.py
    assert set(REASONS) - provoked == {"not_an_object", "inconsistent"}
