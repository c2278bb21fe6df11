"""Django settings of the test CAS server.

Everything stays on the machine: no new-version check against PyPI, no CDN stylesheets
(the page's Bootstrap and jQuery URLs point at stubs served by the project itself), and the
database is a SQLite file in the directory named by ``IDP_CAS_DIR`` (one per fixture).

Cookies are per host, not per port: IOC and the OpenID provider on 127.0.0.1 share the
browser's jar with this server, so its cookies have their own names and live under /cas/.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DATA_DIR = Path(os.environ.get("IDP_CAS_DIR") or tempfile.mkdtemp(prefix="idp-cas-"))

SECRET_KEY = "ioc-test-cas-server-not-a-secret"
DEBUG = os.environ.get("IDP_CAS_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cas_server",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.idp.cas.urls"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": str(DATA_DIR / "cas.sqlite3"),
    "OPTIONS": {"timeout": 20},
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en"
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/cas-static/"

SESSION_COOKIE_NAME = "cas_sessionid"
SESSION_COOKIE_PATH = "/cas/"
CSRF_COOKIE_NAME = "cas_csrftoken"
CSRF_COOKIE_PATH = "/cas/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "cas_server": {"handlers": ["console"], "level": "INFO"},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# --- django-cas-server -----------------------------------------------------------------
# Users are Django users; their CAS attributes (uid, email, displayName, memberOf) come
# from tests.idp.cas.auth instead of every field of Django's user model.
CAS_AUTH_CLASS = "tests.idp.cas.auth.CampusUser"
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
CAS_COMPONENT_URLS = {
    "bootstrap3_css": "/cas-assets/empty.css",
    "bootstrap3_js": "/cas-assets/empty.js",
    "html5shiv": "/cas-assets/empty.js",
    "respond": "/cas-assets/empty.js",
    "bootstrap4_css": "/cas-assets/empty.css",
    "bootstrap4_js": "/cas-assets/empty.js",
    "jquery": "/cas-assets/jquery.js",
}
# Single logout is sent when the user logs out; a failed back-channel POST is only logged.
CAS_SLO_TIMEOUT = 5
