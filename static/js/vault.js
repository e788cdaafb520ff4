// /keys/: show only the secret inputs of the chosen provider. Without this script
// every input shows, labelled with the providers it is for.
(function () {
  "use strict";

  function sync(select) {
    var form = select.form;
    if (!form) { return; }
    var chosen = select.value;
    form.querySelectorAll(".vault-secret[data-providers]").forEach(function (row) {
      var applies = row.getAttribute("data-providers").split(" ").indexOf(chosen) !== -1;
      row.hidden = !applies;
      row.querySelectorAll("input, textarea").forEach(function (input) {
        input.disabled = !applies;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-vault-provider]").forEach(function (select) {
      sync(select);
      select.addEventListener("change", function () { sync(select); });
    });
  });
})();
