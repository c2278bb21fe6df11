"""``board check FILE…``: a board file judged as the server would judge it, before it is put
on a wall. Each problem is one line ``file:line: what to change``; the exit status is 1 when
any file has one. Needs neither the store nor a running server.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ioc_app.settings import Settings


def cmd_board(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app.boards_check import check_file

    failed = 0
    for name in args.files:
        board, problems = check_file(name, zone=settings.zone)
        for problem in problems:
            print(f"ioc: {problem}", file=sys.stderr)
        if board is None:
            failed += 1
            continue
        print(f"{name}: board {board.slug!r} is fine ({len(board.tiles)} tiles, "
              f"{len(board.questions)} questions; /boards/{board.slug})")
    return 1 if failed else 0


def add_parsers(sub: Any) -> None:
    board = sub.add_parser("board", help="boards from files (专项指标大屏): check one before showing it")
    bsub = board.add_subparsers(dest="action", required=True)
    chk = bsub.add_parser("check", help="every problem of board files, as file:line (exit 1 when any)")
    chk.add_argument("files", nargs="+", metavar="FILE")
    board.set_defaults(func=cmd_board)
