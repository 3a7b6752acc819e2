// Warns a minute before automatic sign-out and offers to stay signed in. The server keeps
// the clock (refloop.core.sessions) and says what is left on every htmx answer; asking it
// (GET /session/) does not count as activity, so several open tabs agree.
(function () {
  "use strict";
  var notice = document.getElementById("session-notice");
  if (!notice) return;
  var WARN_SECONDS = 60;
  var timer = null;

  function planFor(secondsLeft) {
    window.clearTimeout(timer);
    if (secondsLeft <= 0) {
      window.location.reload(); // the server has signed out; the page goes to sign in
      return;
    }
    notice.hidden = secondsLeft > WARN_SECONDS;
    var wait = secondsLeft > WARN_SECONDS ? secondsLeft - WARN_SECONDS : secondsLeft;
    timer = window.setTimeout(ask, wait * 1000);
  }

  function ask() {
    fetch(notice.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.json(); })
      .then(function (body) { planFor(body.seconds_left); })
      .catch(function () { timer = window.setTimeout(ask, WARN_SECONDS * 1000); });
  }

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var left = xhr ? xhr.getResponseHeader("X-Session-Seconds-Left") : null;
    if (left) planFor(Number(left));
  });
  planFor(Number(notice.dataset.secondsLeft));
})();
