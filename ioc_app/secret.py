"""The product's keys: the session-signing secret (given, or generated once) and the site key
of pseudonyms and redaction hashes (always generated), kept under ``./var/``, owner-only."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from ioc_app.settings import Settings, SettingsError

KNOWN_WEAK = {"", "secret", "changeme", "change-me", "dev", "development", "default", "ioc",
              "password", "test", "please-change-me", "your-secret-key"}
FILE = "secret_key"
SITE_KEY_FILE = "site_key"


def _owner_only_file(path: Path, make: str) -> str:
    """The content of ``path``, created 0600 with ``make`` when it does not exist yet; a file
    that has become readable by others is made owner-only again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made before, or by another process just now
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(make + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    for _ in range(100):  # another process may have created it and not written it yet
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.02)
    raise SettingsError(f"{path} is empty; delete it to have a new key generated")


def site_key(settings: Settings) -> bytes:
    """The site key: keys the pseudonyms of imported identifiers (考生号, ID numbers) and the
    hashes that stand in for personal data in dead letters. Generated on first use beside the
    secret key; keep it with the backups of the store (a new key gives the same person a
    new pseudonym), and never share it."""
    return bytes.fromhex(_owner_only_file(settings.var_dir / SITE_KEY_FILE, secrets.token_hex(32)))


def secret_key(settings: Settings) -> str:
    """The key to sign sessions with; a known default or a short key is refused."""
    if settings.secret_key:
        if settings.secret_key.lower() in KNOWN_WEAK or len(settings.secret_key) < 16:
            raise SettingsError(
                "IOC_SECRET_KEY is a known default or shorter than 16 characters; set a random "
                "value (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))') "
                "or leave it empty to have one generated under ./var/"
            )
        return settings.secret_key
    return _owner_only_file(settings.var_dir / FILE, secrets.token_urlsafe(32))
