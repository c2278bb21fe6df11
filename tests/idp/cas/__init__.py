"""A minimal Django project running django-cas-server: the CAS 3.0 server of the sign-in tests.

``serve.py`` is what the ``cas_server`` fixture starts; ``manage.py`` is there to poke at the
project by hand (``IDP_CAS_DIR=/tmp/cas python tests/idp/cas/manage.py migrate``).
"""
