"""Versioned schema migrations, applied in order and recorded in ``ioc_migrations``.

Each migration is a module with ``VERSION``, ``NAME`` and ``statements(dialect)``. Every
statement is idempotent (``IF NOT EXISTS``), so a migration interrupted halfway is simply
run again. Add a new module (and list it here) to change the schema; never edit one that
has shipped.

A migration is frozen: it writes out the columns of the tables it creates
(``ioc_app.schema.Source``) and never reads the contracts in ``ingest/``, so the DDL it runs
— and the checksum recorded for it — stays the same whatever the contracts become. A
contract change (a field, an enumeration value, a retention, a stream) therefore needs a new
migration; ``tests/ioc_app/test_migration_drift.py`` names it, and the README ("Changing the
schema") says how to write it.
"""

from __future__ import annotations

from types import ModuleType

from ioc_app.migrations import (
    m0001_core,
    m0002_gate,
    m0003_network,
    m0004_enrollment,
    m0005_service,
    m0006_reference,
    m0008_state,
    m0009_core_state,
    m0010_incidents,
    m0011_audit,
    m0012_deadletter_retention,
)

MIGRATIONS: tuple[ModuleType, ...] = (m0001_core, m0002_gate, m0003_network, m0004_enrollment,
                                      m0005_service, m0006_reference,
                                      m0008_state, m0009_core_state, m0010_incidents,
                                      m0011_audit, m0012_deadletter_retention)
