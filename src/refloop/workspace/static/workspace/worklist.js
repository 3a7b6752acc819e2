// Worklist keyboard navigation (j/k move a visible selection, Enter opens it) and "select all".
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#worklist-table tbody tr[data-row]"));
  }

  function isTyping(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input, select, textarea, [contenteditable], [contenteditable=''], dialog[open]"));
  }

  function select(index) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) {
      row.classList.toggle("is-current", i === index);
      if (i === index) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
    var link = all[index].querySelector("a.row-link");
    if (link) link.focus({ preventScroll: true });
    all[index].scrollIntoView({ block: "nearest" });
  }

  function currentIndex() {
    return rows().findIndex(function (row) { return row.classList.contains("is-current"); });
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
    var index = currentIndex();
    if (event.key === "j") {
      event.preventDefault();
      select(index < 0 ? 0 : index + 1);
    } else if (event.key === "k") {
      event.preventDefault();
      select(index < 0 ? 0 : index - 1);
    } else if (event.key === "Enter" && index >= 0) {
      // A focused link or button opens on Enter by itself; elsewhere, open the selected row.
      if (event.target.closest && event.target.closest("a, button")) return;
      var link = rows()[index].querySelector("a.row-link");
      if (link) {
        event.preventDefault();
        window.location.assign(link.href);
      }
    }
  });

  // A click on a row (not on its controls) makes it the selected one.
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#worklist-table tbody tr[data-row]");
    if (!row || event.target.closest("a, button, input, label")) return;
    select(rows().indexOf(row));
  });

  document.addEventListener("change", function (event) {
    if (event.target.id !== "select-all") return;
    document.querySelectorAll("#worklist-table tbody input[type=checkbox][name=referral]").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
})();
