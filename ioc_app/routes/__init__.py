"""The HTTP routes, one module per blueprint (the JSON APIs, the sign-in and administration
pages, the operations endpoints).

Only the app factory (:mod:`ioc_app.app`) imports them, to register them; they import the
services below them (the runtime, the query service, access, audit…) and never each other,
except the campus sign-in finishing through the local sign-in's one ending
(``pyproject.toml`` [tool.importlinter] checks both).
"""
