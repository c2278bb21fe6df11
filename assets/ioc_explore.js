/* The analyst page (/explore): copy the API URL of the question on screen.
 *
 * The clipboard API needs a secure context (HTTPS or localhost); on an intranet served over
 * plain HTTP the field's text is selected and copied the old way, and stays selected, so a
 * tablet user can still copy it by hand.
 */
(function () {
  "use strict";

  function exploreCopy(n, url) {
    var button = document.getElementById("explore-copy");
    var done = (button && button.dataset.done) || "OK";
    var field = document.getElementById("explore-api-url");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).catch(function () {});
    } else if (field) {
      field.focus();
      field.select();
      try { document.execCommand("copy"); } catch (e) { /* the text stays selected */ }
    }
    return done;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ioc: Object.assign({}, (window.dash_clientside || {}).ioc, {exploreCopy: exploreCopy})
  });
})();
