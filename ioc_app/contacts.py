"""Contact points (通知渠道) and routes: who hears of an alert, read from a TOML file.

Alerts on the wall reach nobody at 3 a.m.; duty staff are reached through group robots
(企业微信, 钉钉, 飞书), mail or a site's own webhook. The file (``IOC_CONTACTS``) names the
contact points and the routes that pick them by severity, domain and rule; it is checked
whole at start-up, like the rules file, so a typo stops the start with a message naming the
entry and what to change instead of silently sending nothing. Secrets (robot keys, signing
secrets, mail passwords) may be named by environment variable instead of written in the
file. The manual is docs/alerts.md ("Contact points").
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from metrics.alerts import SEVERITIES

KINDS = ("wecom", "dingtalk", "feishu", "email", "webhook")
FORMATS = ("markdown", "text")
SECURITY = ("starttls", "ssl", "none")
LANGS = ("zh", "en")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_QUIET = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ContactsError(ValueError):
    """A contacts file the product cannot use; the message names the entry and the fix."""


@dataclass(frozen=True)
class Quiet:
    """Quiet hours in the site's time zone, ``start``–``end`` (may pass midnight)."""

    start: time
    end: time

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first end of quiet hours after ``moment`` (an aware datetime in ``zone``)."""
        local = moment.astimezone(zone)
        end = datetime.combine(local.date(), self.end, zone)
        while end <= local:
            end = datetime.combine(end.date() + timedelta(days=1), self.end, zone)
        return end


@dataclass(frozen=True)
class Contact:
    """One contact point. ``url``/``secret``/``password`` are resolved (env names read)."""

    name: str
    kind: str
    url: str = ""
    secret: str = ""
    format: str = "markdown"
    lang: str = "zh"
    quiet: Quiet | None = None
    breakthrough: tuple[str, ...] = ("critical",)
    timeout_s: float = 10.0
    # mail
    host: str = ""
    port: int = 0
    security: str = "starttls"
    username: str = ""
    password: str = ""
    sender: str = ""
    to: tuple[str, ...] = ()
    ca_file: str = ""  # a campus CA the mail server's certificate is issued by (default: the system's)
    headers: dict[str, str] = field(default_factory=dict)

    def quiet_now(self, moment: datetime, zone: ZoneInfo, severity: str) -> bool:
        """Hold a message of ``severity`` back now? Critical (by default) breaks through."""
        return (self.quiet is not None and severity not in self.breakthrough
                and self.quiet.contains(moment, zone))


@dataclass(frozen=True)
class Route:
    """Alerts matching every listed filter go to ``contacts`` (an empty filter matches all)."""

    contacts: tuple[str, ...]
    severity: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    def matches(self, alert: dict[str, Any]) -> bool:
        rule = str(alert.get("id", "")).split(":", 1)[0]
        return ((not self.severity or alert.get("severity") in self.severity)
                and (not self.domain or alert.get("domain") in self.domain)
                and (not self.rules or rule in self.rules))


@dataclass(frozen=True)
class Contacts:
    """Every contact point and route, and the delivery timing shared by all of them."""

    contacts: dict[str, Contact] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    default: tuple[str, ...] = ()
    repeat_s: float = 4 * 3600.0
    group_s: float = 30.0
    resolved: bool = True
    public_url: str = ""

    def route(self, alert: dict[str, Any]) -> tuple[str, ...]:
        """Every contact point of every matching route (each once, in file order); the
        default contact points when no route matches."""
        out: list[str] = []
        for r in self.routes:
            if r.matches(alert):
                out.extend(c for c in r.contacts if c not in out)
        return tuple(out) if out else self.default


NONE = Contacts()


class _Reader:
    def __init__(self, path: Path, environ: dict[str, str]) -> None:
        self.path = path
        self.env = environ

    def fail(self, where: str, message: str) -> ContactsError:
        return ContactsError(f"{self.path}: {where}: {message}")

    def text(self, where: str, d: dict[str, Any], key: str, default: str = "") -> str:
        value = d.get(key, default)
        if not isinstance(value, str):
            raise self.fail(where, f"{key} must be a string")
        return value

    def secret(self, where: str, d: dict[str, Any], key: str, required: bool = False) -> str:
        """``key`` written out, or ``key_env`` naming the environment variable holding it."""
        plain, env = self.text(where, d, key), self.text(where, d, f"{key}_env")
        if plain and env:
            raise self.fail(where, f"give {key} or {key}_env, not both")
        if env:
            if not _ENV.fullmatch(env) or env.startswith("IOC_"):
                raise self.fail(where, f"{key}_env = {env!r}: name an environment variable "
                                       f"(letters, digits, _) not starting with IOC_")
            if not self.env.get(env):
                raise self.fail(where, f"{key}_env names {env}, which is not set: set it in the "
                                       f"server's environment")
            plain = self.env[env]
        if required and not plain:
            raise self.fail(where, f"{key} (or {key}_env) is required")
        return plain

    def choice(self, where: str, d: dict[str, Any], key: str, choices: tuple[str, ...],
               default: str) -> str:
        value = self.text(where, d, key, default)
        if value not in choices:
            raise self.fail(where, f"{key} = {value!r}; use one of {', '.join(choices)}")
        return value

    def number(self, where: str, d: dict[str, Any], key: str, default: float, low: float,
               high: float) -> float:
        value = d.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(where, f"{key} must be a number from {low:g} to {high:g}")
        return float(value)

    def names(self, where: str, d: dict[str, Any], key: str, allowed: tuple[str, ...] | None = None
              ) -> tuple[str, ...]:
        value = d.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, f"{key} must be a list of strings")
        for v in value:
            if allowed is not None and v not in allowed:
                raise self.fail(where, f"{key}: {v!r} is not one of {', '.join(allowed)}")
        return tuple(value)

    def quiet(self, where: str, d: dict[str, Any], inherited: Quiet | None) -> Quiet | None:
        if "quiet" not in d:
            return inherited
        raw = self.text(where, d, "quiet")
        if raw == "":
            return None
        m = _QUIET.fullmatch(raw.replace(" ", ""))
        if not m or int(m[1]) > 23 or int(m[3]) > 23 or int(m[2]) > 59 or int(m[4]) > 59 or \
                (m[1], m[2]) == (m[3], m[4]):
            raise self.fail(where, f"quiet = {raw!r}; write local hours as \"22:00-07:00\"")
        return Quiet(time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4])))

    def known(self, where: str, d: dict[str, Any], keys: set[str]) -> None:
        extra = sorted(set(d) - keys)
        if extra:
            raise self.fail(where, f"unknown key {extra[0]!r}; the keys are {', '.join(sorted(keys))}")


_COMMON = {"name", "kind", "format", "lang", "quiet", "breakthrough", "timeout_s"}
_KEYS = {
    "wecom": _COMMON | {"url", "url_env"},
    "dingtalk": _COMMON | {"url", "url_env", "secret", "secret_env"},
    "feishu": _COMMON | {"url", "url_env", "secret", "secret_env"},
    "webhook": _COMMON | {"url", "url_env", "secret", "secret_env", "headers"},
    "email": _COMMON | {"host", "port", "security", "username", "password", "password_env", "sender", "to",
                        "ca_file"},
}
_DEFAULTS = {"contacts", "repeat_min", "group_s", "resolved", "quiet", "breakthrough", "lang"}


def load_contacts(path: str | Path, public_url: str = "", environ: dict[str, str] | None = None
                  ) -> Contacts:
    """Read and check a contacts file; raises :class:`ContactsError` saying what to change.
    An empty ``path`` means no contact points: alerts stay on the wall."""
    if not path:
        return Contacts(public_url=public_url)
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ContactsError(f"{p}: cannot read the contact points ({exc}); check IOC_CONTACTS") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContactsError(f"{p}: not valid TOML: {exc}; fix the syntax there") from None
    r = _Reader(p, dict(os.environ if environ is None else environ))
    r.known("top level", data, {"defaults", "contact", "route"})
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise r.fail("defaults", "write it as a [defaults] table")
    r.known("[defaults]", defaults, _DEFAULTS)
    quiet = r.quiet("[defaults]", defaults, None)
    breakthrough = r.names("[defaults]", defaults, "breakthrough", SEVERITIES) if "breakthrough" in defaults \
        else ("critical",)
    lang = r.choice("[defaults]", defaults, "lang", LANGS, "zh")
    contacts: dict[str, Contact] = {}
    for i, c in enumerate(data.get("contact", [])):
        where = f"contact #{i + 1}"
        if not isinstance(c, dict):
            raise r.fail(where, "write each contact point as a [[contact]] table")
        name = r.text(where, c, "name")
        if not _NAME.fullmatch(name):
            raise r.fail(where, f"name = {name!r}: use 1–64 of a-z 0-9 _ - starting with a letter")
        where = f"contact {name!r}"
        if name in contacts:
            raise r.fail(where, "the name is used by an earlier contact point; names must be unique")
        kind = r.choice(where, c, "kind", KINDS, "")
        r.known(where, c, _KEYS[kind])
        common: dict[str, Any] = {
            "name": name, "kind": kind, "format": r.choice(where, c, "format", FORMATS, "markdown"),
            "lang": r.choice(where, c, "lang", LANGS, lang), "quiet": r.quiet(where, c, quiet),
            "breakthrough": r.names(where, c, "breakthrough", SEVERITIES) if "breakthrough" in c
            else breakthrough,
            "timeout_s": r.number(where, c, "timeout_s", 10, 1, 60)}
        if kind == "email":
            to = r.names(where, c, "to")
            if not to or not all("@" in a for a in to):
                raise r.fail(where, "to must list the recipients' mail addresses")
            contacts[name] = Contact(
                **common, host=r.text(where, c, "host") or _missing(r, where, "host"),
                port=int(r.number(where, c, "port", 587, 1, 65535)),
                security=r.choice(where, c, "security", SECURITY, "starttls"),
                username=r.text(where, c, "username"), password=r.secret(where, c, "password"),
                sender=r.text(where, c, "sender") or _missing(r, where, "sender"), to=to,
                ca_file=_ca_file(r, where, c))
            continue
        url = r.secret(where, c, "url", required=True)
        if not url.startswith(("https://", "http://")):
            raise r.fail(where, "url must start with https:// (or http:// for a receiver on the LAN)")
        headers = c.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise r.fail(where, "headers must be a table of strings")
        contacts[name] = Contact(**common, url=url, headers=dict(headers),
                                 secret=r.secret(where, c, "secret") if kind != "wecom" else "")
    routes = []
    for i, d in enumerate(data.get("route", [])):
        where = f"route #{i + 1}"
        if not isinstance(d, dict):
            raise r.fail(where, "write each route as a [[route]] table")
        r.known(where, d, {"severity", "domain", "rules", "contacts"})
        routes.append(Route(contacts=_contact_names(r, where, d, contacts),
                            severity=r.names(where, d, "severity", SEVERITIES),
                            domain=r.names(where, d, "domain"), rules=r.names(where, d, "rules")))
    return Contacts(
        contacts=contacts, routes=tuple(routes), default=_contact_names(r, "[defaults]", defaults, contacts),
        repeat_s=r.number("[defaults]", defaults, "repeat_min", 240, 0, 7 * 24 * 60) * 60,
        group_s=r.number("[defaults]", defaults, "group_s", 30, 0, 3600),
        resolved=_flag(r, defaults, "resolved"), public_url=public_url)


def _flag(r: _Reader, d: dict[str, Any], key: str) -> bool:
    value = d.get(key, True)
    if not isinstance(value, bool):
        raise r.fail("[defaults]", f"{key} must be true or false")
    return value


def _ca_file(r: _Reader, where: str, c: dict[str, Any]) -> str:
    path = r.text(where, c, "ca_file")
    if path and not Path(path).expanduser().is_file():
        raise r.fail(where, f"ca_file = {path!r}: no such file; name the CA certificate (PEM) that "
                            f"issued the mail server's certificate, or leave it out for the system's")
    return str(Path(path).expanduser()) if path else ""


def _missing(r: _Reader, where: str, key: str) -> str:
    raise r.fail(where, f"{key} is required for mail")


def _contact_names(r: _Reader, where: str, d: dict[str, Any], contacts: dict[str, Contact]
                   ) -> tuple[str, ...]:
    names = r.names(where, d, "contacts")
    for n in names:
        if n not in contacts:
            raise r.fail(where, f"contacts: no contact point is named {n!r}; "
                                f"the contact points are {', '.join(contacts) or 'none'}")
    return names
