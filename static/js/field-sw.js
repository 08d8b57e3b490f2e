// Service worker of the field app. Loaded by /field/sw.js (metering.field_views), which sets
// self.FIELD_SW = {version, shells, precache} first and imports idb and field-app.js (FieldQueue)
// before this file.
//
// - App shell, manifest, icons and vendored assets are precached on install.
// - Static files: cache first (their URLs change with their content in production).
// - The shell pages (readings, work orders): network first (they carry the session's CSRF token
//   and the user's config), the cached copy when offline.
// - API requests are not touched: the page keeps the last work list in IndexedDB itself, and
//   readings are only ever sent from the IndexedDB queue.
// - Background Sync: send the queue when the browser says the network is back, page open or not.
/* global FIELD_SW, FieldQueue */
(function () {
  "use strict";
  const CACHE = "caudal-field-" + FIELD_SW.version;
  const shellUrls = new Set(
    FIELD_SW.shells.map(function (u) { return new URL(u, self.location.origin).href; })
  );
  const precached = new Set(
    FIELD_SW.precache.map(function (u) { return new URL(u, self.location.origin).href; })
  );

  // Each shell is cached if this user may open it (a meter reader gets 403 for the crews'
  // page and the other way round): one refused page must not fail the installation.
  function cacheShell(cache, url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (response.ok && !response.redirected) return cache.put(url, response);
        return null;
      })
      .catch(function () { return null; });
  }

  self.addEventListener("install", function (event) {
    event.waitUntil(
      caches.open(CACHE)
        .then(function (cache) {
          return Promise.all([cache.addAll(FIELD_SW.precache)].concat(
            Array.from(shellUrls, function (url) { return cacheShell(cache, url); })
          ));
        })
        .then(function () { return self.skipWaiting(); })
    );
  });

  self.addEventListener("activate", function (event) {
    event.waitUntil(
      caches.keys()
        .then(function (keys) {
          return Promise.all(keys.filter(function (k) {
            return k.indexOf("caudal-field-") === 0 && k !== CACHE;
          }).map(function (k) { return caches.delete(k); }));
        })
        .then(function () { return self.clients.claim(); })
    );
  });

  function shellOf(url) {
    const bare = new URL(url.pathname, self.location.origin).href; // without the query
    return url.origin === self.location.origin && shellUrls.has(bare) ? bare : null;
  }

  async function networkFirstShell(request, shellUrl) {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      // A redirect (to the login page, or to the other page) is not this shell: keep the last
      // good copy.
      if (response.ok && !response.redirected) await cache.put(shellUrl, response.clone());
      return response;
    } catch (error) {
      const cached = await cache.match(shellUrl);
      if (cached) return cached;
      throw error;
    }
  }

  async function cacheFirst(request) {
    const cache = await caches.open(CACHE);
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  }

  self.addEventListener("fetch", function (event) {
    const request = event.request;
    if (request.method !== "GET") return;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    const shell = request.mode === "navigate" ? shellOf(url) : null;
    if (shell) {
      event.respondWith(networkFirstShell(request, shell));
    } else if (precached.has(url.href) || url.pathname.indexOf(FIELD_SW.staticPrefix) === 0) {
      event.respondWith(cacheFirst(request));
    }
  });

  self.addEventListener("sync", function (event) {
    if (event.tag !== FieldQueue.SYNC_TAG) return;
    event.waitUntil(
      FieldQueue.syncFromWorker().then(function (result) {
        // Background Sync retries later on its own when the promise rejects.
        if (result.outcome === "offline" || result.outcome === "error") {
          throw new Error(result.outcome);
        }
      })
    );
  });
})();
