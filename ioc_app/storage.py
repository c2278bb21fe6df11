"""The ClickHouse client factory: the only module that imports ``clickhouse_connect``.

``chdb://<path>`` opens the real ClickHouse engine in-process (persistent on disk);
``http(s)://user:pass@host:port/db`` talks to a server. Either way the rest of the product
sees one small surface: Arrow/Polars in, Polars out, parameterised SQL.

The embedded engine can be opened by one process only. Before touching it we take an
exclusive ``flock`` on an owner file beside the data and write who we are into it, so a
second process (say ``migrate`` while the server runs) fails at once with a message naming
the owner instead of a vague engine error, and never writes into files another engine owns.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable
from urllib.parse import unquote, urlsplit

import clickhouse_connect
import polars as pl
from clickhouse_connect.driver.exceptions import ClickHouseError

log = logging.getLogger("ioc.storage")

DEFAULT_DATABASE = "ioc"
OWNER_FILE = "ioc-owner.lock"
#: beside the embedded store: the only directory its engine may write ``BACKUP`` files to
BACKUP_WORK_SUFFIX = "-backup-work"

_held_locks: dict[str, int] = {}  # path → fd, so one process may open its own store again
_held_guard = threading.Lock()
_origin = threading.local()  # who is asking: see Store.origin
_count_guard = threading.Lock()


class StoreError(RuntimeError):
    """The store could not do what was asked; the message says what to change."""


class StoreBusy(StoreError):
    """Another process owns the embedded store."""


class StoreQueryError(StoreError):
    """ClickHouse rejected a statement; ``statement`` and ``server_message`` say which and why."""

    def __init__(self, statement: str, server_message: str) -> None:
        self.statement = statement
        self.server_message = server_message
        super().__init__(f"ClickHouse rejected the statement:\n{statement}\n--> {server_message}")


def backup_work_dir(path: Path) -> Path:
    """Where the embedded engine writes and reads ``BACKUP``/``RESTORE`` files: the engine
    refuses any directory its connection string does not name (``backups.allowed_path``),
    and the setting counts only when the engine is first opened in a process, so every
    connection names this one (owner-only; the backup module encrypts out of it)."""
    return path.with_name(path.name + BACKUP_WORK_SUFFIX)


def _claim_owner(path: Path) -> None:
    """Take the embedded store's owner lock or fail naming the process that holds it."""
    key = str(path)
    with _held_guard:
        if key in _held_locks:
            return
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / OWNER_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown process"
            os.close(fd)
            raise StoreBusy(busy_message(path, owner)) from None
        engine = engine_holder(path)
        if engine is not None:  # an engine outside the product (or one of ours, killed mid-way)
            os.close(fd)
            raise StoreBusy(busy_message(path, engine)) from None
        command = " ".join(getattr(sys, "orig_argv", sys.argv))[:200]
        me = f"pid {os.getpid()} ({command}, since {time.strftime('%Y-%m-%d %H:%M:%S')})"
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.encode(), 0)
        _held_locks[key] = fd
        forget_unwritten_blocks(path)  # before the engine opens it in this process


def busy_message(path: Path, owner: str) -> str:
    """What :class:`StoreBusy` says: the store, who holds it, and what to do."""
    owner = " ".join(owner.split())  # a command line may hold line breaks: the message is one line
    return (f"the embedded store {path} is in use by {owner}. Only one process can open it: "
            f"stop that process first (its own 'migrate' runs at start-up), or set "
            f"IOC_CLICKHOUSE_URL to a ClickHouse server to share the store between processes")


def _held(file: Path) -> bool:
    """True when another open of ``file`` holds its ``flock`` (taken for a moment, then let go)."""
    try:
        fd = os.open(file, os.O_RDONLY)
    except OSError:
        return False  # no such file yet: nobody holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing lets go of a lock taken
    return False


