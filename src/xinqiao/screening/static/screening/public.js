// Public self-screening (no inline scripts: the CSP allows only same-origin files).
// Skip logic (a question asked only after a given answer), focus on the error summary, and one
// submission per tap (the server stores a resent form once anyway).
(function () {
  "use strict";

  function answerOf(form, number) {
    var checked = form.querySelector('input[name="q' + number + '"]:checked');
    return checked ? checked.value : null;
  }

  function applySkipLogic(form) {
    form.querySelectorAll("[data-enable-item]").forEach(function (fieldset) {
      var asked = answerOf(form, fieldset.dataset.enableItem) === fieldset.dataset.enableAnswer;
      fieldset.hidden = !asked;
      fieldset.querySelectorAll("input").forEach(function (input) {
        input.disabled = !asked;
        if (!asked) { input.checked = false; }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("screening-form");
    if (!form) { return; }
    var button = document.getElementById("submit-button");
    applySkipLogic(form);
    form.addEventListener("change", function (event) {
      if (event.target && event.target.type === "radio") { applySkipLogic(form); }
    });
    form.addEventListener("submit", function () {
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
    window.addEventListener("pageshow", function () {
      if (button) { button.disabled = false; }
    });
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
