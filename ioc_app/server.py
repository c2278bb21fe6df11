"""Serving the app with gunicorn.

Embedded mode runs one worker process with threads: that worker owns the engine, the
scheduler and the web server. With a ClickHouse server, several workers may run (the
``Procfile``'s ``web`` process does the same through ``ioc_app.wsgi``, configured by
``ioc_app.gunicorn_conf``).

Threads: ``WEB_THREADS`` serve every route, and ``IOC_PUSH_HELD`` more are there for the
screens' requests parked until the next snapshot version (push, ``ioc_app.feed``): a parked
request never takes a thread that ingest or a page needs.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from ioc_app.settings import Settings

log = logging.getLogger("ioc.server")
#: the status with which a gunicorn worker tells its master that the app cannot load (it stops)
APP_LOAD_ERROR = 4
#: threads per worker for everything but the parked push requests
WEB_THREADS = 16


def threads_for(settings: Settings) -> int:
    """A worker's threads: the ones every route shares plus one per push request it may park."""
    return WEB_THREADS + settings.push_held


def release_screens_on_stop(worker: Any) -> None:
    """``post_worker_init``: on SIGTERM (a restart, a deploy), the screens parked on this
    worker are answered at once (``IOC-Push: closing``) instead of holding the graceful stop
    for up to their wait; they poll until a server answers again, then push again."""
    import signal
    import threading

    from ioc_app.runtime import EXTENSION as RUNTIME

    graceful = worker.handle_exit  # gunicorn's own handler: stop accepting, finish requests

    def handle_exit(sig: int, frame: Any) -> None:
        graceful(sig, frame)
        runtime = getattr(getattr(worker, "wsgi", None), "extensions", {}).get(RUNTIME)
        if runtime is not None:  # not in the signal handler: the board's lock may be taken
            threading.Thread(target=runtime.feed.push.close, name="ioc-push-close", daemon=True).start()

    signal.signal(signal.SIGTERM, handle_exit)


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # runs in the worker, after the fork: the engine must be opened by its owner
        from ioc_app import logs

        logs.configure()
        return boot(self.settings)


def boot(settings: Settings | None = None) -> Any:
    """The WSGI app, built in a worker. The master checked the dependencies before forking;
    one that went away since stops the worker with one line and gunicorn's "app failed to
    load" status, so the master shuts down instead of booting worker after worker."""
    import sys

    from ioc_app.app import create_app
    from ioc_app.preflight import as_unavailable
    from ioc_app.settings import load_settings

    settings = settings or load_settings()
    try:
        return create_app(settings).server
    except Exception as exc:
        missing = as_unavailable(exc, settings)
        if missing is None:
            raise
        print(f"ioc: {missing}", file=sys.stderr, flush=True)
        raise SystemExit(APP_LOAD_ERROR) from None


def _drain_on_exit(_server: Any, worker: Any) -> None:
    """On a graceful stop, write what the buffer holds before the worker exits (a kill
    loses nothing either: the log is replayed at the next start, this is just sooner)."""
    from ioc_app.runtime import EXTENSION as RUNTIME

    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get(RUNTIME) if app is not None else None
    if runtime is not None:
        if runtime.scheduler is not None:
            runtime.scheduler.shutdown(wait=False)
        if runtime.offload is not None:
            runtime.offload.close()
        runtime.writer.stop(drain=True, timeout=20)
        log.info("event=server.drained pending=%d", runtime.pipeline.buffer.depth)


def serve(settings: Settings, workers: int | None = None) -> int:
    # one process owns an embedded store or a local write-ahead log; with a ClickHouse
    # server and Redis, web workers only accept and read
    count = 1 if settings.embedded or not settings.redis_url else (workers or 2)
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": count,
        "worker_class": "gthread",
        # concurrent requests coalesce into one validation and one fsync; plus the push threads
        "threads": threads_for(settings),
        "timeout": 120,
        "graceful_timeout": 30,
        "accesslog": None,
        "preload_app": False,
        "worker_exit": _drain_on_exit,
        "post_worker_init": release_screens_on_stop,
    }
    log.info("event=server.start bind=%s workers=%d threads=%d push_held=%d", options["bind"], count,
             options["threads"], settings.push_held)
    _Gunicorn(settings, options).run()
    return 0
