"""The one typed settings object, read from the environment (and ``.env`` when present).

A leaf module: it imports nothing else of the project, so every layer may depend on it.
Malformed values fail at start-up with a message that names the variable and says what
to write instead, rather than surfacing later as an obscure error deep in a request.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SITE = str(Path(__file__).resolve().parent / "sites" / "demo.toml")
DEFAULT_ALERTS = str(Path(__file__).resolve().parent / "alerts.toml")
DEFAULT_ROLES = "./var/roles.toml"
DEFAULT_WALL = str(Path(__file__).resolve().parent / "wall.toml")


class SettingsError(ValueError):
    """A setting has a value the product cannot use; the message names the variable."""


def _parse_url(name: str, raw: str) -> str:
    value = raw.strip()
    scheme = urlsplit(value).scheme
    if scheme == "chdb":
        path = value[len("chdb://"):]
        if not path:
            raise SettingsError(f"{name}={raw!r}: a chdb URL needs a path, e.g. chdb://./var/clickhouse")
        return value
    if scheme in ("http", "https"):
        parts = urlsplit(value)
        if not parts.hostname:
            raise SettingsError(
                f"{name}={raw!r}: an http(s) URL needs a host, e.g. http://user:pass@host:8123/ioc"
            )
        try:
            parts.port  # noqa: B018 - validates the port number
        except ValueError as exc:
            raise SettingsError(f"{name}={raw!r}: {exc}; use a number such as 8123") from None
        return value
    raise SettingsError(
        f"{name}={raw!r}: use chdb://<path> for the embedded engine or "
        f"http(s)://user:pass@host:port/db for a ClickHouse server"
    )


def _parse_redis(name: str, raw: str) -> str:
    value = raw.strip()
    if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(
            f"{name}={raw!r}: use redis://host:6379/0 (or rediss://, unix://), or leave it empty "
            f"for the embedded stand-ins"
        )
    return value


def _number(name: str, raw: str, cast: Callable[[str], float], lo: float, hi: float,
            what: str) -> float:
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise SettingsError(f"{name}={raw!r}: must be {what} between {lo:g} and {hi:g}")
    return value


def _parse_pem(name: str, raw: str) -> str:
    value = raw.strip()
    if value and not Path(value).expanduser().is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at a PEM file, or leave it empty")
    return str(Path(value).expanduser()) if value else ""


LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str | None) -> bool:
    """True for this machine's own addresses: traffic to them never crosses a network."""
    if not host:
        return True
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: the settings whose URLs cross a network, and the scheme that encrypts each
TLS_SCHEMES = {"IOC_CLICKHOUSE_URL": ("http", "https"), "IOC_REDIS_URL": ("redis", "rediss")}


def plaintext_warning(name: str, url: str) -> str | None:
    """Why ``url`` (the value of setting ``name``) sends data unencrypted over a network, with
    the change that encrypts it, or None (encrypted, a local socket, or this machine)."""
    plain, secure = TLS_SCHEMES[name]
    parts = urlsplit(url)
    if parts.scheme != plain or is_loopback(parts.hostname):
        return None
    extra = " and IOC_REDIS_CA_FILE for a private CA" if name == "IOC_REDIS_URL" else ""
    return (f"{name} sends data and credentials unencrypted to {parts.hostname}: use "
            f"{secure}://{extra} to enable TLS")


@dataclass(frozen=True)
class RedisTLS:
    """What a ``rediss://`` connection checks the server with, and shows it (mutual TLS)."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""

    def ssl_options(self) -> dict[str, str]:
        """redis-py's keyword arguments: the server's certificate and name are always checked
        (the CA file replaces the system's CAs); a client certificate when the server asks."""
        options = {"ssl_cert_reqs": "required"}
        if self.ca_file:
            options["ssl_ca_certs"] = self.ca_file
        if self.cert_file:
            options["ssl_certfile"] = self.cert_file
            options["ssl_keyfile"] = self.key_file
        return options


def _parse_port(name: str, raw: str) -> int:
    return int(_number(name, raw, int, 1, 65535, "a port number"))


def _parse_tz(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{name}={raw!r}: not a known IANA time zone; use e.g. Asia/Shanghai"
        ) from None
    return raw.strip()


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: use 1 or 0 (true/false, yes/no, on/off also work)")


def _parse_durability(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("strict", "relaxed"):
        raise SettingsError(f"{name}={raw!r}: use strict (refuse a Redis that may lose accepted "
                            f"events) or relaxed (accept it and log the loss window)")
    return value


def _parse_tick(name: str, raw: str) -> float:
    return _number(name, raw, float, 0.1, 60, "a number of seconds")


def _parse_silent(name: str, raw: str) -> float:
    return _number(name, raw, float, 3, 86400, "a number of seconds")


def _parse_processes(name: str, raw: str) -> int:
    return int(_number(name, raw, int, 0, 64, "a number of processes"))


def _parse_history_days(name: str, raw: str) -> int:
    return int(_number(name, raw, int, 1, 3650, "a number of days"))


def _parse_deadletter_days(name: str, raw: str) -> int:
    return int(_number(name, raw, int, 1, 400, "a number of days"))


def _parse_site(name: str, raw: str) -> str:
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at a site catalogue (.toml)")
    return str(path)


def _parse_alerts(name: str, raw: str) -> str:
    """The file must exist and be TOML here; its rules are checked by ``metrics.alerts.load_rules``
    (this module is a leaf and cannot import it), which start-up runs on this path."""
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at an alert rules file (.toml), "
                            f"or leave it empty for the shipped rules")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{name}={raw!r}: not a valid TOML rules file ({exc}); fix it, or leave "
                            f"the variable empty for the shipped rules") from None
    return str(path)


