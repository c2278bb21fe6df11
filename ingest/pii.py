"""Personal data in event values: detection, redaction and keyed pseudonyms.

PIPL asks that personal data is not collected by accident. Campus systems are told to send
pseudonymous ``*_key`` values, but a misconfigured export sends an ID-card number, a mobile
number or a name instead. This module recognises those shapes so validation can refuse
them, dead letters can keep the evidence without the value, and file imports can turn
identifier columns into keyed pseudonyms before anything is buffered.

Detection runs in two steps so that validation stays vectorised: one Polars regular
expression per field finds the few *suspects* (a superset of every rule that applies to
the field); only those values are checked here in Python, where the checks that a regular
expression cannot do (the GB 11643 check digit of an ID number, the Luhn check of a bank
card) are done. Valid traffic has almost no suspects, so the Python step costs nothing.

Which rules apply depends on the field's class:

- ``id``: ``event_id`` — 18-digit ID numbers (with check digit) and mobile numbers only;
  event ids are often long digit runs (timestamps, sequence numbers), so the bank-card and
  15-digit rules are not applied.
- ``code``, ``text``: reference codes and free text (``source``, ``target_system``,
  ``queue``) — ID numbers (18 and 15 digits), mobile numbers, bank-card numbers (16–19
  digits passing Luhn) and e-mail addresses. Chinese words are allowed (a gate's name).
- ``key``: pseudonymous keys (``*_key``, ``case_id``) — the above plus Han-character names
  (2–4 Han characters starting with a common surname).

Courier tracking numbers (a carrier prefix such as ``SF``/``JD``/``YT`` followed by digits,
or the UPU ``EA123456789CN`` form) are exempt from the digit-run rules (15-digit IDs, bank
cards): they are long digit runs by design and identify a parcel, not a person.

A field the contract itself declares personal data (``Field.personal``: the tracking number
of an admission notice, which leads to the candidate's address) is the other way round: it is
stored on purpose, so validation does not refuse it whatever its shape (EMS numbers are bare
13-digit runs), and because no rule recognises its shape it is redacted *whole* wherever an
event is kept as evidence (:func:`redact_whole`, ``ingest.deadletter``) and never repeated in
a rejection message (``ingest.rejection``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

import polars as pl

FieldClass = str  # "id" | "code" | "text" | "key"

_SEP = r"[ -]?"
_DATE8 = r"(?:18|19|20)[0-9]{2}" + _SEP + r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_DATE6 = r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
#: 18-digit ID number: region (6), birth date (8), sequence (3), check digit; groups may be
#: separated by a space or a dash (``110105 19491231 002X``)
ID18 = r"[1-9][0-9]{5}" + _SEP + _DATE8 + _SEP + r"[0-9]{3}[0-9Xx]"
#: 15-digit ID number (issued before 1999): region, yymmdd, sequence
ID15 = r"[1-8][0-9]{5}" + _SEP + _DATE6 + _SEP + r"[0-9]{3}"
#: mainland mobile number, optionally with +86 / 0086 / (+86) and spaces or dashes
MOBILE = (r"(?:(?:\+|00)86" + _SEP + r"|\(\+?86\)" + _SEP + r")?1[3-9][0-9]"
          + _SEP + r"[0-9]{4}" + _SEP + r"[0-9]{4}")
#: a run of 16–19 digits (groups of digits separated by single spaces or dashes)
CARD = r"[0-9](?:[ -]?[0-9]){15,18}"
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
#: the most common Chinese surnames (together well over 85% of the population)
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
            "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶"
            "黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷"
            "詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛"
            "靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费"
            "卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘"
            "池查麻苑迟邝")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
                     "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里",
                     "呼延", "澹台", "公冶", "太史", "申屠")
HAN_NAME = ("(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + SURNAMES + r"])\p{Han}{1,3}")
_PY_HAN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
PY_HAN_NAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + SURNAMES + "])" + _PY_HAN + "{1,3}"
#: courier tracking numbers: exempt from the digit-run rules
TRACKING = (r"^(?:(?:SF|JD[A-Z]?|JT|YT|ZTO|ZT|STO|YD|YUNDA|DPK|DB|BEST|HT|EMS|JDV|KYE|YZ)"
            r"[0-9]{9,20}|[A-Z]{2}[0-9]{9}[A-Z]{2})$")

_ND = r"(?:^|[^0-9])"  # not preceded by a digit (Polars' engine has no look-behind)
_NDE = r"(?:$|[^0-9])"
_CLASSES = ("id", "code", "text", "key")


def suspect_pattern(cls: FieldClass) -> str:
    """The Polars regular expression that finds every value of this class worth a closer look
    (a superset of the rules: check digits and Luhn are checked in Python)."""
    parts = [_ND + ID18 + _NDE, _ND + MOBILE + _NDE]
    if cls != "id":
        parts.append(_ND + ID15 + _NDE)
    if cls != "id":
        parts += [_ND + CARD, EMAIL]
    if cls == "key":
        parts.append(r"(?:^|\P{Han})" + HAN_NAME + r"(?:$|\P{Han})")
    return "|".join(parts)


_LB, _LA = r"(?<![0-9])", r"(?![0-9])"
_PY = {
    "id18": re.compile(_LB + "(" + ID18 + ")" + _LA),
    "id15": re.compile(_LB + "(" + ID15 + ")" + _LA),
    "mobile": re.compile(_LB + "(" + MOBILE + ")" + _LA),
    "card": re.compile(_LB + r"([0-9](?:[ -]?[0-9])*)" + _LA),
    # starts only where a run of address characters starts, and takes the run whole: a long
    # run without "@" (a megabyte of base64) costs linear time, not quadratic
    "email": re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]++@[A-Za-z0-9-]+"
                        r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"),
    "name": re.compile(f"(?<!{_PY_HAN})(" + PY_HAN_NAME + f")(?!{_PY_HAN})"),
}
_TRACKING = re.compile(TRACKING, re.IGNORECASE)
_ANY = re.compile("[0-9@\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """GB 11643: the 18th character is the check digit of the first 17."""
    digits = re.sub(r"[ -]", "", number).upper()
    if len(digits) != 18 or not digits[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == digits[17]


def luhn_ok(number: str) -> bool:
    """The Luhn check of bank-card numbers (ISO/IEC 7812)."""
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _rules(cls: FieldClass) -> tuple[str, ...]:
    if cls == "letter_id":  # an event_id in a dead letter: all but the digit-run rules
        return ("id18", "mobile", "email", "name")
    rules: tuple[str, ...] = ("id18", "mobile")
    if cls != "id":
        rules += ("id15",)
    if cls != "id":
        rules += ("card", "email")
    if cls == "key":
        rules += ("name",)
    return rules


def _spans(text: str, cls: FieldClass) -> list[tuple[int, int]]:
    """Where personal data sits in ``text`` (start, end), for the rules of ``cls``."""
    if not _ANY.search(text):  # no digit, "@" or Han character: nothing to find
        return []
    tracking = bool(_TRACKING.match(text.strip()))
    spans = []
    for rule in _rules(cls):
        if tracking and rule in ("id15", "card"):
            continue
        for m in _PY[rule].finditer(text):
            value = m.group(1)
            if rule == "id18" and not id_checksum_ok(value):
                continue
            if rule == "card":
                digits = re.sub(r"[ -]", "", value)
                if not (16 <= len(digits) <= 19 and luhn_ok(digits)):
                    continue
            spans.append(m.span(1))
    return spans


def contains_pii(text: str, cls: FieldClass = "key") -> bool:
    """Whether ``text`` holds personal data by the rules of a field of class ``cls``."""
    return bool(_spans(text, cls))


def field_class(name: str, kind: str) -> FieldClass | None:
    """The rule set of a contract field (None: not a string field, no rules)."""
    if name == "event_id":
        return "id"
    return {"code": "code", "str": "text", "key": "key"}.get(kind)


def detector(cls: FieldClass) -> Callable[[pl.Series], pl.Series]:
    """A vectorised check for a Polars column: true where the value holds personal data."""
    pattern = suspect_pattern(cls)

    def check(s: pl.Series) -> pl.Series:
        if s.dtype != pl.String:
            s = s.cast(pl.String)
        hit = s.str.contains(pattern).fill_null(False)
        if not hit.any():
            return hit
        idx = hit.arg_true()
        flags = [contains_pii(v, cls) for v in s.gather(idx).to_list()]
        return hit.scatter(idx, flags)

    return check


# ---- redaction and pseudonyms ------------------------------------------------------------
REDACTED = "<redacted:"
DROPPED = "<dropped:"
TRUNCATED = "<truncated:"
MARKERS = (REDACTED, DROPPED, TRUNCATED)
#: a dead letter's raw payload is capped at this many bytes (UTF-8 JSON)
RAW_CAP = 4096
_BLOB_MIN = 256
_BLOB_RE = re.compile(r"^(?:data:[\w/+.-]+;base64,)?[A-Za-z0-9+/_=\s-]+$")
_LONG_STRING = 200


def keyed_hash(key: bytes, value: str) -> str:
    """A short keyed hash of a value: equal values get equal hashes (an operator can tell that
    two letters carry the same number) but without the site key the value cannot be found."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def pseudonym(key: bytes, value: str) -> str:
    """The keyed pseudonym of an identifier (考生号, ID number…): stable for a site key, not
    reversible, and itself never PII-shaped (lower-case base32 has no 0, 1, 8 or 9)."""
    normal = re.sub(r"[\s-]", "", value).upper()
    digest = hmac.new(key, b"pseudonym:" + normal.encode(), hashlib.sha256).digest()
    return "p" + base64.b32encode(digest).decode().lower()[:25]


