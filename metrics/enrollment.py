"""Enrollment KPIs (招生): plan, admitted and completion for an admission year.

A candidate's status is the one of their latest event (``argMax`` over the raw status
changes); the plan is the latest import of each plan row (``FINAL`` on the upserted table).
"""

from __future__ import annotations

from ioc_app.storage import Store


def year_totals(store: Store, year: int) -> dict[str, int | float | None]:
    """``{year, plan, admitted, completion}`` (completion = admitted / plan, null when no plan)."""
    plan = store.rows("SELECT sum(planned) FROM enrollment_plan FINAL WHERE year = {y:UInt16}",
                      {"y": year})[0][0] or 0
    admitted = store.rows(
        """
        SELECT countIf(status = 'admitted') FROM (
            SELECT candidate_key, argMax(toString(status), ts) AS status
            FROM enrollment_admission WHERE year = {y:UInt16}
            GROUP BY candidate_key
        )
        """,
        {"y": year},
    )[0][0] or 0
    return {"year": year, "plan": int(plan), "admitted": int(admitted),
            "completion": admitted / plan if plan else None}
