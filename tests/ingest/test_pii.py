"""Personal data: the detector's rules, dead-letter redaction, pseudonyms at the import edge,
and a property test over every string field of every stream and every import column."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import pii
from ingest.deadletter import capped, dead_letter_frame
from ingest.headers import HEADER_ALIASES, IDENTIFIER_HEADERS, map_headers, pseudonymise_frame
from ingest.registry import STREAMS, get_stream
from ingest.validate import validate, validate_frame
from tests.ingest.strategies import NOW, random_events

KEY = b"k" * 32
ID_NUMBER = "11010519491231002X"  # a valid GB 11643 check digit


def _id18(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    total = sum(int(d) * w for d, w in zip(body, pii._ID_WEIGHTS, strict=True))
    return body + pii._ID_CHECK[total % 11]


def _luhn(prefix: str, length: int) -> str:
    body = prefix + "0" * (length - len(prefix) - 1)
    for check in "0123456789":
        if pii.luhn_ok(body + check):
            return body + check
    raise AssertionError


# ---- the rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    ID_NUMBER, "110105 19491231 002X", "110105-19491231-002X", "110105 1949 1231 002X",
    "身份证11010519491231002X", "110105491231002",
    "13812345678", "+86 138-1234-5678", "+8613812345678", "0086 138 1234 5678", "(+86)13812345678",
    "138-1234-5678", "tel:13812345678",
])
def test_id_and_mobile_numbers_are_found_in_every_string_field(value: str) -> None:
    for cls in ("code", "text", "key"):
        assert pii.contains_pii(value, cls), (value, cls)


@pytest.mark.parametrize("value", [
    "11010519491231002", "110105194912310021",  # 17 digits; wrong check digit
    "gate-north-03", "bench-123", "2026-09-01T08:00:00+08:00", "12812345678",  # no mobile prefix 12
    "138123456789",  # 12 digits: not a mobile
])
def test_lookalikes_are_not_personal_data(value: str) -> None:
    assert not pii.contains_pii(value, "key"), value


def test_cards_and_email_in_every_field_but_event_id() -> None:
    card = _luhn("622202", 19)
    grouped = "4111 1111 1111 1111"
    for value in (card, grouped, "zhang.san@example.edu.cn"):
        for cls in ("code", "text", "key"):
            assert pii.contains_pii(value, cls), (value, cls)
        assert not pii.contains_pii(value, "id"), value
    assert not pii.contains_pii(card[:-1] + str((int(card[-1]) + 1) % 10), "key")  # Luhn fails


def test_names_in_keys_only_and_chinese_text_elsewhere_is_fine() -> None:
    for name in ("张三", "欧阳娜娜", "王小明", "key-李四-2026"):
        assert pii.contains_pii(name, "key"), name
    for text in ("东门", "北区一号门", "图书馆", "学生事务中心"):
        assert not pii.contains_pii(text, "key"), text
    for text in ("张三", "王府井校区"):
        assert not pii.contains_pii(text, "code") and not pii.contains_pii(text, "text")


def test_event_id_and_tracking_numbers_are_exempt_from_digit_runs() -> None:
    long_id = "4111111111111111"  # 16 digits passing Luhn
    assert not pii.contains_pii(long_id, "id") and pii.contains_pii(long_id, "key")
    assert not pii.contains_pii("110105491231002", "id")
    assert pii.contains_pii(ID_NUMBER, "id") and pii.contains_pii("13812345678", "id")
    for tracking in ("SF" + long_id, "JD0012345678901234", "EA123456789CN", "YT110105491231002"):
        assert not pii.contains_pii(tracking, "key"), tracking


def test_validation_refuses_each_shape_in_its_fields() -> None:
    stream = get_stream("gate.pass")
    base = random_events(stream, 1, 1, NOW)[0]
    cases = [("person_key", "张三"), ("person_key", "zhang.san@example.edu.cn"),
             ("person_key", _luhn("622202", 16)), ("campus", "110105 19491231 002X"),
             ("gate_id", "+86 138-1234-5678"), ("event_id", ID_NUMBER)]
    r = validate(stream, [{**base, name: value, "event_id": f"e{i}"} if name != "event_id"
                          else {**base, name: value} for i, (name, value) in enumerate(cases)],
                 source="t", now=NOW)
    assert [(e["field"], e["reason"]) for e in r.errors] == [(n, "pii_not_allowed") for n, _ in cases]
    for e, (_, value) in zip(r.errors, cases, strict=True):
        assert value not in e["message"]
    ok = validate(stream, [{**base, "person_key": "pk7f3qz2", "campus": "东区"}], source="t", now=NOW)
    assert ok.accepted == 1  # a pseudonymous key and Chinese text in a code pass


def test_suspects_that_are_not_personal_data_pass_among_those_that_are(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation first only suspects personal data (one regular expression per field) and
    decides with the exact checks when a suspect would reject an event: a batch mixing
    look-alikes (a wrong check digit, a failed Luhn check), real personal data and other
    errors comes out exactly as from the exact checks alone."""
    from ingest import field_rules
    from ingest import validate as validation

    stream = get_stream("gate.pass")
    base = random_events(stream, 1, 3, NOW)[0]
    bad_check = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    not_a_card = _luhn("622202", 16)[:-1] + str((int(_luhn("622202", 16)[-1]) + 1) % 10)
    assert not pii.contains_pii(bad_check, "id") and not pii.contains_pii(not_a_card, "code")
    changes: list[dict[str, Any]] = [
        {"event_id": bad_check}, {"gate_id": not_a_card}, {"campus": not_a_card, "person_key": "张三"},
        {"gate_id": not_a_card, "direction": "sideways"}, {"person_key": ID_NUMBER}, {},
    ]
    events = [{**base, "event_id": f"e{i}", **c} for i, c in enumerate(changes)]
    suspected = validate(stream, events, source="t", now=NOW)
    monkeypatch.setattr(validation, "plan_for",
                        lambda s, schema, exact_pii=True: field_rules.plan_for(s, schema, exact_pii=True))
    exact = validate(stream, events, source="t", now=NOW)
    assert suspected.frame.equals(exact.frame)
    assert suspected.index == exact.index and suspected.rejected == exact.rejected
    assert suspected.errors == exact.errors
    assert suspected.index == [0, 1, 5]
    assert [(e["index"], e["field"], e["reason"]) for e in suspected.errors] == [
        (2, "person_key", "pii_not_allowed"), (3, "direction", "bad_enum"),
        (4, "person_key", "pii_not_allowed")]
    # a batch whose only suspects are look-alikes is accepted whole
    assert validate(stream, events[:2], source="t", now=NOW).accepted == 2


