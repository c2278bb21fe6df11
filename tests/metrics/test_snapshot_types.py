"""The snapshot's typed structures (metrics/snapshot_types.py) and docs/snapshot.md list the
same fields, both ways, and a snapshot computed on the real engine has exactly those keys.

How the document is read: every row of the "Contract paths" and "Further keys" tables names
one or more paths (`` `a.b` / `a.c` ``; a path without a dot is a sibling of the one before
it); ``<stream>`` stands for each stream's entry and ``[]`` for the rows of a list. The row's
meaning may then give the fields under the path: ``[{x, y}]`` a list of rows, ``{x, y}`` an
object (rows again when the word "rows" comes first), "each ``{…}``" the fields of every one
of those, "the shape of `P` by a, b" P's row fields with a, b in place of P's first field, one
per path, and "(with `s`, `t`)" siblings present only in some snapshots.
"""

from __future__ import annotations

import re
import types
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NotRequired, get_args, get_origin, get_type_hints, is_typeddict
from zoneinfo import ZoneInfo

import orjson
import pytest

from ingest.registry import STREAMS
from ingest.validate import validate
from ioc_app.core import SnapshotCore
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_ALERTS
from ioc_app.storage import Store
from metrics.alerts import load_rules
from metrics.snapshot_types import Snapshot
from tests.ingest.strategies import random_events

DOC = Path(__file__).resolve().parents[2] / "docs" / "snapshot.md"
ZONE = ZoneInfo("Asia/Shanghai")
FIELDS = re.compile(r"`(\[)?\{([a-z_0-9, ]+)\}\]?`")


# ---- the typed structures ------------------------------------------------------------------


def typed_fields(shape: Any = Snapshot, prefix: str = "") -> Iterator[str]:
    """The leaf paths of a typed structure: its scalar fields, and those of its rows."""
    hints = get_type_hints(shape)
    for name, hint in hints.items():
        path = f"{prefix}{name}"
        yield from _leaves(hint, path)


def _leaves(hint: Any, path: str) -> Iterator[str]:
    if is_typeddict(hint):
        yield from typed_fields(hint, path + ".")
    elif get_origin(hint) is list and is_typeddict(get_args(hint)[0]):
        yield from typed_fields(get_args(hint)[0], path + "[].")
    elif get_origin(hint) is dict:
        yield from _leaves(get_args(hint)[1], path + ".<stream>")
    else:
        yield path


# ---- the document ----------------------------------------------------------------------------


def table_rows(text: str) -> Iterator[tuple[list[str], str]]:
    """(paths, meaning) of each row of the two path tables."""
    for heading in ("## Contract paths", "## Further keys"):
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        for line in section.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("| `") or len(cells) < 2:
                continue
            paths: list[str] = []
            for part in (p.strip(" `") for p in cells[0].split("/")):
                paths.append(part if "." in part or not paths else _parent(paths[-1]) + part)
            yield paths, cells[-1]


def _parent(path: str) -> str:
    """``a.b.`` of ``a.b.c``; nothing for a top-level key."""
    return path.rsplit(".", 1)[0] + "." if "." in path else ""


def documented_fields(text: str) -> set[str]:
    """The leaf paths the document names (see the module's docstring for how it is read)."""
    rows_of: dict[str, list[str]] = {}
    out: set[str] = set()
    for paths, meaning in table_rows(text):
        shape = re.match(r"the shape of `([a-z_.]+)` by ([a-z_, ]+)", meaning)
        if shape:
            keys = [k.strip() for k in shape.group(2).split(",")]
            assert len(keys) == len(paths), f"{paths}: one key per path in {meaning!r}"
            for path, key in zip(paths, keys, strict=True):
                out.update(f"{path}[].{f}" for f in [key, *rows_of[shape.group(1)][1:]])
            continue
        first = FIELDS.search(meaning)
        for path in paths:
            sibling = re.search(r"\(with ((?:`\w+`(?:, )?)+)\)", meaning)
            if sibling:
                out.update(_parent(path) + s for s in re.findall(r"`(\w+)`", sibling.group(1)))
            if first is None:
                out.add(path)
                continue
            fields = [f.strip() for f in first.group(2).split(",")]
            is_rows = bool(first.group(1)) or "rows" in meaning[:first.start()]
            each = re.search(r"each `\{([a-z_0-9, ]+)\}`", meaning)
            if is_rows:
                rows_of[path] = fields
                out.update(f"{path}[].{f}" for f in fields)
            elif each:
                out.update(f"{path}.{f}.{g.strip()}" for f in fields for g in each.group(1).split(","))
            else:
                out.update(f"{path}.{f}" for f in fields)
    return out


