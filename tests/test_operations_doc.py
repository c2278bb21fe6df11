"""Every IOC command the runbook (docs/operations.md) tells an operator to run exists, with the
options it is given: a renamed subcommand or option fails here, not at 3 a.m."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from ioc_app.cli import parser

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
PREFIX = "python -m ioc_app"
#: the backup commands are documented ahead of their arrival on some branches: checked once known
ANNOUNCED = {"backup", "restore"}


def _subcommands() -> set[str]:
    # argparse keeps its subcommands in the subparsers action; no public accessor
    action = next(a for a in parser()._actions if a.dest == "command")
    return set(action.choices or {})  # type: ignore[arg-type]


def commands(text: str, known: set[str]) -> list[str]:
    """The command lines of the text: after ``python -m ioc_app`` in code, or inline code that
    starts with a subcommand (``token revoke <source>``)."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        for line in block.splitlines():
            found += re.findall(re.escape(PREFIX) + r" ([^#;|&]*)", line)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`]+)`", prose):
        span = " ".join(span.split())
        if span.startswith(PREFIX + " "):
            found.append(span[len(PREFIX) + 1:])
        elif span.split(" ", 1)[0] in known and " " in span:
            found.append(span)
    return [c.strip() for c in found if c.strip() and c.strip() != "…"]


def _argv(command: str) -> list[str]:
    command = re.sub(r"<[^>]*>", "x", command).replace("…", "x")
    return shlex.split(command)


def test_the_runbook_names_commands() -> None:
    found = commands(DOC.read_text(), _subcommands() | ANNOUNCED)
    assert len(found) > 20
    assert {c.split()[0] for c in found} >= {"run", "migrate", "token", "user", "screen", "deadletter",
                                             "backup", "restore", "version"}


def wrong_commands(text: str) -> list[str]:
    """The commands of ``text`` IOC's command line refuses."""
    known = _subcommands()
    wrong = []
    for command in commands(text, known | ANNOUNCED):
        argv = _argv(command)
        if argv[0] in ANNOUNCED and argv[0] not in known:
            continue
        try:
            parser().parse_args(argv)
        except SystemExit:
            wrong.append(command)
    return wrong


def test_every_command_of_the_runbook_exists() -> None:
    assert wrong_commands(DOC.read_text()) == []


@pytest.mark.parametrize("old, new, word", [
    ("`token revoke <source>`", "`token rotate <source>`", "rotate"),
    ("user add wang.li --roles", "user add wang.li --groups", "--groups"),
    ("deadletter replay --stream", "deadletter replay --streams", "--streams"),
])
def test_a_command_that_does_not_exist_is_noticed(old: str, new: str, word: str) -> None:
    text = DOC.read_text()
    assert old in text
    wrong = wrong_commands(text.replace(old, new))
    assert len(wrong) == 1 and word in wrong[0] + " ", wrong


def test_every_alert_rule_has_its_runbook_entry() -> None:
    """A new rule in the shipped rules file needs its "what it means, what to do" entry."""
    rules = tomllib.loads((DOC.parents[1] / "ioc_app" / "alerts.toml").read_text())["rule"]
    entries = set(re.findall(r"\*\*`([a-z0-9_]+)` — ", DOC.read_text()))
    assert len(rules) >= 11
    assert {r["id"] for r in rules} - entries == set()
