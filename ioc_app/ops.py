"""Operations endpoints: ``/metrics`` in Prometheus text format.

Values are read from the running parts at scrape time (a custom collector), so there is no
second bookkeeping to drift from the truth.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ioc_app import read

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


def registry_for(runtime: Any) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))  # type: ignore[arg-type]
    return registry


@ops.get("/metrics")
def metrics() -> Response:
    runtime = current_app.extensions[read.EXTENSION]
    return Response(generate_latest(runtime.registry), mimetype="text/plain; version=0.0.4")
