"""Names in office files → the site catalogue's codes (majors, colleges, gates, services …).

Offices write names, not codes: the admissions office's plan says 计算机科学与技术, not
``080901``; the service hall's list says 学生证补办. A coded field of a file (a field whose
contract names a catalogue kind, ``Field.reference``, and ``department``) is therefore read
through the catalogue: a cell that is a code of that kind stays as it is; a cell that is the
zh or en name or one of the ``aliases`` of exactly one entry becomes that entry's code —
compared exactly after full-width characters become half-width (NFKC) and runs of
whitespace one space (none beside a Chinese character). A code whose leading zeros a number
cell dropped (``80901`` for ``080901``) is read as that code.

A cell that names nothing is refused with the row (``unknown_name``): stored as it is, a name
would look like a code nobody knows, and every figure of that major would miss it. A name
two entries share is refused too (``ambiguous_name``), naming their codes. Only a cell that
has the shape of a code (``A-Z a-z 0-9 . _ : -``) and is in no list passes as it is, as the
ingest API takes it (the quality figures count codes the catalogue does not know).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from ingest import pii
from ingest.contracts import Stream

#: the shape of a catalogue code (as ``ingest.site`` checks it)
CODE_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: coded fields whose contract names no catalogue kind
_KIND_OF_FIELD = {"department": "department"}
KINDS = ("campus", "gate", "link", "terminal", "department", "service", "college", "major")
_KIND_ZH = {"campus": "校区", "gate": "门", "link": "出口链路", "terminal": "终端", "department": "部门",
            "service": "事项", "college": "学院", "major": "专业"}
_CJK = "\u2e80-\u9fff\uf900-\ufaff"
_SPACE_BY_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def normal(text: str) -> str:
    """A name as it is compared: NFKC (full-width → half-width), whitespace collapsed, no
    whitespace beside a Chinese character (``计算机 科学`` is ``计算机科学``)."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return _SPACE_BY_CJK.sub("", text)


@dataclass(frozen=True)
class Entry:
    """What the resolver needs of a catalogue entry (``ingest.site.Named``)."""

    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()


class SiteCodes:
    """Name → code tables of one catalogue, per kind."""

    def __init__(self, entries: Mapping[str, Iterable[Entry]], catalogue: str = "the site catalogue") -> None:
        self.catalogue = catalogue
        self._codes: dict[str, set[str]] = {}
        self._names: dict[str, dict[str, set[str]]] = {}
        self._examples: dict[str, list[str]] = {}
        for kind, items in entries.items():
            codes, names, examples = set(), dict[str, set[str]](), []
            for e in items:
                codes.add(e.code)
                examples.append(e.name_zh)
                for name in (e.name_zh, e.name_en, *e.aliases):
                    if name and name.strip():
                        names.setdefault(normal(name), set()).add(e.code)
            self._codes[kind], self._names[kind], self._examples[kind] = codes, names, examples

    @classmethod
    def of_site(cls, site: Any) -> SiteCodes:
        """The tables of a loaded catalogue (``ingest.site.Site``)."""
        return cls({k: [Entry(e.code, e.name_zh, e.name_en, tuple(e.aliases)) for e in site.entries(k)]
                    for k in KINDS}, f"the site catalogue {site.path}")

    @staticmethod
    def kind_of(stream: Stream, name: str) -> str | None:
        for f in stream.all_fields:
            if f.name == name:
                return f.reference or _KIND_OF_FIELD.get(f.name)
        return None

    def coded_columns(self, stream: Stream, columns: Iterable[str]) -> dict[str, str]:
        """The columns of a frame read through the catalogue → their kind."""
        out = {}
        for c in columns:
            kind = self.kind_of(stream, c)
            if kind in self._codes:
                out[c] = kind
        return out

    def lookup(self, kind: str, value: str) -> tuple[str | None, str | None]:
        """``(code, None)`` or ``(None, reason)`` for one cell of a ``kind`` column."""
        text = unicodedata.normalize("NFKC", value).strip()
        if text in self._codes[kind]:
            return text, None
        found = self._names[kind].get(normal(text), set())
        if len(found) == 1:
            return next(iter(found)), None
        if found:
            return None, "ambiguous_name"
        if text.isdigit():  # a code typed into a number cell lost its leading zeros (080901 → 80901)
            padded = [z + text for z in ("0", "00") if z + text in self._codes[kind]]
            if len(padded) == 1:
                return padded[0], None
        if CODE_SHAPE.fullmatch(text):
            return text, None
        return None, "unknown_name"

    def message(self, kind: str, header: str, value: str, reason: str) -> str:
        """What a refused cell is told: what to write instead, or what to add to the catalogue."""
        shown = "a value that is not repeated here (it looks like personal data)" \
            if pii.contains_pii(value, "key") else repr(value)
        what = f"{_KIND_ZH[kind]} ({kind})"
        if reason == "ambiguous_name":
            codes = ", ".join(sorted(self._names[kind][normal(value)]))
            return (f"{header} {shown} names several entries of {what} in {self.catalogue} "
                    f"({codes}); write the code of the one meant")
        close = difflib.get_close_matches(normal(value), list(self._names[kind]), n=3, cutoff=0.6)
        hint = f"did you mean {'、'.join(close)}? " if close and shown.startswith("'") else ""
        example = "、".join(self._examples[kind][:3])
        return (f"{header} {shown} is no {what} of {self.catalogue}: {hint}write its code or its name "
                f"as the catalogue has it (name_zh, name_en, e.g. {example}), or add this spelling to "
                f"the entry's aliases, then import the rows again")

    def resolve(self, stream: Stream, frame: pl.DataFrame, headers: Mapping[str, str] | None = None
                ) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
        """The frame with names replaced by codes, and one error per refused cell (index,
        field, reason, message); a refused row keeps the file's values (its dead letter shows
        what the file said). ``headers``: the file's own header of each field (for messages)."""
        headers = headers or {}
        errors: list[dict[str, Any]] = []
        updates = []
        for column, kind in self.coded_columns(stream, frame.columns).items():
            if frame.schema[column] != pl.String:
                continue
            values = frame[column]
            mapping: dict[str, str] = {}
            for value in values.drop_nulls().unique().to_list():
                code, reason = self.lookup(kind, value)
                if code is not None:
                    mapping[value] = code
                else:
                    message = self.message(kind, headers.get(column, column), value, str(reason))
                    for i in (values == value).arg_true().to_list():
                        errors.append({"index": i, "field": column, "reason": reason, "message": message})
            updates.append(values.replace(mapping))  # a refused value is in no mapping: kept
        errors.sort(key=lambda e: (e["index"], e["field"]))
        return (frame.with_columns(updates) if updates else frame), errors
