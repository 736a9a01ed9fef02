// One tab per language for every translated field in admin (modeltranslation
// marks each language's widget with the class "mt"; ids end in _<language>).
// Choosing a language shows it in every field of the page at once.
(function () {
  "use strict";

  function langOf(widget) {
    var match = /_([a-z]{2}(?:_[a-z]+)?)$/.exec(widget.id || "");
    return match ? match[1] : null;
  }

  function init() {
    var groups = {};
    var order = [];
    document.querySelectorAll(".mt[id]").forEach(function (widget) {
      var lang = langOf(widget);
      var row = widget.closest(".form-row, .fieldBox, td");
      if (!lang || !row) return;
      var base = widget.id.slice(0, -(lang.length + 1));
      if (!groups[base]) {
        groups[base] = [];
        order.push(base);
      }
      groups[base].push({ lang: lang, row: row, widget: widget });
    });
    var bars = [];

    function show(lang) {
      order.forEach(function (base) {
        groups[base].forEach(function (item) {
          item.row.hidden = item.lang !== lang;
        });
      });
      bars.forEach(function (bar) {
        bar.querySelectorAll("button").forEach(function (button) {
          button.setAttribute("aria-selected", String(button.dataset.lang === lang));
        });
      });
    }

    var first = null;
    order.forEach(function (base) {
      var items = groups[base];
      if (items.length < 2) return;
      var bar = document.createElement("div");
      bar.className = "mt-tabs";
      bar.setAttribute("role", "tablist");
      items.forEach(function (item) {
        var button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "tab");
        button.dataset.lang = item.lang;
        button.textContent = item.lang.toUpperCase();
        if (!item.widget.value) button.classList.add("mt-empty");
        if (item.row.querySelector(".errorlist")) button.classList.add("mt-error");
        button.addEventListener("click", function () {
          show(item.lang);
        });
        bar.appendChild(button);
        if (!first && item.widget.classList.contains("mt-default")) first = item.lang;
      });
      items[0].row.parentNode.insertBefore(bar, items[0].row);
      bars.push(bar);
    });
    if (!bars.length) return;
    var withError = document.querySelector(".mt-tabs .mt-error");
    show(withError ? withError.dataset.lang : first || groups[order[0]][0].lang);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
