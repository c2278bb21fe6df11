"""Versioned schema migrations, applied in order and recorded in ``ioc_migrations``.

Each migration is a module ``mNNNN_<name>.py`` of this package with ``VERSION`` (= ``NNNN``),
``NAME`` and ``statements(dialect)``; the modules are found here, so adding one (a new
domain's tables, a contract change) edits nothing else. Every statement is idempotent
(``IF NOT EXISTS``), so a migration interrupted halfway is simply run again. Never edit one
that has shipped.

A migration is frozen: it writes out the columns of the tables it creates
(``ioc_app.schema.Source``) and never reads the contracts or the domains' declarations, so the
DDL it runs — and the checksum recorded for it — stays the same whatever they become. A
contract change (a field, an enumeration value, a retention, a stream) therefore needs a new
migration; ``tests/ioc_app/test_migration_drift.py`` names it, and the README ("Changing the
schema") says how to write it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

_NAME = re.compile(r"m(\d{4})_[a-z0-9_]+")


def _found() -> tuple[ModuleType, ...]:
    """Every ``mNNNN_*`` module of this package, by version; a module whose ``VERSION`` is not
    its number, or two with one number, is refused (the order would be a guess)."""
    modules: dict[int, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.fullmatch(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if module.VERSION != int(match.group(1)) or module.VERSION in modules:
            raise ValueError(f"ioc_app/migrations/{info.name}.py has VERSION = {module.VERSION}: "
                             f"name the module m{module.VERSION:04d}_… after a version no other has")
        modules[module.VERSION] = module
    return tuple(modules[v] for v in sorted(modules))


MIGRATIONS: tuple[ModuleType, ...] = _found()
