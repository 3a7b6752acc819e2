// The visit log's service worker (issue 16): the log page opens on a phone without a
// connection. Served by outreach.log_views.worker from /outreach/log/, so its scope is the
// log page and nothing else. What it does:
// - the log page (the due list, a practice's form): network first, so an online liaison
//   always gets a fresh list and a fresh CSRF token; the answer is kept in the cache, and
//   when the network fails the kept copy is served, marked so the page says it is offline;
// - refloop's static files that page loads: network first too, kept for offline use;
// - nothing else: no other page, no POST (log.js sends the entries itself, from its one
//   queue in localStorage), no answer that is not a plain 200 (a redirect to sign in
//   deletes the kept copies instead).
// A copy older than the longest sign-in (SESSION_MAX_HOURS) is never served; the sign-in
// page deletes every copy (static/workspace/signed_out.js).
"use strict";

var CACHE = "{{ cache_name|escapejs }}";
var CACHE_PREFIX = "{{ cache_prefix|escapejs }}";
var PAGE = "{{ page_path|escapejs }}";
var STATIC = "{{ static_path|escapejs }}";
var MAX_AGE_MS = {{ max_age_ms }};
var FRESH_MS = {{ fresh_ms }};
var KEPT_AT = "X-Refloop-Kept-At";
var FROM_NETWORK = 'data-served="network"';
var FROM_CACHE = 'data-served="cache"';
var NOT_KEPT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline</title></head>' +
  "<body><main><h1>Offline</h1><p>This page is not kept on this phone. " +
  '<a href="' + PAGE + '">The visit log</a> opens without a connection once it has been ' +
  "opened online.</p></main></body></html>";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(CACHE_PREFIX) === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function isPage(url) {
  return url.origin === self.location.origin && url.pathname === PAGE;
}

function isAsset(url) {
  return url.origin === self.location.origin && url.pathname.indexOf(STATIC) === 0;
}

function forget() {
  return caches.delete(CACHE);
}

// Keeps a plain 200 answer (never a redirect, an error or another origin's), with the time.
function keep(url, response) {
  if (response.status !== 200 || response.type !== "basic" || response.redirected) {
    return Promise.resolve(false);
  }
  return response.clone().blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set(KEPT_AT, String(Date.now()));
    var copy = new Response(body, { status: 200, statusText: response.statusText, headers: headers });
    return caches.open(CACHE).then(function (cache) { return cache.put(url, copy); });
  }).then(function () { return true; }, function () { return false; });
}

function age(response) {
  return Date.now() - Number(response.headers.get(KEPT_AT) || 0);
}

function keptCopy(url) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(url, { ignoreVary: true }).then(function (response) {
      if (!response) return null;
      if (age(response) >= MAX_AGE_MS) return cache.delete(url).then(function () { return null; });
      return response;
    });
  });
}

// The kept page, with its marker turned so that log.js says it is showing an offline copy.
function marked(copy) {
  return copy.text().then(function (html) {
    var headers = new Headers(copy.headers);
    headers.delete("Content-Length");
    return new Response(html.replace(FROM_NETWORK, FROM_CACHE), { status: 200, headers: headers });
  });
}

function page(request) {
  return fetch(request).then(function (response) {
    // Sent to sign in (signed out, or the session expired): nothing of this user's is kept.
    if (response.type === "opaqueredirect") return forget().then(function () { return response; });
    return keep(request.url, response).then(function () { return response; });
  }, function () {
    return keptCopy(request.url).then(function (copy) {
      if (copy) return marked(copy);
      return new Response(NOT_KEPT, {
        status: 503,
        headers: { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": "default-src 'none'" },
      });
    });
  });
}

function asset(request) {
  return fetch(request).then(function (response) {
    return keep(request.url, response).then(function () { return response; });
  }, function () {
    return keptCopy(request.url).then(function (copy) { return copy || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (request.mode === "navigate") {
    if (isPage(url)) event.respondWith(page(request));
  } else if (isAsset(url)) {
    event.respondWith(asset(request));
  }
});

// log.js asks to keep what the page it shows needs offline: the page itself when the worker
// did not serve it yet, its static files, and the forms of the practices its due list links
// to. A copy kept within FRESH_MS is not fetched again.
function keepAll(hrefs) {
  return Promise.all(hrefs.map(function (href) {
    var url;
    try { url = new URL(href, self.location.href); } catch (error) { return null; }
    if (!isPage(url) && !isAsset(url)) return null;
    return keptCopy(url.href).then(function (copy) {
      if (copy && age(copy) < FRESH_MS) return null;
      return fetch(url.href, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
        return response.type === "opaqueredirect" ? forget() : keep(url.href, response);
      }, function () { return null; });
    });
  }));
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) return;
  event.waitUntil(keepAll(data.urls.slice(0, 100)).then(function () {
    if (event.source) event.source.postMessage({ type: "kept" });
  }));
});
