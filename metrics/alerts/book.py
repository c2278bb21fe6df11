"""Evaluation of the alert rules: the active alerts, kept across ticks.

Timing, hysteresis and what counts as unknown are described in docs/alerts.md.
"""

from __future__ import annotations

import logging
import math
import string
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from metrics.alerts.rules import SEVERITIES, AnomalyRule, AnyRule, Rule, StaleRule, ThresholdRule

log = logging.getLogger("ioc.alerts")

#: (key field, key, lang) → the key's display name, or None when it has none
Namer = Callable[[str, str, str], "str | None"]


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
        return value
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

    def __init__(self, rules: Sequence[AnyRule], zone: ZoneInfo | None = None,
                 namer: Namer | None = None) -> None:
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rule ids must be unique: {sorted(i for i in ids if ids.count(i) > 1)}")
        self.rules = tuple(rules)
        self.zone = zone  # for ``since``; None = the time zone of the ``now`` given
        # (key field, key, lang) → the key's display name: a title says 北门（学府大道）, not
        # main-north; without one (or for a key it does not name) {name} is the key itself
        self.namer = namer
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

    def next_change(self) -> datetime | None:
        """When the first running timer ends — the ``for_s`` wait of a condition that holds,
        the ``clear_for_s`` wait of an active alert's clear condition: the earliest time at
        which evaluating the same figures again changes the active alerts. None when no timer
        runs (then only new figures can change them)."""
        with self._lock:
            rules = {r.id: r for r in self.rules}
            due = []
            for (rid, _key), state in self._states.items():
                rule = rules[rid]
                if not state.active and state.pending_since is not None:
                    due.append(state.pending_since + timedelta(seconds=rule.for_s))
                elif state.active and state.clear_since is not None:
                    due.append(state.clear_since + timedelta(seconds=rule.clear_for_s))
            return min(due, default=None)

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
        section = snapshot.get(rule.section)
        if not isinstance(section, Mapping):
            return None
        # a section that is itself one entry (``backup``) raises one alert named by the rule
        entries = {"": section} if "stale" in section else section
        out: dict[str, _Seen] = {}
        for stream, entry in entries.items():
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
            field = _key_field(rule)
            titles = {lang: _FORMATTER.format(template, **names, name=self._name(field, key, lang))
                      for lang, template in (("zh", rule.title_zh), ("en", rule.title_en))}
            out.append((SEVERITIES.index(rule.severity), state.since, _alert_id(rule, key), {
                "id": _alert_id(rule, key),
                "severity": rule.severity,
                "domain": rule.domain,
                "title_zh": titles["zh"],
                "title_en": titles["en"],
                "since": _rfc3339(state.since, self.zone),
                "value": state.value,
                "threshold": state.threshold,
            }))
        out.sort(key=lambda t: t[:3])
        return [t[3] for t in out]


    def _name(self, field: str, key: str, lang: str) -> str:
        named = self.namer(field, key, lang) if self.namer is not None and key else None
        return named or key


def _key_field(rule: AnyRule) -> str:
    """What a rule's key holds: the snapshot field naming each item (``link_id``), the
    anomaly's ``by`` dimension, or ``stream`` for staleness."""
    if isinstance(rule, ThresholdRule):
        return rule.key or ""
    if isinstance(rule, StaleRule):
        return "stream"
    return rule.by or ""


def _alert_id(rule: Rule, key: str) -> str:
    return f"{rule.id}:{key}" if key else rule.id
