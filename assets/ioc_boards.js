/* IOC boards from files: which of a board's snapshot tiles moved, and the thresholds of its
 * numbers.
 *
 * The live layer (ioc_live.js) holds the snapshot and writes every bound number. On each new
 * version this compares, per tile, the values at the paths the tile is drawn from with what
 * the screen shows; only the tiles that moved are named to the server, which redraws exactly
 * those (pages/boards.py). A board's numbers turn amber or red at their thresholds here, in
 * the browser, from the same snapshot: no request at all.
 */
(function () {
  "use strict";
  var nu = window.dash_clientside ? window.dash_clientside.no_update : null;

  function print(value) {
    try { return JSON.stringify(value === undefined ? null : value); } catch (e) { return String(value); }
  }

  function prints(get, live) {
    var out = {};
    Object.keys(live || {}).forEach(function (tile) {
      out[tile] = live[tile].map(function (path) { return print(get(path)); }).join("|");
    });
    return out;
  }

  function level(value, thresholds) {
    if (typeof value !== "number" || isNaN(value)) return "";
    var worst = "";
    (thresholds || []).forEach(function (th) {
      var hit = th[2] ? value <= th[0] : value >= th[0];
      if (hit && (th[1] === "red" || !worst)) worst = th[1];
    });
    return worst;
  }

  function paintLevels(snap, cards) {
    var IOC = window.IOC || {};
    (cards || []).forEach(function (card) {
      var el = document.getElementById(JSON.stringify({tile: card[0], type: "boards-card"}));
      if (!el || !IOC.walk) return;
      var lv = level(IOC.walk(snap, card[1]), card[2]);
      el.classList.toggle("boards-level-amber", lv === "amber");
      el.classList.toggle("boards-level-red", lv === "red");
    });
  }

  function moved(_version, spec, held) {
    nu = window.dash_clientside.no_update;
    var IOC = window.IOC || {};
    var snap = IOC.snapshot;
    if (!spec || !snap || !IOC.walk) return [nu, nu];
    paintLevels(snap, spec.cards);
    var now = prints(function (path) { return IOC.walk(snap, path); }, spec.live);
    if (!held) {
      if (snap.version === spec.version) return [now, nu];
      var drawn = spec.drawn || {};
      held = prints(function (path) { return drawn[path]; }, spec.live);
    }
    var tiles = Object.keys(now).filter(function (tile) { return held[tile] !== now[tile]; });
    return [now, tiles.length ? {tiles: tiles, version: snap.version} : nu];
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ioc_boards: {moved: moved, level: level}
  });
})();
