"""The one permission table: every route and every Dash callback, and who may use it.

Deny by default: a route (a Flask URL rule) or a callback that is not in these tables is
refused to everybody, and ``tests/ioc_app/test_access.py`` fails when one is missing, so a
route added later cannot become public by accident. Views and pages never decide access
themselves; ``ioc_app.gate`` applies this table before they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ioc_app.roles import SCREEN_PERMISSIONS, permissions

#: answered to anybody
PUBLIC = "public"
#: the view checks a bearer token itself (ingest: machines, not people)
TOKEN = "token"
#: loopback clients or ``Authorization: Bearer $IOC_METRICS_TOKEN``
OPS = "ops"
#: a Dash page: the permission depends on the page (``PAGES``)
PAGE = "page_route"
#: a Dash callback: the permission depends on the callback (``CALLBACKS``)
CALLBACK = "callback"

#: Flask URL rule → permission
ROUTES: dict[str, str] = {
    # sign-in and its static files
    "/auth/login": PUBLIC,
    "/auth/logout": PUBLIC,
    "/auth/link/<token>": PUBLIC,
    "/auth/cas": PUBLIC,
    "/auth/cas/callback": PUBLIC,
    "/auth/oidc": PUBLIC,
    "/auth/oidc/callback": PUBLIC,
    "/auth/static/<path:name>": PUBLIC,
    "/vendor/bootstrap/<path:name>": PUBLIC,
    "/healthz": PUBLIC,
    "/_favicon.ico": PUBLIC,
    # an unpaired wall's pairing flow (``/wall`` itself is a page: the gate shows the code)
    "/wall/pair": PUBLIC,
    "/wall/pair/status": PUBLIC,
    # Dash's own routes: any signed-in person or paired screen
    "/static/<path:filename>": "dash",
    "/assets/<path:filename>": "dash",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "dash",
    "/_dash-component-suites/plotly/package_data/plotly.min.js": "dash",  # IOC's plotly.js build
    "/_dash-layout": "dash",
    "/_dash-dependencies": "dash",
    "/_reload-hash": "dash",
    "/_dash-update-component": CALLBACK,
    "/": PAGE,
    "/<path:path>": PAGE,
    # APIs
    "/api/v1/ingest/<stream_name>": TOKEN,
    "/api/v1/snapshot": "snapshot",
    "/api/v1/heartbeat": "heartbeat",
    "/api/v1/screens": "health",
    "/api/v1/query/<domain>": "query",
    "/api/v1/export/enrollment": "export",
    "/api/v1/export/enrollment/exact": "exact_cells",
    "/api/v1/export/enrollment/notices": "admissions_tools",
    "/api/v1/export/enrollment/quality": "quality",
    "/api/v1/deadletter": "deadletter",
    "/api/v1/deadletter/replay": "deadletter",
    "/api/v1/audit": "audit",
    "/readyz": OPS,
    "/metrics": OPS,
    # administration (plain pages)
    "/admin/people": "people",
    "/admin/screens": "screens",
    "/admin/audit": "audit",
}

#: permissions a machine may also use with a bearer token (the view checks it): dead letters
#: for the source systems' own automation, with a token created with ``--streams '*'``
BEARER_ALSO = frozenset({"deadletter"})

#: Dash page path → permission (a path not listed is the not-found page: any page viewer)
PAGES: dict[str, str] = {
    "/": "page", "/gates": "page", "/network": "page", "/enrollment": "page", "/service": "page",
    "/wall": "page", "/health": "health", "/explore": "explore",
    # the admissions office's exact figures (small cells included): admissions only
    "/enrollment/exact": "exact_cells",
    # the admission notices' exception lists (tracking numbers): admissions only
    "/enrollment/notices": "admissions_tools",
    # the admissions office's status lookup by 考生号 (audited; the number only in a callback body)
    "/enrollment/lookup": "admissions_tools",
    # 生源质量分析: admissions (exact) and analysts (small-cell rule)
    "/enrollment/quality": "quality",
    # boards from files: any page viewer; each board's own roles are judged on top
    # (``ioc_app.boards_read.may_open_board``), for the page and each of its callbacks
    "/boards": "page",
    "/boards/<slug>": "page",
    # the overview cockpit as a Python page, kept beside the overview board ``/`` shows
    "/overview/classic": "page",
}

#: a callback's first output id starts with … → the page it belongs to (its permission is that
#: page's; ``_pages_`` is Dash's page routing, judged by the path it is asked to render)
CALLBACKS: dict[str, str] = {
    "ioc-live-": "*",
    "overview-": "/overview/classic",
    "gates-": "/gates",
    "network-": "/network",
    "enrollment-": "/enrollment",
    "service-": "/service",
    "health-": "/health",
    "wall-": "/wall",
    "explore-": "/explore",
    "lookup-": "/enrollment/lookup",
    "quality-": "/enrollment/quality",
    "boards-": "/boards/<slug>",
    "_pages_": "route",
}

#: a callback whose first output id starts with … → the permission it needs itself, beyond
#: opening its page (an action on a page others may only read); checked before ``CALLBACKS``
CALLBACK_PERMISSIONS: dict[str, tuple[str, str]] = {
    # /health: acknowledging and silencing alerts (operator)
    "alerts-ack-": ("/health", "alerts_ack"),
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: a person (with roles), a paired screen (with its pages), or nobody."""

    kind: str  # "person" | "screen" | "anonymous"
    name: str = ""
    roles: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    via: str = ""
    perms: frozenset[str] = field(default=frozenset())

    @staticmethod
    def person(name: str, roles: tuple[str, ...], via: str) -> Principal:
        return Principal("person", name, roles, (), via, permissions(roles))

    @staticmethod
    def screen(name: str, pages: tuple[str, ...]) -> Principal:
        return Principal("screen", name, (), pages, "screen", SCREEN_PERMISSIONS)

    @property
    def signed_in(self) -> bool:
        return self.kind != "anonymous"

    def may(self, permission: str) -> bool:
        return permission in self.perms

    def may_open(self, path: str) -> bool:
        """May this principal open the Dash page at ``path``?"""
        path = "/" + path.strip("/") if path not in ("", "/") else "/"
        needed = PAGES.get(path, "page")
        if self.kind == "screen":
            # a screen shows its own playlist, nothing else (never an analysis or admin page);
            # a board's callbacks serve every board: a screen with a board in its playlist
            # (``/`` is the overview board)
            if path == "/boards/<slug>":
                return any(p == "/" or p.startswith("/boards/") for p in self.pages)
            return needed in ("page", "health") and (path == "/wall" or path in self.pages)
        return self.may(needed)


ANONYMOUS = Principal("anonymous")


def callback_page(output: str) -> str | None:
    """The page a callback (named by Dash's output key) belongs to, or None when unmapped."""
    first = output.lstrip(".").split(".", 1)[0]
    for prefix, (page, _permission) in CALLBACK_PERMISSIONS.items():
        if first.startswith(prefix):
            return page
    for prefix, page in CALLBACKS.items():
        if first.startswith(prefix):
            return page
    return None


def callback_permission(output: str) -> str | None:
    """The permission a callback needs of its own (``CALLBACK_PERMISSIONS``), or None."""
    first = output.lstrip(".").split(".", 1)[0]
    for prefix, (_page, permission) in CALLBACK_PERMISSIONS.items():
        if first.startswith(prefix):
            return permission
    return None


def nav_for(principal: Principal, links: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The navigation links a principal may open (a page shows no link that would be refused)."""
    return tuple((key, path) for key, path in links if principal.may_open(path))
