"""Data pipeline and quality (数据管道与质量): is every stream arriving, is the ingest path
keeping up, what was refused and why, which codes the catalogue lacks, which screens are
alive, and which version of the site catalogue is in force.

Freshness, alerts and the snapshot's own figures come with the live snapshot (the version and
compute time are bound numbers the browser writes). Ingest counters, the buffer and the
screens' heartbeats live in the server process, and the quality report in the store: they
change without a new snapshot version, so the page's one callback also runs on a slow
interval of its own (the quality queries behind it are memoised for every screen alike).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, callback, dcc, html

from ioc_app import read
from layouts import ids
from layouts.i18n import CATALOGUE, t
from layouts.live import bound, frame, options, tile
from layouts.table import table
from pages._health import notify

dash.register_page(__name__, path="/health", name="health", order=50, title="IOC")

PAGE = "health"
REFRESH_MS = 5000
ROWS = 6  # a wall tile shows this many rows of a list and says how many more there are
SLOW = f"{PAGE}-slow"
OUT = {name: f"{PAGE}-{name}" for name in
       ("streams", "buffer", "lag", "failures", "age", "history", "backup", "dead", "unknown",
        "alerts", "screens", "site", "notify")}


def _label(key: str, code: str, lang: str) -> str:
    """The catalogue's name for a data value (stream, reason) under ``key``, or the code itself."""
    return t(key, lang) if key in CATALOGUE else code


def stream_name(stream: str, lang: str) -> str:
    return _label(f"health.stream.{stream}", stream, lang)


def duration(seconds: float | None, lang: str) -> str:
    """``42秒`` / ``42 s`` up to 90 s, then minutes, hours, days."""
    if seconds is None:
        return "—"
    s = max(float(seconds), 0.0)
    for limit, unit, div in ((90, "s", 1), (5400, "min", 60), (172_800, "h", 3600)):
        if s < limit:
            return t(f"health.dur.{unit}", lang).format(n=round(s / div))
    return t("health.dur.d", lang).format(n=round(s / 86_400))


def ago(seconds: float | None, lang: str) -> str:
    return "—" if seconds is None else t("health.ago", lang).format(x=duration(seconds, lang))


def clock(value: Any, zone: ZoneInfo, now: datetime) -> str:
    """A moment in the site's zone: the time alone today, else with the date."""
    if value is None or value == "":
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    local = moment.astimezone(zone)
    return local.strftime("%H:%M:%S") if local.date() == now.astimezone(zone).date() \
        else local.strftime("%m-%d %H:%M")


def count(n: int | float | None) -> str:
    return "—" if n is None else f"{int(n):,}"


def pill(text: str, kind: str) -> html.Span:
    return html.Span(text, className=f"hw-pill hw-pill-{kind}")


def stream_state(fresh: dict[str, Any], now: datetime) -> str:
    """ok, stale, seasonal (a seasonal stream out of season) or none (never seen)."""
    if not fresh:
        return "none"
    if fresh.get("stale"):
        return "stale"
    last = fresh.get("last_event_ts")
    if fresh.get("stale_after_s") is None:
        recent = last is not None and (now - datetime.fromisoformat(last)).total_seconds() < 86_400
        return "ok" if recent else "seasonal"
    return "ok" if last else "none"


def streams_table(snap: dict[str, Any] | None, counters: dict[str, dict[str, int]], lang: str,
                  zone: ZoneInfo, now: datetime) -> html.Div:
    freshness = (snap or {}).get("freshness", {})
    names = list(freshness) + sorted(s for s in counters if s not in freshness)
    rows, classes = [], []
    for name in names:
        fresh = freshness.get(name, {})
        state = stream_state(fresh, now) if name in freshness else "none"
        c = counters.get(name, {})
        rows.append([
            stream_name(name, lang), clock(fresh.get("last_event_ts"), zone, now),
            duration(fresh.get("lag_s"), lang), pill(t(f"health.state.{state}", lang), state),
            count(c.get("accepted", 0)), count(c.get("duplicate", 0)), count(c.get("rejected", 0)),
        ])
        classes.append(f"hw-row-{state}")
    head = [t(f"health.col.{k}", lang) for k in
            ("stream", "last_event", "lag", "state", "accepted", "duplicate", "rejected")]
    return table(head, rows, widths=(20, 16, 11, 13, 15, 12, 13), numeric=(4, 5, 6),
                 row_classes=classes, empty=t("status.no_data", lang), cls="hw-streams-table")


