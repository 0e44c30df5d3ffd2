// The follow-up form: show only the sections that the chosen outcome uses (the server ignores the rest).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("followup-form");
  if (!form) { return; }
  var bySection = {
    visited: ["visit", "risk", "social", "behaviour", "status", "treatment", "referral", "participants", "decision"],
    not_reached: ["visit", "not-reached", "participants"],
    dead: ["visit", "death"]
  };
  function apply() {
    var checked = form.querySelector("input[name=outcome]:checked");
    var outcome = checked ? checked.value : "visited";
    var shown = bySection[outcome] || bySection.visited;
    form.querySelectorAll("details[data-section]").forEach(function (el) {
      var on = shown.indexOf(el.getAttribute("data-section")) !== -1;
      el.classList.toggle("fu-hidden", !on);
      if (on && (el.getAttribute("data-section") === "not-reached" || el.getAttribute("data-section") === "death")) {
        el.open = true;
      }
    });
    var proposal = document.getElementById("proposal");
    if (proposal) { proposal.classList.toggle("fu-hidden", outcome !== "visited"); }
  }
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "outcome") { apply(); }
  });
  apply();
});
