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

/* The date picker's language (/explore).
 *
 * Dash's date picker names months and weekdays with the date-fns locale it finds in
 * window.dateFns.locale (English without one). Nothing is fetched from another host: the page
 * writes the names from its catalogue into [data-date-words] beside the picker, and the locale
 * is built from them each time the picker asks, so it always speaks the page's language.
 */
(function () {
  "use strict";

  var built = {text: null, locale: null};

  function none() { return null; }

  function build(w, lang) {
    var long = w.months, short = w.monthsShort, days = w.days, daysLong = w.daysLong;
    function pattern(p) { return function () { return p; }; }
    return {
      code: lang === "zh" ? "zh-CN" : "en-US",
      formatDistance: function () { return ""; },
      formatRelative: function () { return "P"; },
      formatLong: {date: pattern("yyyy-MM-dd"), time: pattern("HH:mm"), dateTime: pattern("{{date}} {{time}}")},
      localize: {
        ordinalNumber: function (n) { return String(n); },
        era: function () { return ""; },
        quarter: function (q) { return String(q); },
        month: function (m, o) {
          var width = o && o.width;
          return width === "abbreviated" || width === "narrow" ? short[m] : long[m];
        },
        day: function (d, o) { return o && o.width === "wide" ? daysLong[d] : days[d]; },
        dayPeriod: function (p) { return p; }
      },
      match: {ordinalNumber: none, era: none, quarter: none, month: none, day: none, dayPeriod: none},
      options: {weekStartsOn: lang === "zh" ? 1 : 0, firstWeekContainsDate: 1}
    };
  }

  function locales() {
    var holder = document.querySelector("[data-date-words]");
    if (!holder) { return {}; }
    var text = holder.getAttribute("data-date-words");
    if (text !== built.text) {
      try {
        built = {text: text, locale: build(JSON.parse(text), holder.getAttribute("data-lang"))};
      } catch (e) {
        built = {text: text, locale: null};
      }
    }
    return built.locale ? {ioc: built.locale} : {};
  }

  var other = {};
  Object.defineProperty(window, "dateFns", {
    configurable: true,
    get: function () { return Object.assign({}, other, {locale: locales()}); },
    set: function (value) { other = value || {}; }
  });
})();
