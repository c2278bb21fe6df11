"""WSGI entry point for gunicorn: ``gunicorn ioc_app.wsgi:server``."""

from ioc_app import logs
from ioc_app.app import create_app

logs.configure()
app = create_app()
server = app.server
