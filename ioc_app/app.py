"""The app factory: settings → store → core → Dash pages, in one place."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
import flask_bootstrap
from flask import jsonify, send_from_directory

from ingest.pipeline import Pipeline, build_ingest
from ingest.site import Site, load_site, store_reference
from ingest.writer import Writer
from ioc_app import __version__, read
from ioc_app.api import api
from ioc_app.auth import TokenBook
from ioc_app.core import SnapshotCore
from ioc_app.migrate import migrate
from ioc_app.ops import ops, registry_for
from ioc_app.query_api import init_query_api
from ioc_app.secret import secret_key
from ioc_app.settings import Settings, load_settings
from ioc_app.storage import Store
from layouts.i18n import t

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP_DIR = Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css"
BOOTSTRAP_URL = "/vendor/bootstrap/bootstrap.min.css"
log = logging.getLogger("ioc.app")

INDEX = """<!DOCTYPE html>
<html lang="zh-CN" data-bs-theme="dark">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


@dataclass
class Runtime:
    """What the server holds while it runs; pages reach it only through ``ioc_app.read``."""

    settings: Settings
    site: Site
    store: Store
    core: SnapshotCore
    tokens: TokenBook
    pipeline: Pipeline
    writer: Writer
    scheduler: Any = None
    registry: Any = None


def create_app(settings: Settings | None = None, store: Store | None = None,
               background: bool = True) -> dash.Dash:
    """Build the Dash app (``app.server`` is the WSGI app for gunicorn).

    In embedded mode this process owns the store: it migrates it and, with demo mode on,
    runs the demo feed here (the scheduler never runs in more than one process).
    """
    settings = settings or load_settings()
    site = load_site(settings.site)  # a broken catalogue stops here, naming the line
    store = store or Store(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
    if settings.embedded:
        migrate(store)
        store_reference(store, site)
    core = SnapshotCore(store, settings.zone, settings.tick_s)
    pipeline, writer = ingest_for(settings, store, consumer=f"{socket.gethostname()}-web")
    runtime = Runtime(settings, site, store, core, TokenBook(settings.tokens_file), pipeline, writer)
    if background:
        if settings.embedded or not settings.redis_url:
            writer.start()  # with Redis and a server store, the ingest processes write
        if settings.demo and settings.embedded:
            runtime.scheduler = _start_demo(settings, site, pipeline)

    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        external_stylesheets=[BOOTSTRAP_URL],
        title=t("app.title"),
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    app.index_string = INDEX
    server = app.server
    server.secret_key = secret_key(settings)
    server.extensions[read.EXTENSION] = runtime
    server.register_blueprint(api)
    runtime.registry = registry_for(runtime)
    server.register_blueprint(ops)
    init_query_api(server, settings)

    @server.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok", version=__version__)

    @server.get("/vendor/bootstrap/<path:name>")
    def bootstrap_css(name: str) -> Any:
        return send_from_directory(BOOTSTRAP_DIR, name, max_age=86_400)

    app.layout = dash.html.Div(dash.page_container, id="ioc-root")
    log.info("event=app.created store=%s database=%s demo=%s", "embedded" if settings.embedded
             else "server", store.database, settings.demo)
    return app


def ingest_for(settings: Settings, store: Store, consumer: str | None = None,
               claim_idle_ms: int | None = None) -> tuple[Pipeline, Writer]:
    """The ingest path these settings call for (Redis when configured, else the local log)."""
    return build_ingest(store, wal_dir=settings.wal_dir, redis_url=settings.redis_url,
                        redis_relaxed=settings.redis_durability == "relaxed", consumer=consumer,
                        claim_idle_ms=claim_idle_ms)


def _start_demo(settings: Settings, site: Site, pipeline: Pipeline) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler

    from ingest.sim import World
    from ioc_app.demo_feed import DemoFeed

    feed = DemoFeed(pipeline, World(site, settings.zone))
    scheduler = BackgroundScheduler(timezone=settings.zone)
    scheduler.add_job(feed.tick, "interval", seconds=5, id="demo-feed", max_instances=1,
                      coalesce=True, next_run_time=None)
    scheduler.start()
    feed.tick()  # today's traffic so far, before the first page is served
    return scheduler
