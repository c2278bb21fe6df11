"""Alert rules (告警规则): declarative rules, evaluated every tick into the snapshot's ``alerts``.

The manual (the rules file, each kind's fields, timing, hysteresis, titles, anomaly baselines)
is docs/alerts.md. ``rules`` reads and checks a rules file, ``book`` keeps the active alerts
across ticks, ``baselines`` reads the history anomaly rules compare with; the names callers
use are importable from here.
"""

from __future__ import annotations

from metrics.alerts.baselines import anomaly_baselines, anomaly_windows
from metrics.alerts.book import AlertBook, Namer
from metrics.alerts.rules import (
    DOMAINS,
    KINDS,
    MAD_SCALE,
    MAX_WEEKS,
    MEASURES,
    OPERATORS,
    PLACEHOLDERS,
    SCORES,
    SEVERITIES,
    STATISTICS,
    AlertRulesError,
    AnomalyRule,
    AnyRule,
    Measure,
    Rule,
    StaleRule,
    ThresholdRule,
    load_rules,
)

__all__ = [
    "DOMAINS", "KINDS", "MAD_SCALE", "MAX_WEEKS", "MEASURES", "OPERATORS", "PLACEHOLDERS", "SCORES",
    "SEVERITIES", "STATISTICS", "AlertBook", "AlertRulesError", "AnomalyRule", "AnyRule", "Measure",
    "Namer", "Rule", "StaleRule", "ThresholdRule", "anomaly_baselines", "anomaly_windows", "load_rules",
]
