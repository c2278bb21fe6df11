from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ingest.registry import BY_NAME
from ioc_app import auth


def test_create_verify_revoke_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    book = auth.TokenBook(path)
    token = auth.create_token(path, "gate-sys", ["gate.pass"], set(BY_NAME))
    assert token not in path.read_text()  # hashes only
    src = book.verify(token)
    assert src is not None and src.name == "gate-sys"
    assert src.may_write("gate.pass") and not src.may_write("service.call")
    assert book.verify(token + "x") is None
    other = auth.create_token(path, "all", ["*"], set(BY_NAME))
    book._checked = 0.0  # as if the recheck interval had passed
    assert book.verify(other).may_write("service.call")  # picked up without a restart
    auth.revoke_token(path, "gate-sys")
    os.utime(path, ns=(1, 1))  # a change within one mtime tick must still be seen
    time.sleep(auth.RECHECK_S + 0.05)
    assert book.verify(token) is None


def test_errors_say_what_to_change(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    with pytest.raises(auth.TokenError, match=r"unknown stream 'gate\.passes'"):
        auth.create_token(path, "x", ["gate.passes"], set(BY_NAME))
    with pytest.raises(auth.TokenError, match="no token for source 'nobody'"):
        auth.revoke_token(path, "nobody")
    with pytest.raises(auth.TokenError, match="letters, digits"):
        auth.create_token(path, "bad name", ["*"], set(BY_NAME))
