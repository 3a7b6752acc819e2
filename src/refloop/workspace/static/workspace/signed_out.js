// The sign-in page: nobody is signed in on this browser now (signed out, or the session
// ended), so every copy of a page refloop kept for offline use is deleted: the liaison's
// visit log keeps the page with the due list (refloop.outreach, log_worker.js). The visit
// log's unsent entries (localStorage) stay, to be sent after the next sign-in.
(function () {
  "use strict";
  if (!window.caches) return;
  window.caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("refloop-") === 0;
    }).map(function (name) { return window.caches.delete(name); }));
  }).then(function () {
    document.documentElement.dataset.keptCopies = "deleted";
  }, function () { /* storage unavailable: nothing was kept either */ });
})();
