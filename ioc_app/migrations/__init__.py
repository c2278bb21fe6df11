"""Versioned schema migrations, applied in order and recorded in ``ioc_migrations``.

Each migration is a module with ``VERSION``, ``NAME`` and ``statements(dialect)``. Every
statement is idempotent (``IF NOT EXISTS``), so a migration interrupted halfway is simply
run again. Add a new module (and list it here) to change the schema; never edit one that
has shipped.
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
