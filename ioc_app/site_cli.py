"""The ``site`` commands: check a catalogue, compare two, and start one from the offices' lists.

None of them opens the store or needs the server: a catalogue is written and checked before
the product runs with it (``IOC_SITE``), and a change is read with ``site diff`` before the
file is replaced. Problems are listed all at once, each with its file and line (or, for a
spreadsheet, its file, sheet and row).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ioc_app.settings import Settings

INIT_SHEETS = ("gates", "services", "majors", "links", "campuses", "departments")


def _fail(message: str) -> int:
    print(f"ioc: {message}", file=sys.stderr)
    return 1


def cmd_site_check(_settings: Settings | None, args: argparse.Namespace) -> int:
    from ingest.site import read_site

    site, problems = read_site(args.file)
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = sum(not p.warning for p in problems)
    if site is None or errors:
        return _fail(f"{args.file}: {errors} error{'s' if errors != 1 else ''} in the site catalogue; "
                     "fix each line above and run 'site check' again")
    counts = ", ".join(f"{n} {kind}" for kind, n in site.counts().items())
    print(f"{args.file}: ok ({counts}; version {site.digest[:12]})")
    return 0


def cmd_site_diff(_settings: Settings | None, args: argparse.Namespace) -> int:
    from ingest.site import load_site
    from ingest.site_diff import diff_sites, summary

    old, new = load_site(args.old), load_site(args.new)
    changes = diff_sites(old, new)
    for change in changes:
        print(change)
    print(f"# {summary(changes)} ({args.old} → {args.new})")
    return 0


def cmd_site_init(_settings: Settings | None, args: argparse.Namespace) -> int:
    from ingest.site_init import SheetError, build_catalogue

    out = Path(args.output)
    if out.exists() and not args.force:
        return _fail(f"{out} exists; give another -o path, or --force to replace it")
    missing = [f"--{flag.replace('_', '-')}" for flag in ("name_zh", "name_en") if not getattr(args, flag)]
    if missing:
        return _fail(f"site init needs the university's name: add {' and '.join(missing)} "
                     "(e.g. --name-zh 示范大学 --name-en 'Demo University')")
    sheets = {k: Path(getattr(args, k)) for k in INIT_SHEETS if getattr(args, k)}
    try:
        text, notes = build_catalogue(sheets, name_zh=args.name_zh, name_en=args.name_en,
                                      timezone=args.timezone)
    except SheetError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"{len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''} in the "
                     "spreadsheets; nothing was written: fix each row above and run 'site init' again")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail(f"cannot write {out} ({exc.strerror or exc}); give -o a path in a writable folder")
    print(f"wrote {out}")
    return cmd_site_check(None, argparse.Namespace(file=str(out)))


def add_parsers(sub: Any) -> None:
    site = sub.add_parser("site", help="check, compare or start a site catalogue (IOC_SITE)")
    ssub = site.add_subparsers(dest="action", required=True)
    check = ssub.add_parser("check", help="list every problem of a catalogue with its line")
    check.add_argument("file")
    check.set_defaults(func=cmd_site_check)
    diff = ssub.add_parser("diff", help="what replacing OLD by NEW adds, renames, removes and changes")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.set_defaults(func=cmd_site_diff)
    init = ssub.add_parser("init", help="build a catalogue from the offices' spreadsheets (.xlsx, .csv)")
    init.add_argument("--gates", required=True, help="校门/门岗 list: 校门名称, 门岗编号, 校区, 通道数")
    init.add_argument("--services", required=True, help="服务事项 list: 服务事项, 事项编码, 部门")
    init.add_argument("--majors", required=True, help="专业 list: 专业名称, 专业代码, 学院")
    init.add_argument("--links", required=True, help="出口链路 list: 链路名称, 带宽 (10G, 1000M…)")
    init.add_argument("--campuses", help="校区 list: 校区名称, 校区代码 (default: the gates' 校区)")
    init.add_argument("--departments", help="部门 list: 部门名称, 部门编码 (default: the services' 部门)")
    init.add_argument("--name-zh", help="the university's name in Chinese")
    init.add_argument("--name-en", help="the university's name in English")
    init.add_argument("--timezone", default="Asia/Shanghai", help="IANA zone (default Asia/Shanghai)")
    init.add_argument("-o", "--output", required=True, help="the catalogue to write (.toml)")
    init.add_argument("--force", action="store_true", help="replace the output file if it exists")
    init.set_defaults(func=cmd_site_init)
