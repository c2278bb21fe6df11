"""Paired wall screens: their names, playlists and revocable cookies, and pairing codes.

A wall display holds no person's session. It is paired once: an unpaired ``/wall`` shows a
code that an operator approves on the screens page (naming the screen and its pages), or
``python -m ioc_app screen add`` prints a code that is redeemed at ``/wall/pair?code=``.
The browser then holds a long-lived cookie that opens the screen's pages and the snapshot,
and nothing else. Only the cookie's SHA-256 is kept. Checks are cached for a few seconds:
200 screens polling every second cost a handful of file reads, never a store query, and a
revoked screen is refused within ``CACHE_S`` (it shows the revoked page within a minute).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass

from ioc_app.accessdb import AccessDB
from ioc_app.permissions import PAGES
from ioc_app.roles import check_name

#: the pages a paired screen may be given: the cockpit pages and /health (the wall page is
#: the rotation of these, never one of them)
SCREEN_PAGES = {p for p, perm in PAGES.items()
                if perm in ("page", "health") and p != "/wall" and "<" not in p}
#: a board's page (``/boards/<slug>``): a screen may be given any board's address
BOARD_PAGE = re.compile(r"^/boards/[a-z0-9][a-z0-9-]{0,47}$")


CODE_S = 10 * 60
CACHE_S = 5.0
#: unambiguous characters for a code read off a wall across a room
ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"
CODE_LEN = 6
COOKIE_DAYS = 400
MAX_WAITING = 200


class ScreenError(ValueError):
    """A screen command or approval was given something it cannot use."""


@dataclass(frozen=True)
class Screen:
    name: str
    pages: tuple[str, ...]
    revoked: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:16]


def check_pages(pages: list[str], known: set[str]) -> tuple[str, ...]:
    out = []
    for p in (x.strip() for x in pages):
        if not p:
            continue
        path = "/" + p.strip("/") if p != "/" else "/"
        if path not in known and not BOARD_PAGE.match(path):
            raise ScreenError(f"page {p!r} is not a cockpit page; use some of: {', '.join(sorted(known))} "
                              "or a board's /boards/<slug>")
        out.append(path)
    if not out:
        raise ScreenError(f"a screen needs at least one page; use some of: {', '.join(sorted(known))}")
    return tuple(dict.fromkeys(out))


class ScreenBook:
    def __init__(self, db: AccessDB) -> None:
        self.db = db
        self._cache: dict[str, tuple[float, Screen | None]] = {}
        self._lock = threading.Lock()

    # --- cookies -----------------------------------------------------------------------
    def lookup(self, token: str, now: float | None = None) -> Screen | None:
        """The screen holding ``token`` (revoked ones too: they are shown the revoked page)."""
        now = now if now is not None else time.monotonic()
        key = _digest(token)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < CACHE_S:
                return hit[1]
        row = self.db.connect().execute("SELECT name, pages, revoked FROM screens WHERE token_hash=?",
                                        (key,)).fetchone()
        screen = Screen(row[0], tuple(row[1].split(",")), bool(row[2])) if row else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now, screen)
        return screen

    def _issue(self, name: str, pages: tuple[str, ...]) -> str:
        """(Re)pair ``name``: a new cookie; a previous cookie of the same name stops working."""
        token = secrets.token_urlsafe(32)
        self.db.connect().execute(
            "INSERT INTO screens(name, token_hash, pages, created, revoked) VALUES (?,?,?,?,0) "
            "ON CONFLICT(name) DO UPDATE SET token_hash=excluded.token_hash, pages=excluded.pages, "
            "created=excluded.created, revoked=0",
            (name, _digest(token), ",".join(pages), time.time()))
        return token

    def revoke(self, name: str) -> None:
        cur = self.db.connect().execute("UPDATE screens SET revoked=? WHERE name=? AND revoked=0",
                                        (time.time(), name))
        if cur.rowcount == 0:
            names = ", ".join(s.name for s in self.all() if not s.revoked) or "none"
            raise ScreenError(f"no paired screen {name!r}; paired screens: {names}")

    def all(self) -> list[Screen]:
        return [Screen(r[0], tuple(r[1].split(",")), bool(r[2])) for r in
                self.db.connect().execute("SELECT name, pages, revoked FROM screens ORDER BY name")]

    # --- pairing codes -------------------------------------------------------------------
    def _new_code(self) -> str:
        return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))

    def offer(self, name: str, pages: tuple[str, ...], now: float | None = None) -> str:
        """A code for ``screen add``: approved already, redeemed by the wall that opens it."""
        now = now if now is not None else time.time()
        check_name(name)
        code = self._new_code()
        self.db.connect().execute(
            "INSERT INTO pairing(code, name, pages, created, expires, state) VALUES (?,?,?,?,?, 'approved')",
            (code, name, ",".join(pages), now, now + CODE_S))
        return code

    def request(self, now: float | None = None) -> tuple[str, str]:
        """An unpaired wall asks for a code; it alone (by its browser secret) may redeem it."""
        now = now if now is not None else time.time()
        c = self.db.connect()
        c.execute("DELETE FROM pairing WHERE expires<?", (now - 3600,))
        waiting = c.execute("SELECT count(*) FROM pairing WHERE state='waiting' AND expires>?",
                            (now,)).fetchone()[0]
        if waiting >= MAX_WAITING:  # a flood of anonymous walls cannot fill the file
            raise ScreenError(f"{waiting} walls are waiting to be paired; approve or let them expire "
                              f"({CODE_S // 60} minutes), then reload")
        code, browser = self._new_code(), secrets.token_urlsafe(24)
        c.execute("INSERT INTO pairing(code, browser_hash, created, expires, state) "
                  "VALUES (?,?,?,?, 'waiting')", (code, _digest(browser), now, now + CODE_S))
        return code, browser

    def approve(self, code: str, name: str, pages: tuple[str, ...], now: float | None = None) -> None:
        now = now if now is not None else time.time()
        check_name(name)
        cur = self.db.connect().execute(
            "UPDATE pairing SET state='approved', name=?, pages=? "
            "WHERE code=? AND state='waiting' AND expires>?",
            (name, ",".join(pages), normalise_code(code), now))
        if cur.rowcount == 0:
            raise ScreenError(f"no wall is waiting with code {code!r}: check the code on the wall, or "
                              f"reload the wall for a new one (codes last {CODE_S // 60} minutes)")

    def status(self, code: str, browser: str, now: float | None = None) -> str:
        """waiting | approved | expired | unknown — for the wall showing the code."""
        now = now if now is not None else time.time()
        row = self.db.connect().execute("SELECT browser_hash, expires, state FROM pairing WHERE code=?",
                                        (normalise_code(code),)).fetchone()
        if row is None or (row[0] and not secrets.compare_digest(row[0], _digest(browser or ""))):
            return "unknown"
        if row[1] <= now:
            return "expired"
        return str(row[2])

    def redeem(self, code: str, browser: str = "", now: float | None = None) -> tuple[str, str] | None:
        """An approved code → (screen name, cookie), once. A code a wall asked for is redeemed
        only by that wall's browser."""
        now = now if now is not None else time.time()
        c = self.db.connect()
        row = c.execute("SELECT browser_hash, name, pages FROM pairing WHERE code=? AND state='approved' "
                        "AND expires>?", (normalise_code(code), now)).fetchone()
        if row is None or (row[0] and not secrets.compare_digest(row[0], _digest(browser or ""))):
            return None
        if c.execute("UPDATE pairing SET state='redeemed' WHERE code=? AND state='approved'",
                     (normalise_code(code),)).rowcount != 1:
            return None
        return row[1], self._issue(row[1], tuple(row[2].split(",")))
