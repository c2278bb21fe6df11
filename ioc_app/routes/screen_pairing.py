"""Pairing wall screens (``/wall`` unpaired, ``/wall/pair``) and the operators' screens page.

An unpaired wall shows a large code and asks every few seconds whether it was approved;
the browser that asked holds a secret cookie, so a code read off the wall by somebody else
cannot be redeemed on another machine. An operator approves the code on ``/admin/screens``,
naming the screen and its pages, and may revoke any screen there.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from ioc_app.access import current
from ioc_app.pairing import CODE_S, SCREEN_PAGES, ScreenError, check_pages, normalise_code
from ioc_app.plain import lang, render
from layouts.i18n import t

pairing_api = Blueprint("ioc_pairing", __name__)
PAIR_COOKIE = "ioc_pair"
#: the pages a screen may show: the cockpits and the data-quality page



def _pair_cookie() -> tuple[str, str]:
    """(code, browser secret) of the code this browser asked for, if any."""
    code, _, browser = request.cookies.get(PAIR_COOKIE, "").partition(".")
    return code, browser


def pairing_page() -> Response:
    """The code of an unpaired wall: the same one while it waits (a reload shows the same
    code), a new one once it expired."""
    access = current()
    code, browser = _pair_cookie()
    if not code or access.screens.status(code, browser) != "waiting":
        try:
            code, browser = access.screens.request()
        except ScreenError as exc:
            return render("message.html", 429, title=t("pair.title", lang()), message=str(exc), links=[],
                          signed_in=False)
    language = lang()
    response = render("pairing.html", title=t("pair.title", language), code=code, box_class="wide")
    response.set_cookie(PAIR_COOKIE, f"{code}.{browser}", max_age=CODE_S, httponly=True, samesite="Lax",
                        secure=access.secure, path="/wall")
    return response


@pairing_api.get("/wall/pair/status")
def pair_status() -> Response:
    state = current().screens.status(request.args.get("code", ""), _pair_cookie()[1])
    response = jsonify(state=state)
    response.headers["Cache-Control"] = "no-store"
    return response


@pairing_api.get("/wall/pair")
def pair_redeem() -> BaseResponse:
    access = current()
    code = normalise_code(request.args.get("code", ""))
    got = access.screens.redeem(code, _pair_cookie()[1])
    if got is None:
        access.audit.record("screen.pair", object=code, result="failed", actor_kind="screen")
        language = lang()
        return render("message.html", 400, title=t("pair.title", language),
                      message=t("pair.bad_code", language),
                      links=[(t("pair.again", language), "/wall")], signed_in=False)
    name, token = got
    access.audit.record("screen.pair", object=name, actor=name, actor_kind="screen")
    response = redirect("/wall", code=303)
    access.give_screen_cookie(response, token)
    response.delete_cookie(PAIR_COOKIE, path="/wall")
    return response


@pairing_api.route("/admin/screens", methods=["GET", "POST"])
def admin_screens() -> Response:
    """Approve a waiting wall's code (name and pages) or revoke a screen."""
    access = current()
    language = lang()
    error = notice = ""
    if request.method == "POST":
        action = request.form.get("action", "")
        name = request.form.get("name", "").strip()[:64]
        try:
            if action == "approve":
                pages = check_pages(request.form.getlist("pages"), SCREEN_PAGES)
                code = normalise_code(request.form.get("code", ""))
                access.screens.approve(code, name, pages)
                access.audit.record("screen.approve", object=name, detail={"pages": list(pages)})
                notice = t("admin.screen_approved", language).format(name=name)
            elif action == "revoke":
                access.screens.revoke(name)
                access.audit.record("screen.revoke", object=name)
                notice = t("admin.screen_revoked", language).format(name=name)
            else:
                error = t("admin.unknown_action", language)
        except (ScreenError, ValueError) as exc:
            access.audit.record(f"screen.{action or 'change'}", object=name, result="failed",
                                detail={"reason": str(exc)[:200]})
            error = str(exc)
    screens = access.screens.all()
    return render("screens.html", 400 if error else 200, title=t("admin.screens", language), error=error,
                  notice=notice, screens=screens, pages=sorted(SCREEN_PAGES), box_class="wide")
