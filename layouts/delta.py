"""Send a chart's data only when it changed.

A page's callback runs on every new snapshot version, which in a busy hour is every tick,
but most of its figures change far less often: slow keys (curves, trends) every 30 s, a
heat map once a minute. The page keeps, in a ``dcc.Store`` in the browser, a short digest
of each part it last sent; the callback recomputes the parts, and only those whose digest
differs travel (the others are ``no_update``). That keeps a screen's traffic to what moved,
however many screens are open.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def digest(value: Any) -> str:
    """A short fingerprint of JSON-able data (16 hex digits)."""
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def digests(parts: Mapping[str, Any]) -> dict[str, str]:
    """The digest of every part: what a page puts in its store when it is built."""
    return {name: digest(value) for name, value in parts.items()}


def changed(parts: Mapping[str, Any], sent: Mapping[str, str] | None) -> tuple[set[str], dict[str, str]]:
    """The names of the parts that differ from what was sent, and the digests to keep now."""
    now = digests(parts)
    before = sent or {}
    return {name for name, d in now.items() if before.get(name) != d}, now