def test_messages_never_repeat_personal_data() -> None:
    stream = get_stream("gate.pass")
    base = random_events(stream, 1, 2, NOW)[0]
    r = validate(stream, [{**base, "lane": "13812345678"}, {**base, ID_NUMBER: 1},
                          {**base, "person_key": "a" * 60 + ID_NUMBER}], source="t", now=NOW)
    assert r.errors and all("13812345678" not in e["message"] and ID_NUMBER not in e["message"]
                            for e in r.errors)


# ---- dead letters --------------------------------------------------------------------------
def test_dead_letters_redact_drop_and_cap() -> None:
    stream = get_stream("gate.pass")
    base = random_events(stream, 1, 3, NOW)[0]
    blob = "iVBORw0KGgo" + "A" * 1_000_000
    events: list[Any] = [
        {**base, "person_key": "110105 19491231 002X"},
        {**base, "face_image": blob, "mobile": "+86 138-1234-5678"},
        {**base, "lane": 13812345678, "notes": "一段很长的说明 " * 1_000},
        f"raw text line with {ID_NUMBER}",
    ]
    r = validate(stream, events, source="t", now=NOW)
    letters = dead_letter_frame(stream.name, events, r, "t", NOW, key=KEY)
    assert letters.height == 4
    text = "".join(str(v) for row in letters.iter_rows() for v in row)
    for secret in ("19491231", "1234-5678", "13812345678", ID_NUMBER, "AAAAAAAAAA"):
        assert secret not in text, secret
    raws = [orjson.loads(x) for x in letters["raw"]]
    assert raws[0]["person_key"] == f"{pii.REDACTED}{pii.keyed_hash(KEY, '110105 19491231 002X')}>"
    assert raws[1]["face_image"].startswith(pii.DROPPED)
    assert all(len(x.encode()) <= pii.RAW_CAP for x in letters["raw"])
    assert raws[2]["notes"].startswith(pii.TRUNCATED)


