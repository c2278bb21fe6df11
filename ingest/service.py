"""Service-hall streams (网上办事大厅): cases, self-service print jobs, hotline calls."""

from __future__ import annotations

from ingest.contracts import Field, event_stream

SERVICE_WORKFLOW = event_stream(
    name="service.workflow",
    domain="service",
    title_zh="网上办事大厅",
    title_en="Service hall cases",
    retention_days=400,
    expected_interval_s=3_600,
    fields=(
        Field("case_id", "key", max_len=64, doc="all events of one application share it"),
        Field("service_id", "code", max_len=64, reference="service"),
        Field("department", "code", max_len=64),
        Field("applicant_type", "enum", values=("student", "staff", "alumni", "external")),
        Field("channel", "enum", values=("web", "mobile", "wechat", "kiosk")),
        Field(
            "action",
            "enum",
            values=("submitted", "approved", "rejected", "returned", "completed", "withdrawn"),
        ),
        Field("node", "int", min=0, doc="approval step index (0 for submit)"),
    ),
)

SERVICE_PRINT = event_stream(
    name="service.print",
    domain="service",
    title_zh="自助打印",
    title_en="Self-service printing",
    retention_days=400,
    expected_interval_s=3_600,
    fields=(
        Field("terminal_id", "code", max_len=64, reference="terminal"),
        Field(
            "document",
            "enum",
            values=("enrollment_certificate", "transcript_zh", "transcript_en", "other"),
        ),
        Field("pages", "int", min=1, max=200),
        Field("result", "enum", values=("ok", "failed")),
    ),
)

SERVICE_CALL = event_stream(
    name="service.call",
    domain="service",
    title_zh="服务热线",
    title_en="Service hotline",
    retention_days=400,
    expected_interval_s=3_600,
    fields=(
        Field("queue", "str", max_len=32),
        Field("wait_s", "int", min=0),
        Field("talk_s", "int", min=0),
        Field("outcome", "enum", values=("answered", "abandoned", "callback")),
    ),
)

STREAMS = (SERVICE_WORKFLOW, SERVICE_PRINT, SERVICE_CALL)
