"""Alert rules: raising after ``for_s``, hysteresis, keys, unknown data, stale streams, anomaly
baselines on the real engine (checked against an independent Polars computation) and rule
file errors. Time is driven by explicit ``now`` values, never by sleeping."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app.settings import DEFAULT_ALERTS
from ioc_app.storage import Store
from metrics.alerts import (
    DOMAINS,
    KINDS,
    MEASURES,
    OPERATORS,
    SCORES,
    SEVERITIES,
    STATISTICS,
    AlertBook,
    AlertRulesError,
    AnomalyRule,
    StaleRule,
    ThresholdRule,
    anomaly_baselines,
    anomaly_windows,
    load_rules,
)

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

HEAD = """
[[rule]]
id = "{id}"
kind = "{kind}"
severity = "{severity}"
domain = "{domain}"
title_zh = "{zh}"
title_en = "{en}"
"""

LINK = HEAD.format(id="link_utilization", kind="threshold", severity="warning", domain="network",
                   zh="出口链路 {key} 利用率 {value:.0%}", en="Egress link {key} at {value:.0%}") + """
path = "network.links[].utilization"
key = "link_id"
op = ">="
threshold = 0.9
for_s = 180
clear = 0.85
clear_for_s = 60
"""

HOTLINE = HEAD.format(id="hotline", kind="threshold", severity="warning", domain="service",
                      zh="热线接通率 {value:.0%}", en="Hotline answer rate {value:.0%}") + """
path = "service.calls.today.answer_rate"
op = "<"
threshold = 0.85
guard_path = "service.calls.today.calls"
guard_min = 20
"""

SECURITY = HEAD.format(id="security_critical", kind="threshold", severity="critical", domain="network",
                       zh="{value} 起严重安全事件", en="{value} critical incident(s)") + """
path = "network.security.open_by_severity.critical"
op = ">="
threshold = 1
"""

STALE = HEAD.format(id="stream_stale", kind="stale", severity="warning", domain="pipeline",
                    zh="数据流 {key} 中断 {value:.0f} 秒", en="Stream {key} stalled for {value:.0f} s") + """
for_s = 120
"""

DROP = HEAD.format(id="gate_traffic_drop", kind="anomaly", severity="warning", domain="gate",
                   zh="闸机 {key} 通行量骤降",
                   en="Gate {key} quiet: {value:.0f}, usually {baseline:.0f}") + """
measure = "gate.attempts"
by = "gate_id"
window_min = 15
weeks = 6
min_weeks = 3
statistic = "median_mad"
score = "ratio"
op = "<="
threshold = 0.2
clear = 0.5
min_baseline = 60
"""

SPIKE = HEAD.format(id="gate_deny_spike", kind="anomaly", severity="warning", domain="gate",
                    zh="拒绝率 {value:.1%}", en="Deny rate {value:.1%}") + """
