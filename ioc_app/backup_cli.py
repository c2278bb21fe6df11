"""The ``backup`` and ``restore`` commands.

``backup`` works while the server runs: with a ClickHouse server, or an embedded store no
process owns, it takes the backup itself; when the running server owns the embedded store,
it hands the request to the server (``ioc_app.backup_handoff``) and waits for its answer.
``restore`` needs the server stopped. Refusals are one line (``ioc: …``) and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ioc_app.settings import Settings


def _line(m: Any) -> str:
    return (f"{m.id}\t{m.kind}\t{m.created_at:%Y-%m-%d %H:%M:%S}Z\tcut-off {m.cutoff:%Y-%m-%d %H:%M:%S}Z"
            f"\t{sum(m.sizes.values()):,} bytes\t{m.path}")


def _take(settings: Settings, args: argparse.Namespace) -> Any:
    from ioc_app.backup import BackupError, list_backups, new_backup_dir, take_backup

    root = Path(args.to).expanduser().resolve() if args.to else settings.backup_root
    base = None
    if args.incremental:
        done = list_backups(root)
        if not done:
            raise BackupError(f"no complete backup in {root} to build an incremental on: take a full "
                              f"one first (backup without --incremental)")
        base = done[-1].path
    dest = new_backup_dir(root)
    from ioc_app.storage import StoreBusy

    try:
        return take_backup(settings, dest, base=base)
    except StoreBusy:
        from ioc_app.backup_handoff import ask_server

        return ask_server(settings, dest, base)


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app.backup import BackupError, list_backups, verify_backup
    from ioc_app.backup_crypto import rotate

    try:
        if args.action is None:
            m = _take(settings, args)
            print(_line(m))
        elif args.action == "verify":
            m = verify_backup(settings, Path(args.dir))
            print(f"{_line(m)}\tverified ({len(m.files)} files)")
        elif args.action == "list":
            root = Path(args.dir).expanduser() if args.dir else settings.backup_root
            for m in list_backups(root):
                print(_line(m))
        elif args.action == "rotate-key":
            ring = rotate(settings)
            print(f"new backup key {ring.current_id} in {ring.path}; older keys kept: "
                  f"{', '.join(ring.ids()[1:])}")
            print("# copy the key file to where you keep it apart from the backups", file=sys.stderr)
    except BackupError as exc:
        print(f"ioc: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app.backup import BackupError, restore_backup

    try:
        m = restore_backup(settings, Path(args.from_dir))
    except BackupError as exc:
        print(f"ioc: {exc}", file=sys.stderr)
        return 1
    print(f"restored {m.id} ({m.kind}, cut-off {m.cutoff:%Y-%m-%d %H:%M:%S}Z); what it replaced is kept "
          f"beside it as *.before-restore-*")
    if m.store == "server":
        print("# the store is the ClickHouse server's: restore it there (docs/backup.md)", file=sys.stderr)
    return 0


def add_parsers(sub: Any) -> None:
    bk = sub.add_parser("backup", help="back up store, buffer and files, encrypted (works while the "
                                       "server runs); see docs/backup.md")
    bk.add_argument("--to", metavar="DIR", help="the folder backups go into (default IOC_BACKUP_DIR)")
    bk.add_argument("--incremental", action="store_true",
                    help="only what changed since the newest backup in that folder")
    bsub = bk.add_subparsers(dest="action", required=False)
    bsub.add_parser("verify", help="check a backup (and its bases) completely, without restoring"
                    ).add_argument("dir", help="the backup's folder")
    bsub.add_parser("list", help="complete backups, oldest first").add_argument(
        "dir", nargs="?", help="the folder of backups (default IOC_BACKUP_DIR)")
    bsub.add_parser("rotate-key", help="a new backup key; the old ones are kept to restore old backups")
    bk.set_defaults(func=cmd_backup)
    rs = sub.add_parser("restore", help="restore a backup over this installation (server stopped)")
    rs.add_argument("--from", dest="from_dir", required=True, metavar="DIR", help="the backup's folder")
    rs.set_defaults(func=cmd_restore)
