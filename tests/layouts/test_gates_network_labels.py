"""Every code the gate and network streams may carry has a label on the cockpits, in both
languages: a new enum value in a stream contract cannot reach a wall as a raw code."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.gate import GATE_PASS
from ingest.network import NETWORK_ONLINE, NETWORK_SECURITY
from layouts.i18n import CATALOGUE, LANGS


def _values(stream: Any, field: str) -> tuple[str, ...]:
    return next(f.values for f in stream.fields if f.name == field)


@pytest.mark.parametrize("prefix,stream,field", [
    ("gates.reason_", GATE_PASS, "deny_reason"),
    ("gates.person_", GATE_PASS, "person_type"),
    ("net.access_", NETWORK_ONLINE, "access"),
    ("net.cat_", NETWORK_SECURITY, "category"),
    ("net.status_", NETWORK_SECURITY, "status"),
    ("severity.", NETWORK_SECURITY, "severity"),
])
def test_every_code_has_a_label(prefix: str, stream: Any, field: str) -> None:
    for code in _values(stream, field):
        assert set(CATALOGUE[f"{prefix}{code}"]) == set(LANGS), code


def test_compare_periods_have_labels() -> None:
    for period in ("today", "yesterday", "last_week", "last_year"):
        assert CATALOGUE[f"gates.period_{period}"]["zh"]
