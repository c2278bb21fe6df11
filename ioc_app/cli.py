"""The command line: run, migrate, version, token, user, screen, and the rest below.

Commands that do not need the store (version, token) never open it, so they work while the
server owns the embedded engine.
"""

from __future__ import annotations

import argparse
import logging
import os
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
    from ingest.site import load_site, store_reference
    from ioc_app.migrate import migrate

    site = load_site(settings.site)
    store = _store(settings)
    ran = migrate(store)
    store_reference(store, site)
    if ran:
        for m in ran:
            print(f"applied {m.version:04d}_{m.name} ({m.statements} statements)")
    else:
        print("schema is up to date")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app.secret import secret_key
    from ioc_app.server import serve

    secret_key(settings)  # a weak key stops here in one line, not in a worker's traceback
    if args.migrate and not settings.embedded:  # the embedded server migrates as it opens the store
        cmd_migrate(settings, args)

    if settings.demo:
        from ioc_app.access_cli import LINK_NOTE, demo_link

        # on the terminal only (stdout), like a notebook server's token URL: the log (stderr)
        # never holds it
        print(f"\n  {LINK_NOTE}:\n  {demo_link(settings)}\n", flush=True)
    return serve(settings, workers=args.workers)


def _audit(settings: Settings) -> Any:
    """The audit trail of a command: rows go to the spool the server takes up."""
    from ioc_app.audit import command_audit

    return command_audit(settings)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.registry import BY_NAME
    from ioc_app import auth

    if args.action == "create":
        before = {s.name for s in auth.list_sources(settings.tokens_file)}
        token = auth.create_token(settings.tokens_file, args.source, args.streams.split(","),
                                  set(BY_NAME))
        held = {s.name: s.streams for s in auth.list_sources(settings.tokens_file)}[args.source]
        _audit(settings).record("token.create", object=args.source, actor="cli", actor_kind="system",
                                detail={"streams": list(held), "replaced": args.source in before})
        print(token)
        print(f"# token for {args.source}: shown once, store it in the source system now",
              file=sys.stderr)
    elif args.action == "revoke":
        auth.revoke_token(settings.tokens_file, args.source)
        _audit(settings).record("token.revoke", object=args.source, actor="cli", actor_kind="system")
        print(f"revoked the token of {args.source}")
    else:
        for src in auth.list_sources(settings.tokens_file):
            print(f"{src.name}\t{','.join(src.streams)}")
    return 0


