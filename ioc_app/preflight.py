"""Start-up checks: everything a command needs, each refusal one line saying what is missing,
where (an address or a path, never a password) and what to do.

Without them a missing dependency surfaced wherever it was first touched: deep in a gunicorn
worker's boot as a traceback, after the engine's own complaints, or after a driver's retry
warnings. The same checks run before ``python -m ioc_app run`` starts its server, before the
other commands (``cli.main``) and in the master of the ``Procfile``'s gunicorn
(``ioc_app.gunicorn_conf``) before it forks a worker. A dependency that goes away after the
checks still ends in one line: :func:`as_unavailable` names it from the exception.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ioc_app.settings import Settings

#: seconds a check waits for a server before calling it unreachable
TIMEOUT_S = 3.0


class Unavailable(Exception):
    """Something the product needs is missing, unreachable, refusing us or held by another
    process. The message is the whole story in one line: the thing, where, what to do."""


def redact(url: str) -> str:
    """``url`` with its password (and any query string, which may carry one) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None and not parts.query:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        user = quote(unquote(parts.username or ""), safe="")
        netloc = f"{user}:***@" + netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", parts.fragment))


def _why(exc: OSError) -> str:
    """Why a folder cannot take a file, in words (a file in the folder's place is not rare)."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return "a file stands where a folder is needed"
    return (exc.strerror or str(exc)).lower()


# -- files ------------------------------------------------------------------------------------

def check_files(settings: Settings, only_site: bool = False) -> None:
    """The site catalogue, the alert rules, the wall playlist and the roles file (``only_site``:
    the catalogue alone): each read by its own reader, whose message names the file, the line
    and the fix."""
    from ingest.site import SiteError, load_site
    from ioc_app import roles
    from ioc_app.contacts import ContactsError, load_contacts
    from ioc_app.wall import WallError, load_wall
    from metrics.alerts.rules import AlertRulesError, load_rules

    checks = (("the site catalogue", "IOC_SITE", SiteError, lambda: load_site(settings.site)),
              ("the alert rules", "IOC_ALERTS", AlertRulesError, lambda: load_rules(settings.alerts)),
              ("the wall playlist", "IOC_WALL", WallError, lambda: load_wall(settings.wall)),
              ("the roles file", "IOC_ROLES_FILE", roles.RolesError, lambda: roles.load(settings.roles_path)),
              ("the contact points", "IOC_CONTACTS", ContactsError,
               lambda: load_contacts(settings.contacts, settings.public_url)))
    for what, variable, error, read in checks[:1] if only_site else checks:
        try:
            read()
        except error as exc:
            said = " ".join(str(exc).split()).rstrip(".")
            raise Unavailable(f"{what} cannot be used: {said} — correct the file, or point {variable} "
                              f"at a valid one") from None


def check_var(settings: Settings) -> None:
    """The folder of the product's own files (secret key, tokens, write-ahead log, audit spool)
    must exist or be creatable, and take a new file."""
    var = settings.var_dir
    try:
        var.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=var, prefix=".ioc-write-check-"):
            pass
    except OSError as exc:
        raise Unavailable(
            f"the folder for the product's own files {var} is not writable ({_why(exc)}): "
            f"make it writable by this user, or point IOC_TOKENS_FILE into a writable folder "
            f"(its folder holds the secret key, tokens and buffers)") from None


# -- the web port -----------------------------------------------------------------------------

def check_port(host: str, port: int) -> None:
    """The address the server is to listen on must be free and this machine's own."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise Unavailable(f"the web address {host}:{port} cannot be resolved ({exc.strerror}): set "
                          f"IOC_HOST to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            s.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise Unavailable(
                    f"port {port} on {host} is already in use by another program: stop it, or set "
                    f"IOC_PORT to a free port") from None
            if exc.errno == errno.EACCES:
                raise Unavailable(
                    f"port {port} on {host} needs privileges this user lacks: set IOC_PORT to 1024 "
                    f"or above (and put a reverse proxy on the low port)") from None
            raise Unavailable(
                f"cannot listen on {host}:{port} ({exc.strerror}): set IOC_HOST to an address of "
                f"this machine, e.g. 127.0.0.1 or 0.0.0.0") from None


# -- Redis ------------------------------------------------------------------------------------