def engine_holder(path: Path) -> str | None:
    """The ClickHouse engine that has the store at ``path`` open, or None. Every engine locks
    ``status`` in its data directory while open (and writes its pid there); a second one
    would fail with an unhelpful "Error initializing EmbeddedServer" after printing the
    engine's own complaint, so the product asks first."""
    status = path / "status"
    if not _held(status):
        return None
    try:
        text = status.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    pid = re.search(r"PID:\s*(\d+)", text)
    since = re.search(r"Started at:\s*([^\n]+)", text)
    return (f"another ClickHouse engine (pid {pid.group(1) if pid else 'unknown'}"
            + (f", since {since.group(1).strip()}" if since else "") + ")")


def store_holder(path: Path) -> str | None:
    """Who holds the embedded store at ``path`` — a process of the product (its owner file
    says which) or another ClickHouse engine — or None when it is free. Takes nothing: it is
    the check before start-up; opening the store claims it."""
    if str(path) in _held_locks:
        return None  # this very process
    owner = path / OWNER_FILE
    if _held(owner):
        try:
            text = owner.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        return text or "unknown process"
    return engine_holder(path)


def check_server(url: str, timeout: float, shown_as: str) -> None:
    """The ClickHouse server of ``url`` answers a query as the URL's user within ``timeout``
    seconds, or :class:`StoreError` says what is wrong (naming the server as ``shown_as``, the
    URL without its password). One plain request: the driver would first retry and log."""
    import http.client

    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (8443 if https else 8123)
    where = f"the ClickHouse server at {shown_as}"
    host = parts.hostname or ""
    kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
    conn: http.client.HTTPConnection = kind(host, port, timeout=timeout)
    headers = {"X-ClickHouse-User": unquote(parts.username or "default"),
               "X-ClickHouse-Key": unquote(parts.password or "")}
    try:
        conn.request("GET", "/?query=SELECT%201%20FORMAT%20TabSeparated", headers=headers)
        answer = conn.getresponse()
        body = answer.read(2000).decode("utf-8", "replace")
    except OSError as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else (
            "no answer" if isinstance(exc, TimeoutError) else str(exc))
        raise StoreError(f"{where} is unreachable ({reason}): start ClickHouse there or correct "
                         f"IOC_CLICKHOUSE_URL (chdb://./var/clickhouse for the embedded store)") from None
    except http.client.HTTPException as exc:
        raise StoreError(f"{where} does not answer as ClickHouse's HTTP interface ({exc!r}): check "
                         f"the port in IOC_CLICKHOUSE_URL (8123 for http, 8443 for https)") from None
    finally:
        conn.close()
    if answer.status == 200 and body.strip() == "1":
        return
    if answer.status in (401, 403) or "AUTHENTICATION_FAILED" in body or "Code: 516" in body:
        raise StoreError(f"{where} refused the user or password: correct them in IOC_CLICKHOUSE_URL "
                         f"(http://USER:PASSWORD@host:8123/db)")
    said = f"HTTP {answer.status}" + (f": {' '.join(body.split())[:200]}" if "Code:" in body else "")
    raise StoreError(f"{where} does not answer as ClickHouse's HTTP interface ({said}): check the host "
                     f"and port in IOC_CLICKHOUSE_URL (8123 for http, 8443 for https)")


_PART = re.compile(r"^([^_]+)_(\d+)_(\d+)_(\d+)(?:_\d+)?$")


