"""The ``user`` and ``screen`` commands, and demo mode's one-time sign-in link.

They change the access file and the roles file, which the running server reads at every
sign-in and request: no restart, no store. Each change leaves an audit row.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ioc_app.settings import Settings

LINK_NOTE = "one-time sign-in link for the demo person (15 minutes, single use)"


def _access(settings: Settings) -> Any:
    from ioc_app.access import Access
    from ioc_app.audit import command_audit
    from ioc_app.runtime import redis_for

    access = Access(settings, redis_for(settings))
    access.audit = command_audit(settings)  # rows go to the spool the server takes up
    return access


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password from stdin, or a generated one to print once."""
    from ioc_app.accounts import generate_password

    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n"), False
    return generate_password(), True


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app import roles as roles_mod

    access = _access(settings)
    audit = access.audit.record
    if args.action == "list":
        book = access.roles.book()
        accounts = {a["name"]: a for a in access.accounts.rows()}
        for name in sorted(set(book.people) | set(accounts)):
            a = accounts.get(name)
            flags = [] if a is None else ["local"] + [f for f in ("disabled", "locked", "totp") if a[f]]
            print(f"{name}\t{','.join(book.people.get(name, ())) or '-'}\t{','.join(flags) or 'campus'}")
        return 0
    name = roles_mod.check_name(args.name)
    if args.action == "add":
        held = roles_mod.check_roles(args.roles.split(","))
        password, generated = _password(args)
        access.accounts.add(name, password)
        roles_mod.set_roles(settings.roles_path, name, held)
        audit("user.add", object=name, actor="cli", actor_kind="system", detail={"roles": list(held)})
        if generated:
            print(password)
            print(f"# one-time password of {name}: shown once; change it with 'user passwd {name}'",
                  file=sys.stderr)
        if roles_mod.NEEDS_TOTP.intersection(held):
            print(f"# {name} needs a second factor: run 'python -m ioc_app user totp {name}'",
                  file=sys.stderr)
    elif args.action == "roles":
        before = list(access.roles.book().roles_of(name))
        held = roles_mod.set_roles(settings.roles_path, name, args.roles.split(","))
        if set(before) - set(held):
            access.sessions.delete_person(name)  # taken roles end the sessions that had them
        audit("role.change", object=name, actor="cli", actor_kind="system",
              detail={"before": before, "after": list(held)})
        print(f"{name}: {','.join(held) or 'no role'}")
    elif args.action == "passwd":
        password, generated = _password(args)
        access.accounts.passwd(name, password)
        access.sessions.delete_person(name)
        audit("user.passwd", object=name, actor="cli", actor_kind="system")
        if generated:
            print(password)
    elif args.action == "unlock":
        access.accounts.unlock(name)
        audit("user.unlock", object=name, actor="cli", actor_kind="system")
        print(f"unlocked {name}")
    elif args.action == "disable":
        access.accounts.disable(name)
        ended = access.sessions.delete_person(name)
        audit("user.disable", object=name, actor="cli", actor_kind="system", detail={"sessions_ended": ended})
        print(f"disabled {name} ({ended} sessions ended)")
    elif args.action == "totp":
        import pyotp

        secret = access.accounts.new_totp(name)
        audit("user.totp", object=name, actor="cli", actor_kind="system")
        print(pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="IOC"))
        print(f"# scan this URI (or type the secret {secret}) into an authenticator app; shown once",
              file=sys.stderr)
    return 0


def cmd_screen(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app.pairing import SCREEN_PAGES, check_pages
    from ioc_app.roles import check_name

    access = _access(settings)
    if args.action == "list":
        for s in access.screens.all():
            print(f"{s.name}\t{','.join(s.pages)}\t{'revoked' if s.revoked else 'active'}")
        return 0
    name = check_name(args.name)
    if args.action == "add":
        pages = check_pages(args.pages.split(","), SCREEN_PAGES)
        code = access.screens.offer(name, pages)
        access.audit.record("screen.add", object=name, actor="cli", actor_kind="system",
                            detail={"pages": list(pages)})
        print(code)
        print(f"# pairing code for {name}: open {settings.base_url}/wall/pair?code={code} on the screen "
              f"within 10 minutes", file=sys.stderr)
    elif args.action == "revoke":
        access.screens.revoke(name)
        access.audit.record("screen.revoke", object=name, actor="cli", actor_kind="system")
        print(f"revoked {name}")
    return 0


def demo_link(settings: Settings) -> str:
    """Make sure the demo person exists and return a fresh one-time sign-in URL."""
    from ioc_app.access import DEMO_PERSON, DEMO_ROLES
    from ioc_app.accounts import generate_password
    from ioc_app.roles import set_roles

    access = _access(settings)
    if not access.accounts.exists(DEMO_PERSON):
        # nobody knows this password: the demo person signs in by links only
        access.accounts.add(DEMO_PERSON, generate_password() + generate_password(), no_totp=True)
    if tuple(access.roles.book().people.get(DEMO_PERSON, ())) != DEMO_ROLES:
        set_roles(settings.roles_path, DEMO_PERSON, DEMO_ROLES)
    return f"{settings.base_url}/auth/link/{access.accounts.new_link(DEMO_PERSON)}"


def add_parsers(sub: Any) -> None:
    from ioc_app.roles import ROLES

    user = sub.add_parser("user", help="local accounts and people's roles (works while the server runs)")
    usub = user.add_subparsers(dest="action", required=True)
    add = usub.add_parser("add", help="add a local account; prints a one-time password unless "
                                      "--password-stdin")
    add.add_argument("name")
    add.add_argument("--roles", required=True, help=f"comma-separated, of: {', '.join(ROLES)}")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    roles = usub.add_parser("roles", help="set a person's roles (local or campus account)")
    roles.add_argument("name")
    roles.add_argument("roles", help="comma-separated roles; empty ('') takes every role away")
    pw = usub.add_parser("passwd", help="set a new password (prints one unless --password-stdin)")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    for action, text in (("unlock", "lift a lockout"), ("disable", "disable and end their sessions"),
                         ("totp", "new TOTP secret; prints its otpauth:// URI once")):
        usub.add_parser(action, help=text).add_argument("name")
    usub.add_parser("list", help="people, roles and local account state")
    user.set_defaults(func=cmd_user)

    scr = sub.add_parser("screen", help="paired wall screens (works while the server runs)")
    ssub = scr.add_subparsers(dest="action", required=True)
    sadd = ssub.add_parser("add", help="prints a pairing code (10 minutes) for /wall/pair?code=")
    sadd.add_argument("name")
    sadd.add_argument("--pages", default="/", help="comma-separated pages, e.g. /,/gates,/network")
    ssub.add_parser("revoke", help="revoke a screen: it shows the revoked page within a minute"
                    ).add_argument("name")
    ssub.add_parser("list", help="paired screens")
    scr.set_defaults(func=cmd_screen)