def dead_table(letters: list[dict[str, Any]] | None, lang: str, zone: ZoneInfo, now: datetime) -> html.Div:
    if letters is None:
        return html.Div(t("health.unavailable", lang), className="ioc-table-empty hw-warn")
    rows = [[stream_name(d["stream"], lang), _label(f"health.reason.{d['reason']}", d["reason"], lang),
             count(d["count"]), clock(d["newest"], zone, now)] for d in letters]
    head = [t(f"health.col.{k}", lang) for k in ("stream", "reason", "count", "newest")]
    return table(head, rows, widths=(30, 30, 17, 23), numeric=(2,), limit=ROWS,
                 more=t("health.more", lang), empty=t("health.none_dead", lang))


def unknown_table(codes: list[dict[str, Any]] | None, lang: str, zone: ZoneInfo,
                  now: datetime) -> html.Div:
    if codes is None:
        return html.Div(t("health.unavailable", lang), className="ioc-table-empty hw-warn")
    rows = [[f"{stream_name(c['stream'], lang)} · {c['field']}", c["code"], count(c["rows"]),
             clock(c["last_seen"], zone, now)] for c in codes]
    head = [t(f"health.col.{k}", lang) for k in ("field", "code", "events", "last_seen")]
    return table(head, rows, widths=(38, 22, 17, 23), numeric=(2,), limit=ROWS,
                 more=t("health.more", lang), empty=t("health.none_unknown", lang))


def alert_items(snap: dict[str, Any] | None, lang: str) -> list[Any]:
    alerts = (snap or {}).get("alerts", [])
    if not alerts:
        return [html.Li(t("alerts.none", lang), className="ioc-alert ioc-alert-none")]
    key = "title_zh" if lang == "zh" else "title_en"
    items = [html.Li([html.Span(t(f"severity.{a['severity']}", lang), className="ioc-alert-sev"),
                      html.Span(a[key], className="ioc-alert-title"),
                      html.Span(str(a.get("since", ""))[11:16], className="ioc-alert-since")],
                     className=f"ioc-alert ioc-alert-{a['severity']}") for a in alerts[:ROWS - 1]]
    if len(alerts) > ROWS - 1:
        items.append(html.Li(t("health.more", lang).format(n=len(alerts) - ROWS + 1),
                             className="ioc-alert hw-alert-more"))
    return items


def screens_table(screens: list[dict[str, Any]], lang: str) -> html.Div:
    """Silent screens first and in red: a wall that stopped reporting is the news here."""
    ordered = sorted(screens, key=lambda s: (not s.get("silent"), s["screen"]))
    rows, classes = [], []
    for s in ordered:
        heap = s.get("heap_bytes")
        state = pill(t("health.silent" if s.get("silent") else "health.online", lang),
                     "stale" if s.get("silent") else "ok")
        rows.append([s["screen"], s.get("page") or "—",
                     str(s["version"]) if s.get("version") is not None else "—",
                     f"{heap / 1e6:.0f} MB" if heap else "—", ago(s.get("age_s"), lang), state])
        classes.append("hw-silent" if s.get("silent") else "")
    head = [t(f"health.col.{k}", lang) for k in ("screen", "page", "version", "heap", "seen", "state")]
    return table(head, rows, widths=(22, 14, 21, 11, 17, 15), numeric=(2, 3), row_classes=classes,
                 limit=ROWS, more=t("health.more", lang), empty=t("health.none_screens", lang))


def snapshot_age(snap: dict[str, Any] | None, now: datetime, lang: str) -> str:
    if not snap or not snap.get("generated_at"):
        return "—"
    return ago((now - datetime.fromisoformat(snap["generated_at"])).total_seconds(), lang)


def fact(label: str, value: Any, unit: str = "", value_id: str | None = None) -> html.Div:
    """A KPI whose value the page's callback writes (or a bound number passed in)."""
    body = value if value_id is None else html.Span(value, id=value_id, className="ioc-num")
    return html.Div([html.Div(label, className="ioc-kpi-label"),
                     html.Div([html.Span(body, className="ioc-kpi-value hw-fact-value"),
                               html.Span(unit, className="ioc-kpi-unit") if unit else None],
                              className="ioc-kpi-body")], className="ioc-kpi hw-fact")


