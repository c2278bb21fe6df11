"""Which hour rollup an analyst question reads: a narrow one (``Source.narrow``) when it keeps
every dimension the question splits or filters by, else the general one; and the domain check
that refuses a narrow rollup missing a column its questions need. That both rollups give the
same figures is checked against the raw events in ``test_query.py``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import ingest.registry
import metrics.registry
from ioc_app.domains import problems
from metrics import gate
from metrics.query import DOMAINS, _source_sql, parse_spec

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


def _table(args: dict[str, list[str]]) -> str:
    domain = DOMAINS["gate"]
    spec = parse_spec("gate", args, SHANGHAI, NOW)
    sql, _ = _source_sql(domain, domain.sources[0], [domain.measure(m) for m in spec.measures], spec,
                         SHANGHAI)
    return sql.split(" FROM ", 1)[1].split()[0]


def test_a_question_within_the_narrow_dimensions_reads_the_narrow_rollup() -> None:
    assert _table({"grain": ["day"], "group_by": ["gate_id"], "result": ["pass"]}) == "gate_pass_gates_1h"
    assert _table({"grain": ["hour"], "group_by": ["campus"]}) == "gate_pass_gates_1h"
    assert _table({"grain": ["hour"]}) == "gate_pass_gates_1h"


def test_a_question_beyond_them_reads_the_general_rollup() -> None:
    assert _table({"grain": ["day"], "group_by": ["gate_id"], "method": ["face"]}) == "gate_pass_1h"
    assert _table({"grain": ["hour"], "group_by": ["person_type"]}) == "gate_pass_1h"
    assert _table({"grain": ["minute"], "group_by": ["gate_id"]}) == "gate_pass_1m"


def test_the_domain_check_refuses_a_narrow_rollup_without_a_needed_column() -> None:
    assert problems(ingest.registry.registered(), metrics.registry.registered()) == []
    source = dataclasses.replace(gate.QUERY.sources[0], narrow=(("people", ("person_type",)),))
    broken = dataclasses.replace(gate.DOMAIN, query=dataclasses.replace(gate.QUERY, sources=(source,)))
    halves = tuple(broken if m.name == "gate" else m for m in metrics.registry.registered())
    found = problems(ingest.registry.registered(), halves)
    assert any("gate_pass_people_1h" in p and "fever" in p for p in found), found
    undeclared = dataclasses.replace(gate.QUERY.sources[0], narrow=(("nowhere", ("gate_id",)),))
    elsewhere = dataclasses.replace(gate.DOMAIN, query=dataclasses.replace(gate.QUERY, sources=(undeclared,)))
    halves = tuple(elsewhere if m.name == "gate" else m for m in metrics.registry.registered())
    assert any("gate_pass_nowhere_1h" in p for p in problems(ingest.registry.registered(), halves))