def _parse_wall(name: str, raw: str) -> str:
    """The file must exist and be TOML here; its playlist is checked by ``ioc_app.wall.load_wall``
    (this module is a leaf and cannot import it), which start-up runs on this path."""
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file; point it at a wall playlist (.toml), "
                            f"or leave it empty for the shipped playlist")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{name}={raw!r}: not a valid TOML playlist ({exc}); fix it, or leave "
                            f"the variable empty for the shipped playlist") from None
    return str(path)


def _parse_text(name: str, raw: str) -> str:
    return raw.strip()


#: ``IOC_FAULTS`` (fault tests only, see ``ingest.faults``): every point, and where it sits
FAULT_POINTS = {
    "helper.appended": "an ingest helper buffered a group, before it answers",
    "ingest.buffered": "a request's events are durable, before the 200",
    "redis.claimed": "entries of a silent consumer were claimed, before they are queued",
    "redis.reserved": "a batch was reserved in Redis, before the insert",
    "redis.batch_claimed": "the rest of a reserved batch was claimed, before the insert",
    "writer.inserted": "the store has the batch, before it is released from the buffer",
    "redis.released": "Redis released the batch, before the writer learns it",
    "wal.confirmed": "the write-ahead log confirmed the batch",
}
FAULT_ACTIONS = ("group", "self", "redis", "rewrite")

class FaultSpecError(ValueError):
    """``IOC_FAULTS`` names an unknown point or action, or a probability out of range."""


def parse_faults(spec: str) -> dict[str, tuple[float, str]]:
    """``point=probability:action,…`` → {point: (probability, action)}."""
    plan: dict[str, tuple[float, str]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        point, _, rest = part.partition("=")
        prob, _, action = rest.partition(":")
        if point not in FAULT_POINTS:
            raise FaultSpecError(f"unknown fault point {point!r}; the points are: {', '.join(FAULT_POINTS)}")
        if action not in FAULT_ACTIONS:
            raise FaultSpecError(f"fault point {point}: action {action!r} is not one of "
                                 f"{', '.join(FAULT_ACTIONS)} (write point=probability:action)")
        try:
            p = float(prob)
        except ValueError:
            p = -1.0
        if not 0 <= p <= 1:
            raise FaultSpecError(f"fault point {point}: probability {prob!r} must be a number "
                                 f"from 0 to 1")
        plan[point] = (p, action)
    return plan


def _parse_faults(name: str, raw: str) -> str:
    try:
        parse_faults(raw)
    except FaultSpecError as exc:
        raise SettingsError(f"{name}={raw!r}: {exc}") from None
    return raw.strip()


def _parse_public_url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"{name}={raw!r}: use the address people open, e.g. "
                            f"https://ioc.example.edu.cn (a path prefix is allowed, no query)")
    return value


def _parse_base_url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
        raise SettingsError(f"{name}={raw!r}: use an http(s) URL such as https://cas.example.edu.cn/cas, "
                            f"or leave it empty")
    return value


def _parse_minutes(name: str, raw: str) -> int:
    return int(_number(name, raw, int, 1, 24 * 60, "a number of minutes"))


def _parse_hours(name: str, raw: str) -> int:
    return int(_number(name, raw, int, 1, 24 * 7, "a number of hours"))


def _parse_min_cell(name: str, raw: str) -> int:
    return int(_number(name, raw, int, 1, 100, "a number of people"))