def forget_unwritten_blocks(path: Path) -> int:
    """Drop deduplication records of blocks whose part never reached the disk.

    A MergeTree table without replication records an inserted block's id in its
    deduplication log *before* it renames the block's part into place. A process killed in
    between leaves a record with no part: the rows are gone, and a repeat of that insert
    (same token) would be dropped as a duplicate — silently losing acknowledged events, or a
    rollup's share of them. Before the engine opens the store, each record whose part is
    neither on disk nor inside an existing part's block range is removed, so the repeat goes
    in. (Parts are only ever merged into ranges of parts that existed, so a block number
    that no part covers was never committed.) Returns the records removed.
    """
    removed = 0
    for logs in path.glob("store/*/*/deduplication_logs"):
        table = logs.parent
        ranges: dict[str, list[tuple[int, int]]] = {}
        names = set()
        for part in table.iterdir():
            m = _PART.match(part.name)
            if m and part.is_dir():
                names.add(part.name)
                ranges.setdefault(m[1], []).append((int(m[2]), int(m[3])))
        for log_file in logs.glob("deduplication_log_*.txt"):
            lines = log_file.read_text().splitlines(keepends=True)
            kept = []
            for line in lines:
                fields = line.rstrip("\n").split("\t")
                m = _PART.match(fields[1]) if len(fields) == 3 and fields[0] == "1" else None
                if m and fields[1] not in names and not any(
                        lo <= int(m[2]) and int(m[3]) <= hi for lo, hi in ranges.get(m[1], [])):
                    continue
                kept.append(line)
            if len(kept) != len(lines):
                tmp = logs / f".{log_file.name}.tmp"  # not a name the engine reads as a log
                tmp.write_text("".join(kept))
                os.replace(tmp, log_file)
                removed += len(lines) - len(kept)
                log.warning("event=store.unwritten_blocks_forgotten table=%s records=%d",
                            table.name, len(lines) - len(kept))
    return removed


