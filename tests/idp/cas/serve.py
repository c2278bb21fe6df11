"""Start the test CAS server: migrate a fresh SQLite file, add the users and the service
pattern, then serve over HTTP on 127.0.0.1 until killed.

Run as ``python -m tests.idp.cas.serve`` from the repository root (the ``cas_server``
fixture does).  Environment:

``IDP_CAS_DIR``    directory of the SQLite file (required: the fixture's temp dir)
``IDP_CAS_PORT``   port to listen on; 0 (the default) lets the system pick a free one
``IDP_CAS_USERS``  JSON list of ``{login, password, name, email, groups}``

When it listens it prints ``READY <port>`` on stdout.  Werkzeug's threaded server is used
rather than ``runserver`` so the port can be 0 and a browser's parallel requests are
answered while a logout waits on its back-channel single-logout POSTs.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

LOOPBACK_SERVICES = r"^http://127\.0\.0\.1(:\d+)?/.*"


def seed(users: list[dict[str, Any]]) -> None:
    """Create the users (Django users + groups) and allow any loopback service, with
    single logout and every attribute released."""
    from cas_server.models import ReplaceAttributName, ServicePattern
    from django.contrib.auth.models import Group, User

    for spec in users:
        user, _ = User.objects.get_or_create(username=spec["login"])
        user.email = spec.get("email", "")
        user.first_name = spec.get("name", "")
        user.set_password(spec["password"])
        user.save()
        user.groups.set([Group.objects.get_or_create(name=g)[0] for g in spec.get("groups", [])])

    pattern, _ = ServicePattern.objects.update_or_create(
        pattern=LOOPBACK_SERVICES,
        defaults={"name": "loopback services", "pos": 100, "single_log_out": True},
    )
    ReplaceAttributName.objects.get_or_create(name="*", replace="", service_pattern=pattern)


def main() -> None:
    """Prepare the database and serve until the process is killed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.idp.cas.settings")
    if not os.environ.get("IDP_CAS_DIR"):
        sys.exit("IDP_CAS_DIR is required: the directory of the server's SQLite file")

    import django
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from werkzeug.serving import make_server

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    seed(json.loads(os.environ.get("IDP_CAS_USERS") or "[]"))

    app = StaticFilesHandler(get_wsgi_application())
    server = make_server("127.0.0.1", int(os.environ.get("IDP_CAS_PORT") or 0), app, threaded=True)
    print(f"READY {server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
