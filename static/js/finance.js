// Finance pages: the period picker and the statement's print button. No inline script (CSP).
(function () {
  "use strict";

  // Typing a date means custom dates: switch the preset select so that they apply.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) || target.type !== "date") { return; }
    var form = target.closest("[data-period-form]");
    var preset = form && form.querySelector("select[name=period]");
    if (preset) { preset.value = "custom"; }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
})();
