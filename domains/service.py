"""The service-hall domain (网上办事大厅): cases, self-service print jobs, hotline calls.

Declared once here: the contracts, their tables, what the query API and anomaly rules may
ask, the fields holding catalogue codes, and the labels. The live figures are
``metrics/service.py``, the demo traffic ``ingest/sim/service.py``.
"""

from __future__ import annotations

from domains.contracts import Field, event_stream
from domains.model import (
    Dimension,
    Domain,
    Measure,
    Queryable,
    Referenced,
    Rollup,
    Source,
    Table,
    Text,
    Watched,
    count,
    count_of,
    maximum,
    ratio_of,
    total,
)

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

ACTIONS = SERVICE_WORKFLOW.field("action").values

PRINT = (count("jobs"), total("pages", "pages"))
CALL = (count("calls"), total("wait_s_sum", "wait_s"), total("talk_s_sum", "talk_s"),
        maximum("wait_s_max", "wait_s"))

TABLES = (
    Table("service.workflow", ("case_id", "ts"), (
        Rollup("1m", ("service_id", "action"), (count("events"),)),
        Rollup("1h", ("service_id", "department", "applicant_type", "channel", "action"),
               (count("events"),)),
    )),
    Table("service.print", ("terminal_id", "ts"),
          tuple(Rollup(g, ("terminal_id", "document", "result"), PRINT) for g in ("1m", "1h"))),
    Table("service.call", ("queue", "ts"),
          tuple(Rollup(g, ("queue", "outcome"), CALL) for g in ("1m", "1h"))),
)

QUERY = Queryable(
    "service",
    dimensions=(
        Dimension("service_id", "online service code"),
        Dimension("department", "department code"),
        Dimension("applicant_type", "who applied", SERVICE_WORKFLOW.field("applicant_type").values),
        Dimension("channel", "where they applied", SERVICE_WORKFLOW.field("channel").values),
        Dimension("action", "case event action", ACTIONS),
        Dimension("terminal_id", "print terminal code"),
        Dimension("document", "printed document", SERVICE_PRINT.field("document").values),
        Dimension("print_result", "print job result", SERVICE_PRINT.field("result").values,
                  column="result"),
        Dimension("queue", "hotline queue"),
        Dimension("outcome", "call outcome", SERVICE_CALL.field("outcome").values),
    ),
    sources=(
        Source(
            "service.workflow", "service_workflow",
            minute=("service_id", "action"),
            hour=("service_id", "department", "applicant_type", "channel", "action"),
            parts=(("events", "sum(events)"),
                   *((a, f"sumIf(events, action = '{a}')") for a in ACTIONS)),
        ),
        Source(
            "service.print", "service_print",
            minute=("terminal_id", "document", "print_result"),
            hour=("terminal_id", "document", "print_result"),
            parts=(("jobs", "sum(jobs)"), ("pages", "sum(pages)"),
                   ("failed", "sumIf(jobs, result = 'failed')")),
        ),
        Source(
            "service.call", "service_call",
            minute=("queue", "outcome"), hour=("queue", "outcome"),
            parts=(("calls", "sum(calls)"), ("answered", "sumIf(calls, outcome = 'answered')"),
                   ("abandoned", "sumIf(calls, outcome = 'abandoned')"), ("wait", "sum(wait_s_sum)"),
                   ("talk", "sum(talk_s_sum)"), ("wait_max", "max(wait_s_max)")),
        ),
    ),
    measures=(
        count_of("case_events", "service.workflow", "events", "case events of any action"),
        *(count_of(a, "service.workflow", a, f"case events with action={a}") for a in ACTIONS),
        count_of("print_jobs", "service.print", "jobs", "print jobs"),
        count_of("print_pages", "service.print", "pages", "pages printed (failed jobs included)"),
        count_of("print_failed", "service.print", "failed", "print jobs with result=failed"),
        count_of("calls", "service.call", "calls", "hotline calls"),
        count_of("calls_answered", "service.call", "answered", "calls with outcome=answered"),
        count_of("calls_abandoned", "service.call", "abandoned", "calls with outcome=abandoned"),
        ratio_of("answer_rate", "service.call", "answered", "calls", "answered / calls; null without calls"),
        ratio_of("wait_s_avg", "service.call", "wait", "calls", "mean wait in seconds; null without calls",
                 "mean"),
        Measure("wait_s_max", "service.call", "max(p_wait_max)", "max", "longest wait in seconds"),
        ratio_of("talk_s_avg", "service.call", "talk", "calls",
                 "mean talk time in seconds; null without calls", "mean"),
    ),
)

