/* An unpaired wall: ask every 3 s whether an operator approved the code shown; once approved,
 * redeem it (the server sets the screen's cookie) and open the wall. */
(function () {
  var el = document.getElementById("pair-code");
  if (!el) return;
  var code = el.dataset.code;
  function check() {
    fetch("/wall/pair/status?code=" + encodeURIComponent(code), {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state === "approved") { window.location.href = "/wall/pair?code=" + encodeURIComponent(code); return; }
        if (s.state === "expired" || s.state === "unknown") { window.location.reload(); return; }
        setTimeout(check, 3000);
      })
      .catch(function () { setTimeout(check, 5000); });
  }
  setTimeout(check, 3000);
})();
