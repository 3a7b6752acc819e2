// The phone log's queue: an entry is kept on this phone (localStorage) the moment it is saved,
// then sent; if the connection is down it stays until it is back. Each entry carries a key
// made here, so the server records it once however often it is sent (outreach.activities).
(function () {
  "use strict";
  var QUEUE = "refloop.outreach.queue";
  var SENT = "refloop.outreach.sent";
  var SENT_SHOWN = 5;
  var RETRY_MS = 10000;
  var WAITING = "Saved on this phone; will be sent when you are back online.";

  var section = document.getElementById("log-queue-section");
  if (!section) return;
  var list = document.getElementById("log-queue");
  var status = document.getElementById("log-status");
  var form = document.getElementById("log-form");
  var sending = false;
  // Whose entries these are: a phone passed to a colleague, or a sign-out and another
  // sign-in, must not send one liaison's visits as the other's. The others' entries stay
  // on the phone, unseen, until their author signs in again (the server checks too).
  var OWNER = section.dataset.owner || "";

  function read(name) {
    try {
      var value = JSON.parse(window.localStorage.getItem(name));
      return Array.isArray(value) ? value : [];
    } catch (error) {
      return [];
    }
  }
  function write(name, entries) {
    window.localStorage.setItem(name, JSON.stringify(entries));
  }
  function readMine(name) {
    return read(name).filter(function (e) { return e.owner === OWNER; });
  }

  // A version 4 UUID from the browser's random numbers (crypto.randomUUID needs https).
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function say(text) {
    status.textContent = text;
  }

  function row(entry, state, detail) {
    var item = document.createElement("li");
    item.dataset.key = entry.key;
    var label = document.createElement("span");
    label.textContent = entry.label;
    var mark = document.createElement("span");
    mark.className = "state";
    mark.textContent = state;
    item.appendChild(label);
    item.appendChild(mark);
    if (detail) {
      var why = document.createElement("span");
      why.textContent = detail;
      item.appendChild(why);
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "secondary";
      drop.textContent = "Remove from this phone";
      drop.addEventListener("click", function () {
        write(QUEUE, read(QUEUE).filter(function (e) { return e.key !== entry.key; }));
        render();
      });
      item.appendChild(drop);
    }
    return item;
  }

  function render() {
    var queued = readMine(QUEUE);
    var sent = readMine(SENT);
    list.textContent = "";
    queued.forEach(function (entry) {
      if (entry.refused) list.appendChild(row(entry, "Not sent", entry.refused));
      else list.appendChild(row(entry, "Waiting to be sent"));
    });
    sent.forEach(function (entry) { list.appendChild(row(entry, "Sent")); });
    section.hidden = !queued.length && !sent.length;
    section.classList.toggle("all-sent", !queued.length);
    if (!queued.length && sent.length && !status.textContent) say("Sent.");
  }

  function csrfToken() {
    return section.dataset.csrf;
  }

  function markRefused(key, message) {
    write(QUEUE, read(QUEUE).map(function (e) {
      if (e.key === key) e.refused = message || "The server refused this entry.";
      return e;
    }));
    say("An entry was not accepted: see below.");
  }

  function markSent(entry) {
    write(QUEUE, read(QUEUE).filter(function (e) { return e.key !== entry.key; }));
    var sent = read(SENT).filter(function (e) { return e.key !== entry.key; });
    sent.unshift({ key: entry.key, label: entry.label, owner: entry.owner });
    write(SENT, sent.slice(0, SENT_SHOWN));
  }

  function send() {
    if (sending) return;
    var next = readMine(QUEUE).filter(function (e) { return !e.refused; })[0];
    render();
    if (!next) return;
    sending = true;
    var body = new FormData();
    next.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    body.append("csrfmiddlewaretoken", csrfToken());
    window.fetch(next.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      if (response.ok) {
        return response.json().then(function () {
          markSent(next);
          say("Sent.");
        });
      }
      if ([400, 403, 404, 422].indexOf(response.status) >= 0) {
        return response.json().then(
          function (answer) { markRefused(next.key, answer.error); },
          function () { markRefused(next.key, "The server refused this entry (" + response.status + ")."); }
        );
      }
      // Signed out meanwhile (sent to sign in), or the server is unwell: keep it and retry.
      say(response.type === "opaqueredirect"
        ? "Saved on this phone; sign in again and it will be sent."
        : WAITING);
      throw new Error("not sent");
    }).then(function () {
      sending = false;
      send();
    }, function () {
      sending = false;
      if (!status.textContent || status.textContent === "Sent.") say(WAITING);
      render();
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("client_key", newKey());
      var fields = [];
      data.forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken") fields.push([name, String(value)]);
      });
      var kind = form.querySelector("[name=kind]");
      var when = form.querySelector("[name=occurred_on]");
      var label = (kind ? kind.options[kind.selectedIndex].text : "Activity") + " · " +
        form.dataset.practiceName + (when && when.value ? " · " + when.value : "");
      var queued = read(QUEUE);
      queued.push({
        key: data.get("client_key"), owner: OWNER, action: form.action, label: label, fields: fields,
      });
      write(QUEUE, queued);
      form.reset();
      say(navigator.onLine ? "Sending…" : WAITING);
      send();
      section.scrollIntoView({ block: "nearest" });
    });
  }

  // The page kept on this phone (the service worker, templates/outreach/log_worker.js):
  // opened without a connection, it is the copy kept when it was last opened online, and
  // says so. The worker never sends anything: the queue above stays the one store of
  // unsent entries, sent by this page as before.
  var offline = document.getElementById("log-offline");
  var servedKept = offline && offline.dataset.served === "cache";

  function asOf() {
    var at = new Date(Number(offline.dataset.asOf) * 1000);
    var time = at.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
    if (at.toDateString() === new Date().toDateString()) return time;
    return at.toLocaleDateString([], { day: "numeric", month: "short" }) + ", " + time;
  }

  function sayKept(back) {
    var what = form ? "this form" : "the list";
    offline.textContent = back
      ? "Connection back: " + what + " is as of " + asOf() + "; reload the page for the latest."
      : "Offline: showing " + what + " as of " + asOf() + ".";
    offline.hidden = false;
  }

  // What this page needs offline: the page itself (unless the worker served it, and kept
  // it then), its static files, and the pages it links to within the log (the forms of
  // the practices due); the worker keeps those of them that are the log's or static.
  function keepForOffline(worker, withPage) {
    var urls = withPage ? [window.location.href] : [];
    window.performance.getEntriesByType("resource").forEach(function (e) { urls.push(e.name); });
    document.querySelectorAll("a[href]").forEach(function (link) { urls.push(link.href); });
    worker.postMessage({ type: "keep", urls: urls });
  }

  if (offline && "serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "kept") offline.dataset.kept = "yes";
    });
  }

  // A form kept on an earlier day offers that day's date: an untouched date is today's.
  function offerToday() {
    var when = form && form.querySelector("[name=occurred_on]");
    if (!when || when.value !== when.defaultValue) return;
    var now = new Date();
    var today = [now.getFullYear(), now.getMonth() + 1, now.getDate()].map(function (n) {
      return n < 10 ? "0" + n : String(n);
    }).join("-");
    if (when.value < today) when.defaultValue = when.value = today;
  }

  if (servedKept) {
    sayKept(false);
    offerToday();
    window.addEventListener("online", function () { sayKept(true); });
  } else if (offline && "serviceWorker" in navigator) {
    var workers = navigator.serviceWorker;
    var controlled = !!workers.controller;
    workers.register(offline.dataset.worker).then(function () {
      if (controlled) {
        keepForOffline(workers.controller, false);
      } else {
        workers.addEventListener("controllerchange", function () {
          keepForOffline(workers.controller, true);
        }, { once: true });
      }
    }, function () { /* no worker (a private window, an old browser): the queue still works */ });
  }

  window.addEventListener("online", send);
  window.setInterval(function () {
    if (readMine(QUEUE).some(function (e) { return !e.refused; })) send();
  }, RETRY_MS);
  send();
})();
