"""The command line: run, migrate, version, token.

Commands that do not need the store (version, token) never open it, so they work while the
server owns the embedded engine.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ioc_app import __version__, logs
from ioc_app.settings import Settings, SettingsError, load_settings

log = logging.getLogger("ioc.cli")


def _store(settings: Settings) -> Any:
    from ioc_app.storage import Store

    return Store(settings.clickhouse_url, cluster=settings.clickhouse_cluster)


def cmd_version(_settings: Settings, _args: argparse.Namespace) -> int:
    print(f"ioc {__version__}")
    return 0


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from ioc_app.migrate import migrate

    store = _store(settings)
    ran = migrate(store)
    if ran:
        for m in ran:
            print(f"applied {m.version:04d}_{m.name} ({m.statements} statements)")
    else:
        print("schema is up to date")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app.server import serve

    return serve(settings, workers=args.workers)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.registry import BY_NAME
    from ioc_app import auth

    if args.action == "create":
        token = auth.create_token(settings.tokens_file, args.source, args.streams.split(","),
                                  set(BY_NAME))
        print(token)
        print(f"# token for {args.source}: shown once, store it in the source system now",
              file=sys.stderr)
    elif args.action == "revoke":
        auth.revoke_token(settings.tokens_file, args.source)
        print(f"revoked the token of {args.source}")
    else:
        for src in auth.list_sources(settings.tokens_file):
            print(f"{src.name}\t{','.join(src.streams)}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ioc_app", description="IOC operations center")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the web server (and, embedded, everything else)")
    run.add_argument("--workers", type=int, default=None,
                     help="web workers (server store only; embedded mode always uses one)")
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="create or upgrade the schema").set_defaults(func=cmd_migrate)
    sub.add_parser("version", help="print the version").set_defaults(func=cmd_version)
    tok = sub.add_parser("token", help="manage ingest tokens (hashes only are stored)")
    tsub = tok.add_subparsers(dest="action", required=True)
    create = tsub.add_parser("create", help="create a token for a source system; printed once")
    create.add_argument("source")
    create.add_argument("--streams", required=True, help="comma-separated stream names, or '*'")
    revoke = tsub.add_parser("revoke", help="revoke a source's token")
    revoke.add_argument("source")
    tsub.add_parser("list", help="list sources and their streams")
    tok.set_defaults(func=cmd_token)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.configure()
    try:
        settings = load_settings()
        return int(args.func(settings, args))
    except SettingsError as exc:
        print(f"ioc: configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the CLI's last line: one clear message, not a traceback
        from ioc_app.auth import TokenError
        from ioc_app.migrate import MigrationError
        from ioc_app.storage import StoreError

        if isinstance(exc, (StoreError, MigrationError, TokenError)):
            print(f"ioc: {exc}", file=sys.stderr)
            return 1
        raise
