"""The session-signing secret: given, or generated once and kept under ``./var/``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ioc_app.settings import Settings, SettingsError

KNOWN_WEAK = {"", "secret", "changeme", "change-me", "dev", "development", "default", "ioc",
              "password", "test", "please-change-me", "your-secret-key"}
FILE = "secret_key"


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
    path = settings.var_dir / FILE
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return Path(path).read_text().strip()