@runtime_checkable
class SqlStore(Protocol):
    """The store as ingest and metrics use it: parameterised SQL in, Polars frames out.

    ``Store`` is the implementation (embedded engine or server); ingest and metrics are
    written against this protocol, so what they need of the store is this short list.
    """

    #: the ClickHouse cluster DDL and distributed queries name ("" for a single server)
    cluster: str
    database: str

    def command(self, sql: str, parameters: dict[str, Any] | None = None,
                settings: dict[str, Any] | None = None) -> Any:
        """Run a statement that returns no rows, or a single value (of the SQL's type)."""
        ...

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pl.DataFrame: ...

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows as tuples of the columns' values (of the SQL's types)."""
        ...

    def insert(self, table: str, frame: pl.DataFrame, settings: dict[str, Any] | None = None) -> int: ...

    def recent_keys(self, table: str, key: str, received: str, days: int) -> pl.DataFrame: ...

    def replace_versioned(self, table: str, frame: pl.DataFrame, version: str) -> int: ...


class Store:
    """A handle on one ClickHouse database, safe to share between threads.

    Each thread gets its own clickhouse-connect client (a client runs one query at a time).
    """

    def __init__(self, url: str, database: str | None = None, cluster: str = "",
                 engine_options: dict[str, str] | None = None) -> None:
        self.url = url
        self.cluster = cluster
        #: the embedded engine's start-up options (``config-file``…); they count only for the
        #: first engine a process opens
        self.engine_options = dict(engine_options or {})
        self.statements: dict[str, int] = {}  # statements run, by origin
        parts = urlsplit(url)
        self.embedded = parts.scheme == "chdb"
        if self.embedded:
            self.path: Path | None = Path(url[len("chdb://"):]).expanduser().resolve()
            self.database = database or DEFAULT_DATABASE
        else:
            self.path = None
            self.database = database or unquote(parts.path.strip("/")) or DEFAULT_DATABASE
        self._local = threading.local()
        self._clients: list[Any] = []
        self._clients_guard = threading.Lock()
        if self.path is not None:
            _claim_owner(self.path)
        boot = self._connect(database=None)
        self._run(boot.command, f"CREATE DATABASE IF NOT EXISTS {self.database}{on_cluster(cluster)}")
        boot.close()

    def _connect(self, database: str | None) -> Any:
        try:
            if self.embedded:
                assert self.path is not None
                work = backup_work_dir(self.path)
                work.mkdir(mode=0o700, parents=True, exist_ok=True)
                return clickhouse_connect.get_client(
                    dsn=f"chdb://{self.path}", database=database,
                    chdb_options={"backups.allowed_path": str(work), **self.engine_options})
            parts = urlsplit(self.url)
            return clickhouse_connect.get_client(
                interface=parts.scheme,
                host=parts.hostname,
                port=parts.port or (8443 if parts.scheme == "https" else 8123),
                username=unquote(parts.username or "default"),
                password=unquote(parts.password or ""),
                database=database or "default",
            )
        except StoreError:
            raise
        except Exception as exc:  # the driver raises several kinds for one cause
            where = self.path if self.embedded else f"{urlsplit(self.url).hostname}"
            raise StoreError(
                f"cannot open the ClickHouse store at {where}: {exc}. Check IOC_CLICKHOUSE_URL"
            ) from exc

    @property
    def client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._connect(self.database)
            self._local.client = client
            with self._clients_guard:
                self._clients.append(client)
        return client

    def _run(self, fn: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
        origin = getattr(_origin, "name", "request")
        with _count_guard:
            self.statements[origin] = self.statements.get(origin, 0) + 1
        try:
            return fn(statement, *args, **kwargs)
        except ClickHouseError as exc:
            raise StoreQueryError(statement.strip(), _server_message(exc)) from exc

    @staticmethod
    @contextmanager
    def origin(name: str) -> Iterator[None]:
        """Count the statements this thread runs inside the block under ``name`` (``core``,
        ``writer``…; ``request`` otherwise): how ClickHouse work grows with screens is
        visible in ``/metrics`` and testable."""
        before = getattr(_origin, "name", None)
        _origin.name = name
        try:
            yield
        finally:
            if before is None:
                del _origin.name
            else:
                _origin.name = before

    def command(self, sql: str, parameters: dict[str, Any] | None = None,
                settings: dict[str, Any] | None = None) -> Any:
        """Run a statement that returns no rows (DDL, ALTER…) or a single value."""
        return self._run(self.client.command, sql, parameters=parameters, settings=settings)

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run a SELECT and return a Polars frame (Arrow end to end, no row loops)."""
        table = self._run(self.client.query_arrow, sql, parameters=parameters)
        return cast(pl.DataFrame, pl.from_arrow(table))  # an Arrow table: a frame, never a Series

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a small SELECT and return its rows as tuples."""
        return self._run(self.client.query, sql, parameters=parameters).result_rows

    def insert(self, table: str, frame: pl.DataFrame, settings: dict[str, Any] | None = None) -> int:
        """Insert a frame into a table by column name; returns rows written.

        Synchronous inserts: an insert is confirmed only once its rows (and the rollups the
        materialized views derive from them) are written, which the ingest path relies on.
        """
        if frame.height == 0:
            return 0
        # one chunk → one block: a deduplication token names the blocks of an insert, so
        # the same rows must form the same blocks however the frame was assembled
        arrow = frame.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
        merged = {"async_insert": 0, **(settings or {})}
        self._run(self.client.insert_arrow, table, arrow, settings=merged)
        return frame.height

    def recent_keys(self, table: str, key: str, received: str, days: int) -> pl.DataFrame:
        """``key`` and the UTC ``day`` of ``received`` for rows received in the last ``days``
        days (e.g. the event ids a restarted process must remember as seen)."""
        t, k, r = (_ident(x) for x in (table, key, received))
        return self.query(
            f"SELECT {k} AS key, toDate({r}) AS day FROM {t} "
            f"WHERE {r} >= now() - INTERVAL {{days:UInt16}} DAY", {"days": days})

    def replace_versioned(self, table: str, frame: pl.DataFrame, version: str) -> int:
        """Make ``frame`` the table's whole content: insert it, then delete every row with an
        older ``version`` (the frame carries one version value; for small reference tables)."""
        newest = frame[version].max()
        self.insert(table, frame, {"insert_distributed_sync": 1} if self.cluster else None)
        self.command(f"DELETE FROM {self.shard_local(table)} WHERE {_ident(version)} < "
                     "{v:DateTime64(3, 'UTC')}", {"v": newest})
        return frame.height

    def shard_local(self, table: str) -> str:
        """Where a row-changing statement (``DELETE``, ``ALTER … UPDATE``) must go: the table
        itself on one server; on a cluster its shard-local tables on every server, since
        ClickHouse changes no rows through a ``Distributed`` table ("DELETE query is not
        supported"). The rows inserted through the ``Distributed`` table must have reached
        their shards first (``insert_distributed_sync``)."""
        return f"{_ident(table)}_local{on_cluster(self.cluster)}" if self.cluster else _ident(table)

    def identity(self) -> str:
        """The database's UUID: a file kept beside the store (the demo's history marker) tells
        by it whether the store it describes is still this one, or was wiped and made anew."""
        rows = self.rows("SELECT toString(uuid) FROM system.databases WHERE name = currentDatabase()")
        return str(rows[0][0]) if rows else ""

    def backup_database(self, name: str, base: str | None = None) -> None:
        """ClickHouse's own ``BACKUP`` of this database into ``backup_work_dir()/<name>``,
        incremental on the backup ``<base>`` there (whose metadata file is all it reads)."""
        sql = f"BACKUP DATABASE {_ident(self.database)} TO File({{name:String}})"
        if base is not None:
            sql += " SETTINGS base_backup = File({base:String})"
        rows = self.rows(sql, {"name": name, "base": base or ""})
        if not rows or rows[0][1] != "BACKUP_CREATED":
            raise StoreError(f"ClickHouse did not create the backup {name} ({rows}): see the log")

    def restore_database(self, name: str, database: str) -> None:
        """ClickHouse's own ``RESTORE`` of ``database`` from the backup ``backup_work_dir()/<name>``
        (and the bases it names, beside it) as this store's database."""
        rows = self.rows(f"RESTORE DATABASE {_ident(database)} AS {_ident(self.database)} "
                         f"FROM File({{name:String}})", {"name": name})
        if not rows or rows[0][1] != "RESTORED":
            raise StoreError(f"ClickHouse did not restore the backup {name} ({rows}): see the log")

    def id_column(self, table: str) -> str | None:
        """The column that names a table's rows one by one (``event_id``, else ``id``), if any."""
        names = {r[0] for r in self.rows(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "AND name IN ('event_id', 'id')", {"t": table})}
        return "event_id" if "event_id" in names else ("id" if "id" in names else None)

    def holds_all(self, table: str, column: str, keys: list[str]) -> bool:
        """Whether every one of ``keys`` is in ``table``'s ``column``."""
        if not keys:
            return True
        t, c = _ident(table), _ident(column)
        found = self.rows(f"SELECT uniqExact({c}) FROM {t} WHERE {c} IN {{k:Array(String)}}", {"k": keys})
        return int(found[0][0]) == len(set(keys))

    def ping(self) -> bool:
        try:
            # the database itself must be there, not merely the server
            return self._run(self.client.command, f"EXISTS DATABASE {self.database}") == 1
        except Exception:  # a ping answers yes or no, whatever the failure
            return False

    def close(self) -> None:
        with self._clients_guard:
            for c in self._clients:
                try:
                    c.close()
                except Exception:  # closing a broken client must not mask the real error
                    log.debug("event=store.close_failed")
            self._clients.clear()
        self._local = threading.local()


def cluster_name(cluster: str) -> str:
    """The cluster's name as SQL: as it is when it is a plain identifier, else quoted — a name
    ``remote_servers`` allows such as ``campus-cluster`` would otherwise be a syntax error
    after ``ON CLUSTER`` and a subtraction in ``Distributed(…)``."""
    return cluster if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", cluster) else f"`{cluster}`"


def on_cluster(cluster: str) -> str:
    """`` ON CLUSTER <name>`` for a statement every server of the cluster runs; "" without one."""
    return f" ON CLUSTER {cluster_name(cluster)}" if cluster else ""


def _ident(name: str) -> str:
    """A table or column name given by the code, checked before it is put into SQL."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def _server_message(exc: BaseException) -> str:
    text = str(exc).strip()
    for marker in ("DB::Exception:", "Exception:"):
        if marker in text:
            text = text.split(marker, 1)[1].strip()
            break
    return text.split("\n")[0][:1000]
