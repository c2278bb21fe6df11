"""Page modules imported by a test without the server.

Dash's page and callback registries are global to the process: a page module imported under
a test's app would stay registered for the next app built in the same process, and the app
factory imports the modules again under its own names. Tests that import page modules do it
inside :func:`pages_app`, which restores the registries and forgets the modules afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dash


@contextmanager
def pages_app(empty_folder: Path) -> Iterator[None]:
    """An app that uses pages (as the server's does) for the duration of the block, with an
    empty pages folder, so only the modules the test imports get registered."""
    from dash import _callback

    saved = (dict(dash.page_registry), list(_callback.GLOBAL_CALLBACK_LIST),
             dict(_callback.GLOBAL_CALLBACK_MAP), set(sys.modules))
    dash.Dash(__name__, use_pages=True, pages_folder=str(empty_folder))
    try:
        yield
    finally:
        dash.page_registry.clear()
        dash.page_registry.update(saved[0])
        _callback.GLOBAL_CALLBACK_LIST[:] = saved[1]
        _callback.GLOBAL_CALLBACK_MAP.clear()
        _callback.GLOBAL_CALLBACK_MAP.update(saved[2])
        for name in set(sys.modules) - saved[3]:
            if name.startswith("pages"):
                del sys.modules[name]
