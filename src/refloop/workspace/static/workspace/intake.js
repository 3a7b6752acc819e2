// Quick intake and outbound forms: source type reveals, type-ahead choice, suggestions, the caller's script.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function setUp(form) {
    var sourceType = byId("id_source_type");
    var search = byId("id_referring_search");
    var department = byId("id_department");
    var departmentChosenByUser = false;
    var submitting = false;

    function revealForSource() {
      if (!sourceType) return;
      form.querySelectorAll("[data-shown-for-source]").forEach(function (group) {
        group.hidden = group.getAttribute("data-shown-for-source") !== sourceType.value;
      });
    }
    if (sourceType) {
      revealForSource();
      sourceType.addEventListener("change", revealForSource);
    }

    function chooseSource(button) {
      byId("id_referring_provider").value = button.getAttribute("data-provider-id") || "";
      byId("id_referring_practice").value = button.getAttribute("data-practice-id") || "";
      var template = button.parentElement.querySelector("template");
      var chosen = byId("source-chosen");
      chosen.replaceChildren(template.content.cloneNode(true));
      byId("source-results").replaceChildren();
      if (search) search.value = button.getAttribute("data-label");
      var clear = chosen.querySelector(".clear-source");
      if (clear) clear.focus();
    }

    function clearSource() {
      byId("id_referring_provider").value = "";
      byId("id_referring_practice").value = "";
      byId("source-chosen").replaceChildren();
      if (search) { search.value = ""; search.focus(); }
    }

    form.addEventListener("click", function (event) {
      var option = event.target.closest(".source-option");
      if (option) { event.preventDefault(); chooseSource(option); return; }
      var clear = event.target.closest(".clear-source");
      if (clear) { event.preventDefault(); clearSource(); }
    });

    // Enter in a one-line field must not send a half-typed intake; in the search box it searches.
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
      if (event.target.type === "radio" || event.target.type === "checkbox") return;
      event.preventDefault();
      if (event.target === search) {
        var find = form.querySelector(".find-source");
        if (find) find.click();
      }
    });

    if (department) {
      department.addEventListener("change", function () { departmentChosenByUser = true; });
    }
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (!department || event.detail.target.id !== "department-suggestion") return;
      var hint = event.detail.target.querySelector("[data-suggested-department]");
      var suggested = hint ? hint.getAttribute("data-suggested-department") : "";
      if (suggested && !departmentChosenByUser) department.value = suggested;
    });

    var urgency = byId("id_urgency");
    var sla = byId("script-sla");
    if (urgency && sla) {
      urgency.addEventListener("change", function () {
        var label = sla.getAttribute("data-sla-" + urgency.value);
        if (label) sla.textContent = label;
      });
    }
    var assignee = byId("id_assignee");
    var caller = document.querySelector("[data-caller-name]");
    if (assignee && caller) {
      assignee.addEventListener("change", function () {
        var option = assignee.options[assignee.selectedIndex];
        caller.textContent = assignee.value ? option.text.split(" ")[0] + " from" : "Someone from";
      });
    }

    // One click, one referral: a second submit while the first is on its way is dropped.
    form.addEventListener("submit", function (event) {
      if (submitting) { event.preventDefault(); return; }
      submitting = true;
      var button = event.submitter;
      if (button) button.setAttribute("aria-busy", "true");
    });
    window.addEventListener("pageshow", function () {
      submitting = false;
      form.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.intake-form").forEach(function (form) {
      setUp(form);
      // After a refused submit, start where the first correction is needed.
      var invalid = form.querySelector("[aria-invalid='true']");
      if (invalid) invalid.focus();
    });
  });
})();
