"""The one typed settings object, read from the environment (and ``.env`` when present).

A leaf package: it imports nothing else of the project, so every layer may depend on it.
Malformed values fail at start-up with a message that names the variable and says what
to write instead, rather than surfacing later as an obscure error deep in a request.

``Settings``, ``load_settings`` and the names callers use are here; the parsers by area are
in the package's modules: ``transport`` (store and Redis URLs, TLS), ``files`` (site
catalogue, alert rules, wall playlist), ``web`` (public address, sign-in providers, proxies,
frames), ``faults`` (fault tests) and ``values`` (numbers, switches, zone).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ioc_app.settings.faults import (
    FAULT_ACTIONS,
    FAULT_POINTS,
    FaultSpecError,
    parse_faults,
    parse_faults_setting,
)
from ioc_app.settings.files import (
    DEFAULT_ALERTS,
    DEFAULT_BOARDS,
    DEFAULT_ROLES,
    DEFAULT_SITE,
    DEFAULT_WALL,
    parse_alerts,
    parse_boards,
    parse_contacts,
    parse_site,
    parse_wall,
)
from ioc_app.settings.transport import (
    LOOPBACK_NAMES,
    TLS_SCHEMES,
    RedisTLS,
    is_loopback,
    parse_pem,
    parse_redis,
    parse_url,
    plaintext_warning,
)
from ioc_app.settings.values import (
    SettingsError,
    parse_backup_every,
    parse_backup_full_every,
    parse_backup_keep_days,
    parse_backup_ship,
    parse_bool,
    parse_cluster,
    parse_deadletter_days,
    parse_demo_history_days,
    parse_demo_history_seasons,
    parse_durability,
    parse_history_days,
    parse_hours,
    parse_min_cell,
    parse_minutes,
    parse_notice_days,
    parse_port,
    parse_processes,
    parse_push_held,
    parse_silent,
    parse_text,
    parse_tick,
    parse_trigger,
    parse_tz,
)
from ioc_app.settings.web import parse_base_url, parse_frame_ancestors, parse_proxies, parse_public_url

__all__ = [
    "DEFAULT_ALERTS", "DEFAULT_BOARDS", "DEFAULT_ROLES", "DEFAULT_SITE", "DEFAULT_WALL", "FAULT_ACTIONS",
    "FAULT_POINTS",
    "LOOPBACK_NAMES", "TLS_SCHEMES", "VARIABLES", "FaultSpecError", "RedisTLS", "Settings", "SettingsError",
    "documented_defaults", "is_loopback", "load_settings", "parse_faults", "plaintext_warning", "read_dotenv",
]


@dataclass(frozen=True)
class Settings:
    """Every setting of the product, each with one documented default (see ``.env.example``)."""

    clickhouse_url: str = "chdb://./var/clickhouse"
    clickhouse_cluster: str = ""
    redis_url: str = ""
    redis_durability: str = "strict"
    redis_ca_file: str = ""
    redis_cert_file: str = ""
    redis_key_file: str = ""
    host: str = "127.0.0.1"
    port: int = 8050
    tz: str = "Asia/Shanghai"
    site: str = DEFAULT_SITE
    demo: bool = True
    demo_history_days: int = 35
    demo_history_seasons: int = 3
    tokens_file: str = "./var/tokens.toml"
    secret_key: str = ""
    tick_s: float = 1.0
    core_trigger: str = "commit"
    alerts: str = DEFAULT_ALERTS
    contacts: str = ""
    history_days: int = 400
    wall: str = DEFAULT_WALL
    boards: str = DEFAULT_BOARDS
    screen_silent_s: float = 90.0
    ingest_processes: int = 2
    faults: str = ""
    public_url: str = ""
    cas_url: str = ""
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    roles_file: str = DEFAULT_ROLES
    session_idle_min: int = 30
    session_max_h: int = 12
    metrics_token: str = ""
    trusted_proxies: str = ""
    min_cell: int = 3
    frame_ancestors: str = "'none'"
    deadletter_days: int = 30
    push_held: int = 256
    notice_undelivered_days: int = 7
    notice_unprinted_days: int = 3
    backup_every_min: int = 60
    backup_full_every_h: int = 24
    backup_keep_days: int = 14
    backup_ship_s: float = 5.0
    backup_dir: str = "./var/backups"
    backup_key_file: str = "./var/backup.key"

    @property
    def embedded(self) -> bool:
        """True when the store is the in-process engine (one process owns everything)."""
        return self.clickhouse_url.startswith("chdb://")

    @property
    def var_dir(self) -> Path:
        """Where the product keeps its own files (secret key, write-ahead log…)."""
        return Path(self.tokens_file).expanduser().resolve().parent

    @property
    def wal_dir(self) -> Path:
        """The embedded ingest buffer: beside the embedded store it feeds, else under var."""
        if self.embedded:
            store = Path(self.clickhouse_url[len("chdb://"):]).expanduser().resolve()
            return store.with_name(store.name + "-wal")
        return self.var_dir / "wal"

    @property
    def base_url(self) -> str:
        """The URL people use (CAS service URL, OIDC redirect, whether cookies are Secure)."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def roles_path(self) -> Path:
        """The roles file; left at its default it sits in the var folder beside the tokens."""
        if self.roles_file == DEFAULT_ROLES:
            return self.var_dir / "roles.toml"
        return Path(self.roles_file).expanduser()

    @property
    def access_db(self) -> Path:
        """Local accounts, sessions, screens and sign-in links: a file a second process (the
        ``user`` and ``screen`` commands) may change while the server runs."""
        return self.var_dir / "access.sqlite"

    @property
    def backup_root(self) -> Path:
        """Where ``backup`` puts backups; left at its default, in the var folder."""
        if self.backup_dir == "./var/backups":
            return self.var_dir / "backups"
        return Path(self.backup_dir).expanduser().resolve()

    @property
    def backup_key_path(self) -> Path:
        """The key backups are encrypted with; left at its default, beside the secret key.
        Kept apart from the backups it opens (see docs/backup.md)."""
        if self.backup_key_file == "./var/backup.key":
            return self.var_dir / "backup.key"
        return Path(self.backup_key_file).expanduser().resolve()

    @property
    def redis_tls(self) -> RedisTLS:
        """The TLS options of every Redis connection (used with ``rediss://`` only)."""
        return RedisTLS(self.redis_ca_file, self.redis_cert_file, self.redis_key_file)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

