"""``python -m ioc_app``: the command line."""

from ioc_app.cli import main

raise SystemExit(main())