WATCHED = {
    "submitted": Watched("service_workflow_1m", "sumIf(events, action = 'submitted')", None,
                         ("service_id",), "cases submitted"),
    "calls": Watched("service_call_1m", "sum(calls)", None, ("queue",), "hotline calls"),
    "prints": Watched("service_print_1m", "sum(jobs)", None, ("terminal_id",), "print jobs"),
}

REFERENCES = (
    Referenced("service.workflow", "service_id", "service", "service_workflow_1h", "hour", "sum(events)"),
    Referenced("service.print", "terminal_id", "terminal", "service_print_1h", "hour", "sum(jobs)"),
)

# labels the service tiles and /explore share
CASE_ACTION: dict[str, Text] = {
    "submitted": {"zh": "提交", "en": "Submitted"},
    "approved": {"zh": "审批通过", "en": "Approved"},
    "rejected": {"zh": "驳回", "en": "Rejected"},
    "returned": {"zh": "退回", "en": "Returned"},
    "completed": {"zh": "办结", "en": "Completed"},
    "withdrawn": {"zh": "撤回", "en": "Withdrawn"},
}
PRINT_MEASURES: dict[str, Text] = {
    "print_jobs": {"zh": "打印任务", "en": "Print jobs"},
    "print_pages": {"zh": "打印页数", "en": "Pages printed"},
}
ANSWERED: Text = {"zh": "接通", "en": "Answered"}
ANSWER_RATE: Text = {"zh": "接通率", "en": "Answer rate"}

LABELS: dict[str, Text] = {
    "explore.domain.service": {"zh": "网上办事大厅", "en": "Online service hall"},
    "explore.m.service.case_events": {"zh": "办件事件", "en": "Case events"},
    **{f"explore.m.service.{k}": v for k, v in CASE_ACTION.items()},
    **{f"explore.m.service.{k}": v for k, v in PRINT_MEASURES.items()},
    "explore.m.service.print_failed": {"zh": "打印失败", "en": "Failed print jobs"},
    "explore.m.service.calls": {"zh": "热线来电", "en": "Hotline calls"},
    "explore.m.service.calls_answered": {"zh": "接通来电", "en": "Calls answered"},
    "explore.m.service.calls_abandoned": {"zh": "放弃来电", "en": "Calls abandoned"},
    "explore.m.service.answer_rate": ANSWER_RATE,
    "explore.m.service.wait_s_avg": {"zh": "平均等待（秒）", "en": "Mean wait (s)"},
    "explore.m.service.wait_s_max": {"zh": "最长等待（秒）", "en": "Longest wait (s)"},
    "explore.m.service.talk_s_avg": {"zh": "平均通话（秒）", "en": "Mean talk time (s)"},
    "health.stream.service.workflow": {"zh": "办事流程", "en": "Service cases"},
    "health.stream.service.print": {"zh": "自助打印", "en": "Self-service print"},
    "health.stream.service.call": {"zh": "服务热线", "en": "Hotline calls"},
}

# the service hall's spreadsheet exports (file import)
HEADER_ALIASES = {
    "办件编号": "case_id", "事项": "service_id", "事项编码": "service_id", "部门": "department",
    "申请人类型": "applicant_type", "渠道": "channel", "动作": "action", "环节序号": "node",
    "终端": "terminal_id", "文档": "document", "页数": "pages",
    "队列": "queue", "等待秒数": "wait_s", "通话秒数": "talk_s", "结果类型": "outcome",
}

DOMAIN = Domain(
    "service", 30, STREAMS, TABLES, QUERY, WATCHED, REFERENCES,
    # the service hall is quiet at night
    stale_after_s={"service.workflow": 6 * 3600, "service.print": 24 * 3600, "service.call": 24 * 3600},
    labels=LABELS,
    header_aliases=HEADER_ALIASES,
    figures="metrics.service",
    simulator="ingest.sim.service",
)
