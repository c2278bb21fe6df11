/* IOC live layer: new snapshot versions pushed to the screen, cheap when nothing changed.
 *
 * The server serialises the snapshot once per version. A screen holds one request open on it
 * (GET /api/v1/snapshot?wait=, If-None-Match: the version it shows): the server answers the
 * moment a new version is published, or 304 when the wait ends, and the screen asks again at
 * once — so a change reaches the screen without waiting for a poll. When push is refused
 * (IOC-Push: busy or off), breaks (a server restart, a proxy's error) or is switched off for
 * the page (?push=0), the screen polls once a second with If-None-Match, and tries push again
 * after a pause (longer each time it fails). A hidden tab polls instead of holding a
 * connection, so several tabs of one browser never use up its connections to the server.
 * Bound values ([data-ioc-path]) are written straight into
 * the DOM (no Dash re-render, no figure rebuilt), with a short flip when a number changes.
 * A page's charts and boards are its live parts (layouts/parts.py): the browser decides which
 * of them moved and asks the server to render only those. When the server
 * cannot be reached the page keeps its figures and says how old they are; it recovers by
 * itself. Everything the page needs is served by the app: no other host is ever contacted.
 */
(function () {
  "use strict";
  var IOC = (window.IOC = window.IOC || {});
  IOC.snapshot = null;
  IOC.version = null;
  IOC.failures = 0;
  IOC.lastOk = 0;
  IOC.cfg = null;
  var PUSH_WAIT_S = 15;       // how long the server holds a request (well below proxies' timeouts)
  var PUSH_GRACE_MS = 5000;   // a held request not answered by wait + this is a broken channel
  // push starts once the page has loaded: PUSH_AFTER_POLLS polls answered, no other request
  // (script, chart, callback) for QUIET_MS, and the network seen idle — nothing in flight — for
  // IDLE_MS at least once since the page opened (or at the latest after PUSH_LATEST_POLLS polls
  // on a page that is never quiet). A loading page never holds one of the few connections a
  // browser opens to a host, and a page that has loaded has been seen idle on the network.
  var PUSH_AFTER_POLLS = 3;
  var PUSH_LATEST_POLLS = 30;
  var QUIET_MS = 1500;
  var IDLE_MS = 800;
  IOC.answered = 0;
  var lastLoad = 0;  // performance.now() when the last request other than the live layer's ended
  var wasIdle = false;
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) {
        if (!/\/api\/v1\/(snapshot|heartbeat)/.test(e.name)) lastLoad = Math.max(lastLoad, e.responseEnd);
      });
    }).observe({type: "resource", buffered: true});
  } catch (e) { /* no resource timing: the polls alone decide */ }

  /* Was there a stretch of IDLE_MS with no request in flight, from the document's own
   * answer until now (this moment included: the poll has returned)? */
  function idleSeen() {
    if (wasIdle) return true;
    var spans = performance.getEntriesByType("resource").map(function (e) {
      return [e.startTime, e.responseEnd || performance.now()];
    });
    var nav = performance.getEntriesByType("navigation")[0];
    spans.push([0, nav ? nav.responseEnd : 0]);
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var end = 0;
    for (var i = 0; i < spans.length; i++) {
      if (spans[i][0] - end >= IDLE_MS) { wasIdle = true; return true; }
      end = Math.max(end, spans[i][1]);
    }
    wasIdle = performance.now() - end >= IDLE_MS;
    return wasIdle;
  }

  function loaded() {
    if (IOC.answered < PUSH_AFTER_POLLS || document.readyState !== "complete" ||
        document.querySelector("._dash-loading-callback, [data-dash-is-loading]")) return false;
    if (IOC.answered >= PUSH_LATEST_POLLS) return true;
    return performance.now() - lastLoad >= QUIET_MS && idleSeen();
  }
  // on, running: a request is held / the loop runs; retryAt: no push before (ms); reason: why
  // the last fallback; received: versions that came by push, lastSet: the last one handed to
  // the page's callbacks
  IOC.push = {on: false, running: false, retryAt: 0, backoff: 0, reason: "", received: 0, lastSet: null,
              allowed: new URLSearchParams(window.location.search).get("push") !== "0"};

  function walk(obj, path) {
    var node = obj;
    var parts = path.split(".");
    for (var i = 0; i < parts.length; i++) {
      if (node === null || node === undefined) return undefined;
      var part = parts[i];
      var m = /^(\w+)\[(\w+)=([^\]]*)\]$/.exec(part);
      if (m) {  // list element by key: links[link_id=cernet]
        var list = node[m[1]] || [];
        node = undefined;
        for (var j = 0; j < list.length; j++) {
          if (String(list[j][m[2]]) === m[3]) { node = list[j]; break; }
        }
      } else {
        node = node[part];
      }
    }
    return node;
  }
  IOC.walk = walk;

  function grouped(n, lang) {
    return Math.round(n).toLocaleString(lang === "zh" ? "zh-CN" : "en-US");
  }

  /* Numbers as a wall reads them: 万/亿 in Chinese for large counts, k/M in English. */
  function format(value, fmt, lang) {
    if (value === null || value === undefined || (typeof value === "number" && isNaN(value))) return "—";
    if (typeof value !== "number") return String(value);
    var abs = Math.abs(value);
    switch (fmt) {
      case "ratio":
        return (value * 100).toFixed(1) + "%";
      case "signed":
        return (value > 0 ? "+" : value < 0 ? "−" : "") + format(abs, "count", lang);
      case "bps":
        if (abs >= 1e9) return (value / 1e9).toFixed(2) + " Gbps";
        if (abs >= 1e6) return (value / 1e6).toFixed(1) + " Mbps";
        return grouped(value / 1e3, lang) + " kbps";
      case "plain":
        return String(value);
      case "minutes":
        return value.toFixed(1);
      case "decimal":
        return value.toFixed(1);
      case "count":
      default:
        if (lang === "zh") {
          if (abs >= 1e8) return (value / 1e8).toFixed(2) + "亿";
          if (abs >= 1e5) return (value / 1e4).toFixed(1) + "万";
        } else if (abs >= 1e6) {
          return (value / 1e6).toFixed(2) + "M";
        }
        return grouped(value, lang);
    }
  }
  IOC.format = format;

  function setText(el, text) {
    if (el.textContent === text) return;
    el.textContent = text;
    if (el.classList.contains("ioc-flip-on")) {
      el.classList.remove("ioc-flip");
      void el.offsetWidth;  // restart the animation
      el.classList.add("ioc-flip");
    }
  }

  function clockText(date, zone, lang, withDate) {
    var opts = {timeZone: zone, hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit"};
    if (withDate) { opts.year = "numeric"; opts.month = "2-digit"; opts.day = "2-digit"; }
    try {
      return new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", opts).format(date);
    } catch (e) {
      return date.toISOString().slice(11, 19);
    }
  }
  IOC.clockText = clockText;

  /* Write every bound value of the page from the snapshot, and each tile's data age. */
  function bind(snap, cfg) {
    var nodes = document.querySelectorAll("[data-ioc-path]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      setText(el, format(walk(snap, el.dataset.iocPath), el.dataset.iocFmt || "count", cfg.lang));
    }
    ages(snap, cfg);
  }

  function ages(snap, cfg) {
    if (!snap) return;
    var now = cfg.at ? Date.parse(snap.generated_at) : Date.now();
    var tiles = document.querySelectorAll("[data-ioc-stream]");
    for (var i = 0; i < tiles.length; i++) {
      var tile = tiles[i];
      var fresh = (snap.freshness || {})[tile.dataset.iocStream] || {};
      var ageEl = tile.querySelector(".ioc-age");
      var last = fresh.last_event_ts ? Date.parse(fresh.last_event_ts) : null;
      var age = last === null ? null : Math.max(0, (now - last) / 1000);
      var amber = parseFloat(tile.dataset.iocAmber || "120");
      var red = parseFloat(tile.dataset.iocRed || "600");
      tile.classList.toggle("ioc-stale", !!fresh.stale || !!snap.stale);
      tile.classList.toggle("ioc-age-amber", age !== null && age >= amber && age < red);
      tile.classList.toggle("ioc-age-red", age !== null && age >= red);
      if (ageEl) setText(ageEl, age === null ? "—" : ageText(age, cfg.lang));
    }
  }

  function ageText(s, lang) {
    if (s < 90) return Math.round(s) + (lang === "zh" ? "秒前" : "s ago");
    if (s < 5400) return Math.round(s / 60) + (lang === "zh" ? "分钟前" : " min ago");
    return Math.round(s / 3600) + (lang === "zh" ? "小时前" : " h ago");
  }

  function badge(cfg) {
    var el = document.getElementById("ioc-badge");
    if (!el) return;
    var snap = IOC.snapshot;
    // the figures are current as of the last successful check (an unchanged snapshot keeps
    // its version and its generated_at)
    var seen = IOC.lastOk ? new Date(IOC.lastOk) : snap ? new Date(snap.generated_at) : null;
    var asOf = seen ? clockText(seen, cfg.zone, cfg.lang, false) : "—";
    var state = "live", text = "";
    if (cfg.at) {
      state = "replay";
      text = cfg.text.replay + " " + (snap ? clockText(new Date(snap.generated_at), cfg.zone, cfg.lang, true) : "—");
    } else if (IOC.failures > 0 && (IOC.failures >= 3 || !snap)) {
      state = "offline";
      text = cfg.text.reconnecting + " · " + cfg.text.as_of + " " + asOf;
    } else if (snap && snap.stale) {
      state = "stale";
      text = cfg.text.store_down + " · " + cfg.text.as_of + " " + asOf;
    } else {
      text = cfg.text.as_of + " " + asOf;
    }
    el.dataset.state = state;
    setText(el, text);
  }
  IOC.badge = badge;

  function memory() {
    var m = window.performance && performance.memory;
    return m ? m.usedJSHeapSize : null;
  }

  var lastBeat = 0;
  function heartbeat(cfg) {
    if (cfg.at || Date.now() - lastBeat < (IOC.beatS || cfg.heartbeat_s) * 1000) return;
    lastBeat = Date.now();
    var body = JSON.stringify({
      screen: cfg.screen, page: cfg.page, version: IOC.version, heap_bytes: memory(),
      dom_nodes: document.getElementsByTagName("*").length, lang: cfg.lang,
      width: window.innerWidth, height: window.innerHeight
    });
    fetch("/api/v1/heartbeat", {method: "POST", headers: {"Content-Type": "application/json"}, body: body,
                                keepalive: true})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) { if (a && a.heartbeat_s > 0) IOC.beatS = a.heartbeat_s; })  // the server's pace
      .catch(function () {});
  }

  function softReload(cfg) {
    if (!cfg.reload_at || cfg.at) return;
    var started = IOC.started || (IOC.started = Date.now());
    var hm = clockText(new Date(), cfg.zone, "en", false).slice(0, 5);
    if (hm === cfg.reload_at && Date.now() - started > 3600 * 1000 && IOC.failures === 0) {
      window.location.reload();
    }
  }

  /* A new snapshot in hand: bind it and badge it (from a poll or a push). */
  function apply(snap, cfg) {
    IOC.answered += 1;
    IOC.failures = 0;
    IOC.lastOk = Date.now();
    IOC.snapshot = snap;
    IOC.version = snap.version;
    bind(snap, cfg);
    badge(cfg);
  }

  function pushWanted(cfg) {
    return !!cfg && !cfg.at && IOC.push.allowed && document.visibilityState !== "hidden" &&
      Date.now() >= IOC.push.retryAt;
  }

  /* Push refused or broken: poll for a while. A stopping server is tried again soon, a full
   * or switched-off one after half a minute, an error after 5 s, doubling up to a minute. */
  function fallback(reason) {
    var p = IOC.push;
    var pause = reason === "closing" ? 2000 : (reason === "busy" || reason === "off") ? 30000 :
      Math.min(60000, Math.max(5000, p.backoff * 2));
    p.backoff = reason === "closing" ? 0 : pause;
    p.retryAt = Date.now() + pause * (0.8 + 0.4 * Math.random());  // screens do not return in step
    p.on = false;
    p.reason = reason;
  }

  function draining() {  // the wall is swapping pages (assets/ioc_wall.js): nothing may land now
    return !!(window.IOC_WALL && window.IOC_WALL.draining);
  }

  function sleep(ms) {
    return new Promise(function (resolve) { window.setTimeout(resolve, ms); });
  }

  /* One held request after the other while push works; a new version is bound at once and
   * handed to the page's callbacks (its version store). */
  async function pushLoop() {
    var p = IOC.push;
    if (p.running) return;
    p.running = true;
    try {
      while (pushWanted(IOC.cfg)) {
        if (draining()) { await sleep(200); continue; }
        var cfg = IOC.cfg;
        var headers = {};
        if (IOC.version !== null) headers["If-None-Match"] = '"' + IOC.version + '"';
        var ctrl = new AbortController();
        var timer = window.setTimeout(function () { ctrl.abort(); }, PUSH_WAIT_S * 1000 + PUSH_GRACE_MS);
        var r;
        try {
          r = await fetch("/api/v1/snapshot?wait=" + PUSH_WAIT_S, {headers: headers, cache: "no-store",
                                                                 signal: ctrl.signal});
        } finally {
          window.clearTimeout(timer);
        }
        var how = r.headers.get("IOC-Push") || "";
        if (r.status === 200 && how) {
          var snap = await r.json();
          if (!draining() && (IOC.version === null || snap.version > IOC.version)) {
            apply(snap, cfg);
            p.received += 1;
            var dc = window.dash_clientside;
            if (dc && dc.set_props && cfg.version_id) {
              dc.set_props(cfg.version_id, {data: snap.version});
              p.lastSet = snap.version;
            }
          } else if (IOC.version !== null && snap.version < IOC.version) {
            await sleep(1000);  // this server is behind the one that answered before
          }
          if (how === "busy" || how === "off" || how === "closing") { fallback(how); break; }
          p.on = true;
          p.backoff = 0;
          continue;
        }
        await r.text();  // read: an unread answer is cancelled (a failed request in the console)
        if (r.status === 304 && (how === "held" || how === "new")) {
          IOC.failures = 0;
          IOC.lastOk = Date.now();
          p.on = true;
          p.backoff = 0;
          continue;
        }
        // refused (busy, off, closing), an error, or a proxy that answers for the server
        fallback(how || "http " + r.status);
        break;
      }
    } catch (e) {
      fallback("error");
    } finally {
      p.running = false;
      p.on = false;
    }
  }
  IOC.pushLoop = pushLoop;

  async function poll(n, cfg) {
    var nu = window.dash_clientside.no_update;
    if (!cfg) return nu;
    IOC.cfg = cfg;
    var clock = document.getElementById("ioc-clock");
    if (clock) setText(clock, clockText(new Date(), cfg.zone, cfg.lang, false));
    softReload(cfg);
    if (cfg.at && IOC.snapshot) { ages(IOC.snapshot, cfg); return nu; }
    if (IOC.push.running && IOC.version !== null) {
      // push delivers the versions: the tick only keeps the clock, the ages and the heartbeat
      if (IOC.push.on) IOC.lastOk = Date.now();  // a held request is the server saying "nothing new"
      ages(IOC.snapshot, cfg);
      badge(cfg);
      heartbeat(cfg);
      return nu;
    }
    if (IOC.inflight) return nu;  // one request at a time, however slow the network
    IOC.inflight = true;
    var url = "/api/v1/snapshot" + (cfg.at ? "?at=" + encodeURIComponent(cfg.at) : "");
    var headers = {};
    if (IOC.version !== null && !cfg.at) headers["If-None-Match"] = '"' + IOC.version + '"';
    try {
      var ctrl = new AbortController();
      var timer = setTimeout(function () { ctrl.abort(); }, 8000);
      var r = await fetch(url, {headers: headers, cache: "no-store", signal: ctrl.signal});
      clearTimeout(timer);
      if (r.status === 304) {
        await r.text();  // a 304 has no body, but left unread it is cancelled (a failed request)
        IOC.answered += 1;
        IOC.failures = 0;
        IOC.lastOk = Date.now();
        ages(IOC.snapshot, cfg);
        badge(cfg);
        return nu;
      }
      if (r.status === 401 || r.status === 403) {
        // the session ended or the screen was revoked: the page itself now says so (sign-in
        // or the revoked page), at most once every 20 s
        var last = Number(sessionStorage.getItem("ioc-reloaded") || 0);
        if (Date.now() - last > 20000) {
          sessionStorage.setItem("ioc-reloaded", String(Date.now()));
          window.location.reload();
        }
        throw new Error("HTTP " + r.status);
      }
      if (!r.ok) throw new Error("HTTP " + r.status);
      var snap = await r.json();
      apply(snap, cfg);
      return snap.version;
    } catch (e) {
      IOC.failures += 1;
      if (IOC.snapshot) ages(IOC.snapshot, cfg);
      badge(cfg);
      return nu;
    } finally {
      IOC.inflight = false;
      heartbeat(cfg);  // after the answer: the first beat already names the version on screen
      // the server answers: hold the next request open on it (when push is on and not pausing)
      // (a moment later: until this callback has returned, Dash counts it as loading)
      window.setTimeout(function () {
        if (IOC.failures === 0 && IOC.version !== null && loaded() && pushWanted(IOC.cfg)) pushLoop();
      }, 100);
    }
  }

  /* A short fingerprint of JSON-able data (FNV-1a, 32 bits, as 8 hex digits): the one place
   * a page decides whether a part changed. */
  function stable(value) {  // JSON with each object's keys sorted: the key order carries nothing
    if (Array.isArray(value)) return "[" + value.map(stable).join(",") + "]";
    if (value && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ":" + stable(value[k]);
      }).join(",") + "}";
    }
    return JSON.stringify(value === undefined ? null : value);
  }

  function fingerprint(value) {
    var text = stable(value);
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return ("0000000" + h.toString(16)).slice(-8) + ":" + text.length;
  }
  IOC.fingerprint = fingerprint;

  /* Each part's fingerprint; read(path) gives the value at a path (default: from snap). */
  function partPrints(snap, parts, read) {
    var at = read || function (path) { return walk(snap, path); };
    var out = {};
    Object.keys(parts).forEach(function (name) {
      out[name] = fingerprint(parts[name].map(at));
    });
    return out;
  }

  /* The x of a trace's row (layouts/parts.py, Trace: the same shaping). */
  function xText(value, fmt, prefix) {
    if (fmt === "raw" || typeof value !== "string") return value === undefined ? null : value;
    if (fmt === "local") return value.slice(0, 10) + " " + value.slice(11, 16);
    return prefix + value.slice(11, 16);
  }

  function cell(row, key, dflt) {
    return Object.prototype.hasOwnProperty.call(row, key) ? row[key] : dflt;
  }

  /* One trace's (x, y) from the snapshot, as Trace.series computes them in Python. */
  function series(snap, tr) {
    var rows = walk(snap, tr.rows) || [];
    if (tr.drop_last) rows = rows.slice(0, -1);
    var x = rows.map(function (r) { return xText(r[tr.x], tr.x_fmt, tr.x_prefix); });
    var y = rows.map(function (r) {
      if (tr.y.length === 1) return cell(r, tr.y[0], tr.default);
      return tr.y.reduce(function (sum, key) { return sum + (cell(r, key, tr.default) || 0); }, 0);
    });
    return [x, y];
  }
  IOC.series = series;

  /* A figure the browser patches by itself: only the traces' x and y change. */
  function tracesPatch(snap, traces) {
    var patch = new window.dash_clientside.Patch();
    traces.forEach(function (tr, i) {
      var xy = series(snap, tr);
      patch.assign(["data", i, "x"], xy[0]);
      patch.assign(["data", i, "y"], xy[1]);
    });
    return patch.build();
  }

  /* A page's live parts (layouts/parts.py): on a new version, the parts whose snapshot paths
   * moved since what the screen shows. Returns [fingerprints held, {parts, version}, and a
   * patch for each part the browser draws itself]; the second is no_update when no part the
   * server draws moved, so the server is not asked at all. */
  function parts(version, spec, held) {
    var nu = window.dash_clientside.no_update;
    var browser = (spec && spec.browser) || [];
    var none = [nu, nu].concat(browser.map(function () { return nu; }));
    var snap = IOC.snapshot;
    if (!spec || !snap || version === null || version === undefined) return none;
    (IOC.specs = IOC.specs || {})[spec.page] = spec;  // what the page declared, for a test to read
    var now = partPrints(snap, spec.parts);
    if (!held) {
      // the layout was drawn from snapshot spec.version, whose values at the parts' paths it
      // carries (spec.drawn): what it shows is known whatever version the browser holds now
      if (snap.version === spec.version) { none[0] = now; return none; }
      var drawn = spec.drawn || {};
      held = partPrints(null, spec.parts, function (path) { return drawn[path]; });
    }
    var moved = Object.keys(now).filter(function (name) { return held[name] !== now[name]; });
    var mine = {};
    var patches = browser.map(function (entry) {
      mine[entry[0]] = true;
      return moved.indexOf(entry[0]) >= 0 ? tracesPatch(snap, entry[1]) : nu;
    });
    var server = moved.filter(function (name) { return !mine[name]; });
    return [now, server.length ? {parts: server, version: snap.version} : nu].concat(patches);
  }
  IOC.parts = parts;

  /* Scale the 1920×1080 canvas to the screen: contain (letterbox), width or height. */
  function fit() {
    var canvas = document.querySelector(".ioc-canvas");
    if (!canvas) return;
    var mode = canvas.dataset.fit || "contain";
    var w = window.innerWidth, h = window.innerHeight;
    var sx = w / 1920, sy = h / 1080;
    var s = mode === "width" ? sx : mode === "height" ? sy : Math.min(sx, sy);
    var left = Math.max(0, (w - 1920 * s) / 2), top = Math.max(0, (h - 1080 * s) / 2);
    if (mode === "width") top = 0;
    if (mode === "height") left = Math.max(0, (w - 1920 * s) / 2);
    canvas.style.transform = "translate(" + left + "px," + top + "px) scale(" + s + ")";
    canvas.dataset.scale = s.toFixed(4);
  }
  IOC.fit = fit;
  window.addEventListener("resize", fit);
  new MutationObserver(function () {
    var canvas = document.querySelector(".ioc-canvas");
    if (canvas && !canvas.dataset.scale) fit();
  }).observe(document.documentElement, {childList: true, subtree: true});

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ioc: Object.assign({}, (window.dash_clientside || {}).ioc, {poll: poll, fit: fit, parts: parts})
  });
})();
