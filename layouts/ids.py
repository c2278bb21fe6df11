"""Component id namespaces, so two widgets never collide and callbacks name ids in one way."""

from __future__ import annotations


def kpi(page: str, name: str) -> dict[str, str]:
    """Id of a KPI card's value: pattern-matching callbacks update all cards of a page."""
    return {"type": "kpi-value", "page": page, "name": name}

