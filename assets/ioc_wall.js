/* IOC wall rotation: which page comes next, when, and making a freshly shown page complete
 * at once.
 *
 * The server renders the next page into the wall's stage; everything about time happens
 * here. A page stays for the interval counted from when it was actually shown (a slow render
 * does not shorten it), the progress line runs in step with that, and a page whose render
 * never arrives is asked for again only after another interval, so a server that is away is
 * not hammered. While the live layer is offline the rotation holds on the current page,
 * which is the one saying "reconnecting": rotating through pages that cannot refresh would
 * only hide it. A newly mounted page starts with "—" in its bound numbers; they are written
 * straight from the last snapshot the live layer holds, and its version is forgotten so the
 * next poll answers in full and the page's charts get their first update too.
 */
(function () {
  "use strict";
  var W = (window.IOC_WALL = window.IOC_WALL || {shownAt: 0, requestedAt: 0, index: 0});

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
    var lang = (IOC.cfg && IOC.cfg.lang) || document.documentElement.lang || "zh";
    var nodes = document.querySelectorAll(".wall-stage [data-ioc-path]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      el.textContent = IOC.format(IOC.walk(IOC.snapshot, el.dataset.iocPath), el.dataset.iocFmt || "count",
                                  lang);
    }
  }

  function advance(n, index, cfg) {
    var nu = window.dash_clientside.no_update;
    if (!cfg || !cfg.pages || cfg.pages.length < 2) return nu;
    var now = Date.now();
    var wait = cfg.interval_s * 1000;
    if (!W.shownAt) W.shownAt = now;
    if (now - W.shownAt < wait) return nu;
    if (W.requestedAt > W.shownAt && now - W.requestedAt < wait) return nu;  // render pending
    var IOC = window.IOC || {};
    if (IOC.failures >= 3) {  // offline: stay, and start the line again for the next try
      W.shownAt = now;
      restartProgress(cfg.interval_s);
      return nu;
    }
    W.requestedAt = now;
    return ((index || 0) + 1) % cfg.pages.length;
  }

  function shown(info, cfg) {
    var nu = window.dash_clientside.no_update;
    if (!info || !cfg) return nu;
    W.shownAt = Date.now();
    W.index = info.index;
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
