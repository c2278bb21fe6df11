"""Apply the schema migrations that have not run yet, and record each one."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from ioc_app.migrations import MIGRATIONS
from ioc_app.schema import Dialect
from ioc_app.storage import Store, StoreQueryError

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger("ioc.migrate")
TABLE = "ioc_migrations"


class MigrationError(RuntimeError):
    """A migration statement failed; the message carries the statement and the server's words."""


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    statements: int


def dialect_for(store: Store) -> Dialect:
    return Dialect(store.database, store.cluster)


def plan(store: Store, migrations: tuple[ModuleType, ...] = MIGRATIONS) -> list[tuple[int, str, list[str]]]:
    """Every migration as (version, name, statements), in order."""
    d = dialect_for(store)
    return [(m.VERSION, m.NAME, m.statements(d)) for m in migrations]


def checksum(statements: list[str]) -> str:
    return hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()[:16]


def ledger_statement(d: Dialect) -> str:
    """The CREATE statement of the table recording applied migrations (one copy on every
    node of a cluster: see ``Dialect.ledger``)."""
    return d.ledger(
        TABLE,
        "`version` UInt32, `name` String, `checksum` String, "
        "`applied_at` DateTime64(3, 'UTC') DEFAULT now64(3)",
        "version",
    )


def _ensure_table(store: Store) -> None:
    store.command(ledger_statement(dialect_for(store)))


def applied_versions(store: Store) -> dict[int, str]:
    _ensure_table(store)
    return {v: c for v, c in store.rows(f"SELECT version, checksum FROM {store.database}.{TABLE}")}


def migrate(store: Store, migrations: tuple[ModuleType, ...] = MIGRATIONS) -> list[Applied]:
    """Run what has not run; running it again is a no-op.

    A failing statement stops the run with the statement and the server's message; the
    migrations before it stay recorded, and the failed one is retried as a whole next time
    (its statements are idempotent).
    """
    done = applied_versions(store)
    ran: list[Applied] = []
    for version, name, statements in plan(store, migrations):
        digest = checksum(statements)
        if version in done:
            if done[version] != digest:
                log.warning(
                    "event=migrate.changed version=%d name=%s recorded=%s now=%s",
                    version, name, done[version], digest,
                )
            continue
        for sql in statements:
            try:
                store.command(sql)
            except StoreQueryError as exc:
                raise MigrationError(
                    f"migration {version:04d}_{name} failed.\nStatement:\n{exc.statement}\n"
                    f"Server said: {exc.server_message}"
                ) from exc
        store.insert(
            f"{store.database}.{TABLE}",
            _record(version, name, digest),
        )
        log.info("event=migrate.applied version=%d name=%s statements=%d", version, name,
                 len(statements))
        ran.append(Applied(version, name, len(statements)))
    return ran


def _record(version: int, name: str, digest: str) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame({"version": [version], "name": [name], "checksum": [digest]},
                        schema={"version": pl.UInt32, "name": pl.String, "checksum": pl.String})
