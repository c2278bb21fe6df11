"""A page's live parts: how a chart the browser draws reads the snapshot, and what a part must
declare (the browser half is exercised in tests/pages/test_live_browser.py)."""

from __future__ import annotations

import pytest

from layouts.parts import Part, Trace, chart, path, under, walk

SNAP = {"gate": {"last_60m": [{"minute": "2026-03-01T08:29:00+08:00", "in": 3, "out": 1},
                              {"minute": "2026-03-01T08:30:00+08:00", "in": 5, "out": None}],
                 "curve": [{"slot": "2026-03-01T08:20:00+08:00", "in": 2}]}}


def test_a_trace_reads_rows_shapes_x_and_sums_y() -> None:
    minutes = Trace(path("gate", "last_60m"), "minute", ("in",), x_fmt="local")
    assert minutes.series(SNAP) == (["2026-03-01 08:29", "2026-03-01 08:30"], [3, 5])
    partial = Trace(path("gate", "last_60m"), "minute", ("in", "out"), x_fmt="time", x_prefix="2000-01-01 ",
                    drop_last=True)
    assert partial.series(SNAP) == (["2000-01-01 08:29"], [4])  # the partial last row is left out
    # a missing key counts the default; a null stays a gap, never a zero
    assert Trace(path("gate", "curve"), "slot", ("out",), default=0).series(SNAP)[1] == [0]
    assert Trace(path("gate", "last_60m"), "minute", ("out",)).series(SNAP)[1] == [1, None]
    assert Trace(path("gate", "nothing"), "minute", ("in",)).series(None) == ([], [])


def test_paths() -> None:
    assert under("gate", "last_60m", "today.by_gate") == ("gate.last_60m", "gate.today.by_gate")
    assert walk(SNAP, path("gate", "curve"))[0]["in"] == 2 and walk(SNAP, "gate.none.deeper") is None


def test_a_part_is_drawn_in_one_place() -> None:
    with pytest.raises(ValueError, match="either render"):
        Part("p", "page-x", "figure", ("gate.last_60m",))
    with pytest.raises(ValueError, match="either render"):
        Part("p", "page-x", "figure", ("gate.last_60m",), render=lambda s, v: None,
             traces=(Trace("gate.last_60m", "minute", ("in",)),))
    with pytest.raises(ValueError, match="each trace's rows"):
        Part("p", "page-x", "figure", ("gate.curve",), traces=(Trace("gate.last_60m", "minute", ("in",)),))
    with pytest.raises(ValueError, match="x_fmt"):
        Trace("gate.last_60m", "minute", ("in",), x_fmt="utc")
    drawn = chart("c", "page-c", Trace("gate.a", "x", ("y",)), Trace("gate.b", "x", ("y",)),
                  Trace("gate.a", "x", ("z",)))
    assert drawn.in_browser and drawn.paths == ("gate.a", "gate.b")
