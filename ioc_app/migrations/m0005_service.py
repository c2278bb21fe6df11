"""Service hall: case events, print jobs, hotline calls.

The columns are the ``service.*`` contracts as they were when this migration shipped,
written out so the DDL never changes; a later change of a contract needs a new migration.
"""

from __future__ import annotations

from ioc_app.schema import Dialect, Rollup, Source, count, enum8, maximum, total

VERSION = 5
NAME = "service"

TS = "DateTime64(3, 'UTC')"
CODE = "LowCardinality(String)"

SERVICE_WORKFLOW = Source(
    "service_workflow",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("case_id", "String"),
        ("service_id", CODE),
        ("department", CODE),
        ("applicant_type", enum8("student", "staff", "alumni", "external")),
        ("channel", enum8("web", "mobile", "wechat", "kiosk")),
        ("action", enum8("submitted", "approved", "rejected", "returned", "completed", "withdrawn")),
        ("node", "UInt64"),
        ("received_at", TS),
    ),
    retention_days=400,
)
SERVICE_PRINT = Source(
    "service_print",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("terminal_id", CODE),
        ("document", enum8("enrollment_certificate", "transcript_zh", "transcript_en", "other")),
        ("pages", "UInt8"),
        ("result", enum8("ok", "failed")),
        ("received_at", TS),
    ),
    retention_days=400,
)
SERVICE_CALL = Source(
    "service_call",
    (
        ("event_id", "String"),
        ("ts", TS),
        ("source", CODE),
        ("queue", "String"),
        ("wait_s", "UInt64"),
        ("talk_s", "UInt64"),
        ("outcome", enum8("answered", "abandoned", "callback")),
        ("received_at", TS),
    ),
    retention_days=400,
)

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
