// Behaviour every workspace page shares. Page-specific scripts live beside their templates' static files.
(function () {
  "use strict";
  // Close an open dropdown (bell, user menu) when the user clicks elsewhere or presses Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
})();
