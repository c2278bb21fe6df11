"""The settings of how people and other sites reach the product: its public address, the
campus sign-in providers' addresses, the reverse proxies it trusts, and the sites that may
show it in a frame."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ioc_app.settings.values import SettingsError


def parse_public_url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"{name}={raw!r}: use the address people open, e.g. "
                            f"https://ioc.example.edu.cn (a path prefix is allowed, no query)")
    return value


def parse_base_url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
        raise SettingsError(f"{name}={raw!r}: use an http(s) URL such as https://cas.example.edu.cn/cas, "
                            f"or leave it empty")
    return value


def parse_proxies(name: str, raw: str) -> str:
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

def parse_frame_ancestors(name: str, raw: str) -> str:
    keywords = ("'none'", "'self'")
    # the keywords may come unquoted (a .env file drops the quotes)
    sources = [f"'{s}'" if s in ("none", "self") else s for s in raw.split()]
    ok = bool(sources) and all(s in keywords or _FRAME_SOURCE.fullmatch(s) for s in sources)
    if not ok or ("'none'" in sources and len(sources) > 1):
        raise SettingsError(f"{name}={raw!r}: list the sites that may show IOC in a frame, separated by "
                            f"spaces, e.g. 'self' https://portal.example.edu.cn (scheme and host, no path), "
                            f"or 'none' alone")
    return " ".join(sources)
