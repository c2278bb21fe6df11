"""WSGI entry point for gunicorn: ``gunicorn ioc_app.wsgi:server``."""

from ioc_app import logs
from ioc_app.server import boot

logs.configure()
server = boot()
