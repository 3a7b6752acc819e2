// The review page: switch the page image in place, jump to the page a field was read on, and
// outline where on the page a field was read while it is focused or hovered.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var image = document.getElementById("page-image");
    var caption = document.getElementById("page-caption");
    if (!image) return;
    var links = Array.prototype.slice.call(document.querySelectorAll(".page-switcher [data-src]"));
    var sources = {};
    links.forEach(function (link) { sources[link.getAttribute("data-page")] = link.getAttribute("data-src"); });

    var readBox = document.getElementById("read-box");

    function show(number) {
      if (!sources[number]) return false;
      if (image.getAttribute("data-page") === number) return true;
      image.src = sources[number];
      image.setAttribute("data-page", number);
      image.alt = "Page " + number + " of document #" + image.getAttribute("data-document");
      if (caption) caption.textContent = "Page " + number;
      links.forEach(function (link) {
        if (link.getAttribute("data-page") === number) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      });
      return true;
    }

    var outlined = null;

    // The box is in fractions of the page; the image is drawn scaled to fit (object-fit:
    // contain, at the top), so it is placed over the drawn page, not the element.
    function outline(field) {
      outlined = field;
      if (!readBox) return;
      var box = field ? (field.getAttribute("data-box") || "").split(",").map(Number) : [];
      var page = field ? field.getAttribute("data-box-page") : null;
      if (box.length !== 4 || box.some(isNaN) || !page) {
        readBox.hidden = true;
        return;
      }
      if (image.getAttribute("data-page") !== page && !show(page)) {
        readBox.hidden = true;
        return;
      }
      place(box);
    }

    function place(box) {
      var naturalWidth = image.naturalWidth, naturalHeight = image.naturalHeight;
      if (!image.complete || !naturalWidth || !naturalHeight) {
        readBox.hidden = true;  // drawn once the page has loaded
        return;
      }
      var scale = Math.min(image.clientWidth / naturalWidth, image.clientHeight / naturalHeight);
      var width = naturalWidth * scale, height = naturalHeight * scale;
      var left = image.offsetLeft + image.clientLeft + (image.clientWidth - width) / 2;
      var top = image.offsetTop + image.clientTop;
      readBox.style.left = left + box[0] * width + "px";
      readBox.style.top = top + box[1] * height + "px";
      readBox.style.width = (box[2] - box[0]) * width + "px";
      readBox.style.height = (box[3] - box[1]) * height + "px";
      readBox.hidden = false;
    }

    image.addEventListener("load", function () { outline(outlined); });
    window.addEventListener("resize", function () { outline(outlined); });

    function focusedField() {
      var active = document.activeElement;
      return active && active.closest ? active.closest(".read-field") : null;
    }

    document.addEventListener("focusin", function (event) {
      outline(event.target.closest(".read-field"));
    });
    document.addEventListener("mouseover", function (event) {
      var field = event.target.closest(".read-field");
      if (field) outline(field);
    });
    document.addEventListener("mouseout", function (event) {
      var field = event.target.closest(".read-field");
      if (field && !field.contains(event.relatedTarget)) outline(focusedField());
    });

    // Without JavaScript these are links that reload the page; with it, typed values stay.
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-page]");
      if (link && show(link.getAttribute("data-page"))) {
        event.preventDefault();
        // The page chosen stays: a field's outline no longer pulls back to its own page.
        if (outlined && outlined.getAttribute("data-box-page") !== link.getAttribute("data-page")) {
          outline(null);
        }
      }
    });
  });
})();
