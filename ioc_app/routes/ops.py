"""Operations endpoints: ``/readyz`` and ``/metrics`` (Prometheus text format).

Values are read from the running parts at scrape time (a custom collector), so there is no
second bookkeeping to drift from the truth; only request latencies are observed as they
happen (a histogram fed by request hooks).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from ioc_app.runtime import runtime as current_runtime

ops = Blueprint("ioc_ops", __name__)


class RuntimeCollector:
    def __init__(self, runtime: Any) -> None:
        self.rt = runtime

    def collect(self) -> Any:
        pipeline, writer = self.rt.pipeline, self.rt.writer
        events = CounterMetricFamily("ioc_ingest_events", "Events by stream and outcome",
                                     labels=["stream", "outcome"])
        for (stream, outcome), n in sorted(pipeline.counters.snapshot().items()):
            events.add_metric([stream, outcome], n)
        yield events
        yield GaugeMetricFamily("ioc_buffer_depth_events", "Events buffered, not yet in the store",
                                value=pipeline.buffer.depth)
        yield GaugeMetricFamily("ioc_writer_lag_seconds", "Age of the oldest buffered event",
                                value=writer.lag_s())
        yield CounterMetricFamily("ioc_writer_rows", "Rows inserted into the store by the writer",
                                  value=writer.inserted_rows)
        yield GaugeMetricFamily("ioc_writer_failures", "Consecutive failed inserts (0 = healthy)",
                                value=writer.failures)
        statements = CounterMetricFamily("ioc_store_statements", "ClickHouse statements run, by "
                                         "origin (core, writer, request)", labels=["origin"])
        for origin, n in sorted(dict(self.rt.store.statements).items()):
            statements.add_metric([origin], n)
        yield statements
        yield from self._snapshot()
        yield from self._core()

    def _snapshot(self) -> Any:
        push = self.rt.feed.push
        yield GaugeMetricFamily("ioc_push_held", "Screens' requests parked until the next version",
                                value=push.held)
        answers = CounterMetricFamily("ioc_push_answers", "Push requests by how they were answered "
                                      "(new, held, now, busy, off, closing)", labels=["how"])
        for how, n in sorted(dict(push.answers).items()):
            answers.add_metric([how], n)
        yield answers
        current = self.rt.feed.current()
        if current is None:
            return
        yield GaugeMetricFamily("ioc_snapshot_version", "Version of the snapshot served",
                                value=current.version)
        yield GaugeMetricFamily("ioc_snapshot_age_seconds", "Age of the snapshot served",
                                value=snapshot_age_s(current.data))
        yield GaugeMetricFamily("ioc_snapshot_stale", "1 when the store failed and the last "
                                "snapshot is served", value=int(bool(current.data.get("stale"))))
        alerts = GaugeMetricFamily("ioc_alerts_active", "Active alerts by severity",
                                   labels=["severity"])
        counts: dict[str, int] = {}
        for a in current.data.get("alerts", ()):
            counts[a["severity"]] = counts.get(a["severity"], 0) + 1
        for severity, n in sorted(counts.items()):
            alerts.add_metric([severity], n)
        yield alerts

    def _core(self) -> Any:
        core = self.rt.core
        if core is None:
            return
        stats = core.stats
        yield CounterMetricFamily("ioc_core_ticks", "Snapshots computed", value=stats.ticks)
        yield CounterMetricFamily("ioc_core_failures", "Ticks that failed (store unreachable…)",
                                  value=stats.failures)
        yield CounterMetricFamily("ioc_core_skipped", "Ticks skipped because the previous overran",
                                  value=stats.skipped)
        yield GaugeMetricFamily("ioc_core_leader", "1 when this process computes the snapshot",
                                value=int(core.leader.held))
        if core.notifier is not None:
            yield from core.notifier.metrics()
        samples = sorted(stats.compute_seconds)
        hist = HistogramMetricFamily("ioc_snapshot_compute_seconds",
                                     "Time to compute one snapshot (recent ticks)")
        buckets = [(str(b), sum(1 for s in samples if s <= b)) for b in COMPUTE_BUCKETS]
        hist.add_metric([], [*buckets, ("+Inf", len(samples))], sum_value=sum(samples))
        yield hist


COMPUTE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def snapshot_age_s(data: dict[str, Any]) -> float:
    """Seconds since the snapshot's figures were computed."""
    generated = datetime.fromisoformat(data["generated_at"])
    return max(time.time() - generated.timestamp(), 0.0)


def registry_for(runtime: Any) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    return registry


def observe_requests(server: Flask, registry: CollectorRegistry) -> None:
    """Request latency per route (the rule, not the URL: bounded label values)."""
    latency = Histogram("ioc_http_request_seconds", "Request latency by route and status",
                        ["method", "route", "status"], registry=registry,
                        buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))

    @server.before_request
    def _started() -> None:
        g.ioc_started = time.perf_counter()

    @server.after_request
    def _observed(response: Response) -> Response:
        started = g.get("ioc_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            if g.get("ioc_push"):  # held until the next version on purpose: not a slow answer
                route += "?wait"
            latency.labels(request.method, route, str(response.status_code)).observe(
                time.perf_counter() - started)
        return response


@ops.get("/readyz")
def readyz() -> Response:
    """Each part's state; 503 only when nothing can be shown (no store and no snapshot)."""
    rt = current_runtime()
    store_ok = rt.store.ping()
    current = rt.feed.current()
    core = rt.core
    parts: dict[str, Any] = {
        "store": {"ok": store_ok, "database": rt.store.database},
        "buffer": {"depth": rt.pipeline.buffer.depth, "writer_lag_s": round(rt.writer.lag_s(), 3),
                   # a restart's replay of the buffer: null where no writer runs in this process
                   "replay": rt.writer.replay.state() if rt.writer.running else None},
        "scheduler": {
            "runs_here": core is not None,
            "leader": bool(core and core.leader.held),
            "last_tick_age_s": round(time.time() - core.stats.last_tick_at, 3)
            if core and core.stats.last_tick_at else None,
            "skipped": core.stats.skipped if core else None,
        },
        "snapshot": None if current is None else {
            "version": current.version,
            "age_s": round(snapshot_age_s(current.data), 3),
            "stale": bool(current.data.get("stale")),
        },
        "streams": current.served()[1].get("freshness", {}) if current else {},
        # demo mode: the background fill of the past (phase, pct, events, total, eta_s…)
        "demo_history": rt.history.progress.state() if rt.history is not None else None,
    }
    ready = store_ok or current is not None
    response = jsonify(status="ready" if ready else "unavailable", parts=parts)
    response.status_code = 200 if ready else 503
    return response


@ops.get("/metrics")
def metrics() -> Response:
    runtime = current_runtime()
    return Response(generate_latest(runtime.registry), mimetype="text/plain; version=0.0.4")
