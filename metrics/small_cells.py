"""Small cells (metrics.md, ``IOC_MIN_CELL``): which groups of admitted candidates may not show
their score statistics.

The score statistics of a group with fewer than ``min_cell`` admitted candidates would be one
or two candidates' own scores, personal data, so they are left null (counts stay). Within
each breakdown, whose rows together hold every admitted candidate, one more group is hidden
while the hidden ones hold fewer than ``min_cell`` candidates between them, so the hidden
scores cannot be worked out by subtracting the shown groups from another breakdown's total.
The enrollment figures (``metrics/enrollment.py``), the history of snapshots and the exports
apply the rule from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the smallest group whose score statistics are shown (``IOC_MIN_CELL``'s default)
MIN_CELL = 3
#: the score statistics of a group, hidden in a small cell (counts are not)
SCORES = ("min_score", "avg_score", "max_score")


def hidden(row: Mapping[str, Any], min_cell: int) -> bool:
    """Is a group of ``row["admitted"]`` candidates too small to show its scores?"""
    return 0 < int(row.get("admitted") or 0) < min_cell


def hidden_groups(admitted: list[int], min_cell: int) -> set[int]:
    """Indexes of the groups (of one breakdown: every admitted candidate in exactly one)
    whose score statistics are not shown: those of fewer than ``min_cell`` admitted and,
    while these hold fewer than ``min_cell`` candidates between them, the next smallest
    (first in order on a tie) — so the shown groups subtracted from a total never give a
    small group's scores. Groups nobody was admitted to have no scores to hide."""
    if min_cell <= 1:
        return set()
    small = {i for i, n in enumerate(admitted) if 0 < n < min_cell}
    held = sum(admitted[i] for i in small)
    if small and held < min_cell:
        for i in sorted((i for i, n in enumerate(admitted) if n >= min_cell), key=lambda i: (admitted[i], i)):
            if held >= min_cell:
                break
            small.add(i)
            held += admitted[i]
    return small


def suppress_rows(rows: list[dict[str, Any]], min_cell: int) -> list[dict[str, Any]]:
    """Copies of ``rows`` (one breakdown) with the score statistics of the groups of
    :func:`hidden_groups` null; counts stay, the order too."""
    out = [dict(r) for r in rows]
    for i in hidden_groups([int(r.get("admitted") or 0) for r in out], min_cell):
        out[i] |= dict.fromkeys(SCORES)
    return out
