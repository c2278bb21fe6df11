from __future__ import annotations

from pathlib import Path

import pytest

from ioc_app.secret import secret_key
from ioc_app.settings import Settings, SettingsError


def test_generated_once_and_kept(tmp_path: Path) -> None:
    s = Settings(tokens_file=str(tmp_path / "var" / "tokens.toml"))
    first = secret_key(s)
    assert len(first) >= 32 and secret_key(s) == first
    assert oct((tmp_path / "var" / "secret_key").stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize("weak", ["changeme", "secret", "short-key"])
def test_known_or_short_keys_are_refused(weak: str) -> None:
    with pytest.raises(SettingsError, match="IOC_SECRET_KEY"):
        secret_key(Settings(secret_key=weak))