def _local_ingest(settings: Settings) -> Any:
    """Store, write-ahead log, pipeline and a running writer, owned by this process."""
    from ioc_app.app import ingest_for
    from ioc_app.migrate import migrate

    store = _store(settings)
    migrate(store)
    pipeline, writer = ingest_for(settings, store)
    return pipeline, writer.start()


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from ingest.importer import ImportError_, import_files
    from ingest.registry import get_stream
    from ingest.site import load_site
    from ingest.site_codes import SiteCodes
    from ioc_app.importing import HttpSink, LocalSink, report, report_preview
    from ioc_app.secret import site_key

    try:
        stream = get_stream(args.stream)
    except KeyError as exc:
        print(f"ioc: {exc.args[0]}", file=sys.stderr)
        return 2
    paths = [Path(p) for p in args.files]
    codes = SiteCodes.of_site(load_site(settings.site))
    if args.dry_run:
        from ingest.import_preview import preview_files

        try:
            previews = preview_files(stream, paths, source=args.source, zone=settings.zone,
                                     site_key=site_key(settings), codes=codes, sheet=args.sheet)
        except ImportError_ as exc:
            print(f"ioc: {exc}", file=sys.stderr)
            return 1
        return report_preview(previews, stream, sys.stdout)
    writer = None
    if args.url:
        if not args.token:
            print("ioc: --url needs --token (a token allowed to write this stream)", file=sys.stderr)
            return 2
        try:
            sink: Any = HttpSink(args.url, args.token)
        except ValueError as exc:
            print(f"ioc: {exc}", file=sys.stderr)
            return 2
    else:
        pipeline, writer = _local_ingest(settings)
        sink = LocalSink(pipeline)
    try:
        summaries = import_files(sink, stream, paths, source=args.source, zone=settings.zone,
                                 site_key=site_key(settings), progress=not args.quiet,
                                 sheet=args.sheet, codes=codes)
    except ImportError_ as exc:
        print(f"ioc: {exc}", file=sys.stderr)
        return 1
    finally:
        if writer is not None:
            writer.stop(drain=True, timeout=600)
    unsent = getattr(sink, "unsent", 0)
    bad = report(summaries, stream, sys.stdout) - unsent
    if unsent:
        print(f"{unsent} rows with names the catalogue does not know were not sent (the server "
              f"keeps no dead letter of them): correct them and import those rows again")
    if bad:
        print(f"{bad} rejected rows are kept as dead letters: python -m ioc_app deadletter list "
              f"--stream {stream.name}")
    if writer is not None and writer.failures:
        print("ioc: the store refused inserts; the rows stay in the ingest buffer and are written "
              "at the next start", file=sys.stderr)
        return 1
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Generate history through the ingest path (the same validation, dedup and writer)."""
    import time
    from pathlib import Path

    from ingest.sim import World
    from ingest.sim.backfill import backfill
    from ingest.site import load_site
    from ioc_app.secret import site_key

    if args.days <= 0 or args.scale <= 0:
        print("ioc: --days and --scale must be positive", file=sys.stderr)
        return 2
    from datetime import datetime

    site = load_site(settings.site)
    end_ms = int(time.time() * 1000)
    start_ms = end_ms - int(args.days * 86_400_000)
    only = None
    if args.season is not None:  # one admission season (July–September), admissions only
        this_year = datetime.now(settings.zone).year
        if not 2000 <= args.season <= this_year:
            print(f"ioc: --season must be a year from 2000 to {this_year}", file=sys.stderr)
            return 2
        start_ms = int(datetime(args.season, 7, 1, tzinfo=settings.zone).timestamp() * 1000)
        end_ms = min(end_ms, int(datetime(args.season, 10, 1, tzinfo=settings.zone).timestamp() * 1000))
        only = ("enrollment",)
    pipeline, writer = _local_ingest(settings)
    world = World(site, settings.zone, seed=args.seed, scale=args.scale, pseudonym_key=site_key(settings))
    started = time.monotonic()
    counts = backfill(lambda stream, events: pipeline.submit(stream, events, source="simulator"),
                      world, start_ms, end_ms, truth=Path(args.truth) if args.truth else None,
                      progress=not args.quiet, only=only)
    writer.stop(drain=True, timeout=600)
    elapsed = time.monotonic() - started
    total = sum(counts.values())
    for stream, n in sorted(counts.items()):
        print(f"{stream}\t{n}")
    print(f"total\t{total}\t({total / elapsed:,.0f} events/s over {elapsed:.1f} s)")
    if pipeline.buffer.depth:
        print("ioc: some events are still buffered (the store refused inserts); they are written "
              "at the next start", file=sys.stderr)
        return 1
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    """The scaled mode's writer process: drain the Redis buffer into ClickHouse until stopped."""
    import signal
    import socket
    import threading

    from ioc_app.app import ingest_for
    from ioc_app.migrate import migrate

    if not settings.redis_url:
        print("ioc: the ingest process drains the Redis buffer: set IOC_REDIS_URL (without Redis "
              "the web process writes its own buffer)", file=sys.stderr)
        return 2
    store = _store(settings)
    migrate(store)
    consumer = args.consumer or f"{socket.gethostname()}-ingest-{os.getpid()}"
    _, writer = ingest_for(settings, store, consumer=consumer,
                           claim_idle_ms=int(args.claim_idle_s * 1000))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    writer.start()
    log.info("event=ingest.started consumer=%s", consumer)
    stop.wait()
    writer.stop(drain=True, timeout=30)
    log.info("event=ingest.stopped consumer=%s rows=%d", consumer, writer.inserted_rows)
    return 0