def _parse_proxies(name: str, raw: str) -> str:
    import ipaddress

    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise SettingsError(f"{name}={raw!r}: {part!r} is not an IP address or network; list the "
                                f"reverse proxies' addresses separated by commas, e.g. 10.0.0.5,10.0.1.0/24"
                                ) from None
    return raw.strip()


_FRAME_SOURCE = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _parse_frame_ancestors(name: str, raw: str) -> str:
    keywords = ("'none'", "'self'")
    # the keywords may come unquoted (a .env file drops the quotes)
    sources = [f"'{s}'" if s in ("none", "self") else s for s in raw.split()]
    ok = bool(sources) and all(s in keywords or _FRAME_SOURCE.fullmatch(s) for s in sources)
    if not ok or ("'none'" in sources and len(sources) > 1):
        raise SettingsError(f"{name}={raw!r}: list the sites that may show IOC in a frame, separated by "
                            f"spaces, e.g. 'self' https://portal.example.edu.cn (scheme and host, no path), "
                            f"or 'none' alone")
    return " ".join(sources)


def _parse_cluster(name: str, raw: str) -> str:
    value = raw.strip()
    if value and not value.replace("_", "").replace("-", "").isalnum():
        raise SettingsError(
            f"{name}={raw!r}: a cluster name is letters, digits, '_' and '-' as in remote_servers"
        )
    return value


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
    tokens_file: str = "./var/tokens.toml"
    secret_key: str = ""
    tick_s: float = 1.0
    alerts: str = DEFAULT_ALERTS
    history_days: int = 400
    wall: str = DEFAULT_WALL
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
    def redis_tls(self) -> RedisTLS:
        """The TLS options of every Redis connection (used with ``rediss://`` only)."""
        return RedisTLS(self.redis_ca_file, self.redis_cert_file, self.redis_key_file)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


#: variable name → (field, parser)
VARIABLES: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "IOC_CLICKHOUSE_URL": ("clickhouse_url", _parse_url),
    "IOC_CLICKHOUSE_CLUSTER": ("clickhouse_cluster", _parse_cluster),
    "IOC_REDIS_URL": ("redis_url", _parse_redis),
    "IOC_REDIS_DURABILITY": ("redis_durability", _parse_durability),
    "IOC_REDIS_CA_FILE": ("redis_ca_file", _parse_pem),
    "IOC_REDIS_CERT_FILE": ("redis_cert_file", _parse_pem),
    "IOC_REDIS_KEY_FILE": ("redis_key_file", _parse_pem),
    "IOC_HOST": ("host", _parse_text),
    "IOC_PORT": ("port", _parse_port),
    "IOC_TZ": ("tz", _parse_tz),
    "IOC_SITE": ("site", _parse_site),
    "IOC_DEMO": ("demo", _parse_bool),
    "IOC_TOKENS_FILE": ("tokens_file", _parse_text),
    "IOC_SECRET_KEY": ("secret_key", _parse_text),
    "IOC_TICK_S": ("tick_s", _parse_tick),
    "IOC_ALERTS": ("alerts", _parse_alerts),
    "IOC_HISTORY_DAYS": ("history_days", _parse_history_days),
    "IOC_WALL": ("wall", _parse_wall),
    "IOC_SCREEN_SILENT_S": ("screen_silent_s", _parse_silent),
    "IOC_INGEST_PROCESSES": ("ingest_processes", _parse_processes),
    "IOC_FAULTS": ("faults", _parse_faults),
    "IOC_PUBLIC_URL": ("public_url", _parse_public_url),
    "IOC_CAS_URL": ("cas_url", _parse_base_url),
    "IOC_OIDC_ISSUER": ("oidc_issuer", _parse_base_url),
    "IOC_OIDC_CLIENT_ID": ("oidc_client_id", _parse_text),
    "IOC_OIDC_CLIENT_SECRET": ("oidc_client_secret", _parse_text),
    "IOC_ROLES_FILE": ("roles_file", _parse_text),
    "IOC_SESSION_IDLE_MIN": ("session_idle_min", _parse_minutes),
    "IOC_SESSION_MAX_H": ("session_max_h", _parse_hours),
    "IOC_METRICS_TOKEN": ("metrics_token", _parse_text),
    "IOC_TRUSTED_PROXIES": ("trusted_proxies", _parse_proxies),
    "IOC_MIN_CELL": ("min_cell", _parse_min_cell),
    "IOC_FRAME_ANCESTORS": ("frame_ancestors", _parse_frame_ancestors),
    "IOC_DEADLETTER_DAYS": ("deadletter_days", _parse_deadletter_days),
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
