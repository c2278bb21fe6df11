/* IOC wall rotation: which page comes next, when, and making a freshly shown page complete
 * at once.
 *
 * The server renders the next page into the wall's stage; everything about time happens
 * here. A page stays for the interval counted from when it was actually shown (a slow render
 * does not shorten it), and the progress line runs in step with that.
 *
 * A page is only taken down when nothing of it is in flight: a chart update that lands after
 * its chart is gone is an error in the console, and on a live wall a new snapshot arrives
 * every second. So the swap drains first: the shown page stops polling (its tick is
 * disabled) and a version pushed meanwhile is not bound (the live layer checks ``draining``:
 * its held request stays open and is asked again after the swap), and once no request is
 * pending for a moment (or after a few seconds at most) the next page is asked for. If it never arrives (server away), the page polls again and
 * the wall tries later. While the live layer is offline the rotation holds on the current
 * page, which is the one saying "reconnecting": rotating through pages that cannot refresh
 * would only hide it.
 *
 * A newly mounted page starts with "—" in its bound numbers; they are written straight from
 * the last snapshot the live layer holds, and its version is forgotten so the next tick
 * polls once in full (even while push is on) and the page's charts get their first update too.
 */
(function () {
  "use strict";
  var QUIET_MS = 300;        // nothing pending for this long: safe to swap
  var DRAIN_MAX_MS = 4000;   // swap anyway after this (a page with its own busy timers)
  var RENDER_MAX_MS = 10000; // no new page by then: resume the current one
  var W = (window.IOC_WALL = window.IOC_WALL || {shownAt: 0, requestedAt: 0, draining: false});

  function setProps(id, props) {
    var dc = window.dash_clientside;
    if (dc && dc.set_props) dc.set_props(id, props);
  }

  function busy() {
    var IOC = window.IOC || {};
    return !!IOC.inflight || !!document.querySelector("._dash-loading-callback");
  }

  function restartProgress(seconds) {
    var bar = document.querySelector(".wall-progress-bar");
    if (!bar) return;
    bar.style.animation = "none";
    void bar.offsetWidth;  // restart the animation from zero
    bar.style.animation = "wall-progress " + seconds + "s linear forwards";
  }

  function markDot(index) {
    var dots = document.querySelectorAll(".wall-dot");
    for (var i = 0; i < dots.length; i++) dots[i].classList.toggle("wall-dot-on", i === index);
  }

  /* Bound numbers of the page just mounted, from the snapshot already in hand. */
  function paint() {
    var IOC = window.IOC;
    if (!IOC || !IOC.snapshot || !IOC.walk || !IOC.format) return;
    var lang = (IOC.cfg && IOC.cfg.lang) || "zh";
    var nodes = document.querySelectorAll(".wall-stage [data-ioc-path]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      el.textContent = IOC.format(IOC.walk(IOC.snapshot, el.dataset.iocPath), el.dataset.iocFmt || "count",
                                  lang);
    }
  }

  function resume(cfg) {
    W.draining = false;
    W.shownAt = Date.now();
    setProps(cfg.ids.tick, {disabled: false});
    restartProgress(cfg.interval_s);
  }

  function drain(next, cfg) {
    W.draining = true;
    W.requestedAt = 0;
    var started = Date.now(), quietSince = null;
    setProps(cfg.ids.tick, {disabled: true});  // the shown page asks for nothing new
    var loop = window.setInterval(function () {
      var now = Date.now();
      if (busy()) quietSince = null;
      else if (quietSince === null) quietSince = now;
      if ((quietSince !== null && now - quietSince >= QUIET_MS) || now - started > DRAIN_MAX_MS) {
        window.clearInterval(loop);
        W.requestedAt = Date.now();
        setProps(cfg.ids.index, {data: next});
      }
    }, 100);
  }

  function advance(n, index, cfg) {
    var nu = window.dash_clientside.no_update;
    if (!cfg || !cfg.pages || cfg.pages.length < 2) return nu;
    var now = Date.now();
    if (!W.shownAt) W.shownAt = now;
    if (W.draining) {
      if (W.requestedAt && now - W.requestedAt > RENDER_MAX_MS) resume(cfg);  // the render never came
      return nu;
    }
    if (now - W.shownAt < cfg.interval_s * 1000) return nu;
    var IOC = window.IOC || {};
    if (IOC.failures >= 3) {  // offline: stay, and start the line again for the next try
      W.shownAt = now;
      restartProgress(cfg.interval_s);
      return nu;
    }
    drain(((index || 0) + 1) % cfg.pages.length, cfg);
    return nu;
  }

  function shown(info, cfg) {
    var nu = window.dash_clientside.no_update;
    if (!info || !cfg) return nu;
    W.shownAt = Date.now();
    W.draining = false;
    document.title = cfg.brand + (info.title ? " · " + info.title : "");
    document.documentElement.dataset.wallPath = info.path || "";
    if (window.IOC) window.IOC.version = null;  // the next poll answers in full
    markDot(info.index);
    restartProgress(cfg.interval_s);
    // after React has put the page into the DOM
    window.requestAnimationFrame(function () { window.setTimeout(paint, 0); });
    return info.index;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ioc_wall: {advance: advance, shown: shown}
  });
})();
