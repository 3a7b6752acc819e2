// The referral detail page: the action dialog, inline document viewers, focus after htmx swaps, print.
(function () {
  "use strict";

  var LOADING = '<article><header><h2 id="action-dialog-title">Loading…</h2></header>' +
    '<p aria-busy="true">Loading the form…</p></article>';

  function focusFirst(root) {
    var target = root.querySelector(
      "[data-conflict] a, [aria-invalid='true'], input:not([type=hidden]), select, textarea, button[type=submit]"
    );
    if (target) target.focus();
  }

  document.addEventListener("click", function (event) {
    // The action buttons are links to the form's own page; with JS (and htmx) the form
    // loads into the dialog instead.
    var opener = event.target.closest("[data-dialog]");
    if (opener && window.htmx) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.innerHTML = LOADING;
        if (!dialog.open) dialog.showModal();
      }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });

  // Documents load only when their viewer is opened (each view is an audited read).
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details[data-viewer]") || !details.open) return;
    details.querySelectorAll("[data-src]").forEach(function (element) {
      if (!element.getAttribute("src")) element.setAttribute("src", element.getAttribute("data-src"));
    });
  }, true);

  // Put the focus where the user must look: the new form, its first error, or the conflict.
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail.elt;
    if (swapped && !swapped.isConnected) swapped = document.querySelector("dialog[open] form.action-form");
    if (!swapped) return;
    if (swapped.id === "patient") {
      swapped.focus();
    } else if (swapped.id === "action-dialog") {
      focusFirst(swapped);
    } else if (swapped.matches("form.action-form")) {
      focusFirst(swapped);
    }
  });
})();
