"""Alert rules: reading and checking a rules file (``IOC_ALERTS``) into frozen rule objects.

The file format, every kind's fields and their meaning are in docs/alerts.md; this module is
the one that enforces them, so a typo stops start-up with a message saying what to change.
"""

from __future__ import annotations

import math
import re
import string
import tomllib
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from metrics.domain import Watched
from metrics.registry import DOMAINS as REGISTERED
from metrics.registry import Live, LiveList

#: Highest first; the order alerts are listed in.
SEVERITIES = ("critical", "warning", "info")
#: The registered domains (their cockpits) and ``pipeline``, the data flow itself (stale streams).
DOMAINS: LiveList[str] = REGISTERED.live_list(lambda ds: (*(d.name for d in ds), "pipeline"))
OPERATORS = (">=", ">", "<=", "<")
KINDS = ("threshold", "stale", "anomaly")
STATISTICS = ("median_mad", "mean_std")
SCORES = ("ratio", "z")
PLACEHOLDERS = ("key", "name", "value", "threshold", "baseline")
MAX_WEEKS = 8  # the minute rollups are kept 63 days
MAD_SCALE = 1.4826  # MAD × this estimates the standard deviation of normal data

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*")


class AlertRulesError(ValueError):
    """A rules file the product cannot use; the message names the file, the rule and the fix."""


Measure = Watched
"""A figure anomaly rules may watch, declared by its domain (``metrics/<name>.py``,
``metrics.domain.Watched``)."""

#: Every measure anomaly rules may watch, as ``<domain>.<name>``, from the registered domains.
MEASURES: Live[str, Watched] = REGISTERED.live(
    lambda ds: {f"{d.name}.{name}": m for d in ds for name, m in d.watched.items()})


@dataclass(frozen=True, kw_only=True)
class Rule:
    """What every rule has: who it is, how bad, where it shows, and its timing."""

    id: str
    kind: str
    severity: str
    domain: str
    title_zh: str
    title_en: str
    for_s: float = 0.0
    clear_for_s: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ThresholdRule(Rule):
    """A snapshot number against a fixed threshold (see docs/alerts.md)."""

    path: str
    op: str
    threshold: float
    key: str | None = None
    clear: float | None = None
    guard_path: str | None = None
    guard_min: float | None = None


@dataclass(frozen=True, kw_only=True)
class StaleRule(Rule):
    """One alert per stream flagged stale in ``freshness`` — or in another section of the
    snapshot holding entries of the same shape (``stale``, ``lag_s``), such as ``backup``,
    whose one entry is the section itself."""

    streams: tuple[str, ...] = ()
    section: str = "freshness"


@dataclass(frozen=True, kw_only=True)
class AnomalyRule(Rule):
    """A rollup measure now against the same window of past weeks."""

    measure: str
    op: str
    threshold: float
    by: str | None = None
    window_min: int = 15
    weeks: int = 4
    min_weeks: int | None = None  # None = all ``weeks``
    statistic: str = "median_mad"
    score: str = "ratio"
    clear: float | None = None
    min_baseline: float = 0.0
    min_volume: float = 0.0

    @property
    def needed_weeks(self) -> int:
        return self.weeks if self.min_weeks is None else self.min_weeks


AnyRule = ThresholdRule | StaleRule | AnomalyRule
_CLASSES: dict[str, type[AnyRule]] = {"threshold": ThresholdRule, "stale": StaleRule, "anomaly": AnomalyRule}

_NUMBER_FIELDS = {"for_s", "clear_for_s", "threshold", "clear", "guard_min", "min_baseline", "min_volume"}
_INT_FIELDS = {"window_min", "weeks", "min_weeks"}
_CHOICES = {"kind": KINDS, "severity": SEVERITIES, "domain": DOMAINS, "op": OPERATORS,
            "statistic": STATISTICS, "score": SCORES}


