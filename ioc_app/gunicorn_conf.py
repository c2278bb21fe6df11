"""gunicorn settings of the scaled mode's web processes (``Procfile``:
``gunicorn -c python:ioc_app.gunicorn_conf ioc_app.wsgi:server``).

The same threads as ``python -m ioc_app run`` — the ones every route shares plus one per
push request a worker may park (``IOC_PUSH_HELD``) — and the same release of parked screens
on a graceful stop. Worker count and address stay on the command line.

The master checks what the workers will need before it forks any (``ioc_app.preflight``):
the settings, files and servers as it reads this file, the address once it knows it
(``on_starting``). A missing one stops gunicorn with one line and a non-zero status instead
of every worker's boot ending in a traceback.
"""

from __future__ import annotations

from typing import Any

from ioc_app.preflight import startup_check
from ioc_app.server import release_screens_on_stop, threads_for

settings = startup_check(("files", "var", "secret", "redis", "store"))

worker_class = "gthread"
threads = threads_for(settings)
post_worker_init = release_screens_on_stop


def on_starting(arbiter: Any) -> None:
    """The addresses gunicorn is told to listen on must be free; an embedded store has one
    owner, so one worker."""
    startup_check((), binds=arbiter.cfg.address, workers=arbiter.cfg.workers)
