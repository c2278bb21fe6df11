"""The admissions office's status lookup (考生录取状态查询), as the page asks for it.

The office types a 考生号 as the candidate gave it. It arrives here in the body of one Dash
callback request and lives only in that request's memory: it is turned at once into the
keyed pseudonym that import stores (``ingest.pii.pseudonym`` with the site key,
``ioc_app.secret.site_key``, after the same trimming as a spreadsheet cell), and only the
pseudonym goes further — to the store's query, to the audit trail, to the log. The number
is never stored, logged, audited or returned; the answer names the candidate by the first
characters of the pseudonym.

Every lookup leaves an audit row ``enrollment.lookup``: who (the trail's own columns), the
pseudonym (``object`` and ``detail.candidate_key``) and whether anything was found
(``result`` ``found`` / ``not_found``, or ``unavailable`` while the store is away).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from flask import current_app

from ioc_app.runtime import EXTENSION

log = logging.getLogger("ioc.lookup")

#: what the page's input accepts (longer is no 考生号 or ID number; nothing is looked up)
MAX_LEN = 64
#: characters of the pseudonym a page shows to name the candidate
SHOWN = 10
PERMISSION = "admissions_tools"


def _normal(number: str) -> str:
    """The trimming import applies to a cell before it is pseudonymised (``pii.pseudonym``
    then drops spaces and dashes and upper-cases the rest)."""
    return number.strip()


def _wide(number: str) -> bool:
    """Full-width digits or letters (typed with a Chinese input method): import would give
    them another pseudonym than the same number in half-width characters."""
    return any(unicodedata.east_asian_width(c) in ("F", "W") for c in number)


def candidate(number: str | None) -> dict[str, Any]:
    """Look a candidate up by the number typed. Returns ``{"state": ...}``:

    - ``empty`` / ``too_long``: nothing was looked up (no audit row);
    - ``found``: ``ref`` (the pseudonym's first characters), ``events`` (oldest first, as
      ``metrics.enrollment_lookup.timeline`` gives them), ``names``, ``zone``;
    - ``not_found``: ``ref``, ``years`` (the admission years the store holds) and ``wide``
      (the number holds full-width characters);
    - ``unavailable``: the store is away (``ref``).

    Never the number itself, in any state. The gate has checked the page's permission; this
    asks again, so a page that called it by mistake gets nothing.
    """
    from ingest import pii
    from ioc_app import audit, secret
    from ioc_app.access import principal
    from ioc_app.storage import Store, StoreError
    from metrics import enrollment_lookup

    if not principal().may(PERMISSION):
        raise PermissionError("the status lookup needs the admissions role's admissions_tools permission")
    typed = _normal(number or "")
    if not re.sub(r"[\s-]", "", typed):
        return {"state": "empty"}
    if len(typed) > MAX_LEN:
        return {"state": "too_long", "max": MAX_LEN}
    rt = current_app.extensions[EXTENSION]
    key = pii.pseudonym(secret.site_key(rt.settings), typed)
    wide = _wide(typed)
    del typed, number  # from here on only the pseudonym
    ref = key[:SHOWN]
    try:
        with Store.origin("request"):
            found = enrollment_lookup.timeline(rt.store, key)
            years = [] if found["events"] else enrollment_lookup.years(rt.store)
    except StoreError as exc:
        log.warning("event=lookup.failed error=%r", str(exc)[:200])
        audit.record("enrollment.lookup", object=key, result="unavailable",
                     detail={"candidate_key": key, "found": None})
        return {"state": "unavailable", "ref": ref}
    n = len(found["events"])
    audit.record("enrollment.lookup", object=key, result="found" if n else "not_found",
                 detail={"candidate_key": key, "found": bool(n), "events": n})
    if not n:
        return {"state": "not_found", "ref": ref, "years": years, "wide": wide}
    return {"state": "found", "ref": ref, "events": found["events"], "names": found["names"],
            "zone": rt.settings.zone}


def examples() -> list[tuple[str, str]]:
    """In demo mode, a few made-up 考生号 of the last finished season worth looking up, with
    their story (``delivered``, ``remailed``, ``returned``): the simulated candidates' keys are
    pseudonyms of such numbers under this site's key, so the lookup finds them as it would an
    imported candidate. Nothing outside demo mode, nor when the demo keeps no past season."""
    from datetime import datetime

    from ingest.sim import World
    from ingest.sim.enrollment import examples as season_examples
    from ioc_app import secret

    rt = current_app.extensions[EXTENSION]
    settings = rt.settings
    if not settings.demo or settings.demo_history_days <= 0:
        return []
    today = datetime.now(settings.zone)
    year = today.year if today.month >= 10 else today.year - 1  # the season is over by October
    if year < today.year and settings.demo_history_seasons < 1:
        return []
    world = World(rt.site, settings.zone, pseudonym_key=secret.site_key(settings))
    return season_examples(world, year)
