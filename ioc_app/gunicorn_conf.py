"""gunicorn settings of the scaled mode's web processes (``Procfile``:
``gunicorn -c python:ioc_app.gunicorn_conf ioc_app.wsgi:server``).

The same threads as ``python -m ioc_app run`` — the ones every route shares plus one per
push request a worker may park (``IOC_PUSH_HELD``) — and the same release of parked screens
on a graceful stop. Worker count and address stay on the command line.
"""

from __future__ import annotations

from ioc_app.server import release_screens_on_stop, threads_for
from ioc_app.settings import load_settings

worker_class = "gthread"
threads = threads_for(load_settings())
post_worker_init = release_screens_on_stop
