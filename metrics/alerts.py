"""Alert rules (告警规则): declarative rules, evaluated every tick into the snapshot's ``alerts``.

Rules live in a TOML file (``IOC_ALERTS``; the product ships ``ioc_app/alerts.toml``) so the
operations centre can change thresholds without a release. A rule file is a list of
``[[rule]]`` tables; every rule has ``id``, ``kind``, ``severity``, ``domain``, ``title_zh``
and ``title_en`` and the parameters of its kind:

``threshold``
    A number in the snapshot (``path``) compared with ``threshold`` by ``op`` (``>=``, ``>``,
    ``<=``, ``<``). ``path`` may go through one list, ``network.links[].utilization``, with
    ``key = "link_id"`` naming the field that tells the items apart: one alert per item.
    Optional ``guard_path`` / ``guard_min``: the rule only applies while that number is at
    least ``guard_min`` (an answer rate means little over three calls); below it the
    situation counts as normal, so an active alert clears.
``stale``
    One alert per stream whose ``freshness.<stream>.stale`` is true; ``value`` is its
    ``lag_s``. Optional ``streams`` restricts the rule to some streams.
``anomaly``
    A measure of the per-minute rollups (see :data:`MEASURES`) over the last ``window_min``
    whole minutes, compared with the same local-time window of each of the previous
    ``weeks`` weeks: ``score = "ratio"`` (current / baseline centre) or ``"z"`` ((current −
    centre) / spread), with ``statistic = "median_mad"`` (median; 1.4826 × median absolute
    deviation, which equals the standard deviation for normal data but ignores one odd
    week such as a holiday) or ``"mean_std"`` (mean; sample standard deviation). ``by``
    splits the measure by a dimension (one alert per gate, say). The rule applies only when
    at least ``min_weeks`` past weeks have data; ``min_baseline`` (the centre) and
    ``min_volume`` (the current denominator of a rate) keep quiet hours out, like a guard.

Common timing parameters: the condition must hold for ``for_s`` seconds before the alert is
raised; an active alert stays until the *clear* condition has held for ``clear_for_s``
seconds. The clear condition is ``value < clear`` for ``>=``/``>`` rules and ``value >
clear`` for ``<=``/``<`` rules (hysteresis: raise at ≥ 0.9, clear only below 0.85, so a value
wandering around 0.9 does not flap); without ``clear`` it is simply "the condition no longer
holds".

Semantics worth knowing:

- ``since`` is the time the condition was *first seen holding* (the start of the ``for_s``
  wait), not the moment the alert was raised: "link at 95 % since 10:02" is what an operator
  needs. It is kept in memory, so a restart starts the waits again.
- A missing path, a ``null`` value, a missing baseline or too few baseline weeks are
  *unknown*: the alert neither raises nor clears, and running waits keep their start. A
  short gap in the data therefore neither hides nor re-raises an alert.
- A key that is no longer in a list (a link removed from the catalogue, a stream no longer
  reported) counts as cleared: its thing is gone.
- Severities are a closed set, ordered ``critical`` > ``warning`` > ``info``; active alerts
  are listed by severity (highest first), then ``since`` (oldest first), then ``id``.

Titles are ``str.format`` templates with ``{key}`` (link id, stream, gate…; empty for a
rule without keys), ``{value}``, ``{threshold}`` and ``{baseline}`` (the anomaly centre),
e.g. ``"出口链路 {key} 利用率 {value:.0%}"``. A placeholder whose value is unknown renders
as "—".

Anomaly rules need history; :func:`anomaly_baselines` reads it with one small query per
rule (a few windows of the minute rollups), meant to run once a minute on a slower job and
be handed to :meth:`AlertBook.evaluate` on every tick.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import string
import threading
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ioc_app.storage import Store

log = logging.getLogger("ioc.alerts")

#: Highest first; the order alerts are listed in.
SEVERITIES = ("critical", "warning", "info")
#: ``pipeline`` is for the data flow itself (stale streams), the others are the cockpits.
DOMAINS = ("gate", "network", "service", "enrollment", "pipeline")
OPERATORS = (">=", ">", "<=", "<")
KINDS = ("threshold", "stale", "anomaly")
STATISTICS = ("median_mad", "mean_std")
SCORES = ("ratio", "z")
PLACEHOLDERS = ("key", "value", "threshold", "baseline")
MAX_WEEKS = 8  # the minute rollups are kept 63 days
MAD_SCALE = 1.4826  # MAD × this estimates the standard deviation of normal data

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*")


class AlertRulesError(ValueError):
    """A rules file the product cannot use; the message names the file, the rule and the fix."""


@dataclass(frozen=True)
class Measure:
    """A figure anomaly rules may watch: ``numerator`` (over ``denominator`` for a rate) of a
    minute rollup, optionally split by one of ``dims``. SQL fragments are fixed here, never
    taken from the rules file."""

    table: str
    numerator: str
    denominator: str | None
    dims: tuple[str, ...]
    doc: str

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None


MEASURES: dict[str, Measure] = {
    "gate.attempts": Measure("gate_pass_1m", "sum(attempts)", None, ("gate_id",),
                             "pass attempts (passes and denials)"),
    "gate.entries": Measure("gate_pass_1m", "sumIf(attempts, result = 'pass' AND direction = 'in')",
                            None, ("gate_id",), "passes inwards"),
    "gate.denied": Measure("gate_pass_1m", "sumIf(attempts, result = 'deny')", None, ("gate_id",),
                           "denied attempts"),
    "gate.deny_rate": Measure("gate_pass_1m", "sumIf(attempts, result = 'deny')", "sum(attempts)",
                              ("gate_id",), "denied / attempts"),
    "gate.fever": Measure("gate_pass_1m", "sum(fever)", None, ("gate_id",), "fever readings"),
    "network.in_bps": Measure("network_link_1m", "sum(in_bps_sum)", "sum(samples)", ("link_id",),
                              "mean inbound bits per second of the samples"),
    "network.out_bps": Measure("network_link_1m", "sum(out_bps_sum)", "sum(samples)", ("link_id",),
                               "mean outbound bits per second of the samples"),
    "service.submitted": Measure("service_workflow_1m", "sumIf(events, action = 'submitted')", None,
                                 ("service_id",), "cases submitted"),
    "service.calls": Measure("service_call_1m", "sum(calls)", None, ("queue",), "hotline calls"),
    "service.prints": Measure("service_print_1m", "sum(jobs)", None, ("terminal_id",), "print jobs"),
}


# ---------------------------------------------------------------------------------------------
# Rules


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
    """A snapshot number against a fixed threshold (see the module documentation)."""

    path: str
    op: str
    threshold: float
    key: str | None = None
    clear: float | None = None
    guard_path: str | None = None
    guard_min: float | None = None


@dataclass(frozen=True, kw_only=True)
class StaleRule(Rule):
    """One alert per stream flagged stale in ``freshness``."""

    streams: tuple[str, ...] = ()


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
_CLASSES: dict[str, type[Rule]] = {"threshold": ThresholdRule, "stale": StaleRule, "anomaly": AnomalyRule}

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
        return rule  # type: ignore[return-value]

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
            text.format(key="K", value=0.5, threshold=0.5, baseline=0.5)
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


# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class _State:
    """One (rule, key) across ticks."""

    pending_since: datetime | None = None  # condition first seen holding (while not active)
    active: bool = False
    since: datetime | None = None
    clear_since: datetime | None = None
    value: float | None = None
    threshold: float | None = None
    baseline: float | None = None


@dataclass(frozen=True)
class _Seen:
    """What one tick says about one (rule, key): ``holds`` None = unknown."""

    holds: bool | None
    clears: bool = False
    value: float | None = None
    threshold: float | None = None
    baseline: float | None = None


_UNKNOWN = _Seen(None)
_GONE = _Seen(False, True)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return value  # type: ignore[return-value]
    return None


def _walk(root: object, dotted: str) -> object:
    node = root
    for part in dotted.split(".") if dotted else ():
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _compare(value: float, op: str, threshold: float) -> bool:
    if op == ">=":
        return value >= threshold
    if op == ">":
        return value > threshold
    if op == "<=":
        return value <= threshold
    return value < threshold


def _judge(value: float, op: str, threshold: float, clear: float | None) -> tuple[bool, bool]:
    holds = _compare(value, op, threshold)
    if clear is None:
        return holds, not holds
    return holds, (value < clear if op in (">=", ">") else value > clear)


class _Blank(string.Formatter):
    """Renders an unknown placeholder as "—" instead of failing on its format spec."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return "—"
        return super().format_field(value, format_spec)