#: variable name → (field, parser)
VARIABLES: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "IOC_CLICKHOUSE_URL": ("clickhouse_url", parse_url),
    "IOC_CLICKHOUSE_CLUSTER": ("clickhouse_cluster", parse_cluster),
    "IOC_REDIS_URL": ("redis_url", parse_redis),
    "IOC_REDIS_DURABILITY": ("redis_durability", parse_durability),
    "IOC_REDIS_CA_FILE": ("redis_ca_file", parse_pem),
    "IOC_REDIS_CERT_FILE": ("redis_cert_file", parse_pem),
    "IOC_REDIS_KEY_FILE": ("redis_key_file", parse_pem),
    "IOC_HOST": ("host", parse_text),
    "IOC_PORT": ("port", parse_port),
    "IOC_TZ": ("tz", parse_tz),
    "IOC_SITE": ("site", parse_site),
    "IOC_DEMO": ("demo", parse_bool),
    "IOC_DEMO_HISTORY_DAYS": ("demo_history_days", parse_demo_history_days),
    "IOC_DEMO_HISTORY_SEASONS": ("demo_history_seasons", parse_demo_history_seasons),
    "IOC_TOKENS_FILE": ("tokens_file", parse_text),
    "IOC_SECRET_KEY": ("secret_key", parse_text),
    "IOC_TICK_S": ("tick_s", parse_tick),
    "IOC_CORE_TRIGGER": ("core_trigger", parse_trigger),
    "IOC_ALERTS": ("alerts", parse_alerts),
    "IOC_CONTACTS": ("contacts", parse_contacts),
    "IOC_HISTORY_DAYS": ("history_days", parse_history_days),
    "IOC_WALL": ("wall", parse_wall),
    "IOC_BOARDS": ("boards", parse_boards),
    "IOC_SCREEN_SILENT_S": ("screen_silent_s", parse_silent),
    "IOC_INGEST_PROCESSES": ("ingest_processes", parse_processes),
    "IOC_FAULTS": ("faults", parse_faults_setting),
    "IOC_PUBLIC_URL": ("public_url", parse_public_url),
    "IOC_CAS_URL": ("cas_url", parse_base_url),
    "IOC_OIDC_ISSUER": ("oidc_issuer", parse_base_url),
    "IOC_OIDC_CLIENT_ID": ("oidc_client_id", parse_text),
    "IOC_OIDC_CLIENT_SECRET": ("oidc_client_secret", parse_text),
    "IOC_ROLES_FILE": ("roles_file", parse_text),
    "IOC_SESSION_IDLE_MIN": ("session_idle_min", parse_minutes),
    "IOC_SESSION_MAX_H": ("session_max_h", parse_hours),
    "IOC_METRICS_TOKEN": ("metrics_token", parse_text),
    "IOC_TRUSTED_PROXIES": ("trusted_proxies", parse_proxies),
    "IOC_MIN_CELL": ("min_cell", parse_min_cell),
    "IOC_FRAME_ANCESTORS": ("frame_ancestors", parse_frame_ancestors),
    "IOC_DEADLETTER_DAYS": ("deadletter_days", parse_deadletter_days),
    "IOC_PUSH_HELD": ("push_held", parse_push_held),
    "IOC_NOTICE_UNDELIVERED_DAYS": ("notice_undelivered_days", parse_notice_days),
    "IOC_NOTICE_UNPRINTED_DAYS": ("notice_unprinted_days", parse_notice_days),
    "IOC_BACKUP_EVERY_MIN": ("backup_every_min", parse_backup_every),
    "IOC_BACKUP_FULL_EVERY_H": ("backup_full_every_h", parse_backup_full_every),
    "IOC_BACKUP_KEEP_DAYS": ("backup_keep_days", parse_backup_keep_days),
    "IOC_BACKUP_SHIP_S": ("backup_ship_s", parse_backup_ship),
    "IOC_BACKUP_DIR": ("backup_dir", parse_text),
    "IOC_BACKUP_KEY_FILE": ("backup_key_file", parse_text),
}


