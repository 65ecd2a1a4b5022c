// kepuasan's service worker: the kiosk, receipt and open-link pages open and take surveys with
// no network. The server puts `self.KEPUASAN_SW` ({ version, assets }) in front of this file.
// Scripts and styles (named by their content hash) are cached when it installs; pages and the
// kiosk's directory (instrument, units, services) come from the network when it answers and
// from the cache when it does not (no network, a time-out, a 5xx). Completed surveys are not
// its business: the pages keep them in IndexedDB and send them themselves.
"use strict";

(function () {
  const { version, assets } = self.KEPUASAN_SW;
  const ASSETS = "kepuasan-assets-" + version;
  const DATA = "kepuasan-data";
  const PAGE = /^\/(kiosk|u\/[^/]+|s\/[^/]+)$/;
  const DIRECTORY = /^\/api\/v1\/(units|units\/[^/]+\/services|instruments\/[^/]+)$/;
  const TIMEOUT_MS = 5000;

  self.addEventListener("install", (event) => {
    event.waitUntil(caches.open(ASSETS).then((cache) => cache.addAll(assets)).then(() => self.skipWaiting()));
  });

  // A new version refreshes the pages it keeps (they name the new scripts) before it lets the
  // old scripts go; if a page cannot be refreshed now, the old scripts stay for it.
  self.addEventListener("activate", (event) => {
    event.waitUntil((async () => {
      const data = await caches.open(DATA);
      let fresh = true;
      for (const request of await data.keys()) {
        if (!PAGE.test(new URL(request.url).pathname)) continue;
        try {
          const response = await fetch(request.url, { cache: "no-store" });
          if (response.ok) await data.put(request, response);
          else if (response.status < 500) await data.delete(request);
          else fresh = false;
        } catch (e) {
          fresh = false;
        }
      }
      // The pages open now were loaded before this worker: keep them too.
      for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
        const url = new URL(client.url);
        if (url.origin !== self.location.origin || !PAGE.test(url.pathname)) continue;
        try {
          const response = await fetch(url.origin + url.pathname + url.search, { cache: "no-store" });
          if (response.ok) await data.put(url.origin + url.pathname + url.search, response);
        } catch (e) {
          fresh = false;
        }
      }
      if (fresh) {
        for (const name of await caches.keys()) {
          if (name.startsWith("kepuasan-assets-") && name !== ASSETS) await caches.delete(name);
        }
      }
      await self.clients.claim();
    })());
  });

  function withTimeout(promise) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("time-out")), TIMEOUT_MS);
      promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
    });
  }

  // The network's answer, kept for next time; the kept one when the network fails or the
  // server is in trouble. A 4xx is the server's word (an unknown key, a spent receipt) and
  // passes through.
  async function networkFirst(request, fallback) {
    const data = await caches.open(DATA);
    let response = null;
    try {
      response = await withTimeout(fetch(request));
      if (response.ok) {
        await data.put(request, response.clone());
        return response;
      }
      if (response.status < 500) return response;
    } catch (e) {
      response = null;
    }
    const kept = (await data.match(request, { ignoreVary: true })) || (fallback && (await data.match(fallback, { ignoreVary: true, ignoreSearch: true })));
    if (kept) return kept;
    if (response) return response;
    return Response.error();
  }

  self.addEventListener("fetch", (event) => {
    const request = event.request;
    if (request.method !== "GET") return;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    if (url.pathname.startsWith("/assets/")) {
      event.respondWith(caches.match(request, { ignoreVary: true }).then((hit) => hit || fetch(request)));
    } else if (request.mode === "navigate" && PAGE.test(url.pathname)) {
      // A kiosk page opened at another address (`?idle=`) falls back to the one kept.
      event.respondWith(networkFirst(request, url.pathname === "/kiosk" ? url.origin + "/kiosk" : null));
    } else if (DIRECTORY.test(url.pathname)) {
      event.respondWith(networkFirst(request, null));
    }
  });
})();
