"""The app factory: settings → store → core → Dash pages, in one place."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import dash
import flask_bootstrap
from flask import jsonify, send_file, send_from_directory

from ingest.offload import Offload
from ingest.pipeline import Pipeline, build_ingest
from ingest.site import Site, load_site, store_reference
from ingest.writer import BATCH_AGE_S, Writer
from ioc_app import __version__, roles
from ioc_app.access import EXTENSION, Access
from ioc_app.audit import attach_server as attach_audit
from ioc_app.auth import TokenBook
from ioc_app.backup_handoff import serve_requests as serve_backup_requests
from ioc_app.backup_schedule import BackupSchedule
from ioc_app.buffer_ship import start_shipping
from ioc_app.core import SnapshotCore, domains
from ioc_app.feed import RedisFeed
from ioc_app.gate import install as install_gate
from ioc_app.migrate import migrate
from ioc_app.names import names_of
from ioc_app.plain import PlainPages
from ioc_app.routes.api import api
from ioc_app.routes.audit_api import audit_api
from ioc_app.routes.export_api import export_api
from ioc_app.routes.notices_export import notices_export
from ioc_app.routes.ops import observe_requests, ops, registry_for
from ioc_app.routes.people_admin import people_api
from ioc_app.routes.quality_export import quality_export
from ioc_app.routes.query_api import init_query_api, query_api
from ioc_app.routes.screen_pairing import pairing_api, pairing_page
from ioc_app.routes.screens import screens_api
from ioc_app.routes.signin import limit_downloads, make_limiter, signin
from ioc_app.routes.snapshot_api import snapshot_api
from ioc_app.routes.sso import sso
from ioc_app.runtime import EXTENSION as RUNTIME
from ioc_app.runtime import Runtime, redis_for
from ioc_app.screens import Screens
from ioc_app.secret import secret_key
from ioc_app.settings import Settings, load_settings
from ioc_app.storage import Store, StoreError
from ioc_app.wall import load_wall
from ioc_app.web import install as install_web
from layouts.i18n import t
from metrics.enrollment_notices import NoticeDays

ROOT = Path(__file__).resolve().parent.parent
AUDIT_EXTENSION = "ioc_audit"  # the audit spool's intake (``ioc_app.audit.SpoolIntake``)
BOOTSTRAP_DIR = Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css"
BOOTSTRAP_URL = "/vendor/bootstrap/bootstrap.min.css"
#: where Dash's graph component fetches plotly.js from (once, at a page's first chart): the app
#: answers it with IOC's own build holding only the trace types the pages draw
#: (``tools/plotly_build.py``) — a quarter of the full bundle's size and of the time a browser
#: spends evaluating it, which was the largest part of a page's load
PLOTLY_JS_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"
PLOTLY_JS = ROOT / "assets" / "vendor" / "plotly" / "plotly.min.js"
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


def create_app(settings: Settings | None = None, store: Store | None = None,
               background: bool = True) -> dash.Dash:
    """Build the Dash app (``app.server`` is the WSGI app for gunicorn).

    In embedded mode this process owns the store: it migrates it, runs the aggregation core
    and, with demo mode on, the demo feed (the scheduler never runs in more than one
    process). With a ClickHouse server and Redis, web workers only read the snapshot the
    ``scheduler`` process publishes.
    """
    settings = settings or load_settings()
    site = load_site(settings.site)  # a broken catalogue stops here, naming the line
    load_wall(settings.wall)  # and so does a broken wall playlist, naming the key
    roles.load(settings.roles_path)  # and a roles file with an unknown role, naming the line
    store = store or Store(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
    if settings.embedded:
        with Store.origin("startup"):
            migrate(store)
            store_reference(store, site)
    runs_core = settings.embedded or not settings.redis_url
    redis_client = redis_for(settings)
    core = core_for(settings, store, redis_client, site) if runs_core else None
    feed = core.feed if core else RedisFeed(redis_client, settings.tick_s)
    feed.push.limit = settings.push_held  # screens parked until the next version (push)
    pipeline, writer = ingest_for(settings, store, consumer=f"{socket.gethostname()}-web")
    if core is not None:
        writer.add_listener(core.committed)  # the core recomputes what a commit feeds
        core.backups.writer = writer  # paused while a scheduled backup runs
    runtime = Runtime(settings, site, store, feed, core, TokenBook(settings.tokens_file), pipeline,
                      writer, Screens(redis_client if not runs_core else None, settings.screen_silent_s),
                      offload_for(settings, pipeline))
    if background:
        if runs_core:
            writer.start()  # with Redis and a server store, the ingest processes write
        runtime.scheduler = _start_scheduler(settings, site, pipeline, core, runtime)
        if runtime.offload is not None:
            runtime.offload.warm()
    if core is not None:
        core.warm()  # the first page served already has figures

    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        external_stylesheets=[BOOTSTRAP_URL],
        title=t("app.title"),
        # None: the tab title stays while callbacks run (Dash's documented value; its
        # annotation allows only str)
        update_title=None,  # type: ignore[arg-type]
        suppress_callback_exceptions=True,
        serve_locally=True,
        # the sign-in pages' own files (served by /auth/static) and plotly.js (PLOTLY_JS_URL) are
        # not put into every page
        assets_path_ignore=["^auth$", "^vendor$"],
        # every callback is a plain function; in Dash's async mode (on whenever asgiref is
        # installed) each request would run Dash's page router, and each callback, through a
        # new event loop on a new thread — a third of a millisecond of CPU per request, the
        # ingest API's included
        use_async=False,
    )
    _share_page_callbacks()
    app.index_string = INDEX
    server = app.server
    server.secret_key = secret_key(settings)
    server.extensions[RUNTIME] = runtime
    access = Access(settings, redis_client)
    server.extensions[EXTENSION] = access
    # audit trail: rows go through the ingest buffer (and the commands' spool is taken up)
    server.extensions[AUDIT_EXTENSION] = attach_audit(access.audit, settings, pipeline, background)
    server.extensions["ioc_backup"] = serve_backup_requests(settings, store, access.audit, background,
                                                            writer)
    install_gate(server, access, PlainPages(pairing=pairing_page))
    install_web(app, settings)  # security headers on every answer; 5xx bodies without details
    server.register_error_handler(429, _too_many)
    server.register_blueprint(signin)
    limiter = make_limiter(server, settings.redis_url or "memory://", redis_client)
    server.register_blueprint(sso)  # campus sign-in (CAS, OpenID Connect); after the limiter
    server.register_blueprint(pairing_api)
    server.register_blueprint(people_api)
    server.register_blueprint(api)
    server.register_blueprint(snapshot_api)
    server.register_blueprint(export_api)
    server.register_blueprint(notices_export)
    server.register_blueprint(quality_export)
    server.register_blueprint(screens_api)
    server.register_blueprint(audit_api)
    runtime.registry = registry_for(runtime)
    observe_requests(server, runtime.registry)
    if runtime.history is not None:  # the demo's history fill yields to requests in flight;
        runtime.in_flight.install(server)  # without one, no request pays for counting them
    server.register_blueprint(ops)
    init_query_api(server, settings, redis_client=redis_client)
    limit_downloads(limiter, export_api, notices_export, quality_export, query_api)

    @server.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok", version=__version__)

    @server.get("/vendor/bootstrap/<path:name>")
    def bootstrap_css(name: str) -> Any:
        return send_from_directory(BOOTSTRAP_DIR, name, max_age=86_400)

    @server.get(PLOTLY_JS_URL)  # a fixed path wins over Dash's component-suites rule
    def plotly_js() -> Any:
        # the address carries no version: the browser asks again each time (304 when unchanged)
        response = send_file(PLOTLY_JS, mimetype="text/javascript", conditional=True, etag=True)
        response.cache_control.no_cache = True
        return response

    app.layout = dash.html.Div(dash.page_container, id="ioc-root")
    # Dash completes its set-up (callbacks taken from the pages' registry, assets, scripts) on
    # the first request, without a lock: two first requests at once — screens and senders
    # reconnecting after a restart — could both run it, and one failed with a 500
    # ("dictionary changed size during iteration"). Done here, before anything is served.
    with server.test_request_context("/"):
        app._setup_server()
    if runtime.history is not None:
        runtime.history.start()  # the demo's past, now that the pages are ready to serve
    log.info("event=app.created store=%s database=%s demo=%s", "embedded" if settings.embedded
             else "server", store.database, settings.demo)
    return app


def _too_many(_exc: Exception) -> Any:
    """Rate limits (sign-in, downloads) answer in the page's language, saying when to retry."""
    from flask import request

    from ioc_app.plain import lang, render

    if request.path.startswith("/auth/"):
        page = render("message.html", 429, title=t("auth.title", lang()), message=t("auth.too_many", lang()),
                      links=[], signed_in=False)
        page.headers["Retry-After"] = "60"
        return page
    response = jsonify(error="too_many_requests", message="too many requests from this address; wait a "
                                                          "minute and try again")
    response.status_code = 429
    response.headers["Retry-After"] = "60"
    return response


