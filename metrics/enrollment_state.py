"""How the enrollment figures read the latest-state tables (migration 8): one row per
candidate or student, folded with ``FINAL`` on one node and with ``GROUP BY`` on a cluster.

Shared by the live figures (``metrics/enrollment.py``) and the analyst query
(``metrics/enrollment_query.py``), so a tile and its breakdown read candidates the same way.
"""

from __future__ import annotations

from ioc_app.storage import SqlStore

#: Check-in steps in the order a student goes through them (the stored enum's order).
CHECKIN_STEPS = ("arrived", "paid", "dorm", "registered")
#: Later than any real time: the state tables' "not reached" (migration 8).
NOT_REACHED = "toDateTime64('2299-01-01 00:00:00', 3, 'UTC')"


#: what the latest state holds of each candidate's latest admission event (migrations 8 and 18)
CANDIDATE_COLUMNS = ("candidate_key", "status", "province", "batch", "category", "track", "college",
                     "major", "score", "province_rank", "first_choice", "ts")


def candidates(store: SqlStore, columns: tuple[str, ...], years: str) -> str:
    """A subquery with one row per candidate of the ``years`` condition: ``year`` and the
    ``columns`` of their latest event (any of :data:`CANDIDATE_COLUMNS`; ``province_rank`` and
    ``first_choice`` are null where the event had none).

    ``FINAL`` keeps each candidate's highest version, which is exact where all their rows live
    in one table; on a cluster they may be spread over shards, and ``GROUP BY`` folds them.
    """
    if store.cluster:
        # the key is the group's own; every other column is its latest row's
        picked = ", ".join(c if c == "candidate_key" else f"argMax({c}, version) AS {c}" for c in columns)
        return (f"SELECT year, {picked} FROM enrollment_admission_latest WHERE {years} "
                f"GROUP BY year, candidate_key")
    return f"SELECT year, {', '.join(columns)} FROM enrollment_admission_latest FINAL WHERE {years}"


def students(store: SqlStore) -> str:
    """A subquery with one row per student of year ``{y}``: furthest ``step`` and ``reached_*``
    (when each step was first reached), folded like :func:`candidates`."""
    if store.cluster:
        reached = ", ".join(f"min(reached_{s}) AS reached_{s}" for s in CHECKIN_STEPS)
        return (f"SELECT year, max(step) AS step, {reached} FROM enrollment_checkin_state "
                f"WHERE year = {{y:UInt16}} GROUP BY year, student_key")
    reached = ", ".join(f"reached_{s}" for s in CHECKIN_STEPS)
    return f"SELECT year, step, {reached} FROM enrollment_checkin_state FINAL WHERE year = {{y:UInt16}}"
