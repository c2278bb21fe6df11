"""Only the parts that changed are sent again."""

from __future__ import annotations

from layouts.delta import changed, digest, digests


def test_digest_is_stable_and_order_free_for_mappings() -> None:
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest((["x"], [1])) == digest([["x"], [1]])  # tuples travel as lists
    assert digest([1, 2]) != digest([2, 1])
    assert len(digest(None)) == 16


def test_changed_names_only_what_differs() -> None:
    before = digests({"ranking": [("n", 1801)], "curve": [1, 2, 3]})
    fresh, now = changed({"ranking": [("n", 1802)], "curve": [1, 2, 3]}, before)
    assert fresh == {"ranking"}
    assert now["curve"] == before["curve"] and now["ranking"] != before["ranking"]
    fresh, _ = changed({"ranking": [("n", 1802)], "curve": [1, 2, 3]}, now)
    assert fresh == set()


def test_nothing_sent_yet_means_everything_is_fresh() -> None:
    fresh, now = changed({"a": 1, "b": 2}, None)
    assert fresh == {"a", "b"} and set(now) == {"a", "b"}