def ingest_for(settings: Settings, store: Store, consumer: str | None = None,
               claim_idle_ms: int | None = None) -> tuple[Pipeline, Writer]:
    """The ingest path these settings call for (Redis when configured, else the local log)."""
    from ioc_app.secret import site_key

    return build_ingest(store, wal_dir=settings.wal_dir, redis_url=settings.redis_url,
                        redis_relaxed=settings.redis_durability == "relaxed", consumer=consumer,
                        claim_idle_ms=claim_idle_ms, redis_tls=settings.redis_tls,
                        site_key=site_key(settings),
                        batch_age_s=BATCH_AGE_S if settings.core_trigger == "tick" else 0.0)


def offload_for(settings: Settings, pipeline: Pipeline) -> Offload | None:
    """Helper processes for ingest requests, with Redis as the buffer (see ``ingest.offload``)."""
    if not settings.redis_url or not settings.ingest_processes:
        return None
    from ioc_app import logs

    return Offload(settings.redis_url, relaxed=settings.redis_durability == "relaxed",
                   processes=settings.ingest_processes, counters=pipeline.counters,
                   setup=logs.configure, tls=settings.redis_tls, site_key=pipeline.site_key)


_PAGE_CALLBACKS: tuple[dict[str, Any], list[Any]] | None = None


