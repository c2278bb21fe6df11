"""The lock files are what gets installed: they must hold every pin the requirements files ask
for (a pin changed without ``./dev lock`` would otherwise never be installed), a hash for every
package, and agree with each other; ``./dev`` must install them hash-checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """name → version of the ``name==version`` lines (extras and includes left out)."""
    out = {}
    for line in path.read_text().splitlines():
        match = ENTRY.match(re.sub(r"\[[^\]]*\]", "", line.strip()))
        if match:
            out[_norm(match[1])] = match[2]
    return out


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) of a pip-compile lock file."""
    out: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        match = ENTRY.match(line)
        if match:
            name = _norm(match[1])
            out[name] = (match[2], 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            out[name] = (out[name][0], out[name][1] + 1)
    return out


@pytest.mark.parametrize(("wanted", "lock"), [("requirements.txt", "requirements.lock"),
                                              ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_pin_is_locked_with_hashes(wanted: str, lock: str) -> None:
    entries = locked(ROOT / lock)
    for name, version in pins(ROOT / wanted).items():
        assert name in entries, f"{name} is in {wanted} but not in {lock}: run ./dev lock"
        assert entries[name][0] == version, \
            f"{name}=={version} in {wanted}, {entries[name][0]} in {lock}: run ./dev lock"
    assert all(count > 0 for _, count in entries.values()), [n for n, (_, c) in entries.items() if not c]


def test_the_dev_lock_runs_the_same_product() -> None:
    runtime, dev = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")
    assert {n: v for n, (v, _) in runtime.items()} == {n: dev[n][0] for n in runtime if n in dev}
    assert set(runtime) <= set(dev)
    assert "flask-caching" not in runtime  # it pickles what it reads back


def test_dev_installs_only_the_locks_hash_checked() -> None:
    script = (ROOT / "dev").read_text()
    installs = [line for line in script.splitlines()
                if "pip install" in line and not line.lstrip().startswith("#")]
    assert installs and all("--require-hashes" in line for line in installs), installs
    assert "ensure_requirements requirements.txt" not in script
    assert "ensure_requirements requirements-dev.txt" not in script
