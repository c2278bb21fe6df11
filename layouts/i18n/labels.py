"""Labels that several areas show, each declared once; the areas derive their keys from here.

An enumeration of a stream contract (severities, deny reasons, access kinds, incident
statuses and categories, directions, case actions) reads the same on a cockpit and in the
analyst's drill-down, and a measure reads the same on its tile and in /explore. Declaring the
pair once here and deriving every key from it keeps the two from drifting apart; a test checks
that no zh/en pair is written twice in the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

Text = dict[str, str]
"""One label: the text per language code."""


def derive(template: str, labels: Mapping[str, Text]) -> dict[str, Text]:
    """The keys ``template.format(code)`` for every code, each sharing the one declaration."""
    return {template.format(code): text for code, text in labels.items()}


# words
OTHER: Text = {"zh": "其他", "en": "Other"}
TODAY: Text = {"zh": "今日", "en": "Today"}
YESTERDAY: Text = {"zh": "昨日", "en": "Yesterday"}
FROM: Text = {"zh": "开始", "en": "From"}
TO: Text = {"zh": "结束", "en": "To"}
FILTERS: Text = {"zh": "筛选", "en": "Filters"}
RESULT: Text = {"zh": "结果", "en": "Result"}
STATE: Text = {"zh": "状态", "en": "State"}
SECONDS: Text = {"zh": "秒", "en": "s"}
AS_OF: Text = {"zh": "数据截至", "en": "Data as of"}
SIGN_IN: Text = {"zh": "登录", "en": "Sign in"}

# gates: the gate.pass contract's enumerations and the measures of its tiles
DIRECTION: dict[str, Text] = {
    "in": {"zh": "入校", "en": "In"},
    "out": {"zh": "出校", "en": "Out"},
}
DENY_REASON: dict[str, Text] = {
    "unauthorized": {"zh": "无通行权限", "en": "No permission"},
    "expired": {"zh": "证件过期", "en": "Expired"},
    "temperature": {"zh": "体温异常", "en": "Temperature"},
    "blacklist": {"zh": "黑名单", "en": "Blacklisted"},
    "unrecognized": {"zh": "未能识别", "en": "Not recognised"},
    "other": OTHER,
}
STUDENT: Text = {"zh": "学生", "en": "Student"}
STAFF: Text = {"zh": "教职工", "en": "Staff"}
GATE_MEASURES: dict[str, Text] = {
    "net_inflow": {"zh": "净流入", "en": "Net inflow"},
    "denied": {"zh": "拒绝通行", "en": "Denied"},
    "deny_rate": {"zh": "拒绝率", "en": "Deny rate"},
    "fever": {"zh": "体温异常", "en": "Fever readings"},
}
GATE_PASSES: Text = {"zh": "门禁通行", "en": "Gate passes"}

# network: the network.online and network.security contracts' enumerations
ACCESS: dict[str, Text] = {
    "wired": {"zh": "有线", "en": "Wired"},
    "wireless": {"zh": "无线", "en": "Wireless"},
    "vpn": {"zh": "VPN", "en": "VPN"},
}
SEVERITY: dict[str, Text] = {
    "critical": {"zh": "严重", "en": "Critical"},
    "high": {"zh": "高危", "en": "High"},
    "medium": {"zh": "中危", "en": "Medium"},
    "low": {"zh": "低危", "en": "Low"},
    "info": {"zh": "提示", "en": "Info"},
}
INCIDENT_STATUS: dict[str, Text] = {
    "open": {"zh": "未处置", "en": "Open"},
    "handled": {"zh": "已处置", "en": "Handled"},
    "false_positive": {"zh": "误报", "en": "False alarm"},
}
INCIDENT_CATEGORY: dict[str, Text] = {
    "weak_password": {"zh": "弱口令", "en": "Weak password"},
    "compromised_host": {"zh": "失陷主机", "en": "Compromised host"},
    "intrusion": {"zh": "入侵行为", "en": "Intrusion"},
    "ddos": {"zh": "DDoS 攻击", "en": "DDoS"},
    "malware": {"zh": "恶意代码", "en": "Malware"},
    "phishing": {"zh": "钓鱼攻击", "en": "Phishing"},
    "vulnerability": {"zh": "系统漏洞", "en": "Vulnerability"},
    "other": OTHER,
}
USERS_ONLINE: Text = {"zh": "在线用户", "en": "Users online"}
IPV6_SHARE: Text = {"zh": "IPv6 用户占比", "en": "IPv6 share"}

# service hall: the service.workflow contract's actions and the print and hotline measures
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

# admissions
ADMISSIONS: Text = {"zh": "招生录取", "en": "Admissions"}
PLAN_COMPLETION: Text = {"zh": "计划完成率", "en": "Plan completion"}
ADMISSION_YEAR: Text = {"zh": "招生年度", "en": "Admission year"}
