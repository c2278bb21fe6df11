"""Local accounts: break-glass and small sites, beside the campus identity provider.

Passwords are hashed with Argon2id (argon2-cffi). Five failures lock an account for 15
minutes. The answer to an unknown name and to a wrong password is the same, and takes
the same time (an unknown name is checked against a dummy hash). ``operator``,
``secadmin`` and ``auditor`` need a TOTP code (pyotp) as well; a code is accepted once.
Everything lives in the access file, so the ``user`` commands change it while the server
runs and the next sign-in sees the change.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import TypedDict

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ioc_app.accessdb import AccessDB

MAX_FAILURES = 5
LOCK_S = 15 * 60
LINK_S = 15 * 60
MIN_PASSWORD = 10
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password of anyone " + secrets.token_hex(8))


class AccountRow(TypedDict):
    """A local account as the people page and the access command list it (no secrets)."""

    name: str
    disabled: bool
    totp: bool
    locked: bool
    failures: int


class AccountError(ValueError):
    """A user command was given something it cannot use; the message says what to change."""


@dataclass(frozen=True)
class Outcome:
    """What a sign-in attempt came to. ``reason`` is for the audit trail, never the person:
    every failure shows the same message."""

    ok: bool
    name: str
    reason: str = ""
    needs_totp: bool = False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password has {len(password)} characters; use at least {MIN_PASSWORD}")
    if len(password) > 1024:
        raise AccountError("the password is longer than 1024 characters; use a shorter one")
    return password


class Accounts:
    def __init__(self, db: AccessDB) -> None:
        self.db = db

    def add(self, name: str, password: str, *, no_totp: bool = False) -> None:
        with self.db.connect() as c:
            if c.execute("SELECT 1 FROM accounts WHERE name=?", (name,)).fetchone():
                raise AccountError(f"user {name!r} exists; change it with 'user passwd' or 'user roles'")
            c.execute("INSERT INTO accounts(name, hash, created, no_totp) VALUES (?,?,?,?)",
                      (name, _hasher.hash(check_password(password)), time.time(), int(no_totp)))

    def exists(self, name: str) -> bool:
        row = self.db.connect().execute("SELECT 1 FROM accounts WHERE name=?", (name,)).fetchone()
        return row is not None

    def _require(self, name: str) -> None:
        if not self.exists(name):
            names = ", ".join(self.names()) or "none"
            raise AccountError(f"no local user {name!r}; local users: {names}")

    def passwd(self, name: str, password: str) -> None:
        self._require(name)
        self.db.connect().execute("UPDATE accounts SET hash=?, failures=0, locked_until=0 WHERE name=?",
                                  (_hasher.hash(check_password(password)), name))

    def unlock(self, name: str) -> None:
        self._require(name)
        self.db.connect().execute("UPDATE accounts SET failures=0, locked_until=0 WHERE name=?", (name,))

    def disable(self, name: str) -> None:
        self._require(name)
        self.db.connect().execute("UPDATE accounts SET disabled=1 WHERE name=?", (name,))

    def enable(self, name: str) -> None:
        self._require(name)
        self.db.connect().execute("UPDATE accounts SET disabled=0 WHERE name=?", (name,))

    def new_totp(self, name: str) -> str:
        """A new TOTP secret (the old one stops working); returned once, for the person's app."""
        self._require(name)
        secret = pyotp.random_base32()
        self.db.connect().execute("UPDATE accounts SET totp_secret=?, totp_step=0 WHERE name=?",
                                  (secret, name))
        return secret

    def names(self) -> list[str]:
        return [r[0] for r in self.db.connect().execute("SELECT name FROM accounts ORDER BY name")]

    def rows(self) -> list[AccountRow]:
        now = time.time()
        return [{"name": r["name"], "disabled": bool(r["disabled"]), "totp": bool(r["totp_secret"]),
                 "locked": r["locked_until"] > now, "failures": r["failures"]}
                for r in self.db.connect().execute("SELECT * FROM accounts ORDER BY name")]

    def verify(self, name: str, password: str, otp: str, needs_totp: bool,
               now: float | None = None) -> Outcome:
        """One sign-in attempt. The caller shows the same message for every failure."""
        now = now if now is not None else time.time()
        c = self.db.connect()
        row = c.execute("SELECT * FROM accounts WHERE name=?", (name,)).fetchone()
        if row is None:
            try:
                _hasher.verify(_DUMMY, password)  # the same work as for a real account
            except (VerificationError, InvalidHashError):
                pass
            return Outcome(False, name, "unknown_user")
        if row["locked_until"] > now:
            return Outcome(False, name, "locked")
        try:
            _hasher.verify(row["hash"], password)
            good = True
        except (VerificationError, InvalidHashError):
            good = False
        if good and row["disabled"]:
            return Outcome(False, name, "disabled")
        totp_needed = needs_totp and not row["no_totp"]
        reason = "bad_password"
        if good and totp_needed:
            if not row["totp_secret"]:
                return Outcome(False, name, "totp_not_set")
            step = self._totp_step(row["totp_secret"], otp, now)
            if step is None:
                good = False
                reason = "bad_totp"
            elif step <= row["totp_step"]:
                good = False
                reason = "replayed_totp"
            else:
                c.execute("UPDATE accounts SET totp_step=? WHERE name=? AND totp_step<?", (step, name, step))
        if not good:
            failures = row["failures"] + 1
            locked = now + LOCK_S if failures >= MAX_FAILURES else 0
            c.execute("UPDATE accounts SET failures=?, locked_until=? WHERE name=?",
                      (0 if locked else failures, locked, name))
            if locked:
                return Outcome(False, name, "locked_now")
            return Outcome(False, name, reason, totp_needed)
        c.execute("UPDATE accounts SET failures=0 WHERE name=?", (name,))
        if _hasher.check_needs_rehash(row["hash"]):
            c.execute("UPDATE accounts SET hash=? WHERE name=?", (_hasher.hash(password), name))
        return Outcome(True, name)

    @staticmethod
    def _totp_step(secret: str, otp: str, now: float) -> int | None:
        """The time step ``otp`` belongs to (this one or the one before, for clock drift)."""
        code = "".join(ch for ch in otp if ch.isdigit())
        if len(code) != 6:
            return None
        totp = pyotp.TOTP(secret)
        step = int(now // totp.interval)
        for s in (step, step - 1):
            if secrets.compare_digest(totp.at(s * totp.interval), code):
                return s
        return None

    # one-time sign-in links (demo mode): single use, expire after 15 minutes
    def new_link(self, name: str, now: float | None = None) -> str:
        token = secrets.token_urlsafe(32)
        self.db.connect().execute("INSERT INTO links(hash, name, expires) VALUES (?,?,?)",
                                  (_digest(token), name, (now or time.time()) + LINK_S))
        return token

    def redeem_link(self, token: str, now: float | None = None) -> str | None:
        """The person a link signs in, once; None when unknown, used or expired."""
        now = now if now is not None else time.time()
        c = self.db.connect()
        cur = c.execute("UPDATE links SET used=? WHERE hash=? AND used=0 AND expires>? RETURNING name",
                        (now, _digest(token), now))
        row = cur.fetchone()
        return row[0] if row else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