def cmd_scheduler(settings: Settings, _args: argparse.Namespace) -> int:
    """The scaled mode's scheduler process: the aggregation core, leader-elected in Redis."""
    import signal
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from ingest.commits import CommitListener
    from ioc_app.app import core_for
    from ioc_app.migrate import migrate
    from ioc_app.runtime import redis_for

    if not settings.redis_url:
        print("ioc: the scheduler process publishes the snapshot through Redis: set IOC_REDIS_URL "
              "(without Redis the web process runs the core itself)", file=sys.stderr)
        return 2
    store = _store(settings)
    migrate(store)
    core = core_for(settings, store, redis_for(settings))
    # commits of the ingest processes, announced through Redis (``ingest.commits``)
    listener = CommitListener(redis_for(settings), core.committed).start()
    scheduler = BackgroundScheduler(timezone=settings.zone)
    core.schedule(scheduler)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    core.warm()
    scheduler.start()
    log.info("event=scheduler.started node=%s leader=%s", core.leader.me, core.leader.held)
    stop.wait()
    scheduler.shutdown(wait=True)
    listener.close()
    core.close()
    log.info("event=scheduler.stopped ticks=%d", core.stats.ticks)
    return 0


def cmd_deadletter(settings: Settings, args: argparse.Namespace) -> int:
    import orjson

    from metrics.deadletter import list_dead_letters

    if args.action == "list":
        frame = list_dead_letters(_store(settings), args.stream, args.limit)
        for row in frame.iter_rows(named=True):
            print(orjson.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                for k, v in row.items() if k != "errors"}).decode())
        print(f"# {frame.height} open dead letters", file=sys.stderr)
        return 0
    fixes: dict[str, Any] = {}
    if args.fixes:
        with open(args.fixes, "rb") as fh:
            for line in fh:
                if line.strip():
                    item = orjson.loads(line)
                    fixes[str(item["id"])] = item["event"]
    pipeline, writer = _local_ingest(settings)
    ids = list(args.id or []) + [i for i in fixes if i not in (args.id or [])]
    letters = list_dead_letters(pipeline.store, args.stream, args.limit, ids)
    summary = pipeline.replay(letters, fixes)
    writer.stop(drain=True)
    if fixes:
        from ingest.deadletter import fixed_fields

        _audit(settings).record("deadletter.fix", object="deadletter", actor="cli",
                                actor_kind="system", detail={**fixed_fields(letters, fixes), **summary})
    print(f"letters {letters.height}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    return 0


def cmd_pseudonym(settings: Settings, _args: argparse.Namespace) -> int:
    from ioc_app.pseudonyms import command

    return command(settings)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ioc_app", description="IOC operations center")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the web server (and, embedded, everything else)")
    run.add_argument("--workers", type=int, default=None,
                     help="web workers (server store only; embedded mode always uses one)")
    run.add_argument("--migrate", action="store_true",
                     help="create or upgrade the schema first (what ./dev run does)")
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

    imp = sub.add_parser("import", help="import CSV, NDJSON, Parquet or XLSX files into a stream")
    imp.add_argument("stream", help="the stream, e.g. enrollment.plan")
    imp.add_argument("files", nargs="+", help="files (.csv .ndjson/.jsonl .parquet .xlsx)")
    imp.add_argument("--source", default="file-import", help="source name recorded with the rows")
    imp.add_argument("--url", help="send to a running server instead (e.g. http://127.0.0.1:8050)")
    imp.add_argument("--token", help="ingest token for --url")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.add_argument("--sheet", help="the sheet of an .xlsx workbook (default: the only sheet with "
                                     "the stream's headers)")
    imp.add_argument("--dry-run", action="store_true",
                     help="show what would be imported and every row that would be refused; store nothing")
    imp.set_defaults(func=cmd_import)

    ing = sub.add_parser("ingest", help="scaled mode: write the Redis buffer into ClickHouse")
    ing.add_argument("--consumer", help="a stable consumer name (default: host-pid); a restarted "
                                        "consumer with the same name resumes its own pending batches")
    ing.add_argument("--claim-idle-s", type=float, default=60.0,
                     help="take over batches of a consumer that has been silent this long "
                          "(longer than the slowest insert; default 60)")
    ing.set_defaults(func=cmd_ingest)

    sub.add_parser("scheduler", help="scaled mode: run the aggregation core (one leader via Redis)"
                   ).set_defaults(func=cmd_scheduler)
    sim = sub.add_parser("simulate", help="generate history through the ingest path")
    sim.add_argument("--days", type=float, default=7, help="how many days back from now")
    sim.add_argument("--scale", type=float, default=1.0, help="multiply volumes (100 ≈ a province)")
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument("--truth", help="also write every event produced to Parquet in this folder")
    sim.add_argument("--season", type=int, help="instead: that year's admission season and "
                                                 "check-in (July–September), e.g. out of season")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(func=cmd_simulate)

    dl = sub.add_parser("deadletter", help="list or replay rejected events")
    dsub = dl.add_subparsers(dest="action", required=True)
    dlist = dsub.add_parser("list", help="open dead letters as JSON lines, newest first")
    dlist.add_argument("--stream")
    dlist.add_argument("--limit", type=int, default=100)
    drep = dsub.add_parser("replay", help="re-validate letters; fixed events go in")
    drep.add_argument("--stream")
    drep.add_argument("--id", action="append", help="a letter id (repeatable)")
    drep.add_argument("--limit", type=int, default=10_000)
    drep.add_argument("--fixes", help="NDJSON file of {\"id\": …, \"event\": {corrected event}}")
    dl.set_defaults(func=cmd_deadletter)
    sub.add_parser("pseudonym", help="the keyed pseudonym of each 考生号 / ID number read from stdin "
                                     "(one per line), as import derives candidate_key"
                   ).set_defaults(func=cmd_pseudonym)
    from ioc_app import backup_cli
    from ioc_app.access_cli import add_parsers
    from ioc_app.buffer_ship import add_parsers as add_buffer_parsers
    from ioc_app.contacts_cli import add_parsers as contacts_parsers
    from ioc_app.site_cli import add_parsers as site_parsers

    add_parsers(sub)
    add_buffer_parsers(sub)  # restore-buffer
    __import__("ioc_app.board_cli").board_cli.add_parsers(sub)
    site_parsers(sub)  # site check | diff | init
    contacts_parsers(sub)
    backup_cli.add_parsers(sub)  # backup | restore
    return p


def main(argv: list[str] | None = None) -> int:
    from ioc_app.preflight import Unavailable, as_unavailable, check, needs_of

    args = parser().parse_args(argv)
    logs.configure()
    settings = None
    try:
        settings = load_settings()
        check(settings, needs_of(args))  # what the command needs, before it starts
        return int(args.func(settings, args))
    except SettingsError as exc:
        print(f"ioc: configuration error: {exc}", file=sys.stderr)
        return 2
    except Unavailable as exc:  # a dependency missing: what, where, what to do
        print(f"ioc: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the CLI's last line: one clear message, not a traceback
        from ingest.site import SiteError
        from ioc_app.accounts import AccountError
        from ioc_app.auth import TokenError
        from ioc_app.migrate import MigrationError
        from ioc_app.pairing import ScreenError
        from ioc_app.roles import RolesError
        from ioc_app.storage import StoreError

        missing = as_unavailable(exc, settings)  # one that went away after the checks
        if missing is not None:
            print(f"ioc: {missing}", file=sys.stderr)
            return 1
        if isinstance(exc, (StoreError, MigrationError, TokenError, SiteError, AccountError, RolesError,
                            ScreenError)):
            print(f"ioc: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        raise
