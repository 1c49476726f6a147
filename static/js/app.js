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

  // Buttons with data-confirm ask before submitting.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
