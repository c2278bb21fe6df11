/* IOC tap-through on charts: a bar, slice, heat-map cell, map province or point opens its
 * breakdown in /explore.
 *
 * Tiles link with real <a href> elements; a chart's elements cannot, so each trace carries the
 * links its server-side builder made (layouts/drill.py: "ioc_href", a list like the trace's
 * values, a list of rows for a heat map, or one string for a whole trace such as a province).
 * A click or tap on an element with a link follows it (with Ctrl/⌘/Shift or the middle
 * button, in a new tab, as a link would). A chart without links — every chart of a paired wall
 * screen — does nothing. Charts are found as Plotly draws them; each is hooked once.
 */
(function () {
  "use strict";
  var SCAN_MS = 150;  // a chart drawn is hooked this soon after

  function hrefOf(pt) {
    var links = pt && pt.data && pt.data.ioc_href;
    if (!links) return null;
    if (typeof links === "string") return links;
    var n = pt.pointNumber !== undefined ? pt.pointNumber : pt.pointIndex;
    if (n === undefined || n === null) n = pt.i;
    var link = Array.isArray(n) ? (links[n[0]] || [])[n[1]] : links[n];
    return typeof link === "string" ? link : null;
  }

  function follow(href, event) {
    if (!href || href.indexOf("/explore?") !== 0) return;  // only the product's own analysis page
    var e = event || {};
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1) window.open(href, "_blank", "noopener");
    else window.location.assign(href);
  }

  function hook(gd) {
    if (gd.iocDrill || typeof gd.on !== "function") return;
    gd.iocDrill = true;
    gd.on("plotly_click", function (data) {
      var pts = (data && data.points) || [];
      for (var i = 0; i < pts.length; i++) {
        var href = hrefOf(pts[i]);
        if (href) { follow(href, data.event); return; }
      }
    });
  }

  function drillable(gd) {
    var data = gd.data || [];
    for (var i = 0; i < data.length; i++) if (data[i] && data[i].ioc_href) return true;
    return false;
  }

  var pending = false;
  function scan() {
    pending = false;
    var plots = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < plots.length; i++) {
      hook(plots[i]);
      plots[i].classList.toggle("ioc-drillable", drillable(plots[i]));
    }
  }
  function later() {
    if (pending) return;
    pending = true;
    window.setTimeout(scan, SCAN_MS);
  }
  window.IOC_DRILL = {hrefOf: hrefOf, scan: scan};
  function start() {
    new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
    later();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
