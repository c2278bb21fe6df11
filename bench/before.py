"""The snapshot's sections as an earlier revision computed them, for a before/after in one run.

``load(ref)`` copies the ``metrics`` package of a git revision (``git archive``) into a
temporary directory under another package name, rewrites its imports to that name, and
returns the snapshot core's domains built from its ``live``/``slow`` functions. They read the
same store as the current ones (a later migration only adds tables), so a bench can time both
on the same data, alternately, under the same load.
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from functools import partial
from pathlib import Path
from types import ModuleType

from ioc_app.core import Domain
from metrics.small_cells import MIN_CELL

ROOT = Path(__file__).resolve().parent.parent


def revision(ref: str) -> str:
    """The commit ``ref`` names (short)."""
    return subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def load(ref: str, names: tuple[str, ...], min_cell: int = MIN_CELL) -> tuple[Domain, ...]:
    """The domains ``names`` (in that order) as ``metrics/`` of ``ref`` computes them."""
    package = _copy(ref)
    out = []
    for name in names:
        m = importlib.import_module(f"{package}.{name}").DOMAIN
        live = partial(m.live, min_cell=min_cell) if "min_cell" in m.figure_options else m.live
        out.append(Domain(m.name, live, m.slow))
    return tuple(out)


def load_query(ref: str) -> ModuleType:
    """The analyst query package (``metrics.query``) as ``ref`` has it, with its own copy of
    the domains' whitelists (its registry finds the domain modules of that revision)."""
    return importlib.import_module(f"{_copy(ref)}.query")


def _copy(ref: str) -> str:
    """``metrics/`` of ``ref`` importable under another package name (returned)."""
    commit = revision(ref)
    package = f"metrics_{commit}"
    where = Path(tempfile.mkdtemp(prefix="ioc-bench-before-"))
    archive = subprocess.run(["git", "archive", commit, "metrics"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    (where / "metrics").rename(where / package)
    for path in (where / package).rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"^(\s*)(from|import) metrics\b", rf"\1\2 {package}", text, flags=re.M)
        path.write_text(text.replace('Registry("metrics"', f'Registry("{package}"'))
    sys.path.insert(0, str(where))
    return package