def redis_problem(url: str, exc: BaseException) -> str:
    """One line for a Redis failure: what went wrong at which (redacted) address, and the fix."""
    import redis

    where = f"Redis at {redact(url)}"
    text = " ".join(str(exc).split())
    if isinstance(exc, redis.AuthenticationError):
        if urlsplit(url).password is None:
            return (f"{where} asks for a password: put it in IOC_REDIS_URL "
                    f"(redis://:PASSWORD@host:port/db, or redis://USER:PASSWORD@… for an ACL user)")
        return f"{where} refused the user or password: correct them in IOC_REDIS_URL"
    if isinstance(exc, redis.ResponseError) and "DB index" in text:
        return (f"{where} has no database {urlsplit(url).path.strip('/') or 0}: use a database "
                f"number the server has (0 to its 'databases' setting minus one) in IOC_REDIS_URL")
    if isinstance(exc, redis.ResponseError) and "NOPERM" in text:
        return f"{where} does not let this user run {text}: grant it in the server's ACL"
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, OSError)):
        # redis-py says "Error 111 connecting to host:port. Connection refused.": keep the why
        reason = "no answer" if isinstance(exc, redis.TimeoutError) else (
            text.split(". ", 1)[-1].rstrip(".").lower() or "no connection")
        return (f"{where} is unreachable ({reason}): start Redis there or correct IOC_REDIS_URL "
                f"(leave it empty to run without Redis)")
    return f"{where} failed: {text}; check the server and IOC_REDIS_URL"


def check_redis(settings: Settings, durable: bool = True) -> None:
    """Reach Redis with the URL's password and database; ``durable``: its configuration must
    keep what it acknowledged (``ingest.redis_client.check_durability``)."""
    if not settings.redis_url:
        return
    import redis

    from ingest.redis_client import RedisDurabilityError, check_durability, connect

    client = connect(settings.redis_url, settings.redis_tls, socket_timeout=TIMEOUT_S)
    try:
        client.ping()
        if durable:
            check_durability(client, relaxed=settings.redis_durability == "relaxed")
    except RedisDurabilityError as exc:
        raise Unavailable(f"Redis at {redact(settings.redis_url)}: {exc}") from None
    except (redis.RedisError, OSError) as exc:
        raise Unavailable(redis_problem(settings.redis_url, exc)) from None
    finally:
        client.close()


# -- the store --------------------------------------------------------------------------------

def check_store(settings: Settings) -> None:
    """The embedded store free to open (no other process holds it), or the ClickHouse server
    answering and accepting the URL's user and password."""
    if settings.embedded:
        _check_embedded(Path(settings.clickhouse_url[len("chdb://"):]).expanduser().resolve())
    else:
        _check_server(settings.clickhouse_url)


def _check_embedded(path: Path) -> None:
    from ioc_app.storage import busy_message, store_holder

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".ioc-write-check-"):
            pass
    except OSError as exc:
        raise Unavailable(f"the embedded store {path} cannot be written ({_why(exc)}): make it "
                          f"writable by this user, or point IOC_CLICKHOUSE_URL=chdb://… elsewhere") from None
    holder = store_holder(path)
    if holder is not None:
        raise Unavailable(busy_message(path, holder))


def _check_server(url: str) -> None:
    from ioc_app.storage import StoreError, check_server

    try:
        check_server(url, TIMEOUT_S, shown_as=redact(url))
    except StoreError as exc:
        raise Unavailable(str(exc)) from None


# -- what each command needs ------------------------------------------------------------------

#: the checks by name, in the order they run (cheap and local first): "files" the site, alert
#: rules, wall and roles files, "site" the catalogue alone; "var" the product's own folder;
#: "secret" the session-signing key (read, or made there); "port" the web address; "redis"
#: reachable and durable (as the ingest buffer needs it), "redis-reach" reachable; "store" the
#: embedded store free or the ClickHouse server answering
ORDER = ("files", "site", "var", "secret", "port", "redis", "redis-reach", "store")
#: what each command needs; a command not listed is checked by its own first use
#: (:func:`as_unavailable` still makes that one line)
NEEDS: dict[str, tuple[str, ...]] = {
    "run": ("files", "var", "port", "redis", "store"),
    "migrate": ("site", "store"),
    "import": ("site", "var", "redis", "store"),
    "simulate": ("site", "var", "redis", "store"),
    "deadletter": ("var", "redis", "store"),
    "ingest": ("var", "redis", "store"),
    # the scheduler keeps nothing in Redis it cannot recompute: no durability asked of it
    "scheduler": ("files", "var", "redis-reach", "store"),
    "token": ("var",),
    # the access file, the site key and the audit spool sit in the var folder
    "user": ("var",),
    "screen": ("var",),
    "pseudonym": ("var",),
    # a backup while the server runs is taken by the server (a request file in the var folder);
    # a restore checks for itself that no server holds the store
    "backup": ("var",),
    "restore": ("var",),
    "restore-buffer": ("var",),
    "contacts": ("var",),
}