def test_the_typed_structures_and_the_document_list_the_same_fields() -> None:
    typed = set(typed_fields())
    documented = documented_fields(DOC.read_text())
    assert len(typed) > 150
    assert sorted(typed - documented) == [], "in metrics/snapshot_types.py, not in docs/snapshot.md"
    assert sorted(documented - typed) == [], "in docs/snapshot.md, not in metrics/snapshot_types.py"


def test_a_field_on_one_side_only_is_found() -> None:
    text = DOC.read_text()
    typed = set(typed_fields())
    fewer = text.replace("`{jobs, pages, failed}`", "`{jobs, pages}`")
    assert typed - documented_fields(fewer) == {"service.print.today.failed"}
    more = text.replace("| `compute_ms` | tick |", "| `compute_ms` / `compute_rows` | tick |")
    assert documented_fields(more) - typed == {"compute_rows"}
    rows = text.replace("`[{deny_reason, count}]`", "`[{deny_reason, count, share}]`")
    assert documented_fields(rows) - typed == {"gate.today.deny_reasons[].share"}


# ---- a computed snapshot -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(engine_path: Path) -> Iterator[dict[str, Any]]:
    """A snapshot of a store with a few hundred events of every stream."""
    store = Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12])
    try:
        migrate(store)
        now = datetime.now(UTC)
        for stream in STREAMS:
            events = random_events(stream, 300, 7, now)
            store.insert(stream.table, validate(stream, events, source="t", now=now).frame)
        core = SnapshotCore(store, ZONE, rules=load_rules(DEFAULT_ALERTS), keep_history=False)
        core.slow_tick(now)
        published = core.tick(now)
        assert published is not None
        yield orjson.loads(published.body)
    finally:
        store.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
        store.close()


def conforms(value: Any, hint: Any, where: str) -> list[str]:
    """Where ``value`` departs from ``hint``: missing or extra keys, or a scalar of another type
    (an integer stands for a float, as JSON has one kind of number)."""
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        hints = get_type_hints(hint, include_extras=True)
        required = {k for k, h in hints.items() if get_origin(h) is not NotRequired}
        problems = [f"{where}.{k}: missing" for k in sorted(required - set(value))]
        problems += [f"{where}.{k}: not in the typed structure" for k in sorted(set(value) - set(hints))]
        for k in set(value) & set(hints):
            h = get_args(hints[k])[0] if get_origin(hints[k]) is NotRequired else hints[k]
            problems += conforms(value[k], h, f"{where}.{k}")
        return problems
    origin = get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [p for i, row in enumerate(value) for p in conforms(row, get_args(hint)[0], f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        return [p for k, v in value.items() for p in conforms(v, get_args(hint)[1], f"{where}.{k}")]
    allowed = get_args(hint) if origin in (typing.Union, types.UnionType) else (hint,)
    kinds = tuple(type(None) if a is None else a for a in allowed)
    if float in kinds:
        kinds += (int,)
    if isinstance(value, bool) and bool not in kinds:
        return [f"{where}: {value!r} is not {hint}"]
    return [] if isinstance(value, kinds) else [f"{where}: {value!r} is not {hint}"]


def test_a_computed_snapshot_has_exactly_the_typed_fields(snapshot: dict[str, Any]) -> None:
    assert all(snapshot[k] for k in ("gate", "network", "service", "enrollment"))
    assert snapshot["gate"]["today"]["by_gate"] and snapshot["enrollment"]["by_major"]
    assert conforms(snapshot, Snapshot, "snapshot") == []
    assert set(snapshot["freshness"]) == {s.name for s in STREAMS if s.kind == "event"}


def test_a_departure_from_the_typed_fields_is_found(snapshot: dict[str, Any]) -> None:
    changed = orjson.loads(orjson.dumps(snapshot))
    changed["gate"]["today"]["by_gate"][0]["share"] = 0.5
    del changed["service"]["handling_minutes"]["cases"]
    changed["network"]["security"]["open"] = "3"
    assert sorted(conforms(changed, Snapshot, "s")) == [
        "s.gate.today.by_gate[0].share: not in the typed structure",
        "s.network.security.open: '3' is not <class 'int'>",
        "s.service.handling_minutes.cases: missing",
    ]
