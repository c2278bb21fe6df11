"""Structured logs: one line per event, ``key=value`` pairs, UTC timestamps.

Every line is one event, whatever a value holds: carriage returns, line feeds and the other
control characters (and Unicode's line and paragraph separators) are written escaped —
``\\n``, ``\\r``, ``\\x1b``, ``\\u2028`` — in the message, its arguments and a traceback, so a
value a client sent (``?screen=%0Aevent=admin.login``) cannot start a forged line.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable

#: C0 controls, DEL, C1 controls (NEL among them) and the Unicode line/paragraph separators
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """``text`` on one line: every control character written as its escape."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), m.group().encode("unicode_escape").decode()), text)


class KeyValueFormatter(logging.Formatter):
    """``ts=… level=… logger=… <message>``; messages themselves are ``event=… k=v`` pairs."""

    converter: Callable[[float | None], time.struct_time] = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        ts = self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z"
        line = f"ts={ts} level={record.levelname.lower()} logger={record.name} {record.getMessage()}"
        if record.exc_info:  # a traceback as one quoted value (repr escapes its line breaks)
            line += f" exc={self.formatException(record.exc_info)!r}"
        return escape(line)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("werkzeug", "apscheduler", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