def test_payload_cap_holds_for_anything() -> None:
    for value in ({f"f{i}": "v" * 50 for i in range(500)}, ["x" * 100] * 100, "汉" * 5000):
        assert len(capped(value).encode()) <= pii.RAW_CAP


def test_pseudonyms_are_stable_keyed_and_never_pii_shaped() -> None:
    assert pii.pseudonym(KEY, "110105 19491231 002x") == pii.pseudonym(KEY, ID_NUMBER)
    assert pii.pseudonym(KEY, ID_NUMBER) != pii.pseudonym(b"other" * 8, ID_NUMBER)
    for i in range(2000):
        assert not pii.contains_pii(pii.pseudonym(KEY, f"{i:018d}"), "key")


# ---- the property: nothing PII-shaped is stored as-is or kept in a dead letter -------------
def _pii_values() -> st.SearchStrategy[tuple[str, str]]:
    """(kind, value): ID numbers with and without separators, mobiles with +86, bank cards,
    e-mail addresses and Han names."""
    sep = st.sampled_from(["", " ", "-"])
    date = st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2012, 12, 31)).map(
        lambda d: d.strftime("%Y%m%d"))
    region = st.sampled_from(["110105", "310104", "440305", "510107", "650102"])
    id18 = st.builds(lambda r, d, s, a, b: r + a + d + b + _id18(r, d, s)[-4:],
                     region, date, st.integers(0, 999).map(lambda n: f"{n:03d}"), sep, sep)
    mobile = st.builds(lambda p, a, b, c, s1, s2: f"{p}1{a}{b}{s1}{c[:4]}{s2}{c[4:]}",
                       st.sampled_from(["", "+86 ", "+86", "0086", "(+86)"]),
                       st.sampled_from("3456789"), st.integers(0, 9),
                       st.text("0123456789", min_size=8, max_size=8), sep, sep)
    card = st.builds(_luhn, st.sampled_from(["622202", "4111", "5500", "6217"]), st.integers(16, 19))
    email = st.builds(lambda u, d: f"{u}@{d}.edu.cn", st.from_regex(r"[a-z][a-z0-9.]{0,8}", fullmatch=True),
                      st.from_regex(r"[a-z]{2,8}", fullmatch=True))
    name = st.builds(lambda s, g: s + g, st.sampled_from([*pii.SURNAMES[:60], "欧阳", "司马"]),
                     st.text("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英", min_size=1, max_size=2))
    return st.one_of(*(v.map(lambda x, k=k: (k, x)) for k, v in (
        ("id", id18), ("mobile", mobile), ("card", card), ("email", email), ("name", name))))


def _refused(kind: str, cls: str | None) -> bool:
    """Whether the contract refuses a value of this kind in a field of this class: ID and
    mobile numbers everywhere; cards and e-mail everywhere but event_id (exempt from the
    digit-run rules; an e-mail fails its format anyway); names in keys (codes and free text
    hold Chinese words) and in non-string fields (wrong type, unknown field)."""
    if cls is None:
        return True
    if kind == "card":
        return cls != "id"
    if kind == "name":
        return cls in ("key", "id")
    return True


def _string_fields() -> list[tuple[str, str, str]]:
    """(stream, field, class) for every string field of every stream (but those the contract
    declares personal data, stored on purpose: tests/ingest/test_notice_personal.py)."""
    out = []
    for s in STREAMS:
        for f in s.all_fields:
            cls = pii.field_class(f.name, f.kind)
            if cls is not None and not f.personal:
                out.append((s.name, f.name, cls))
    return out


