"""The layer rules of the architecture, checked on the import statements of each package,
and the consistency between the stream registry, the schema and the docs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ingest.registry import STREAMS
from ioc_app.migrations import MIGRATIONS
from ioc_app.schema import Dialect

ROOT = Path(__file__).resolve().parent.parent

BANNED = {
    "metrics": ("dash", "flask", "redis", "plotly", "clickhouse_connect", "ingest", "pages", "layouts"),
    "layouts": ("clickhouse_connect", "ioc_app", "ingest", "metrics", "redis"),
    "pages": ("ingest", "metrics", "clickhouse_connect", "ioc_app.storage", "redis"),
    "ingest": ("metrics", "pages", "layouts", "dash", "clickhouse_connect"),
}
#: a leaf is a module or a package (whose modules may import each other, nothing else)
LEAVES = ("ioc_app/settings", "ioc_app/storage.py")


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("package", sorted(BANNED))
def test_package_imports_follow_the_layer_rules(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        for name in imports(path):
            for banned in BANNED[package]:
                assert not (name == banned or name.startswith(banned + ".")), f"{path}: {name}"


def test_ingest_uses_only_settings_and_storage_of_ioc_app() -> None:
    for path in (ROOT / "ingest").rglob("*.py"):
        for name in imports(path):
            if name.startswith("ioc_app"):
                assert name.split(".")[1] in ("settings", "storage"), f"{path}: {name}"


def test_settings_and_storage_are_leaves() -> None:
    project = ("ioc_app", "ingest", "metrics", "pages", "layouts")
    for leaf in LEAVES:
        own = leaf.removesuffix(".py").replace("/", ".")
        paths = sorted((ROOT / leaf).rglob("*.py")) if (ROOT / leaf).is_dir() else [ROOT / leaf]
        assert paths, leaf
        for path in paths:
            names = [n for n in imports(path) if n != own and not n.startswith(own + ".")]
            assert not [n for n in names if n.split(".")[0] in project], path


def test_only_storage_imports_clickhouse_connect() -> None:
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts or path.relative_to(ROOT).as_posix() == "ioc_app/storage.py":
            continue
        assert not any(n.startswith("clickhouse_connect") for n in imports(path)), path


def test_every_stream_has_a_table_a_rollup_and_a_doc_entry() -> None:
    ddl = "\n".join(s for m in MIGRATIONS for s in m.statements(Dialect("ioc")))
    docs = (ROOT / "docs" / "events.md").read_text()
    for s in STREAMS:
        assert f"ioc.{s.table}\n" in ddl, s.name
        if s.counting:
            assert f"ioc.{s.table}_1m_mv" in ddl and f"ioc.{s.table}_1h_mv" in ddl, s.name
        assert f"`{s.name}`" in docs, s.name
        for f in s.fields:
            assert f"`{f.name}`" in docs.split(f"`{s.name}`", 1)[1], (s.name, f.name)


def test_nothing_refers_to_another_host() -> None:
    needles = ("cdn.", "jsdelivr", "unpkg.com", "cdnjs", "fonts.googleapis", "dbc.themes.")
    for folder in ("ioc_app", "pages", "layouts", "assets", "metrics", "ingest"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".js", ".css", ".html"):
                text = path.read_text()
                assert not any(n in text for n in needles), path


def test_import_mapping_is_documented() -> None:
    from ingest.headers import HEADER_ALIASES, VALUE_ALIASES

    doc = (ROOT / "docs" / "import.md").read_text()
    for header, field in HEADER_ALIASES.items():
        assert f"| {header} | `{field}` |" in doc, header
    for field, table in VALUE_ALIASES.items():
        for value, code in table.items():
            assert f"| `{field}` | {value} | `{code}` |" in doc, value


#: the access file (SQLite, beside the server: accounts, sessions, screens, pairing codes) is
#: not the store; its own SQL lives in these modules, which reach it only through ``accessdb``
ACCESS_FILE = ("ioc_app/accessdb.py", "ioc_app/accounts.py", "ioc_app/sessions.py", "ioc_app/pairing.py")


def test_sql_lives_in_metrics_storage_and_migrations() -> None:
    import re

    sql = re.compile(r"\b(SELECT|INSERT INTO|DELETE FROM|ALTER TABLE|CREATE TABLE)\b")
    allowed = ("metrics/", "ioc_app/storage.py", "ioc_app/schema.py", "ioc_app/migrate.py",
               "ioc_app/migrations/", *ACCESS_FILE)
    for folder in ("ioc_app", "ingest", "pages", "layouts", "metrics"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(allowed):
                assert not sql.search(path.read_text()), rel


def test_the_access_files_sql_is_sqlite_never_the_store() -> None:
    for rel in ACCESS_FILE:
        names = imports(ROOT / rel)
        assert not [n for n in names if n.startswith(("ioc_app.storage", "clickhouse_connect", "chdb"))], rel
        if rel == "ioc_app/accessdb.py":
            assert "sqlite3" in names
        else:
            assert "ioc_app.accessdb" in names and "sqlite3" not in names, rel
    # and only the access file's modules open it
    for folder in ("ioc_app", "ingest", "pages", "layouts", "metrics"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel != "ioc_app/accessdb.py":
                assert "sqlite3" not in imports(path), rel
