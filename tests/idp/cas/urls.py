"""The CAS endpoints under /cas/ (login, logout, p3/serviceValidate, ...) and page stubs.

The stubs stand in for the Bootstrap and jQuery files django-cas-server's templates load
from CDNs, so a browser on the login page makes no request off the machine.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

# Enough of jQuery for the login page's inline script (the "warn" checkbox handler).
JQUERY_STUB = """(function () {
  function $(arg) {
    if (typeof arg === "function") {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", function () { arg($); });
      } else { arg($); }
      return;
    }
    var el = typeof arg === "string" ? document.querySelector(arg) : arg;
    return {
      click: function (fn) { if (el) { el.addEventListener("click", fn); } return this; },
      is: function (sel) { return !!el && el.matches(sel); }
    };
  }
  window.jQuery = window.$ = $;
})();
"""

ASSETS = {
    "empty.css": ("", "text/css"),
    "empty.js": ("", "text/javascript"),
    "jquery.js": (JQUERY_STUB, "text/javascript"),
}


def asset(request: HttpRequest, name: str) -> HttpResponse:
    """Serve one of the stubs, so the page's CDN links resolve on the machine."""
    if name not in ASSETS:
        return HttpResponse(status=404)
    body, content_type = ASSETS[name]
    return HttpResponse(body, content_type=content_type)


urlpatterns = [
    path("cas/", include("cas_server.urls", namespace="cas_server")),
    path("cas-assets/<str:name>", asset),
]