measure = "gate.deny_rate"
window_min = 15
weeks = 4
statistic = "mean_std"
score = "z"
op = ">="
threshold = 3
min_volume = 50
"""


def rules(tmp_path: Path, *texts: str) -> tuple:
    path = tmp_path / "alerts.toml"
    path.write_text("\n".join(texts), encoding="utf-8")
    return load_rules(path)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def links(**utilization: float | None) -> dict[str, Any]:
    return {"network": {"links": [
        {"link_id": k, "in_bps": 1, "out_bps": 1, "capacity_bps": 10, "utilization": v, "stale": False}
        for k, v in utilization.items()
    ]}}


def ids(alerts: list[dict[str, Any]]) -> list[str]:
    return [a["id"] for a in alerts]


# --- threshold rules -------------------------------------------------------------------------


def test_threshold_raises_after_for_s_with_since_at_the_start(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, LINK), ZONE)
    assert book.evaluate(links(CERNET=0.95), at(0)) == []
    assert book.evaluate(links(CERNET=0.93), at(179)) == []
    alerts = book.evaluate(links(CERNET=0.96), at(180))
    assert alerts == [{
        "id": "link_utilization:CERNET", "severity": "warning", "domain": "network",
        "title_zh": "出口链路 CERNET 利用率 96%", "title_en": "Egress link CERNET at 96%",
        "since": "2026-09-01T10:00:00+08:00", "value": 0.96, "threshold": 0.9,
    }]
    json.dumps(alerts)  # plain data for the snapshot


def test_an_interruption_restarts_the_for_s_wait(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, LINK), ZONE)
    book.evaluate(links(CERNET=0.95), at(0))
    book.evaluate(links(CERNET=0.50), at(100))
    book.evaluate(links(CERNET=0.95), at(120))
    assert book.evaluate(links(CERNET=0.95), at(299)) == []
    [alert] = book.evaluate(links(CERNET=0.95), at(300))
    assert alert["since"] == "2026-09-01T10:02:00+08:00"


def test_hysteresis_keeps_an_oscillating_value_from_flapping(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, LINK), ZONE)
    book.evaluate(links(CERNET=0.95), at(0))
    assert ids(book.evaluate(links(CERNET=0.95), at(180))) == ["link_utilization:CERNET"]
    wobble = [0.89, 0.91, 0.86, 0.92, 0.88, 0.90, 0.87]
    for i in range(60):  # ten minutes around the threshold, above the clear level
        alerts = book.evaluate(links(CERNET=wobble[i % len(wobble)]), at(190 + 10 * i))
        assert ids(alerts) == ["link_utilization:CERNET"]
        assert alerts[0]["since"] == "2026-09-01T10:00:00+08:00"
    assert alerts[0]["value"] == wobble[59 % len(wobble)]
    # below the clear level, but not for clear_for_s: still active; a dip back resets the wait
    assert book.evaluate(links(CERNET=0.80), at(800))
    assert book.evaluate(links(CERNET=0.86), at(830))
    assert book.evaluate(links(CERNET=0.80), at(840))
    assert book.evaluate(links(CERNET=0.80), at(899))
    assert book.evaluate(links(CERNET=0.80), at(900)) == []


def test_without_hysteresis_the_same_values_do_flap(tmp_path: Path) -> None:
    """The control for the test above: the clear level is what keeps the alert steady."""
    text = LINK.replace("for_s = 180\nclear = 0.85\nclear_for_s = 60\n", "")
    book = AlertBook(rules(tmp_path, text), ZONE)
    states = [bool(book.evaluate(links(CERNET=v), at(10 * i)))
              for i, v in enumerate([0.91, 0.89, 0.92, 0.88, 0.91, 0.89])]
    assert states == [True, False, True, False, True, False]


def test_one_alert_per_key_ordered_by_since_then_id(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, LINK.replace("for_s = 180", "for_s = 0")), ZONE)
    assert ids(book.evaluate(links(CERNET=0.95, CHINANET=0.5), at(0))) == ["link_utilization:CERNET"]
    alerts = book.evaluate(links(CERNET=0.95, CHINANET=0.97, UNICOM=0.99), at(10))
    assert ids(alerts) == ["link_utilization:CERNET", "link_utilization:CHINANET", "link_utilization:UNICOM"]
    assert [a["title_en"] for a in alerts][1:] == ["Egress link CHINANET at 97%", "Egress link UNICOM at 99%"]
    # each key clears on its own
    alerts = book.evaluate(links(CERNET=0.95, CHINANET=0.5, UNICOM=0.99), at(20))
    assert ids(alerts) == ["link_utilization:CERNET", "link_utilization:CHINANET", "link_utilization:UNICOM"]
    alerts = book.evaluate(links(CERNET=0.95, CHINANET=0.5, UNICOM=0.99), at(80))
    assert ids(alerts) == ["link_utilization:CERNET", "link_utilization:UNICOM"]


def test_missing_values_neither_raise_nor_clear(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, LINK), ZONE)
    for s in range(0, 600, 60):  # nothing known: nothing raised
        assert book.evaluate({}, at(s)) == []
        assert book.evaluate(links(CERNET=None), at(s + 1)) == []
    # a gap during the wait keeps its start
    book.evaluate(links(CERNET=0.95), at(1000))
    book.evaluate({"network": {}}, at(1100))
    book.evaluate(links(CERNET=None), at(1150))
    [alert] = book.evaluate(links(CERNET=0.95), at(1180))
    assert alert["since"] == at(1000).astimezone(ZONE).isoformat()
    # an active alert survives any length of unknown data, with its last value
    for s in range(1200, 5000, 300):
        assert book.evaluate({}, at(s)) == [alert]
        assert book.evaluate(links(CERNET=None), at(s + 1)) == [alert]
        assert book.evaluate({"network": {"links": "not a list"}}, at(s + 2)) == [alert]


def test_a_key_gone_from_its_list_clears(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, LINK.replace("for_s = 180", "for_s = 0")), ZONE)
    assert book.evaluate(links(CERNET=0.95), at(0))
    assert book.evaluate(links(OTHER=0.1), at(30))  # clear_for_s still applies
    assert book.evaluate(links(OTHER=0.1), at(89))
    assert book.evaluate(links(OTHER=0.1), at(90)) == []


def test_guard_keeps_a_small_sample_quiet_and_clears_when_it_falls(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, HOTLINE), ZONE)

    def calls(n: int | None, rate: float | None) -> dict[str, Any]:
        return {"service": {"calls": {"today": {"calls": n, "answered": 0, "answer_rate": rate}}}}

    assert book.evaluate(calls(10, 0.5), at(0)) == []
    [alert] = book.evaluate(calls(25, 0.6), at(60))
    assert (alert["id"], alert["value"], alert["threshold"]) == ("hotline", 0.6, 0.85)
    assert alert["title_zh"] == "热线接通率 60%"
    assert book.evaluate(calls(None, 0.6), at(90)) == [alert]  # guard unknown: no change
    assert book.evaluate(calls(0, None), at(120)) == []  # midnight: a new day, too few calls


def test_severity_orders_before_since(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, LINK.replace("for_s = 180", "for_s = 0"), SECURITY), ZONE)
    snap = links(CERNET=0.95)
    book.evaluate(snap, at(0))
    snap["network"]["security"] = {"open_by_severity": {"info": 0, "low": 0, "medium": 0, "high": 2,
                                                        "critical": 1}}
    alerts = book.evaluate(snap, at(60))
    assert ids(alerts) == ["security_critical", "link_utilization:CERNET"]
    assert alerts[0]["title_en"] == "1 critical incident(s)" and alerts[0]["value"] == 1
    snap["network"]["security"]["open_by_severity"]["critical"] = 0
    assert ids(book.evaluate(snap, at(61))) == ["link_utilization:CERNET"]


# --- stale rules -----------------------------------------------------------------------------


def freshness(**stale: tuple[bool | None, float | None]) -> dict[str, Any]:
    return {"freshness": {k.replace("_", "."): {"last_event_ts": None, "lag_s": lag, "stale": flag}
                          for k, (flag, lag) in stale.items()}}


def test_every_stale_stream_gets_its_alert_after_for_s(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, STALE), ZONE)
    snap = freshness(gate_pass=(True, 700), network_link=(False, 20), service_call=(True, 4000))
    assert book.evaluate(snap, at(0)) == []
    assert book.evaluate(snap, at(119)) == []
    alerts = book.evaluate(freshness(gate_pass=(True, 820), network_link=(False, 5),
                                     service_call=(True, 4120)), at(120))
    assert ids(alerts) == ["stream_stale:gate.pass", "stream_stale:service.call"]
    assert [a["value"] for a in alerts] == [820, 4120] and alerts[0]["threshold"] is None
    assert alerts[0]["title_en"] == "Stream gate.pass stalled for 820 s"
    assert ids(book.evaluate({}, at(200))) == ids(alerts)  # no freshness: unknown
    alerts = book.evaluate(freshness(gate_pass=(False, 3), network_link=(None, None),
                                     service_call=(True, None)), at(300))
    assert ids(alerts) == ["stream_stale:service.call"]
    assert alerts[0]["title_en"] == "Stream service.call stalled for 4120 s"  # last known lag


def test_stale_rule_limited_to_its_streams(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, STALE + 'streams = ["enrollment.admission"]\n'), ZONE)
    snap = freshness(gate_pass=(True, 700), enrollment_admission=(True, None))
    book.evaluate(snap, at(0))
    [alert] = book.evaluate(snap, at(120))
    assert alert["id"] == "stream_stale:enrollment.admission"
    assert alert["title_en"] == "Stream enrollment.admission stalled for — s"


# --- anomaly rules: evaluation against given baselines ---------------------------------------


def baseline(current: float | None, center: float | None, spread: float | None = 0.0, n: int = 4,
             volume: float | None = None) -> dict[str, Any]:
    return {"current": current, "volume": volume, "weeks": [], "n": n, "center": center, "spread": spread}


def test_anomaly_ratio_raises_holds_and_clears_with_hysteresis(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, DROP), ZONE)
    snap: dict[str, Any] = {}
    assert book.evaluate(snap, at(0)) == []  # no baselines yet: unknown
    b = {"gate_traffic_drop": {"east-1": baseline(10, 105), "west-2": baseline(50, 55),
                               "north-3": baseline(0, 10)}}  # usually quiet: below min_baseline
    [alert] = book.evaluate(snap, at(60), b)
    assert alert["id"] == "gate_traffic_drop:east-1"
    assert (alert["value"], alert["threshold"]) == (10, pytest.approx(21.0))
    assert alert["title_en"] == "Gate east-1 quiet: 10, usually 105"
    b["gate_traffic_drop"]["east-1"] = baseline(40, 105)  # ratio 0.38: above threshold, below clear
    assert ids(book.evaluate(snap, at(120), b)) == ["gate_traffic_drop:east-1"]
    assert ids(book.evaluate(snap, at(180), None)) == ["gate_traffic_drop:east-1"]
    b["gate_traffic_drop"]["east-1"] = baseline(80, 105, n=2)  # too few weeks: unknown
    assert ids(book.evaluate(snap, at(240), b)) == ["gate_traffic_drop:east-1"]
    b["gate_traffic_drop"]["east-1"] = baseline(80, 105)
    assert book.evaluate(snap, at(300), b) == []


def test_anomaly_z_score_and_volume_guard(tmp_path: Path) -> None:
    book = AlertBook(rules(tmp_path, SPIKE), ZONE)
    b = {"gate_deny_spike": {"": baseline(0.09, 0.02, 0.01, volume=40)}}
    assert book.evaluate({}, at(0), b) == []  # z = 7, but only 40 attempts
    b["gate_deny_spike"][""] = baseline(0.09, 0.02, 0.01, volume=400)
    [alert] = book.evaluate({}, at(1), b)
    assert (alert["id"], alert["value"], alert["threshold"]) == ("gate_deny_spike", 0.09, 0.05)
    b["gate_deny_spike"][""] = baseline(0.04, 0.02, 0.01, volume=400)  # z = 2
    assert book.evaluate({}, at(2), b) == []


# --- anomaly baselines on the real engine ----------------------------------------------------


def gate_events(gate: str, count: int, denied: int, start: datetime, end: datetime,
                prefix: str) -> list[dict[str, Any]]:
    span = int((end - start).total_seconds() * 1000)
    out = []
    for i in range(count):
        ts = int(start.timestamp() * 1000) + span * i // count
        ev = {"event_id": f"{prefix}-{gate}-{i}", "ts": ts, "campus": "main", "gate_id": gate, "lane": 1,
              "direction": "in" if i % 2 else "out", "person_type": "student", "method": "face",
              "result": "deny" if i < denied else "pass"}
        if i < denied:
            ev["deny_reason"] = "expired"
        out.append(ev)
    return out


def independent(events: list[dict[str, Any]], now: datetime, weeks: int, value: pl.Expr,
                by: str | None) -> dict[str, dict[str, Any]]:
    """Same definition in plain Polars: local wall-clock windows via calendar offsets."""
    df = pl.DataFrame(events, infer_schema_length=None).with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC").dt.convert_time_zone(ZONE.key)
        .alias("local"))
    end0 = pl.Series([now]).dt.convert_time_zone(ZONE.key).dt.truncate("1m")
    rows = []
    for k in range(weeks + 1):
        end = end0.dt.offset_by(f"-{k}w")[0]
        win = df.filter(pl.col("local") >= end - timedelta(minutes=15), pl.col("local") < end)
        if win.height:
            keys = df[by].unique().to_list() if by else [""]
            for key in keys:
                part = win.filter(pl.col(by) == key) if by else win
                rows.append({"w": k, "k": key, "v": part.select(value).item() if part.height else 0.0,
                             "den": float(part.height)})
    per = pl.DataFrame(rows)
    out = {}
    for key in per["k"].unique().to_list():
        mine = per.filter(pl.col("k") == key).sort("w")
        past = mine.filter(pl.col("w") > 0, pl.col("v").is_not_null())
        median = past["v"].median()
        current = mine.filter(pl.col("w") == 0)
        out[key] = {"weeks": past["v"].to_list(), "n": past.height, "center": median,
                    "spread": 1.4826 * (past["v"] - median).abs().median(),
                    "current": current["v"].item() if current.height else None,
                    "den": current["den"].item() if current.height else None}
    return out


def test_anomaly_baselines_match_an_independent_computation(migrated: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    windows = anomaly_windows(ZONE, now, 15, 6)
    plan = {  # gate → (attempts, denied) per window: now, 1, 2, 3, 4 weeks ago; weeks 5, 6 have no data
        "east-1": [(10, 1), (100, 2), (120, 3), (90, 2), (110, 1)],
        "west-2": [(55, 30), (40, 1), (50, 1), (60, 2), (45, 0)],
        "north-3": [(0, 0), (30, 0), (20, 1), (0, 0), (0, 0)],  # counts 0 where absent
    }
    events: list[dict[str, Any]] = []
    for gate, per_window in plan.items():
        for w, (count, denied) in enumerate(per_window):
            start, end = windows[w]
            events += gate_events(gate, count, denied, start, end, f"w{w}")
            # just outside the window on both sides (the minute in progress, the minute before)
            events += gate_events(gate, 3, 3, end, end + timedelta(seconds=25), f"after{w}")
            events += gate_events(gate, 3, 3, start - timedelta(minutes=1), start, f"before{w}")
    result = validate(GATE_PASS, events, source="t", now=now)
    assert result.errors == []
    migrated.insert("gate_pass", result.frame)

    drop, spike = rules(tmp_path, DROP, SPIKE)
    got = anomaly_baselines(migrated, ZONE, now, (drop, spike))
    json.dumps(got)

    want = independent(events, now, 6, pl.len().cast(pl.Float64), "gate_id")
    assert set(got["gate_traffic_drop"]) == set(want) == set(plan)
    for gate, w in want.items():
        g = got["gate_traffic_drop"][gate]
        assert g["weeks"] == pytest.approx(w["weeks"]) and g["n"] == w["n"] == 4, gate
        assert g["current"] == pytest.approx(w["current"]), gate
        assert (g["center"], g["spread"]) == (pytest.approx(w["center"]), pytest.approx(w["spread"])), gate
        assert g["volume"] is None
    assert got["gate_traffic_drop"]["east-1"]["weeks"] == [100, 120, 90, 110]  # most recent week first
    assert got["gate_traffic_drop"]["north-3"]["current"] == 0

    rate = (pl.col("result") == "deny").sum() / pl.len()
    [w] = independent(events, now, 4, rate, None).values()
    s = got["gate_deny_spike"][""]
    assert s["current"] == pytest.approx(w["current"]) and s["volume"] == w["den"] == 65
    assert s["weeks"] == pytest.approx(w["weeks"]) and s["n"] == 4
    past = pl.Series(w["weeks"])
    assert s["center"] == pytest.approx(past.mean()) and s["spread"] == pytest.approx(past.std())

    book = AlertBook((drop, spike), ZONE)
    alerts = book.evaluate({}, now, got)
    assert ids(alerts) == ["gate_deny_spike", "gate_traffic_drop:east-1"]


def test_anomaly_windows_follow_the_local_clock_across_daylight_saving() -> None:
    ny = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 10, 14, 7, 42, tzinfo=ny)  # two days after clocks went forward
    (s0, e0), (s1, e1) = anomaly_windows(ny, now, 15, 1)
    assert e0 == datetime(2026, 3, 10, 18, 7, tzinfo=UTC) and s0 == e0 - timedelta(minutes=15)
    assert e1 - s1 == timedelta(minutes=15)
    assert e1.astimezone(ny).replace(tzinfo=None) == datetime(2026, 3, 3, 14, 7)
    assert e0 - e1 == timedelta(days=7, hours=-1)


# --- the rules file --------------------------------------------------------------------------


GOOD = HEAD.format(id="x", kind="threshold", severity="info", domain="service", zh="积压 {value}",
                   en="Backlog {value}") + 'path = "service.backlog"\nop = ">="\nthreshold = 900\n'


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("[[rule]\nid = 'x'", "not valid TOML"),
        (GOOD.replace('kind = "threshold"', 'kind = "treshold"'),
         "rule 'x': kind 'treshold' is not one of threshold, stale, anomaly"),
        (GOOD + "thresold = 0.9\n", "rule 'x': unknown field 'thresold' for a threshold rule"),
        (GOOD.replace('title_zh = "积压 {value}"\n', ""), "rule 'x': title_zh is missing"),
        (GOOD.replace('title_en = "Backlog {value}"\n', 'title_en = ""\n'),
         "rule 'x': title_en must be a non-empty string"),
        (GOOD.replace('op = ">="', 'op = "=>"'), "rule 'x': op '=>' is not one of >=, >, <=, <"),
        (GOOD.replace("threshold = 900", 'threshold = "900"'), "rule 'x': threshold must be a number"),
        (GOOD.replace('severity = "info"', 'severity = "major"'), "severity 'major' is not one of"),
        (GOOD + "clear = 950\n", "rule 'x': clear 950 must be at or below threshold 900"),
        (GOOD.replace("Backlog {value}", "Backlog {backlog}"), "rule 'x': title_en uses {backlog}"),
        (GOOD.replace("Backlog {value}", "Backlog {value:.0q}"), "rule 'x': title_en is not a valid"),
        (GOOD.replace('"service.backlog"', '"network.links[].utilization"'), 'add key = "<field>"'),
        (GOOD + 'guard_path = "service.calls.today.calls"\n', "guard_path and guard_min go together"),
        (GOOD + GOOD, "rule 'x': the id is used by an earlier rule"),
        (DROP.replace('"gate.attempts"', '"gate.visits"'),
         "rule 'gate_traffic_drop': measure 'gate.visits' is unknown"),
        (DROP.replace('by = "gate_id"', 'by = "campus"'), "gate.attempts can be split by gate_id"),
        (DROP.replace("weeks = 6", "weeks = 12"), "weeks must be between 1 and 8"),
        (DROP + "min_volume = 5\n", "min_volume applies to rate measures"),
        (STALE + "streams = \"gate.pass\"\n", "streams must be a list of stream names"),
        (GOOD.replace('id = "x"', 'id = "Bad Id"'), "rule 'Bad Id': id must be 1–64 of a-z 0-9 _"),
        (GOOD.replace('id = "x"\n', ""), "rule #1 (the 1st [[rule]]): id must be"),
        ("title = 'x'\n" + GOOD, "unknown top-level key 'title'"),
    ],
)
def test_rules_file_errors_name_the_rule_and_the_fix(tmp_path: Path, text: str, hint: str) -> None:
    with pytest.raises(AlertRulesError) as err:
        rules(tmp_path, text)
    assert str(err.value).startswith(str(tmp_path / "alerts.toml")), str(err.value)
    assert hint in str(err.value), str(err.value)


def test_rule_errors_give_the_line_of_the_rule(tmp_path: Path) -> None:
    second = GOOD.replace('id = "x"', 'id = "y"').replace("900", "'a'")
    with pytest.raises(AlertRulesError) as err:
        rules(tmp_path, GOOD, second)
    line = "\n".join((GOOD, second)).splitlines().index('id = "y"') + 1
    assert line > 10
    assert str(err.value).startswith(f"{tmp_path / 'alerts.toml'}:{line}: rule 'y': threshold must be")
    with pytest.raises(AlertRulesError) as err:  # a repeated id: the line of the repeat
        rules(tmp_path, GOOD, SECURITY, GOOD)
    line = "\n".join((GOOD, SECURITY, GOOD)).splitlines().index('id = "x"', line) + 1
    assert str(err.value).startswith(f"{tmp_path / 'alerts.toml'}:{line}: rule 'x': the id is used")


def test_the_shipped_rules_load_and_render(tmp_path: Path) -> None:
    shipped = load_rules(DEFAULT_ALERTS)
    by_id = {r.id: r for r in shipped}
    assert {"link_utilization", "gate_deny_spike", "gate_traffic_drop", "stream_stale", "security_high",
            "security_critical", "hotline_answer_rate", "service_backlog"} <= set(by_id)
    assert {type(r) for r in shipped} == {ThresholdRule, StaleRule, AnomalyRule}
    assert all(re.search(r"[\u4e00-\u9fff]", r.title_zh) for r in shipped)
    watched = {"gate.pass", "network.link", "network.online", "network.security", "service.workflow",
               "service.print", "service.call"}  # admissions and check-in are seasonal: never watched
    assert watched == {s for r in shipped if isinstance(r, StaleRule) for s in r.streams}
    streams = watched | {"enrollment.admission", "enrollment.checkin"}
    link = by_id["link_utilization"]
    assert isinstance(link, ThresholdRule)
    assert (link.threshold, link.for_s, link.clear) == (0.9, 180, 0.85)
    assert (by_id["security_critical"].severity, by_id["security_high"].severity) == ("critical", "warning")

    snapshot = {
        "freshness": {s: {"last_event_ts": None, "lag_s": None, "stale": True} for s in streams},
        "network": {"links": [{"link_id": "CERNET", "utilization": 0.97}],
                    "security": {"open_by_severity": {"high": 1, "critical": 2}}},
        "service": {"calls": {"today": {"calls": 30, "answer_rate": 0.5}}, "backlog": 5000},
    }
    b = {"gate_deny_spike": {"": baseline(0.2, 0.02, 0.01, volume=500)},
         "gate_traffic_drop": {"east-1": baseline(0, 200)}}
    book = AlertBook(shipped, ZONE)
    book.evaluate(snapshot, at(0), b)
    alerts = book.evaluate(snapshot, at(3600), b)
    assert len(alerts) == 7 + len(watched)
    assert alerts[0]["id"] == "security_critical" and alerts[-1]["severity"] == "warning"
    assert all(a["title_zh"] and a["title_en"] for a in alerts)
    json.dumps(alerts, ensure_ascii=False)


def test_the_manual_describes_every_field_choice_and_measure() -> None:
    """docs/alerts.md is the rules file's manual: a field, choice or measure added to the code
    without a word there would leave operators guessing."""
    manual = (Path(__file__).resolve().parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([^`]+)`", manual))
    fields = {f.name for cls in (ThresholdRule, StaleRule, AnomalyRule) for f in dataclasses.fields(cls)}
    choices = {*KINDS, *SEVERITIES, *DOMAINS, *OPERATORS, *STATISTICS, *SCORES}
    dims = {d for m in MEASURES.values() for d in m.dims}
    tables = {m.table for m in MEASURES.values()}
    missing = sorted((fields | choices | set(MEASURES) | dims | tables) - named)
    assert missing == [], f"describe these in docs/alerts.md: {missing}"
