"""Roles, what each may do, and the roles file: who holds which role.

The roles and their permissions are the contract of the spec (``docs/access.md``); the
file (``IOC_ROLES_FILE``, TOML) says which people hold which roles, and how attributes
from the campus identity provider (a CAS attribute or an OpenID Connect claim, such as a
group) map to roles. ``secadmin`` edits it on the people page, the ``user`` commands from
the command line; a running server re-reads it when it changes, so a change takes effect
at once. A mistake in the file stops the start naming the line, because a role silently
ignored is access silently given or taken.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

log = logging.getLogger("ioc.roles")

#: role → permissions (the spec's Access table)
VIEWER = frozenset({"page", "explore", "health", "snapshot", "heartbeat", "dash"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": VIEWER,
    "admissions": VIEWER | {"export", "exact_cells", "admissions_tools", "quality"},
    "analyst": VIEWER | {"query", "download", "quality"},
    "operator": VIEWER | {"deadletter", "alerts_ack", "screens", "tokens"},
    "secadmin": frozenset({"people", "admin"}),
    "auditor": frozenset({"audit", "admin"}),
}
ROLES = tuple(PERMISSIONS)
#: separation of duties (三权分立): one person never holds two of these
EXCLUSIVE = frozenset({"secadmin", "auditor", "operator"})
#: roles that must sign in locally with a second factor
NEEDS_TOTP = frozenset({"operator", "secadmin", "auditor"})
#: what a paired screen may do (and only on the pages of its playlist)
SCREEN_PERMISSIONS = frozenset({"page", "snapshot", "heartbeat", "dash"})
RECHECK_S = 1.0
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@")


class RolesError(ValueError):
    """The roles file or a role command is wrong; the message names the line or value."""


def permissions(roles: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for role in roles:
        out |= PERMISSIONS.get(role, frozenset())
    return frozenset(out)


def check_roles(roles: Iterable[str], where: str = "") -> tuple[str, ...]:
    """Known roles in the spec's order; an unknown role or a forbidden combination is refused."""
    wanted = [r.strip() for r in roles if r.strip()]
    for role in wanted:
        if role not in PERMISSIONS:
            raise RolesError(f"{where}unknown role {role!r}; the roles are: {', '.join(ROLES)}")
    held = EXCLUSIVE.intersection(wanted)
    if len(held) > 1:
        raise RolesError(f"{where}roles {', '.join(sorted(held))} cannot be held together "
                         f"(separation of duties): give them to different people")
    return tuple(r for r in ROLES if r in wanted)


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise RolesError(f"name {name!r}: use 1–64 letters, digits, '-', '_', '.' or '@'")
    return name


@dataclass(frozen=True)
class Mapping_:
    """Attribute (or claim) ``attribute`` equal to, or a list containing, ``value`` → roles."""

    attribute: str
    value: str
    roles: tuple[str, ...]

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        got = attributes.get(self.attribute)
        values = got if isinstance(got, list | tuple) else [got]
        return self.value in {str(v) for v in values if v is not None}


@dataclass(frozen=True)
class RoleBook:
    people: dict[str, tuple[str, ...]]
    mappings: tuple[Mapping_, ...]

    def roles_of(self, name: str, attributes: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """A person's roles: given by name, and mapped from their identity attributes. A
        mapping that would combine separated roles gives none of them."""
        held = set(self.people.get(name, ()))
        for m in self.mappings:
            if attributes and m.matches(attributes):
                held.update(m.roles)
        if len(EXCLUSIVE & held) > 1:
            held -= EXCLUSIVE
        return tuple(r for r in ROLES if r in held)


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 0


def parse(text: str, path: str = "roles file") -> RoleBook:
    """The roles file's content; any mistake names its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RolesError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"people", "mapping"})
    if unknown:
        raise RolesError(f"{path}, line {_line_of(text, unknown[0])}: unknown section {unknown[0]!r}; "
                         f"use [people] and [[mapping]]")
    people: dict[str, tuple[str, ...]] = {}
    for name, roles in dict(data.get("people", {})).items():
        where = f"{path}, line {_line_of(text, name)}: "
        if not isinstance(roles, list):
            raise RolesError(f"{where}{name} = … must be a list of roles, e.g. [\"viewer\"]")
        try:
            people[check_name(name)] = check_roles([str(r) for r in roles], where)
        except RolesError as exc:
            raise RolesError(str(exc) if str(exc).startswith(path) else where + str(exc)) from None
    mappings = []
    for i, m in enumerate(data.get("mapping", [])):
        line = [n for n, ln in enumerate(text.splitlines(), 1) if ln.strip() == "[[mapping]]"]
        where = f"{path}, line {line[i] if i < len(line) else 0}: "
        if not isinstance(m, dict) or set(m) != {"attribute", "value", "roles"}:
            raise RolesError(f"{where}a [[mapping]] has exactly attribute, value and roles")
        roles = m["roles"] if isinstance(m["roles"], list) else []
        for role in roles:
            if str(role) not in PERMISSIONS:
                raise RolesError(f"{path}, line {_line_of(text, str(role))}: unknown role {role!r}; "
                                 f"the roles are: {', '.join(ROLES)}")
        mappings.append(Mapping_(str(m["attribute"]), str(m["value"]), check_roles(roles, where)))
    return RoleBook(people, tuple(mappings))


def load(path: str | Path) -> RoleBook:
    p = Path(path)
    if not p.is_file():
        return RoleBook({}, ())
    return parse(p.read_text(encoding="utf-8"), str(p))


def save(path: str | Path, book: RoleBook) -> None:
    """Replace the file atomically (owner-readable only), keeping it hand-editable."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"people": {k: list(v) for k, v in sorted(book.people.items())}}
    if book.mappings:
        data["mapping"] = [{"attribute": m.attribute, "value": m.value, "roles": list(m.roles)}
                           for m in book.mappings]
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".roles-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"# IOC roles: people's roles and mappings from identity attributes to roles.\n"
                 b"# Roles: viewer, admissions, analyst, operator, secadmin, auditor.\n")
        tomli_w.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)


def set_roles(path: str | Path, name: str, roles: Iterable[str]) -> tuple[str, ...]:
    book = load(path)
    held = check_roles(roles)
    people = dict(book.people)
    if held:
        people[check_name(name)] = held
    else:
        people.pop(name, None)
    save(path, RoleBook(people, book.mappings))
    return held


def set_mappings(path: str | Path, mappings: Iterable[Mapping_]) -> None:
    book = load(path)
    save(path, RoleBook(book.people, tuple(mappings)))


class Roles:
    """The roles file as the running server sees it: re-read within a second of a change."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._book = load(self.path)  # a broken file stops the start, naming the line
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
            return (st.st_mtime_ns, st.st_ino)
        except FileNotFoundError:
            return None

    def refresh(self) -> None:
        """Read the file again at the next look (after this process changed it)."""
        with self._lock:
            self._checked = 0.0

    def book(self) -> RoleBook:
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= RECHECK_S:
                self._checked = now
                stamp = self._stat()
                if stamp != self._stamp:
                    try:
                        self._book = load(self.path)
                    except RolesError as exc:  # a broken hand edit keeps the last good roles
                        log.error("event=roles.unreadable error=%r", str(exc)[:300])
                    self._stamp = stamp
            return self._book
