/* IOC tap-through on charts: a bar, slice, heat-map cell, map province or point opens its
 * breakdown in /explore.
 *
 * Tiles link with real <a href> elements; a chart's elements cannot, so each trace carries the
 * links its server-side builder made (layouts/drill.py: "ioc_href", a list like the trace's
 * values, a list of rows for a heat map, or one string for a whole trace such as a province;
 * a time series the browser redraws by itself carries one link, "ioc_bucket", with the bucket
 * left open for the tapped point's).
 * A click or tap on an element with a link follows it (with Ctrl/⌘/Shift or the middle
 * button, in a new tab, as a link would). A chart without links — every chart of a paired wall
 * screen — does nothing. Charts are found as Plotly draws them; each is hooked once.
 */
(function () {
  "use strict";
  var SCAN_MS = 150;  // a chart drawn is hooked this soon after

  /* [from, to] of the bucket of ``grain`` starting at a point's x: the wall time the axis
   * carries ("2026-09-01 08:59", a date, or a date axis' milliseconds), written back the same way. */
  function bucketOf(x, grain) {
    var m = typeof x === "number" ? null : /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?/.exec(String(x));
    var start = typeof x === "number" ? new Date(x) :
      m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0))) : null;
    if (!start || isNaN(start.getTime())) return null;
    var step = {minute: 60000, hour: 3600000, day: 86400000}[grain];
    if (!step) return null;
    var end = new Date(start.getTime() + step);
    function text(t) {
      var iso = t.toISOString();
      return grain === "day" ? iso.slice(0, 10) : iso.slice(0, 10) + " " + iso.slice(11, 16);
    }
    return [text(start), text(end)];
  }

  function hrefOf(pt) {
    var each = pt && pt.data && pt.data.ioc_bucket;
    if (each && each.href) {
      var b = bucketOf(pt.x, each.grain);
      return b ? each.href.replace("IOC_FROM", encodeURIComponent(b[0])).replace("IOC_TO", encodeURIComponent(b[1]))
               : null;
    }
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
    for (var i = 0; i < data.length; i++) if (data[i] && (data[i].ioc_href || data[i].ioc_bucket)) return true;
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
  window.IOC_DRILL = {hrefOf: hrefOf, bucketOf: bucketOf, scan: scan};
  function start() {
    new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
    later();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
