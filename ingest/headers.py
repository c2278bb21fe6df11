"""Chinese column headers and cell values of office spreadsheets → contract fields and codes.

The admissions office keeps its plan and admission lists in spreadsheets with Chinese
headers (年份, 省份, 批次, 科类, 专业代码, 计划数 …) and Chinese values (北京, 本科批, 普通类,
物理类, 录取 …). File import maps both through the tables below (documented in
``docs/import.md``); English field names and codes pass through unchanged. A header that is
neither a field nor an alias stays as it is, so validation reports it as ``unknown_field``.
"""

from __future__ import annotations

import polars as pl

from ingest import pii
from ingest.contracts import Stream

HEADER_ALIASES: dict[str, str] = {
    # common
    "事件编号": "event_id", "事件ID": "event_id", "时间": "ts", "发生时间": "ts", "来源": "source",
    "来源系统": "source",
    # enrollment
    "年份": "year", "招生年份": "year", "年度": "year",
    "省份": "province", "省份代码": "province", "生源地": "province", "省市": "province",
    "批次": "batch", "录取批次": "batch",
    "类别": "category", "招生类别": "category", "计划类别": "category",
    "科类": "track", "选考科类": "track", "首选科目": "track",
    "专业": "major", "专业代码": "major", "招生专业": "major",
    "学院": "college", "学院代码": "college", "院系": "college",
    "计划数": "planned", "计划人数": "planned", "招生计划": "planned",
    "考生": "candidate_key", "考生标识": "candidate_key",
    "状态": "status", "录取状态": "status",
    "成绩": "score", "投档成绩": "score", "高考成绩": "score",
    "位次": "province_rank", "省排名": "province_rank",
    "学生": "student_key", "学生标识": "student_key", "校区": "campus", "环节": "step",
    "报到环节": "step",
    # gates
    "门": "gate_id", "门禁": "gate_id", "通道": "lane", "方向": "direction",
    "人员类别": "person_type", "通行方式": "method", "结果": "result", "拒绝原因": "deny_reason",
    "体温": "temperature_c",
    # service hall
    "办件编号": "case_id", "事项": "service_id", "事项编码": "service_id", "部门": "department",
    "申请人类型": "applicant_type", "渠道": "channel", "动作": "action", "环节序号": "node",
    "终端": "terminal_id", "文档": "document", "页数": "pages",
    "队列": "queue", "等待秒数": "wait_s", "通话秒数": "talk_s", "结果类型": "outcome",
}

#: columns of personal identifiers (exam numbers, ID numbers): file import replaces their
#: values by keyed pseudonyms before anything is buffered, and maps them to the stream's
#: pseudonymous person key (the first of these a file has wins)
IDENTIFIER_HEADERS: tuple[str, ...] = ("考生号", "准考证号", "身份证号", "身份证号码", "身份证",
                                       "证件号码", "证件号")
#: the pseudonymous person key of each stream that has one
PERSON_KEYS: dict[str, str] = {"enrollment.admission": "candidate_key",
                               "enrollment.checkin": "student_key", "gate.pass": "person_key"}

PROVINCE_NAMES: dict[str, str] = {
    "北京": "11", "天津": "12", "河北": "13", "山西": "14", "内蒙古": "15", "辽宁": "21",
    "吉林": "22", "黑龙江": "23", "上海": "31", "江苏": "32", "浙江": "33", "安徽": "34",
    "福建": "35", "江西": "36", "山东": "37", "河南": "41", "湖北": "42", "湖南": "43",
    "广东": "44", "广西": "45", "海南": "46", "重庆": "50", "四川": "51", "贵州": "52",
    "云南": "53", "西藏": "54", "陕西": "61", "甘肃": "62", "青海": "63", "宁夏": "64",
    "新疆": "65", "台湾": "71", "香港": "81", "澳门": "82",
}
_PROVINCE_SUFFIXES = ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区")