def history_row(state: dict[str, Any] | None, lang: str) -> list[Any]:
    """Demo mode's background fill of the past: phase, percent, events, time left; nothing
    when this server fills none."""
    if state is None:
        return []
    phase = state["phase"] if f"health.history.{state['phase']}" in CATALOGUE else "waiting"
    text = t(f"health.history.{phase}", lang).format(
        pct=f"{state['pct']:.0f}", events=count(state["events"]), total=count(state["total"]),
        eta=duration(state.get("eta_s"), lang), elapsed=duration(state.get("elapsed_s"), lang),
        error=state.get("error", ""))
    kind = "stale" if phase == "failed" else "ok" if phase == "done" else "run"
    return [html.Span(t("health.history.label", lang), className="ioc-kpi-label"),
            html.Span(text, className=f"hw-history-text hw-history-{kind}"),
            html.Div(html.Div(className="hw-history-done", style={"width": f"{state['pct']:.1f}%"}),
                     className="hw-history-bar")]


def size_text(n: int | float | None) -> str:
    """Bytes as KB, MB or GB (decimal, as disks are sold)."""
    if n is None:
        return "—"
    for limit, unit in ((1e3, "B"), (1e6, "KB"), (1e9, "MB")):
        if n < limit:
            return f"{n / (limit / 1e3):.0f} {unit}" if unit == "B" else f"{n / (limit / 1e3):.1f} {unit}"
    return f"{n / 1e9:.1f} GB"


def backup_row(snap: dict[str, Any] | None, lang: str, zone: ZoneInfo, now: datetime) -> list[Any]:
    """The newest good backup (time, kind, size, age) and whether it is overdue; nothing
    where this server runs no scheduled backups (a web worker of the scaled mode shows the
    scheduler's, through the snapshot)."""
    state = (snap or {}).get("backup")
    if not isinstance(state, dict):
        return []
    last = state.get("last_good") or {}
    if last.get("id") is None:
        last = None
    if not state.get("enabled") and last is None:
        text, kind = t("health.backup.off", lang), "run"
    elif last is None:
        text, kind = t("health.backup.none", lang), "stale" if state.get("stale") else "run"
    else:
        kind_key = f"health.backup.{last.get('kind')}"
        text = t("health.backup.good", lang).format(
            at=clock(last.get("at"), zone, now), size=size_text(last.get("size_bytes")),
            kind=t(kind_key, lang) if kind_key in CATALOGUE else str(last.get("kind")),
            age=ago(state.get("lag_s"), lang))
        kind = "stale" if state.get("stale") else "ok"
    out: list[Any] = [html.Span(t("health.backup.label", lang), className="ioc-kpi-label"),
                      html.Span(text, className=f"hw-history-text hw-backup-{kind}")]
    if state.get("stale"):
        out.append(pill(t("health.backup.stale", lang), "stale"))
    if state.get("error"):
        out.append(html.Span(t("health.backup.failed", lang).format(error=state["error"]),
                             className="hw-history-text hw-history-stale"))
    ship = (snap or {}).get("shipping") or {}
    if ship.get("enabled"):  # the buffer since that backup, shipped to the backup directory
        out.append(html.Span(t("health.backup.shipped", lang).format(age=ago(ship.get("lag_s"), lang)),
                             className=f"hw-history-text hw-backup-{'stale' if ship.get('stale') else 'ok'}"))
        if ship.get("stale"):
            out.append(pill(t("health.backup.ship_stale", lang), "stale"))
    return out


def site_row(info: dict[str, Any], lang: str, zone: ZoneInfo, now: datetime) -> list[Any]:
    """The catalogue in force: file, version, when it was loaded, entries per kind, and
    that a change keeps history (renames and removals: figures are kept by code)."""
    stored = info.get("loaded_at")
    head = t("health.site.version" if stored else "health.site.not_stored", lang).format(
        file=Path(info["path"]).name, version=str(info["version"])[:8],
        loaded=clock(stored, zone, now) if stored else "")
    counts = [html.Span(t("health.site.count", lang).format(kind=t(f"health.site.kind.{kind}", lang), n=n),
                        className="hw-site-count") for kind, n in info["counts"].items()]
    note = t("health.site.history", lang).format(n=info.get("versions") or 1)
    return [html.Span(t("health.site.label", lang), className="ioc-kpi-label"),
            html.Span(head, className="hw-site-version"),
            html.Span(note, className="hw-site-note"),
            html.Div(counts, className="hw-site-counts")]


