"""Django's command line for the test CAS project, for looking at it by hand.

Run from the repository root: ``IDP_CAS_DIR=/tmp/cas .venv/bin/python tests/idp/cas/manage.py migrate``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.idp.cas.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