class _Reader:
    """Builds rules from parsed TOML; every failure names the file, the rule and the fix."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def where(self, index: int, rule_id: object, occurrence: int = 0) -> str:
        if isinstance(rule_id, str) and rule_id:
            needle = rf'^\s*id\s*=\s*["\']{re.escape(rule_id)}["\']'
            found = list(re.finditer(needle, self.text, re.MULTILINE))
            m = found[occurrence] if occurrence < len(found) else None
            line = f":{self.text.count(chr(10), 0, m.start()) + 1}" if m else ""
            return f"{self.path}{line}: rule {rule_id!r}"
        return f"{self.path}: rule #{index + 1} (the {_ordinal(index + 1)} [[rule]])"

    def fail(self, index: int, rule_id: object, message: str, occurrence: int = 0) -> AlertRulesError:
        return AlertRulesError(f"{self.where(index, rule_id, occurrence)}: {message}")

    def rule(self, index: int, raw: object) -> AnyRule:
        if not isinstance(raw, dict):
            raise self.fail(index, None, "must be a [[rule]] table")
        rid = raw.get("id")
        if not isinstance(rid, str) or not _ID.fullmatch(rid):
            raise self.fail(index, None if not isinstance(rid, str) else rid,
                            f"id must be 1–64 of a-z 0-9 _ starting with a letter, got {rid!r}")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise self.fail(index, rid, f"kind {kind!r} is not one of {', '.join(KINDS)}; "
                                        f"set kind = \"threshold\", \"stale\" or \"anomaly\"")
        cls = _CLASSES[kind]
        spec = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(spec))
        if unknown:
            raise self.fail(index, rid, f"unknown field {unknown[0]!r} for a {kind} rule; "
                                        f"the fields are: {', '.join(spec)}")
        missing = [n for n, f in spec.items()
                   if f.default is MISSING and f.default_factory is MISSING and n not in raw]
        if missing:
            raise self.fail(index, rid, f"{missing[0]} is missing; a {kind} rule needs "
                                        f"{', '.join(n for n, f in spec.items() if f.default is MISSING)}")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            values[name] = self.value(index, rid, name, value)
        rule = cls(**values)
        self.check(index, rule)
        return rule

    def value(self, index: int, rid: str, name: str, value: object) -> object:
        if name in _NUMBER_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise self.fail(index, rid, f"{name} must be a number, got {value!r}")
            if name in ("for_s", "clear_for_s", "min_baseline", "min_volume", "guard_min") and value < 0:
                raise self.fail(index, rid, f"{name} must be 0 or more, got {value!r}")
            return float(value)
        if name in _INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(index, rid, f"{name} must be a whole number, got {value!r}")
            return value
        if name == "streams":
            if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
                raise self.fail(index, rid, f"streams must be a list of stream names such as "
                                            f"[\"gate.pass\"], got {value!r}")
            return tuple(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(index, rid, f"{name} must be a non-empty string, got {value!r}")
        if name in _CHOICES and value not in _CHOICES[name]:
            raise self.fail(index, rid, f"{name} {value!r} is not one of {', '.join(_CHOICES[name])}")
        if name in ("title_zh", "title_en"):
            self.template(index, rid, name, value)
        return value

    def template(self, index: int, rid: str, name: str, text: str) -> None:
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            bad = sorted(u for u in used if u not in PLACEHOLDERS)
            if bad:
                raise self.fail(index, rid, f"{name} uses {{{bad[0]}}}; the placeholders are "
                                            + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
            text.format(key="K", name="N", value=0.5, threshold=0.5, baseline=0.5)
        except (ValueError, IndexError) as exc:
            raise self.fail(index, rid, f"{name} is not a valid template ({exc}); write placeholders "
                                        f"as {{value}} or {{value:.0%}}, and double braces for a "
                                        f"literal brace") from None

    def check(self, index: int, rule: Rule) -> None:
        def bad(message: str) -> AlertRulesError:
            return self.fail(index, rule.id, message)

        if isinstance(rule, ThresholdRule):
            if not _PATH.fullmatch(rule.path) or rule.path.count("[]") > 1 or rule.path.endswith("[]"):
                raise bad(f"path {rule.path!r} must be dotted names with at most one list, "
                          f"e.g. service.backlog or network.links[].utilization")
            if "[]" in rule.path and rule.key is None:
                raise bad(f"path {rule.path!r} goes through a list; add key = \"<field>\" naming the "
                          f"field that tells its items apart (e.g. link_id)")
            if "[]" not in rule.path and rule.key is not None:
                raise bad(f"key applies to a path through a list (name[].field); remove key or "
                          f"change path {rule.path!r}")
            if (rule.guard_path is None) != (rule.guard_min is None):
                raise bad("guard_path and guard_min go together: set both or neither")
            if rule.guard_path is not None and (not _PATH.fullmatch(rule.guard_path)
                                                or "[]" in rule.guard_path):
                raise bad(f"guard_path {rule.guard_path!r} must be a dotted path to one number")
        if isinstance(rule, ThresholdRule | AnomalyRule) and rule.clear is not None:
            if rule.op in (">=", ">") and rule.clear > rule.threshold:
                raise bad(f"clear {rule.clear:g} must be at or below threshold {rule.threshold:g} for "
                          f"op {rule.op!r} (raise at {rule.op} threshold, clear below clear)")
            if rule.op in ("<=", "<") and rule.clear < rule.threshold:
                raise bad(f"clear {rule.clear:g} must be at or above threshold {rule.threshold:g} for "
                          f"op {rule.op!r} (raise at {rule.op} threshold, clear above clear)")
        if isinstance(rule, StaleRule) and not _ID.fullmatch(rule.section):
            raise bad(f"section {rule.section!r} must name a top-level part of the snapshot, "
                      f"e.g. freshness or backup")
        if isinstance(rule, AnomalyRule):
            measure = MEASURES.get(rule.measure)
            if measure is None:
                raise bad(f"measure {rule.measure!r} is unknown; use one of {', '.join(MEASURES)}")
            if rule.by is not None and rule.by not in measure.dims:
                raise bad(f"{rule.measure} can be split by {', '.join(measure.dims)}, not {rule.by!r}")
            if not 1 <= rule.window_min <= 120:
                raise bad(f"window_min must be between 1 and 120 minutes, got {rule.window_min}")
            if not 1 <= rule.weeks <= MAX_WEEKS:
                raise bad(f"weeks must be between 1 and {MAX_WEEKS} (the minute rollups are kept "
                          f"63 days), got {rule.weeks}")
            if not 1 <= rule.needed_weeks <= rule.weeks:
                raise bad(f"min_weeks must be between 1 and weeks ({rule.weeks}), got {rule.min_weeks}")
            if rule.min_volume and not measure.is_rate:
                raise bad(f"min_volume applies to rate measures (current denominator); "
                          f"{rule.measure} is a count: use min_baseline instead")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def load_rules(path: str | Path) -> tuple[AnyRule, ...]:
    """Read and check a rules file; raises :class:`AlertRulesError` saying what to change.

    Everything is checked at load (types, choices, templates, measure names), so a typo
    stops start-up instead of silently disabling an alert on the wall."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertRulesError(f"{p}: cannot read the alert rules ({exc}); check IOC_ALERTS") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AlertRulesError(f"{p}: not valid TOML: {exc}; fix the syntax there") from None
    extra = sorted(set(data) - {"rule"})
    if extra:
        raise AlertRulesError(f"{p}: unknown top-level key {extra[0]!r}; a rules file holds only "
                              f"[[rule]] tables")
    raw = data.get("rule", [])
    if not isinstance(raw, list):
        raise AlertRulesError(f"{p}: 'rule' must be an array of tables: write each rule as [[rule]]")
    reader = _Reader(p, text)
    rules = tuple(reader.rule(i, r) for i, r in enumerate(raw))
    seen: set[str] = set()
    for i, r in enumerate(rules):
        if r.id in seen:
            raise reader.fail(i, r.id, "the id is used by an earlier rule; ids must be unique "
                                       "(they name the alerts)", occurrence=1)
        seen.add(r.id)
    return rules