def content(snap: dict[str, Any] | None, lang: str, zone: ZoneInfo) -> dict[str, Any]:
    """Everything the page shows outside the bound numbers, keyed as ``OUT``."""
    now = datetime.now(zone)
    state = read.pipeline_state()
    failures = state["writer_failures"]
    return {
        "streams": streams_table(snap, read.ingest_counters(), lang, zone, now),
        "buffer": [count(state["buffer_depth"])] + ([" ", pill(t("health.replaying", lang), "stale")]
                                                    if state["replaying"] else []),
        "lag": f"{state['writer_lag_s']:.1f}",
        "failures": [count(failures)] + ([" ", pill(t("health.store_down", lang), "stale")]
                                         if state["store_down"] else []),
        "age": snapshot_age(snap, now, lang),
        "history": history_row(read.demo_history(), lang),
        "backup": backup_row(snap, lang, zone, now),
        "dead": dead_table(read.dead_letters_by_reason(), lang, zone, now),
        "unknown": unknown_table(read.unknown_references(), lang, zone, now),
        "alerts": alert_items(snap, lang),
        "screens": screens_table(read.screens(), lang),
        "site": site_row(read.site_version(), lang, zone, now),
        "notify": notify.content(lang, zone),
    }


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           at: str | None = None, screen: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    settings = read.settings()
    snap = read.snapshot_for(at)
    c = content(snap, lang, settings.zone)
    # canvas: placed by grid area; tablet: in this order (ingest facts beside the alerts)
    body = [
        tile(t("health.streams", lang), html.Div(c["streams"], id=OUT["streams"]),
             cls="hw-streams", lang=lang),
        tile(t("health.pipeline", lang), html.Div([
            fact(t("health.buffer_depth", lang), c["buffer"], t("health.unit.events", lang), OUT["buffer"]),
            fact(t("health.writer_lag", lang), c["lag"], t("health.unit.s", lang), OUT["lag"]),
            fact(t("health.writer_failures", lang), c["failures"], value_id=OUT["failures"]),
            fact(t("health.snapshot_version", lang), bound("version", "plain", cls="hw-version")),
            fact(t("health.snapshot_age", lang), c["age"], value_id=OUT["age"]),
            fact(t("health.compute_ms", lang), bound("compute_ms", "decimal"), t("health.unit.ms", lang)),
            html.Div(c["history"], id=OUT["history"], className="hw-history"),
            html.Div(c["backup"], id=OUT["backup"], className="hw-history hw-backup"),
            html.Div(c["site"], id=OUT["site"], className="hw-site"),
        ], className="hw-facts"), cls="hw-pipeline", lang=lang),
        tile(t("alerts.section", lang), html.Ul(c["alerts"], id=OUT["alerts"], className="ioc-alerts"),
             cls="hw-alerts", lang=lang),
        tile(t("health.screens", lang), html.Div(c["screens"], id=OUT["screens"]), cls="hw-screens",
             lang=lang),
        tile(t("health.notify", lang), html.Div([html.Div(c["notify"], id=OUT["notify"]),
                                                 notify.controls(snap, lang)]),
             cls="hw-notify", lang=lang),
        tile(t("health.dead_letters", lang), html.Div(c["dead"], id=OUT["dead"]), cls="hw-dead", lang=lang),
        tile(t("health.unknown", lang), html.Div(c["unknown"], id=OUT["unknown"]), cls="hw-unknown",
             lang=lang),
        dcc.Interval(id=SLOW, interval=REFRESH_MS),
    ]
    return frame(PAGE, "health.title", body, lang=lang, theme=theme, fit=fit,
                 at=at, at_valid=read.at_is_valid(at), **read.viewer(),
                 zone=settings.zone.key)


@callback(
    [Output(OUT[name], "children") for name in OUT] + [Output(notify.ID["target"], "options")],
    Input(ids.VERSION, "data"),
    Input(SLOW, "n_intervals"),
    State(ids.CONFIG, "data"),
    prevent_initial_call=True,
)
def refresh(_version: int | None, _n: int | None, cfg: dict[str, Any]) -> list[Any]:
    """A new snapshot, or every few seconds: the tables are small, so they travel whole."""
    snap, lang = read.snapshot_for(cfg.get("at")), cfg.get("lang", "zh")
    c = content(snap, lang, read.settings().zone)
    return [c[name] for name in OUT] + [notify.options(snap, lang)]
