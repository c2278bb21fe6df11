"""The service-hall domain (网上办事大厅) on the ingest side: cases, self-service print jobs,
hotline calls.

The contracts, their raw tables, and how file import reads the service hall's spreadsheets.
Their rollups, and what the query API and anomaly rules may ask of them, are declared in
``metrics/service.py``, their labels in ``layouts/i18n/service.py``, their demo traffic in
``ingest/sim/service.py``.
"""

from __future__ import annotations

from ingest.contracts import Field, event_stream
from ingest.tables import IngestDomain, Table

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

TABLES = (
    Table("service.workflow", ("case_id", "ts")),
    Table("service.print", ("terminal_id", "ts")),
    Table("service.call", ("queue", "ts")),
)

# the service hall's spreadsheet exports (file import)
HEADER_ALIASES = {
    "办件编号": "case_id", "事项": "service_id", "事项编码": "service_id", "部门": "department",
    "申请人类型": "applicant_type", "渠道": "channel", "动作": "action", "环节序号": "node",
    "终端": "terminal_id", "文档": "document", "页数": "pages",
    "队列": "queue", "等待秒数": "wait_s", "通话秒数": "talk_s", "结果类型": "outcome",
}

DOMAIN = IngestDomain(
    "service", 30, STREAMS, TABLES,
    header_aliases=HEADER_ALIASES,
    simulator="ingest.sim.service",
)