def needs_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The checks ``args``' command needs: ``import --url`` sends to a server (nothing local);
    ``deadletter list`` only reads the store."""
    command = getattr(args, "command", "")
    if command == "import" and getattr(args, "url", None):
        return ()
    if command == "deadletter" and getattr(args, "action", "") == "list":
        return ("store",)
    return NEEDS.get(command, ())


def check(settings: Settings, needs: Iterable[str]) -> None:
    """Run the named checks in :data:`ORDER`; the first that fails raises :class:`Unavailable`."""
    wanted = set(needs)
    for name in ORDER:
        if name not in wanted:
            continue
        if name in ("files", "site"):
            check_files(settings, only_site=name == "site")
        elif name == "var":
            check_var(settings)
        elif name == "secret":
            from ioc_app.secret import secret_key

            secret_key(settings)  # a weak key is a SettingsError, named like every setting
        elif name == "port":
            check_port(settings.host, settings.port)
        elif name in ("redis", "redis-reach"):
            check_redis(settings, durable=name == "redis")
        else:
            check_store(settings)


def as_unavailable(exc: BaseException, settings: Settings | None) -> Unavailable | None:
    """The one-line :class:`Unavailable` for a dependency failing after the checks (Redis gone
    mid-command, the store or the write-ahead log taken by another process), or None for
    anything else — a bug keeps its traceback."""
    import redis

    from ingest.redis_client import BufferUnavailable, RedisDurabilityError
    from ingest.site import SiteError
    from ingest.wal import WalBusy
    from ioc_app.roles import RolesError
    from ioc_app.storage import StoreBusy, StoreError, StoreQueryError
    from ioc_app.wall import WallError
    from metrics.alerts.rules import AlertRulesError

    if isinstance(exc, Unavailable):
        return exc
    url = settings.redis_url if settings is not None else ""
    if isinstance(exc, (redis.RedisError, BufferUnavailable)):
        cause = exc.__cause__ if isinstance(exc, BufferUnavailable) and exc.__cause__ else exc
        return Unavailable(redis_problem(url, cause) if url else " ".join(str(exc).split()))
    if isinstance(exc, RedisDurabilityError):
        return Unavailable(f"Redis at {redact(url)}: {exc}")
    if isinstance(exc, (StoreBusy, WalBusy, WallError, AlertRulesError, SiteError, RolesError)) or (
            isinstance(exc, StoreError) and not isinstance(exc, StoreQueryError)):
        return Unavailable(" ".join(str(exc).split()))
    return None


def startup_check(needs: Iterable[str], binds: Iterable[Any] = (), workers: int = 1) -> Settings:
    """The settings, checked for ``needs``; on a problem, its one line on stderr and the exit
    (2 for a setting, 1 for a dependency) — for gunicorn's master, which would otherwise print
    its own traceback around it. ``binds``: gunicorn's addresses (unix sockets are skipped)."""
    from ioc_app.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        for bind in binds:
            if isinstance(bind, tuple):
                check_port(str(bind[0]), int(bind[1]))
        if workers > 1 and settings.embedded:
            raise Unavailable(
                f"the embedded store ({settings.clickhouse_url}) has one owner, so one worker: start it "
                f"with 'python -m ioc_app run', or set IOC_CLICKHOUSE_URL to a ClickHouse server "
                f"(and IOC_REDIS_URL) for {workers} workers")
        check(settings, needs)
    except SettingsError as exc:
        print(f"ioc: configuration error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    except Unavailable as exc:
        print(f"ioc: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    return settings
