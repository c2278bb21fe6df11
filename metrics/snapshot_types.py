"""The live snapshot's shape, section by section: the JSON every screen and integrator reads.

These are ``TypedDict``s — plain dicts at run time, so the published JSON is exactly what the
builders make — naming every key the snapshot carries and its type. The section builders
(``metrics.gate``, ``metrics.network``, ``metrics.service``, ``metrics.enrollment``,
``metrics.freshness``, the alert book) make these dicts from the rows of Polars frames and are
still annotated ``dict[str, Any]``; tests/metrics/test_snapshot_types.py checks that a
computed snapshot has exactly these keys with these types, and that ``docs/snapshot.md``
documents the same fields, both ways. A new key is added here, in its builder and in the
document.

Times are RFC 3339 strings; ratios are floats in [0, 1] or ``None`` when undefined.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

# ---- freshness ----------------------------------------------------------------------------


class StreamFreshness(TypedDict):
    last_event_ts: str | None
    lag_s: float | None
    stale: bool
    stale_after_s: int | None


#: ``freshness.<stream>``: one entry per stream of the registry
Freshness = dict[str, StreamFreshness]

# ---- gate (``in`` is a keyword: these use the functional form) ----------------------------

GateByGate = TypedDict("GateByGate", {"gate_id": str, "in": int, "out": int, "denied": int})
GateByPersonType = TypedDict("GateByPersonType", {"person_type": str, "in": int, "out": int})


class GateDenyReason(TypedDict):
    deny_reason: str
    count: int


GateToday = TypedDict("GateToday", {
    "in": int, "out": int, "denied": int, "attempts": int, "deny_rate": float | None,
    "net_inflow": int, "fever": int, "by_gate": list[GateByGate],
    "by_person_type": list[GateByPersonType], "deny_reasons": list[GateDenyReason],
})
GateMinute = TypedDict("GateMinute", {"minute": str, "in": int, "out": int})
GateHour = TypedDict("GateHour", {"gate_id": str, "hour": str, "in": int, "out": int, "denied": int})
GateSlot = TypedDict("GateSlot", {"slot": str, "in": int, "out": int})
GateSpan = TypedDict("GateSpan", {"start": str, "end": str, "in": int, "out": int, "denied": int,
                                  "attempts": int})


class GateCompare(TypedDict):
    today: GateSpan
    yesterday: GateSpan
    last_week: GateSpan
    last_year: GateSpan


GateDay = TypedDict("GateDay", {"date": str, "in": int, "out": int, "denied": int})


class GateLive(TypedDict):
    today: GateToday
    last_60m: list[GateMinute]


class GateSlow(TypedDict):
    by_hour_today: list[GateHour]
    today_curve: list[GateSlot]
    yesterday_curve: list[GateSlot]
    compare: GateCompare
    daily_30d: list[GateDay]


class Gate(GateLive, GateSlow):
    """The ``gate`` section: the live figures and the slow ones merged."""


# ---- network ------------------------------------------------------------------------------


class NetworkLink(TypedDict):
    link_id: str
    in_bps: float
    out_bps: float
    capacity_bps: float | None
    utilization: float | None
    stale: bool
    age_s: float


class OnlineByCampus(TypedDict):
    campus: str
    wired: int
    wireless: int
    vpn: int


class OnlineByAccess(TypedDict):
    access: str
    users: int
    ipv6_share: float | None


class NetworkOnline(TypedDict):
    users: int
    ipv6_share: float | None
    by_campus: list[OnlineByCampus]
    by_access: list[OnlineByAccess]


class Severities(TypedDict):
    info: int
    low: int
    medium: int
    high: int
    critical: int


class SecurityStatuses(TypedDict):
    open: int
    handled: int
    false_positive: int


class SecurityCategory(TypedDict):
    category: str
    count: int


class NetworkSecurity(TypedDict):
    today: Severities
    open: int
    open_by_severity: Severities
    by_status: SecurityStatuses
    by_category_today: list[SecurityCategory]


class LinkMinute(TypedDict):
    link_id: str
    minute: str
    in_bps: float | None
    out_bps: float | None
    capacity_bps: float | None
    utilization: float | None


class Ipv6Hour(TypedDict):
    hour: str
    users: float
    ipv6_share: float | None


class SecurityDay(TypedDict):
    date: str
    new: int
    open: int
    handled: int
    false_positive: int


class NetworkLive(TypedDict):
    links: list[NetworkLink]
    peak_utilization: float | None
    online: NetworkOnline
    security: NetworkSecurity


class NetworkSlow(TypedDict):
    links_60m: list[LinkMinute]
    ipv6_7d: list[Ipv6Hour]
    security_30d: list[SecurityDay]


class Network(NetworkLive, NetworkSlow):
    """The ``network`` section."""


# ---- service ------------------------------------------------------------------------------


class ServiceToday(TypedDict):
    submitted: int
    completed: int
    rejected: int


class HandlingMinutes(TypedDict):
    avg: float | None
    p90: float | None
    cases: int


class TopService(TypedDict):
    service_id: str
    name: str
    name_en: str
    submitted: int


class PrintToday(TypedDict):
    jobs: int
    pages: int
    failed: int


class ServicePrint(TypedDict):
    today: PrintToday


class CallsToday(TypedDict):
    calls: int
    answered: int
    answer_rate: float | None
    avg_wait_s: float | None


class ServiceCalls(TypedDict):
    today: CallsToday


class ServiceHour(TypedDict):
    """One local hour of today; the counts are ``None`` for the hours still to come."""

    hour: str
    submitted: int | None
    completed: int | None
    typical_submitted: float | None
    typical_completed: float | None
    calls: int | None
    answered: int | None
    answer_rate: float | None
    avg_wait_s: float | None


class DepartmentBacklog(TypedDict):
    department: str
    name: str
    name_en: str
    backlog: int


class ServiceLive(TypedDict):
    today: ServiceToday
    backlog: int
    handling_minutes: HandlingMinutes
    top_services: list[TopService]
    print: ServicePrint
    calls: ServiceCalls


class ServiceSlow(TypedDict):
    hourly: list[ServiceHour]
    typical_days: int
    backlog_by_department: list[DepartmentBacklog]


class Service(ServiceLive, ServiceSlow):
    """The ``service`` section."""


# ---- enrollment ---------------------------------------------------------------------------


class _Admissions(TypedDict):
    """What every ``by_*`` breakdown row carries beside its key (scores ``None`` for a small
    cell, see ``IOC_MIN_CELL``)."""

    plan: int
    admitted: int
    completion: float | None
    min_score: float | None
    avg_score: float | None
    max_score: float | None


class ByProvince(_Admissions):
    province: str
    name: str
    name_en: str


class ByBatch(_Admissions):
    batch: str


class ByCategory(_Admissions):
    category: str


class ByTrack(_Admissions):
    track: str


class ByMajor(_Admissions):
    major: str
    name: str
    name_en: str
    college: str | None


class Checkin(TypedDict):
    arrived: int
    paid: int
    dorm: int
    registered: int


class AdmittedDay(TypedDict):
    day: int
    date: str
    admitted: int
    last_year: int


class CheckinDay(TypedDict):
    date: str
    arrived: int
    paid: int
    dorm: int
    registered: int


class QualityProvince(TypedDict):
    province: str
    name: str
    name_en: str
    admitted: int
    avg_margin: float


class Quality(TypedDict):
    """生源质量 (``metrics/enrollment_quality.part``): margins over the control lines."""

    avg_margin: float | None
    with_line: int
    best: list[QualityProvince]
    worst: list[QualityProvince]


class NoticeFunnel(TypedDict):
    admitted: int
    printed: int
    mailed: int
    delivered: int
    returned: int


class NoticeProvince(NoticeFunnel):
    province: str
    name: str
    name_en: str


class NoticeExceptions(TypedDict):
    returned: int
    undelivered: int
    unprinted: int


class Notices(TypedDict):
    """录取通知书 (``metrics/enrollment_notices``): counts only, never a key or tracking number."""

    funnel: NoticeFunnel
    by_province: list[NoticeProvince]
    exceptions: NoticeExceptions


class EnrollmentLive(TypedDict):
    year: int
    plan: int
    admitted: int
    completion: float | None
    by_province: list[ByProvince]
    by_batch: list[ByBatch]
    by_category: list[ByCategory]
    by_track: list[ByTrack]
    by_major: list[ByMajor]
    checkin: Checkin
    quality: Quality
    notices: Notices


class EnrollmentSlow(TypedDict):
    admitted_by_day: list[AdmittedDay]
    checkin_by_day: list[CheckinDay]


class Enrollment(EnrollmentLive, EnrollmentSlow):
    """The ``enrollment`` section."""


# ---- alerts and the envelope --------------------------------------------------------------


class Alert(TypedDict):
    id: str
    severity: str
    domain: str
    title_zh: str
    title_en: str
    since: str
    value: float | None
    threshold: float | None


class LastBackup(TypedDict):
    """Every field null while there is no good backup."""

    id: str | None
    kind: str | None  # full | incremental
    at: str | None  # when it was taken (RFC 3339, UTC)
    cutoff: str | None  # events acknowledged before it are in it
    size_bytes: int | None


class BackupState(TypedDict):
    """``backup``: the newest good backup and its age (scheduled backups, ``backup_stale``)."""

    enabled: bool
    last_good: LastBackup
    lag_s: float | None  # seconds since its cut-off
    stale: bool
    stale_after_s: int | None
    error: str | None  # the last scheduled run's failure, None after a success


class ShippingState(TypedDict):
    """``shipping``: the ingest buffer shipped to the backup directory (RPO ≤ 1 min)."""

    enabled: bool
    lag_s: float | None  # seconds since the last complete shipment
    stale: bool
    stale_after_s: int | None


class Snapshot(TypedDict):
    """The whole document (``GET /api/v1/snapshot``)."""

    version: int
    generated_at: str
    compute_ms: float
    stale: bool
    #: only while the store fails and the last good figures are served
    stale_since: NotRequired[str]
    store_error: NotRequired[str]
    freshness: Freshness
    gate: Gate
    network: Network
    service: Service
    enrollment: Enrollment
    backup: BackupState
    shipping: ShippingState
    alerts: list[Alert]
