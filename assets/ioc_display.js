/* IOC display detection: is this browser a tablet? Runs before the page is asked for.
 *
 * The server lays a page out for the display it is shown on (layouts/live.py, options): a
 * wall or a desk gets the dark 1920×1080 canvas scaled to the screen, a tablet the flowing
 * light page, readable at arm's length. Only the browser knows which it is — a touch screen
 * (a coarse pointer, touch points) or a window narrower than NARROW — so this script, loaded
 * with the page's other scripts and before Dash's renderer asks for the page's layout, writes
 * it into the ioc_display cookie the layout request carries. The first page already comes in
 * the right layout: no reload, no second request, nothing drawn twice. It also marks <html>
 * so the blank document behind a tablet page is light from the start (no dark flash).
 * The URL still forces either (?theme=, ?fit=); a paired wall screen keeps its canvas
 * whatever this says (the server knows it by its pairing).
 */
(function () {
  "use strict";
  var NARROW = 1280;  // CSS px: a window narrower than this cannot show the canvas legibly
  function media(q) { return !!(window.matchMedia && window.matchMedia(q).matches); }
  var touch = media("(pointer: coarse)") || media("(any-pointer: coarse)") || (navigator.maxTouchPoints || 0) > 0;
  var mode = touch || window.innerWidth < NARROW ? "tablet" : "desk";
  document.cookie = "ioc_display=" + mode + "; path=/; max-age=31536000; samesite=lax" +
    (window.location.protocol === "https:" ? "; secure" : "");
  // the page will be light: asked for (?theme=light, as the header's links carry it), a tablet
  // left to choose, or the analysis page (light unless asked otherwise); never a wall's rotation
  var q = new URLSearchParams(window.location.search), path = window.location.pathname;
  var light = q.get("theme") === "light" ||
    (mode === "tablet" && !q.has("theme") && !q.has("fit")) ||
    (/^\/explore/.test(path) && q.get("theme") !== "dark");
  if (light && !/^\/wall/.test(path)) document.documentElement.classList.add("ioc-tablet");
  window.IOC_DISPLAY = mode;
})();