def looks_binary(text: str) -> bool:
    """A long base64 / data-URI string (a photo, a scanned document): never kept."""
    return len(text) >= _BLOB_MIN and bool(_BLOB_RE.match(text[:4096])) and " " not in text[:4096]


def redact_text(text: str, key: bytes, cls: FieldClass = "key") -> str:
    """``text`` with every piece of personal data replaced by ``<redacted:hash>``."""
    spans = sorted(_spans(text, cls))
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        if start < at:  # overlapping findings (a card run containing an ID): merge
            continue
        out += [text[at:start], f"{REDACTED}{keyed_hash(key, text[start:end])}>"]
        at = end
    out.append(text[at:])
    return "".join(out)


def redact_whole(value: Any, key: bytes) -> Any:
    """A value that is personal data as a whole (a field the contract declares personal):
    ``<redacted:hash>`` of its text, whatever its shape; null stays null."""
    if value is None:
        return None
    return f"{REDACTED}{keyed_hash(key, value if isinstance(value, str) else repr(value))}>"


def scrub(text: str) -> str:
    """``text`` with personal data replaced by a fixed placeholder, for messages (which have
    no site key and must never repeat a value)."""
    for start, end in sorted(_spans(text, "key"), reverse=True):
        text = text[:start] + "<personal data removed>" + text[end:]
    return text


def redact_value(value: Any, key: bytes, cls: FieldClass = "key") -> Any:
    """A JSON value with personal data redacted and binary blobs dropped, at any depth
    (keys of objects included)."""
    if isinstance(value, str):
        if looks_binary(value):
            return f"{DROPPED} binary, {len(value)} characters>"
        return redact_text(value, key, cls)
    if value is None or isinstance(value, (bool, float, dt.date, dt.time)):
        return value  # (dates and times from a typed file stay typed: JSON keeps them ISO)
    if isinstance(value, int):
        text = str(value)
        return redact_text(text, key, cls) if contains_pii(text, cls) else value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{DROPPED} binary, {len(value)} bytes>"
    if isinstance(value, dict):
        return {redact_text(str(k), key): redact_value(v, key, cls) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v, key, cls) for v in value]
    return redact_text(str(value), key, cls)


def has_markers(value: Any) -> bool:
    """Whether a (stored) payload lost something to redaction, dropping or truncation."""
    if isinstance(value, str):
        return any(m in value for m in MARKERS)
    if isinstance(value, dict):
        return any(has_markers(k) or has_markers(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_markers(v) for v in value)
    return False
