"""The settings of the connections to the store and to Redis: their URLs, the TLS files of
``rediss://``, and the warning for a URL that would send data unencrypted over a network."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ioc_app.settings.values import SettingsError


def parse_url(name: str, raw: str) -> str:
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


def parse_redis(name: str, raw: str) -> str:
    value = raw.strip()
    if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(
            f"{name}={raw!r}: use redis://host:6379/0 (or rediss://, unix://), or leave it empty "
            f"for the embedded stand-ins"
        )
    return value


def parse_pem(name: str, raw: str) -> str:
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