_FORMATTER = _Blank()


def _rfc3339(t: datetime, zone: ZoneInfo | None) -> str:
    return (t.astimezone(zone) if zone else t).isoformat(timespec="seconds")


class AlertBook:
    """The active alerts, kept across ticks so ``for_s`` waits and hysteresis work.

    One instance per process that computes snapshots; ``evaluate`` is cheap (no I/O) and
    meant to run on every tick."""

    def __init__(self, rules: Sequence[AnyRule], zone: ZoneInfo | None = None) -> None:
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rule ids must be unique: {sorted(i for i in ids if ids.count(i) > 1)}")
        self.rules = tuple(rules)
        self.zone = zone  # for ``since``; None = the time zone of the ``now`` given
        self._states: dict[tuple[str, str], _State] = {}
        self._lock = threading.Lock()

    def evaluate(self, snapshot: Mapping[str, Any], now: datetime,
                 baselines: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Advance every rule by one observation at ``now`` and return the active alerts,
        ``{id, severity, domain, title_zh, title_en, since, value, threshold}``, highest
        severity first, then oldest ``since``, then ``id``.

        ``baselines`` is the latest result of :func:`anomaly_baselines`; without it anomaly
        rules are unknown (they neither raise nor clear)."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        with self._lock:
            for rule in self.rules:
                if isinstance(rule, ThresholdRule):
                    seen = self._threshold(rule, snapshot)
                elif isinstance(rule, StaleRule):
                    seen = self._stale(rule, snapshot)
                else:
                    seen = self._anomaly(rule, baselines)
                self._advance(rule, seen, now)
            return self._active()

    # -- observations -----------------------------------------------------------------------

    def _threshold(self, rule: ThresholdRule, snapshot: Mapping[str, Any]) -> dict[str, _Seen] | None:
        if rule.guard_path is not None and rule.guard_min is not None:
            guard = _number(_walk(snapshot, rule.guard_path))
            if guard is None:
                return None
            if guard < rule.guard_min:  # outside the rule's scope: normal, so every alert clears
                return {}

        def seen(raw: object) -> _Seen:
            value = _number(raw)
            if value is None:
                return _UNKNOWN
            holds, clears = _judge(value, rule.op, rule.threshold, rule.clear)
            return _Seen(holds, clears, value, rule.threshold)

        if "[]" not in rule.path:
            return {"": seen(_walk(snapshot, rule.path))}
        head, tail = rule.path.split("[]", 1)
        items = _walk(snapshot, head)
        if not isinstance(items, list):
            return None
        out: dict[str, _Seen] = {}
        for item in items:
            if not isinstance(item, Mapping) or item.get(rule.key) is None:
                continue
            out.setdefault(str(item[rule.key]), seen(_walk(item, tail.lstrip("."))))
        return out

    def _stale(self, rule: StaleRule, snapshot: Mapping[str, Any]) -> dict[str, _Seen] | None:
        freshness = snapshot.get("freshness")
        if not isinstance(freshness, Mapping):
            return None
        out: dict[str, _Seen] = {}
        for stream, entry in freshness.items():
            if rule.streams and stream not in rule.streams:
                continue
            flag = entry.get("stale") if isinstance(entry, Mapping) else None
            if not isinstance(flag, bool):
                out[str(stream)] = _UNKNOWN
                continue
            lag = _number(entry.get("lag_s"))
            out[str(stream)] = _Seen(flag, not flag, lag, None)
        return out

    def _anomaly(self, rule: AnomalyRule, baselines: Mapping[str, Any] | None) -> dict[str, _Seen] | None:
        per_key = baselines.get(rule.id) if baselines else None
        if not isinstance(per_key, Mapping):
            return None
        out: dict[str, _Seen] = {}
        for key, b in per_key.items():
            current, center = _number(b.get("current")), _number(b.get("center"))
            spread, volume = _number(b.get("spread")), _number(b.get("volume"))
            if volume is not None and (volume == 0 or volume < rule.min_volume):
                out[str(key)] = _Seen(False, True, current)  # too few to judge a rate: normal
                continue
            if current is None or center is None or (b.get("n") or 0) < rule.needed_weeks:
                out[str(key)] = _UNKNOWN
                continue
            if rule.score == "ratio":
                level = center * rule.threshold
                score = current / center if center else (1.0 if current == 0 else math.inf)
            else:
                spread = spread or 0.0
                level = center + rule.threshold * spread
                diff = current - center
                score = diff / spread if spread else (0.0 if diff == 0 else math.copysign(math.inf, diff))
            if center < rule.min_baseline:  # usually quiet: nothing to compare with
                out[str(key)] = _Seen(False, True, current, round(level, 6), center)
                continue
            holds, clears = _judge(score, rule.op, rule.threshold, rule.clear)
            out[str(key)] = _Seen(holds, clears, current, round(level, 6), center)
        return out

    # -- state machine ------------------------------------------------------------------------

    def _advance(self, rule: AnyRule, seen: dict[str, _Seen] | None, now: datetime) -> None:
        if seen is None:  # the rule's data is missing: nothing moves
            return
        keys = set(seen) | {k for (rid, k) in self._states if rid == rule.id}
        for key in sorted(keys):
            obs = seen.get(key, _GONE)
            state = self._states.get((rule.id, key))
            if obs.holds is None:
                continue
            if state is None:
                if not obs.holds:
                    continue
                state = self._states[(rule.id, key)] = _State()
            if obs.value is not None:
                state.value, state.threshold, state.baseline = obs.value, obs.threshold, obs.baseline
            if not state.active:
                if not obs.holds:
                    del self._states[(rule.id, key)]
                    continue
                state.pending_since = state.pending_since or now
                if (now - state.pending_since).total_seconds() >= rule.for_s:
                    state.active, state.since, state.clear_since = True, state.pending_since, None
                    log.info("event=alert.raised id=%s severity=%s value=%s threshold=%s since=%s",
                             _alert_id(rule, key), rule.severity, state.value, state.threshold,
                             state.since.isoformat())
                continue
            if not obs.clears:
                state.clear_since = None
                continue
            state.clear_since = state.clear_since or now
            if (now - state.clear_since).total_seconds() >= rule.clear_for_s:
                assert state.since is not None
                log.info("event=alert.cleared id=%s severity=%s active_s=%d", _alert_id(rule, key),
                         rule.severity, (now - state.since).total_seconds())
                del self._states[(rule.id, key)]

    def _active(self) -> list[dict[str, Any]]:
        rules = {r.id: r for r in self.rules}
        out = []
        for (rid, key), state in self._states.items():
            if not state.active or state.since is None:
                continue
            rule = rules[rid]
            names = {"key": key, "value": state.value, "threshold": state.threshold,
                     "baseline": state.baseline}
            out.append((SEVERITIES.index(rule.severity), state.since, _alert_id(rule, key), {
                "id": _alert_id(rule, key),
                "severity": rule.severity,
                "domain": rule.domain,
                "title_zh": _FORMATTER.format(rule.title_zh, **names),
                "title_en": _FORMATTER.format(rule.title_en, **names),
                "since": _rfc3339(state.since, self.zone),
                "value": state.value,
                "threshold": state.threshold,
            }))
        out.sort(key=lambda t: t[:3])
        return [t[3] for t in out]


def _alert_id(rule: Rule, key: str) -> str:
    return f"{rule.id}:{key}" if key else rule.id


# ---------------------------------------------------------------------------------------------
# Baselines for anomaly rules


def anomaly_windows(zone: ZoneInfo, now: datetime, window_min: int,
                    weeks: int) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` in UTC of the current window (index 0: the last ``window_min`` whole
    minutes before ``now``) and of the same local wall-clock window 1…``weeks`` weeks earlier.

    Local wall clock, not a fixed 168 h: across a daylight-saving change "the same minute of
    last week" is the same time on the clocks people live by. The minute in progress is
    left out: a partial minute would read as a drop."""
    end_local = now.astimezone(zone).replace(second=0, microsecond=0)
    out = []
    for k in range(weeks + 1):
        wall = end_local.replace(tzinfo=None) - timedelta(weeks=k)
        end = wall.replace(tzinfo=zone).astimezone(UTC)
        out.append((end - timedelta(minutes=window_min), end))
    return out


_Sums = dict[int, tuple[float, float]]  # window index → (numerator, denominator)


def _window_values(store: Store, rule: AnomalyRule,
                   windows: list[tuple[datetime, datetime]]) -> tuple[set[int], dict[str, _Sums]]:
    """Numerator and denominator per key and window, and which windows hold any row."""
    m = MEASURES[rule.measure]
    ranges = [f"(minute >= {{s{i}:DateTime('UTC')}} AND minute < {{e{i}:DateTime('UTC')}})"
              for i in range(len(windows))]
    which = ", ".join(f"{r}, {i}" for i, r in enumerate(ranges))
    key = f"toString({rule.by})" if rule.by else "''"
    den = f"toFloat64({m.denominator})" if m.denominator else "toFloat64(0)"
    sql = (f"SELECT multiIf({which}, -1) AS w, {key} AS k, toFloat64({m.numerator}) AS num, {den} AS den\n"
           f"FROM {m.table}\nWHERE {' OR '.join(ranges)}\nGROUP BY w, k")
    params: dict[str, Any] = {}
    for i, (start, end) in enumerate(windows):
        params[f"s{i}"], params[f"e{i}"] = start, end
    observed: set[int] = set()
    values: dict[str, _Sums] = {}
    for w, k, num, d in store.rows(sql, params):
        observed.add(int(w))
        values.setdefault(str(k), {})[int(w)] = (float(num), float(d))
    return observed, values


def _value(got: _Sums, w: int, observed: set[int], rate: bool) -> float | None:
    """A key's value in window ``w``: None when the window holds no row at all, or for a rate
    whose denominator is 0; a count absent from a window with data is 0."""
    if w not in observed:
        return None
    num, den = got.get(w, (0.0, 0.0))
    if rate:
        return num / den if den > 0 else None
    return num


def _center_spread(values: list[float], statistic: str) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if statistic == "median_mad":
        median = statistics.median(values)
        return median, MAD_SCALE * statistics.median(abs(v - median) for v in values)
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def anomaly_baselines(store: Store, zone: ZoneInfo, now: datetime,
                      rules: Sequence[AnyRule]) -> dict[str, dict[str, dict[str, Any]]]:
    """Current value and past-weeks baseline of every anomaly rule, by rule id then key
    (``""`` for a rule without ``by``)::

        {"gate_traffic_drop": {"east-1": {"current": 3.0, "volume": None, "weeks": [96.0, …],
                                          "n": 4, "center": 101.5, "spread": 8.9,
                                          "window_end": "…"}}}

    ``weeks`` holds the past windows' values, most recent week first; a window with no row
    of the rollup at all (data not yet collected, or the feed was down) is left out rather
    than read as zero, and ``n`` counts the ones kept. A key with no row in a window that
    has data counts 0 for a count; a rate with a zero denominator is left out. ``current``
    is None when the current window has no row at all (the stale rule speaks then).
    ``volume`` is the current denominator of a rate measure.

    One query per anomaly rule over ``weeks + 1`` short windows of a minute rollup: cheap
    enough to run once a minute; the result is plain JSON-able data."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for rule in rules:
        if not isinstance(rule, AnomalyRule):
            continue
        windows = anomaly_windows(zone, now, rule.window_min, rule.weeks)
        observed, values = _window_values(store, rule, windows)
        rate = MEASURES[rule.measure].is_rate
        per_key: dict[str, dict[str, Any]] = {}
        for key in sorted(values):
            got = values[key]
            past = [v for w in range(1, rule.weeks + 1) if (v := _value(got, w, observed, rate)) is not None]
            center, spread = _center_spread(past, rule.statistic)
            per_key[key] = {
                "current": _value(got, 0, observed, rate),
                "volume": (got.get(0, (0.0, 0.0))[1] if 0 in observed else None) if rate else None,
                "weeks": past,
                "n": len(past),
                "center": center,
                "spread": spread,
                "window_end": windows[0][1].isoformat(),
            }
        out[rule.id] = per_key
        log.debug("event=alerts.baseline rule=%s keys=%d observed=%d", rule.id, len(per_key), len(observed))
    return out
