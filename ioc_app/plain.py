"""The plain server-rendered pages' one renderer (sign-in, refusals, administration, error
pages): the request's language and the template, never cached; and the pages the gate
answers with itself (refused, revoked, pairing).

It sits below every module that answers with such a page — the sign-in routes, the gate's
refusals, the administration pages and the error handlers of ``ioc_app.web`` — so none of
them imports another to borrow it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, make_response, render_template, request

from ioc_app.permissions import ROUTES, Principal
from layouts.i18n import normalise_lang, t
from layouts.live import NAV

#: the pages offered on a refused page: the ones this person may open (the cockpits' own
#: navigation, and the administration pages)
LINKS = (*NAV, ("admin.people", "/admin/people"), ("admin.screens", "/admin/screens"),
         ("admin.audit", "/admin/audit"))
#: administration page → its permission, from the one table
ADMIN_PAGES = {path: ROUTES[path] for _, path in LINKS if path.startswith("/admin/")}


def lang() -> str:
    """The request's language (``?lang=`` or the form's ``lang``), the default when unknown."""
    return normalise_lang(request.args.get("lang") or request.form.get("lang"))


def render(template: str, status: int = 200, **context: Any) -> Response:
    """A plain page in the request's language (``?lang=``), never cached."""
    language = lang()
    args = {k: v for k, v in request.args.items() if k != "lang"}
    context.setdefault("title", "")
    page = render_template(template, t=t, lang=language,
                           other_query=urlencode({**args, "lang": "en" if language == "zh" else "zh"}),
                           **context)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def allowed_links(who: Principal, language: str) -> list[tuple[str, str]]:
    out = []
    for key, path in LINKS:
        admin = ADMIN_PAGES.get(path)
        if (admin and who.may(admin)) or (not admin and who.may_open(path)):
            out.append((t(key, language), f"{path}?lang={language}"))
    return out


class PlainPages:
    """What the gate answers with itself: refused, revoked, and a wall's pairing code
    (``pairing``: the pairing page's view, given by the app, which registers its route)."""

    def __init__(self, pairing: Callable[[], Response]) -> None:
        self._pairing = pairing

    def refused(self, who: Principal) -> Response:
        language = lang()
        return render("message.html", 403, title=t("auth.refused_title", language),
                      message=t("auth.refused", language), links=allowed_links(who, language),
                      signed_in=who.kind == "person")

    def revoked(self) -> Response:
        language = lang()
        return render("message.html", 403, title=t("auth.revoked_title", language),
                      message=t("auth.revoked", language), links=[], signed_in=False)

    def pairing(self) -> Response:
        return self._pairing()
