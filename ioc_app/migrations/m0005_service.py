"""Service hall: case events, print jobs, hotline calls."""

from __future__ import annotations

from ingest.service import SERVICE_CALL, SERVICE_PRINT, SERVICE_WORKFLOW
from ioc_app.schema import Dialect, Rollup, count, maximum, total

VERSION = 5
NAME = "service"

PRINT = (count("jobs"), total("pages", "pages"))
CALL = (
    count("calls"),
    total("wait_s_sum", "wait_s"),
    total("talk_s_sum", "talk_s"),
    maximum("wait_s_max", "wait_s"),
)


def statements(d: Dialect) -> list[str]:
    out = d.raw_table(SERVICE_WORKFLOW, ("case_id", "ts"))
    out += d.raw_table(SERVICE_PRINT, ("terminal_id", "ts"))
    out += d.raw_table(SERVICE_CALL, ("queue", "ts"))
    out += d.rollup(SERVICE_WORKFLOW, Rollup("1m", ("service_id", "action"), (count("events"),)))
    out += d.rollup(
        SERVICE_WORKFLOW,
        Rollup("1h", ("service_id", "department", "applicant_type", "channel", "action"),
               (count("events"),)),
    )
    for grain in ("1m", "1h"):
        out += d.rollup(SERVICE_PRINT, Rollup(grain, ("terminal_id", "document", "result"), PRINT))
        out += d.rollup(SERVICE_CALL, Rollup(grain, ("queue", "outcome"), CALL))
    return out