def read_dotenv(path: str | os.PathLike[str] = ".env") -> dict[str, str]:
    """The ``IOC_*`` values of a ``.env`` file, or nothing when there is none."""
    if not Path(path).is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if k.startswith("IOC_") and v is not None}


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: str | os.PathLike[str] | None = ".env"
) -> Settings:
    """Build the settings; the process environment wins over ``.env``.

    Unknown ``IOC_*`` variables are refused too: a typo in a variable name would otherwise
    silently leave the default in force.
    """
    env = dict(read_dotenv(dotenv) if dotenv else {})
    env.update(os.environ if environ is None else environ)
    known = set(VARIABLES)
    unknown = sorted(k for k in env if k.startswith("IOC_") and k not in known)
    if unknown:
        raise SettingsError(
            f"unknown setting {unknown[0]}; the settings are: {', '.join(sorted(VARIABLES))}"
        )
    values: dict[str, object] = {}
    for name, (attr, parse) in VARIABLES.items():
        raw = env.get(name)
        if raw is None or (raw.strip() == "" and attr not in ("clickhouse_cluster", "redis_url")):
            continue
        values[attr] = parse(name, raw)
    # each value comes from its variable's own parser, which returns the field's type
    settings = Settings(**values)  # type: ignore[arg-type]
    _check_redis_tls(settings)
    for name, url in (("IOC_CLICKHOUSE_URL", settings.clickhouse_url), ("IOC_REDIS_URL", settings.redis_url)):
        warning = plaintext_warning(name, url)
        if warning:  # every process reads its settings once at start: one line per process
            logging.getLogger("ioc.settings").warning("event=settings.plaintext setting=%s host=%r detail=%r",
                                                      name, urlsplit(url).hostname, warning)
    return settings


def _check_redis_tls(s: Settings) -> None:
    """TLS files only mean something with ``rediss://``, and a client certificate needs its key."""
    files = (("IOC_REDIS_CA_FILE", s.redis_ca_file), ("IOC_REDIS_CERT_FILE", s.redis_cert_file),
             ("IOC_REDIS_KEY_FILE", s.redis_key_file))
    given = [name for name, value in files if value]
    if given and urlsplit(s.redis_url).scheme != "rediss":
        raise SettingsError(f"{given[0]} is set but IOC_REDIS_URL is not rediss://: write "
                            f"rediss://host:6379/0 to connect with TLS, or unset {given[0]}")
    if bool(s.redis_cert_file) != bool(s.redis_key_file):
        raise SettingsError("IOC_REDIS_CERT_FILE and IOC_REDIS_KEY_FILE go together (the client "
                            "certificate and its private key): set both or neither")


def documented_defaults() -> dict[str, object]:
    """Defaults by variable name, for ``.env.example`` and the README table checks."""
    defaults = {f.name: f.default for f in fields(Settings)}
    return {name: defaults[attr] for name, (attr, _) in VARIABLES.items()}