def _leaks(value: str, text: str) -> bool:
    """The value, or its digits, or its digits without separators, appear in ``text``."""
    digits = re.sub(r"[^0-9Xx]", "", value)
    return value in text or (len(digits) >= 11 and digits in re.sub(r"[ -]", "", text))


def _dead_letter_text(stream_name: str, events: list[Any], result: Any) -> str:
    letters = dead_letter_frame(stream_name, events, result, "t", NOW, key=KEY)
    return "\n".join(str(v) for row in letters.iter_rows() for v in row)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_string_fields()), _pii_values(), st.sampled_from(["{}", "x-{}", "{} (new)"]))
def test_property_pii_in_any_string_field_is_never_stored_or_kept(
        target: tuple[str, str, str], kind_value: tuple[str, str], shape: str) -> None:
    stream_name, name, cls = target
    kind, value = kind_value
    stream = get_stream(stream_name)
    value = shape.format(value)
    event = random_events(stream, 1, 7, NOW)[0]
    event[name] = value
    result = validate(stream, [event], source="t", now=NOW)
    if _refused(kind, cls):
        assert result.accepted == 0 and result.errors, (stream_name, name, value)
    letters = _dead_letter_text(stream_name, [event], result)
    if not (kind == "card" and cls == "id"):  # an event_id keeps its digits (documented)
        assert not _leaks(value, letters), (name, value)


def _import_columns(stream_name: str) -> list[str]:
    """Every column a file of this stream may have: its fields, their Chinese headers, the
    identifier columns, and a column the stream does not know."""
    stream = get_stream(stream_name)
    fields = {f.name for f in stream.all_fields}
    aliases = [h for h, f in HEADER_ALIASES.items() if f in fields]
    return sorted({*fields, *aliases, *IDENTIFIER_HEADERS, "备注"})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([s.name for s in STREAMS]), st.data(), _pii_values())
def test_property_pii_in_any_import_column_is_never_stored_or_kept(
        stream_name: str, data: st.DataObject, kind_value: tuple[str, str]) -> None:
    kind, value = kind_value
    stream = get_stream(stream_name)
    column = data.draw(st.sampled_from(_import_columns(stream_name)))
    event = {k: str(v) for k, v in random_events(stream, 1, 8, NOW)[0].items()}
    event[column] = value
    frame = pl.DataFrame({k: pl.Series(k, [v], dtype=pl.String) for k, v in event.items()})
    frame = map_headers(pseudonymise_frame(frame, stream, KEY), stream)  # as the importer does
    result = validate_frame(stream, frame, source="t", now=NOW)
    target = HEADER_ALIASES.get(column, column)
    f = next((f for f in stream.all_fields if f.name == target), None)
    cls = pii.field_class(f.name, f.kind) if f is not None and column not in IDENTIFIER_HEADERS else None
    stored = "\n".join(str(v) for row in result.frame.iter_rows() for v in row)
    kept_on_purpose = f is not None and (f.kind in ("int", "float", "ts") or f.personal)
    if _refused(kind, cls) and not kept_on_purpose:
        assert not _leaks(value, stored), (column, value)
    rows = [frame.row(i, named=True) for i in range(frame.height)]
    if not (kind == "card" and cls == "id"):
        assert not _leaks(value, _dead_letter_text(stream_name, rows, result)), (column, value)


def test_typed_values_of_a_file_keep_their_json_form_in_a_letter() -> None:
    """Rows of a Parquet file carry datetimes: they stay ISO strings, so the letter replays."""
    import datetime as _dt

    from ingest.deadletter import safe_payload

    ts = _dt.datetime(2026, 9, 1, 8, tzinfo=_dt.UTC)
    event = {"ts": ts, "lane": 3, "person_key": 13812345678}
    kept = orjson.loads(capped(safe_payload("gate.pass", event, KEY)))
    assert kept["ts"] == "2026-09-01T08:00:00+00:00" and kept["lane"] == 3
    assert kept["person_key"].startswith(pii.REDACTED)