def _share_page_callbacks() -> None:
    """Give every app of the process the pages' callbacks.

    Page modules register their callbacks once, at import, in Dash's global registry, and the
    first app to serve a request takes them out of it; a second app in the same process (an
    embedded test server beside another) would have none. Keep a copy and put it back.
    """
    from dash import _callback

    global _PAGE_CALLBACKS
    if _PAGE_CALLBACKS is None:
        _PAGE_CALLBACKS = (dict(_callback.GLOBAL_CALLBACK_MAP), list(_callback.GLOBAL_CALLBACK_LIST))
        return
    # page modules may run again for a new app, widgets' modules (layouts) do not: add back
    # whatever is missing
    saved_map, saved_list = _PAGE_CALLBACKS
    outputs = {c.get("output") for c in _callback.GLOBAL_CALLBACK_LIST}
    for key, value in saved_map.items():
        _callback.GLOBAL_CALLBACK_MAP.setdefault(key, value)
    _callback.GLOBAL_CALLBACK_LIST.extend(c for c in saved_list if c.get("output") not in outputs)


def core_for(settings: Settings, store: Store, redis_client: Any, site: Site | None = None) -> SnapshotCore:
    """The aggregation core with the configured alert rules, naming what its alerts are about
    from ``site`` (the app's loaded catalogue; read from the settings when not given)."""
    from ioc_app.contacts_notify import notifier_for
    from metrics import deadletter, history
    from metrics.alerts import load_rules

    rules = load_rules(settings.alerts)  # a broken rule stops the start, naming file and line
    try:
        with Store.origin("startup"):
            if history.keep_for(store, settings.history_days):
                log.info("event=history.retention days=%d", settings.history_days)
            if deadletter.keep_for(store, settings.deadletter_days):
                log.info("event=deadletter.retention days=%d", settings.deadletter_days)
    except StoreError as exc:  # the store may be away at start: the next start applies it
        log.warning("event=history.retention_unchanged error=%r", str(exc)[:200])
    names = names_of(site or load_site(settings.site))  # the app's loaded catalogue, not a re-read
    core = SnapshotCore(store, settings.zone, tick_s=settings.tick_s, redis=redis_client,
                        rules=rules, trigger=settings.core_trigger, namer=names.value,
                        domains=domains(settings.min_cell, NoticeDays(settings.notice_undelivered_days,
                                                                      settings.notice_unprinted_days)))
    # a broken contacts file stops the start too; delivery runs where the core leads
    core.notifier = notifier_for(settings, store, lambda: core.leader.held)
    core.backups = BackupSchedule(settings, core.leader, store=store)  # the leader's scheduled backups
    return core


def _start_scheduler(settings: Settings, site: Site, pipeline: Pipeline,
                     core: SnapshotCore | None, runtime: Runtime) -> Any:
    """One scheduler per process that owns work: the core's jobs and the demo feed."""
    if core is None and not (settings.demo and settings.embedded):
        return None
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone=settings.zone)
    if settings.demo and settings.embedded:
        from ioc_app.demo_history import start_demo

        # today's traffic from the first tick on, the past in the background once the app is built
        runtime.history = start_demo(settings, site, runtime.store, pipeline, core, scheduler,
                                     runtime.in_flight)
    if core is not None:
        core.schedule(scheduler)
    shipper = start_shipping(settings, runtime.pipeline.buffer, scheduler)  # the local buffer, off-disk
    if core is not None and core.backups is not None:
        core.backups.shipper = shipper  # its lag in the snapshot: buffer_ship_stale
    scheduler.start()
    return scheduler
