// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // A "select all" checkbox toggles the row checkboxes that belong to the same form.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var formId = box.getAttribute("data-select-all");
    document
      .querySelectorAll('input[type=checkbox][form="' + formId + '"][name=contacts]')
      .forEach(function (row) { row.checked = box.checked; });
  });

  // The main menu folds behind its "Menu" button on narrow screens (the CSS decides when).
  // Without this script the button stays hidden and the menu wraps onto several lines.
  var navToggle = document.querySelector(".nav-toggle[aria-controls]");
  if (navToggle) {
    document.documentElement.classList.add("js-nav");
    navToggle.hidden = false;
    navToggle.addEventListener("click", function () {
      var open = navToggle.getAttribute("aria-expanded") === "true";
      navToggle.setAttribute("aria-expanded", String(!open));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || navToggle.getAttribute("aria-expanded") !== "true") return;
      navToggle.setAttribute("aria-expanded", "false");
      navToggle.focus();
    });
  }

  // Buttons with data-confirm ask before submitting.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
