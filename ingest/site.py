"""The site catalogue: what a university has (campuses, gates, links, services, colleges…).

One TOML file describes a site (``IOC_SITE``; the shipped demo site is
``ioc_app/sites/demo.toml``). It is loaded and checked at start-up: a broken catalogue stops
the product with the file, the line and what to change, rather than showing wrong names on
a wall for weeks. Simulators generate events from it, and its reference rows are stored in
ClickHouse (``ioc_reference``) so figures can be joined with names; each changed version is
also kept (``ioc_reference_history``), so no catalogue change loses a name. The format is
described in ``docs/site.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.site_check import Problem, read_site
from ingest.site_history import record_version, version_of
from ingest.site_model import (
    ENTRY_SECTIONS,
    Gate,
    Link,
    Major,
    Named,
    Service,
    Site,
    SiteError,
    Terminal,
)
from ioc_app.storage import SqlStore

__all__ = ["ENTRY_SECTIONS", "Gate", "Link", "Major", "Named", "Problem", "Service", "Site", "SiteError",
           "Terminal", "load_site", "read_site", "store_reference"]
log = logging.getLogger("ioc.site")


def load_site(path: str | Path) -> Site:
    """Load and check a site catalogue; raises :class:`SiteError` naming the line of the first
    error (``python -m ioc_app site check`` lists them all)."""
    site, problems = read_site(path)
    errors = [p for p in problems if not p.warning]
    if site is None or errors:
        more = (f" (and {len(errors) - 1} more: 'python -m ioc_app site check {path}' lists them all)"
                if len(errors) > 1 else "")
        raise SiteError(f"{errors[0]}{more}")
    return site


REFERENCE_TABLE = "ioc_reference"


def store_reference(store: SqlStore, site: Site) -> int:
    """Make the catalogue's rows the ones in force (idempotent), and keep them in the history
    under the catalogue's version (``ingest/site_history.py``)."""
    frame = site.reference_frame()
    n = store.replace_versioned(REFERENCE_TABLE, frame, "loaded_at")
    record_version(store, site, frame)
    log.info("event=site.loaded path=%s version=%s rows=%d", site.path, version_of(site)[:12], n)
    return n
