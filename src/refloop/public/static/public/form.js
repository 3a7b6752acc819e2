// The public referral form: show the follow-up questions that belong to an answer.
// Without JavaScript every question stays visible and the server checks what is required.
(function () {
  "use strict";

  function currentValue(form, name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) return checked.value;
    var field = form.querySelector('select[name="' + name + '"]');
    return field ? field.value : "";
  }

  // data-shown-when="name=value|value;other=value": shown when any condition holds.
  function isShown(form, spec) {
    return spec.split(";").some(function (condition) {
      var parts = condition.split("=");
      return parts[1].split("|").indexOf(currentValue(form, parts[0])) !== -1;
    });
  }

  function update(form) {
    form.querySelectorAll("[data-shown-when]").forEach(function (group) {
      group.hidden = !isShown(form, group.getAttribute("data-shown-when"));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.public-form");
    if (!form) return;
    update(form);
    form.addEventListener("change", function () { update(form); });
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });
})();
