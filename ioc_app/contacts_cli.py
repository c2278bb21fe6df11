"""``contacts check`` and ``contacts test``: set up contact points without waiting for an alert.

A robot key pasted wrong, a signing secret not set, a mail relay that refuses: a site finds
out when it configures the contact point, not at 3 a.m. ``check`` reads the file as the
server would (same checks, same messages); ``test`` sends one message, marked as a test, to
one contact point and says whether it was taken.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from ioc_app.settings import Settings


def add_parsers(sub: Any) -> None:
    contacts = sub.add_parser("contacts", help="alert contact points (IOC_CONTACTS): check the file, "
                                               "send a test message")
    csub = contacts.add_subparsers(dest="action", required=True)
    csub.add_parser("check", help="read the contacts file as the server would; list contact points "
                                  "and routes")
    test = csub.add_parser("test", help="send a test message to one contact point")
    test.add_argument("name", help="the contact point's name")
    contacts.set_defaults(func=cmd_contacts)


def cmd_contacts(settings: Settings, args: argparse.Namespace) -> int:
    from ioc_app.contacts import ContactsError, load_contacts

    try:
        contacts = load_contacts(settings.contacts, settings.public_url)
    except ContactsError as exc:
        print(f"ioc: {exc}", file=sys.stderr)
        return 2
    if args.action == "check":
        if not contacts.contacts:
            print("no contact points (IOC_CONTACTS is empty): alerts show on the wall only")
            return 0
        for c in contacts.contacts.values():
            quiet = f"{c.quiet.start:%H:%M}-{c.quiet.end:%H:%M}" if c.quiet else "-"
            print(f"contact {c.name}: {c.kind}, {c.lang}, quiet {quiet}")
        for i, r in enumerate(contacts.routes, 1):
            print(f"route {i}: severity {','.join(r.severity) or '*'} domain {','.join(r.domain) or '*'} "
                  f"rules {','.join(r.rules) or '*'} -> {', '.join(r.contacts)}")
        print(f"default -> {', '.join(contacts.default) or '(the wall only)'}")
        return 0
    contact = contacts.contacts.get(args.name)
    if contact is None:
        print(f"ioc: no contact point is named {args.name!r}; the contact points are "
              f"{', '.join(contacts.contacts) or 'none (set IOC_CONTACTS)'}", file=sys.stderr)
        return 2
    return _test(settings, contact, contacts.public_url)


def _test(settings: Settings, contact: Any, public_url: str) -> int:
    from ioc_app.contacts_send import DeliveryError, send
    from ioc_app.contacts_text import render
    from layouts.i18n import t

    now = datetime.now(UTC)
    alert = {"id": "contact_test", "severity": "info", "domain": "pipeline",
             "title_zh": t("notify.test", "zh").format(name=contact.name),
             "title_en": t("notify.test", "en").format(name=contact.name),
             "since": now.isoformat(), "value": None, "threshold": None}
    entries = [{"status": "firing", "alert": alert, "at": now.isoformat()}]
    try:
        send(contact, render(entries, contact.lang, settings.zone, public_url), entries)
    except DeliveryError as exc:
        print(f"ioc: contact point {contact.name}: {exc}", file=sys.stderr)
        return 1
    print(f"sent a test message to {contact.name} ({contact.kind})")
    return 0
