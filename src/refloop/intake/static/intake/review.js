// The review page: switch the page image in place, and jump to the page a field was read on.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var image = document.getElementById("page-image");
    var caption = document.getElementById("page-caption");
    if (!image) return;
    var links = Array.prototype.slice.call(document.querySelectorAll(".page-switcher [data-src]"));
    var sources = {};
    links.forEach(function (link) { sources[link.getAttribute("data-page")] = link.getAttribute("data-src"); });

    function show(number) {
      if (!sources[number]) return false;
      image.src = sources[number];
      image.alt = "Page " + number + " of document #" + image.getAttribute("data-document");
      if (caption) caption.textContent = "Page " + number;
      links.forEach(function (link) {
        if (link.getAttribute("data-page") === number) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      });
      return true;
    }

    // Without JavaScript these are links that reload the page; with it, typed values stay.
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-page]");
      if (link && show(link.getAttribute("data-page"))) event.preventDefault();
    });
  });
})();
