"""The security administrator's page: people's roles and the mappings from campus identity
attributes to roles (``/admin/people``). Every change is audited and in force at once."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ioc_app.access import current
from ioc_app.plain import lang, render
from ioc_app.roles import ROLES, Mapping_, RolesError, check_roles, set_mappings, set_roles
from layouts.i18n import t

people_api = Blueprint("ioc_people", __name__)


def parse_mappings(text: str) -> list[Mapping_]:
    """``attribute=value -> role,role`` per line; a wrong line is named."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        left, arrow, right = line.partition("->")
        attribute, eq, value = left.partition("=")
        if not arrow or not eq or not attribute.strip() or not value.strip():
            raise RolesError(f"line {number}: write attribute=value -> role,role")
        roles = check_roles(right.split(","), f"line {number}: ")
        if not roles:
            raise RolesError(f"line {number}: name at least one role after '->'")
        out.append(Mapping_(attribute.strip(), value.strip(), roles))
    return out


@people_api.route("/admin/people", methods=["GET", "POST"])
def admin_people() -> Response:
    access = current()
    language = lang()
    error = notice = ""
    book = access.roles.book()
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "roles":
                name = request.form.get("name", "").strip()[:64]
                before = list(book.roles_of(name))
                held = set_roles(access.settings.roles_path, name, request.form.getlist("roles"))
                if not held:
                    access.sessions.delete_person(name)
                access.audit.record("role.change", object=name,
                                    detail={"before": before, "after": list(held)})
                notice = t("admin.roles_saved", language).format(name=name)
            elif action == "mappings":
                parsed = parse_mappings(request.form.get("mappings", "")[:20000])
                set_mappings(access.settings.roles_path, parsed)
                access.audit.record("role.mappings", object="mappings", detail={"count": len(parsed)})
                notice = t("admin.mappings_saved", language)
            else:
                error = t("admin.unknown_action", language)
        except RolesError as exc:
            access.audit.record("role.change", object=request.form.get("name", "mappings")[:64],
                                result="failed", detail={"reason": str(exc)[:200]})
            error = str(exc)
        access.roles.refresh()  # read back at once in this process
        book = access.roles.book()
    accounts = {a["name"]: a for a in access.accounts.rows()}
    names = sorted(set(book.people) | set(accounts))
    people = [{"name": n, "roles": book.people.get(n, ()), "local": accounts.get(n)} for n in names]
    mappings = "\n".join(f"{m.attribute}={m.value} -> {','.join(m.roles)}" for m in book.mappings)
    return render("people.html", 400 if error else 200, title=t("admin.people", language), error=error,
                  notice=notice, people=people, roles=ROLES, mappings=mappings, box_class="wide")
