"""``python -m ioc_app pseudonym``: the keyed pseudonyms of 考生号 / ID numbers, for the systems
that send events through the API and must derive ``candidate_key`` (``student_key``,
``person_key``) exactly as file import does.

The numbers are read from standard input, one per line — never from the command line, where
they would stay in the shell's history and in every process listing — and the output holds
no number: one pseudonym per input line, in order (an empty line gives an empty line, so the
output lines up with the input). Each value is trimmed like a spreadsheet cell at import and
pseudonymised by ``ingest.pii.pseudonym`` with the site key of this installation
(``ioc_app.secret.site_key``); the keyed hash is documented in docs/security.md.

The command never makes a site key: a new key would give every candidate pseudonyms that
match nothing stored. Without one (the server has not run here, or the settings point to
another var folder) it says where it looked and stops. Each run leaves an audit row
``pseudonym.derive`` with the number of values, never a value.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from ingest import pii
from ioc_app.settings import Settings


class NoSiteKey(RuntimeError):
    """This installation has no site key yet."""


def key_of(settings: Settings) -> bytes:
    """The site key import uses; refused (never generated) when there is none."""
    from ioc_app.secret import SITE_KEY_FILE, site_key

    path = settings.var_dir / SITE_KEY_FILE
    if not path.is_file():
        raise NoSiteKey(f"no site key at {path}: run this with the settings of the IOC server whose store "
                        f"holds the candidates (the same IOC_TOKENS_FILE, whose folder keeps site_key); a "
                        f"server makes its key when it first starts or imports a file")
    return site_key(settings)


def pseudonym_of(key: bytes, line: str) -> str:
    """One input line → its pseudonym ("" for a line with nothing but spaces and dashes)."""
    value = line.rstrip("\r\n").strip()
    if not re.sub(r"[\s-]", "", value):
        return ""
    return pii.pseudonym(key, value)


def run(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    """Read ``stdin`` to the end, write the pseudonyms to ``stdout``; returns the values done."""
    key = key_of(settings)
    done = 0
    for line in stdin:
        out = pseudonym_of(key, line)
        done += bool(out)
        stdout.write(out + "\n")
    stdout.flush()
    return done


def command(settings: Settings) -> int:
    """The command's body: exit status 0, or 1 without a site key."""
    from ioc_app.audit import command_audit

    if sys.stdin.isatty():
        print("# type or paste the numbers, one per line; end with Ctrl-D", file=sys.stderr)
    try:
        done = run(settings, sys.stdin, sys.stdout)
    except NoSiteKey as exc:
        print(f"ioc: {exc}", file=sys.stderr)
        return 1
    command_audit(settings).record("pseudonym.derive", object="stdin", actor="cli", actor_kind="system",
                                   detail={"values": done})
    return 0
