"""Chinese column headers and cell values of office spreadsheets → contract fields and codes.

The admissions office keeps its plan and admission lists in spreadsheets with Chinese
headers (年份, 省份, 批次, 科类, 专业代码, 计划数 …) and Chinese values (北京, 本科批, 普通类,
物理类, 录取 …). File import maps both through the tables below: the common headers and the
provinces by name here, each domain's headers, values and person keys declared with the
domain (``ingest/<name>.py``); all documented in ``docs/import.md``. English field names and
codes pass through unchanged. In an office file (CSV, XLSX) a header that is neither a field
nor an alias stops the import (``ingest.sheet``); names of majors, colleges, gates … become
codes through the site catalogue (``ingest.site_codes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import polars as pl

from ingest import pii
from ingest.contracts import Stream
from ingest.registry import DOMAINS, Live

T = TypeVar("T")

#: headers every stream shares; each domain adds its own (``IngestDomain.header_aliases``)
COMMON_HEADERS: dict[str, str] = {
    "事件编号": "event_id", "事件ID": "event_id", "时间": "ts", "发生时间": "ts", "来源": "source",
    "来源系统": "source",
}


def _merged(kind: str, parts: list[tuple[str, Mapping[str, T]]]) -> dict[str, T]:
    """One table from several; a key two of them map differently is refused (file import
    could not tell which is meant)."""
    out: dict[str, T] = {}
    owner: dict[str, str] = {}
    for who, table in parts:
        for key, value in table.items():
            if key in out and out[key] != value:
                raise ValueError(f"{kind} {key!r} means {out[key]!r} for {owner[key]} and {value!r} for "
                                 f"{who}: give one of them another spelling")
            out[key], owner[key] = value, who
    return out


#: every header file import understands → its field (the common ones and every domain's)
HEADER_ALIASES: Live[str, str] = DOMAINS.live(lambda ds: _merged(
    "header", [("every stream", COMMON_HEADERS), *((f"domain {d.name}", d.header_aliases) for d in ds)]))

#: columns of personal identifiers (exam numbers, ID numbers): file import replaces their
#: values by keyed pseudonyms before anything is buffered, and maps them to the stream's
#: pseudonymous person key (the first of these a file has wins)
IDENTIFIER_HEADERS: tuple[str, ...] = ("考生号", "准考证号", "身份证号", "身份证号码", "身份证",
                                       "证件号码", "证件号")
#: the pseudonymous person key of each stream that has one (``IngestDomain.person_keys``)
PERSON_KEYS: Live[str, str] = DOMAINS.live(lambda ds: {s: k for d in ds for s, k in d.person_keys.items()})

PROVINCE_NAMES: dict[str, str] = {
    "北京": "11", "天津": "12", "河北": "13", "山西": "14", "内蒙古": "15", "辽宁": "21",
    "吉林": "22", "黑龙江": "23", "上海": "31", "江苏": "32", "浙江": "33", "安徽": "34",
    "福建": "35", "江西": "36", "山东": "37", "河南": "41", "湖北": "42", "湖南": "43",
    "广东": "44", "广西": "45", "海南": "46", "重庆": "50", "四川": "51", "贵州": "52",
    "云南": "53", "西藏": "54", "陕西": "61", "甘肃": "62", "青海": "63", "宁夏": "64",
    "新疆": "65", "台湾": "71", "香港": "81", "澳门": "82",
}
_PROVINCE_SUFFIXES = ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区")

#: field → cell value → code, as the domains declare them (``IngestDomain.value_aliases``); a value
#: alias applies to the field in every stream that has it
VALUE_ALIASES: Live[str, Mapping[str, str]] = DOMAINS.live(lambda ds: {
    name: _merged(f"{name} value", [(f"domain {d.name}", d.value_aliases[name]) for d in ds
                                    if name in d.value_aliases])
    for name in dict.fromkeys(n for d in ds for n in d.value_aliases)})

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