VALUE_ALIASES: dict[str, dict[str, str]] = {
    "batch": {"提前批": "early", "本科批": "regular", "本科一批": "regular", "一批": "regular",
              "本科二批": "second", "二批": "second", "特殊类型批": "special",
              "专科批": "junior_college", "高职专科批": "junior_college"},
    "category": {"普通类": "general", "艺术类": "art", "艺术": "art", "体育类": "sport",
                 "体育": "sport", "国家专项": "national_special", "高校专项": "university_special",
                 "地方专项": "local_special", "中外合作": "sino_foreign", "预科": "preparatory",
                 "民族班": "minority"},
    "track": {"物理类": "physics", "物理": "physics", "历史类": "history", "历史": "history",
              "理科": "science", "文科": "liberal_arts", "综合改革": "comprehensive",
              "综合": "comprehensive"},
    "status": {"投档": "filed", "录取": "admitted", "退档": "returned", "放弃": "withdrawn"},
    "step": {"到校": "arrived", "缴费": "paid", "入住": "dorm", "注册": "registered"},
    "direction": {"进": "in", "入": "in", "出": "out"},
    "result": {"通过": "pass", "拒绝": "deny"},
}


#: every spelling of a province (北京, 北京市, 广西壮族自治区 …) → its code
PROVINCE_ALIASES: dict[str, str] = {
    name + suffix: code
    for name, code in PROVINCE_NAMES.items()
    for suffix in ("", *_PROVINCE_SUFFIXES)
}


def map_headers(frame: pl.DataFrame, stream: Stream) -> pl.DataFrame:
    """Rename Chinese headers to field names and Chinese values to codes (all-string frame)."""
    fields = {f.name for f in stream.all_fields}
    renames = {}
    for col in frame.columns:
        target = HEADER_ALIASES.get(col.strip(), col.strip())
        if target in fields and target not in frame.columns:
            renames[col] = target
    frame = frame.rename(renames)
    exprs = []
    for name, table in VALUE_ALIASES.items():
        if name in frame.columns and frame.schema[name] == pl.String:
            exprs.append(pl.col(name).replace(table))
    if "province" in frame.columns and frame.schema["province"] == pl.String:
        exprs.append(pl.col("province").str.strip_chars().replace(PROVINCE_ALIASES))
    return frame.with_columns(exprs) if exprs else frame


def _identifier_columns(names: list[str]) -> list[str]:
    order = {h: i for i, h in enumerate(IDENTIFIER_HEADERS)}
    return sorted((c for c in names if c.strip() in order), key=lambda c: order[c.strip()])


def _has_key_column(names: list[str], target: str) -> bool:
    return any(HEADER_ALIASES.get(c.strip(), c.strip()) == target for c in names)


def pseudonymise_frame(frame: pl.DataFrame, stream: Stream, key: bytes) -> pl.DataFrame:
    """Identifier columns (考生号, 身份证号 …) → keyed pseudonyms in the stream's person key.

    The first identifier column becomes the person key (unless the file already has a key
    column), its values replaced by ``pii.pseudonym``; every other identifier column is
    dropped, so no raw identifier reaches validation, the buffer or the store. A stream
    without a person key keeps the column, pseudonymised, to be refused as an unknown field.
    """
    ids = _identifier_columns(frame.columns)
    if not ids:
        return frame
    target = PERSON_KEYS.get(stream.name)
    if target is not None and _has_key_column(frame.columns, target):
        return frame.drop(ids)
    keep = ids[0]
    col = frame[keep].cast(pl.String).str.strip_chars()
    mapping = {v: pii.pseudonym(key, v) for v in col.drop_nulls().unique().to_list() if v}
    hashed = col.replace_strict(mapping, default=None, return_dtype=pl.String)
    frame = frame.drop(ids[1:]).with_columns(hashed.alias(keep))
    return frame.rename({keep: target}) if target is not None else frame


def pseudonymise_rows(rows: list[object], stream: Stream, key: bytes) -> list[object]:
    """The same for the objects of an NDJSON file (each row on its own)."""
    target = PERSON_KEYS.get(stream.name)
    out: list[object] = []
    for row in rows:
        if not isinstance(row, dict):
            out.append(row)
            continue
        ids = _identifier_columns([str(k) for k in row])
        if not ids:
            out.append(row)
            continue
        row = dict(row)
        values = [row.pop(c) for c in ids]
        if target is None:
            row[ids[0]] = pii.pseudonym(key, str(values[0])) if values[0] is not None else None
        elif not _has_key_column([str(k) for k in row], target) and values[0] not in (None, ""):
            row[target] = pii.pseudonym(key, str(values[0]))
        out.append(row)
    return out
