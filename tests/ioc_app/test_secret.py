"""The signing secret: whatever its origin (environment, file, generator) it must look like at
least 128 bits of randomness, or the start stops with one line that says what to do."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ioc_app.secret import generate, secret_key, weakness
from ioc_app.settings import Settings, SettingsError
from tests.conftest import ROOT, free_port, product_env

WEAK = ["changeme", "secret", "short-key", "a" * 64, "password123", "Password123456789012345!",
        "abcabcabcabcabcabcabcabcabcabcabcabc", "0123456789abcdef0123456789abcdef",
        "k3Y9-k3Y9-k3Y9-k3Y9-k3Y9-k3Y9-k3Y9", "thisismylongsessionsigningkeyforioc",
        "my-ioc-key-2026-production-server", "deadbeef" * 4,
        pytest.param(secrets.token_hex(8), id="random-64-bits-hex"),  # ids: the same on every worker
        pytest.param(secrets.token_urlsafe(12), id="random-72-bits")]


def test_generated_once_and_kept(tmp_path: Path) -> None:
    s = Settings(tokens_file=str(tmp_path / "var" / "tokens.toml"))
    first = secret_key(s)
    assert len(first) >= 32 and secret_key(s) == first and weakness(first) is None
    assert oct((tmp_path / "var" / "secret_key").stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize("weak", WEAK)
def test_weak_keys_from_the_environment_are_refused(weak: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"IOC_SECRET_KEY is .*token_urlsafe") as caught:
        secret_key(Settings(secret_key=weak, tokens_file=str(tmp_path / "tokens.toml")))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("weak", ["changeme", "a" * 64, "password123",
                                  pytest.param(secrets.token_hex(8), id="random-64-bits")])
def test_a_weak_key_in_the_file_is_refused(weak: str, tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text(weak + "\n")
    with pytest.raises(SettingsError, match=r"secret key in .*secret_key is .*delete the file"):
        secret_key(Settings(tokens_file=str(tmp_path / "tokens.toml")))


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(16), lambda: secrets.token_hex(16),
                                  lambda: secrets.token_urlsafe(32), lambda: secrets.token_hex(32),
                                  lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
                                  generate])
def test_random_keys_of_128_bits_or_more_pass(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):  # the checks are heuristics: they must not refuse real random keys
        key = make()
        assert weakness(key) is None, key
    assert secret_key(Settings(secret_key=key, tokens_file=str(tmp_path / "t.toml"))) == key


def test_the_start_stops_with_one_line_saying_what_to_do(tmp_path: Path) -> None:
    env = product_env(tmp_path, IOC_SECRET_KEY="changeme-changeme", IOC_PORT=str(free_port()))
    # its own process group: a server that did start (the check missing) is ended whole
    proc = subprocess.Popen([sys.executable, "-m", "ioc_app", "run"], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the server started with a weak signing key")
    lines = stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, stderr
    assert lines[0].startswith("ioc: configuration error: IOC_SECRET_KEY is built on the common word")
    assert "secrets.token_urlsafe(32)" in lines[0] and "changeme-changeme" not in lines[0]
