"""The plain server-rendered pages' one renderer (sign-in, refusals, administration, error
pages): the request's language and the template, never cached.

It sits below every module that answers with such a page — the sign-in routes, the gate's
refusals, the administration pages and the error handlers of ``ioc_app.web`` — so none of
them imports another to borrow it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, make_response, render_template, request

from layouts.i18n import normalise_lang, t


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
