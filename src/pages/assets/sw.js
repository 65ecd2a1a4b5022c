// kepuasan's service worker: the kiosk, receipt and open-link pages open and take surveys with
// no network. The server puts `self.KEPUASAN_SW` ({ version, assets }) in front of this file.
// Scripts and styles (named by their content hash) are cached when it installs; pages and the
// kiosk's directory (instrument, units, services) come from the network when it answers and
// from the cache when it does not (no network, a time-out, a 5xx). Completed surveys wait in
// the pages' IndexedDB outbox; the pages send them, and where the browser has Background Sync
// this worker sends a phone's when the network returns, with the page closed (`sync`).
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

  // ---- Background Sync: a phone's surveys kept offline ------------------------------------
  // The page registers the tag when a survey stays on the phone; the browser fires `sync`
  // once the network is back, page open or not. A kiosk's surveys need its key, which only
  // its page holds: they wait for it. The server counts a submission id once, so this and a
  // page sending the same survey at the same time store it once.
  const OUTBOX_TAG = "kepuasan-outbox";
  function outboxStore(mode) {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open("kepuasan", 1);
      open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "submission_id" });
      open.onerror = () => reject(open.error);
      open.onsuccess = () => resolve(open.result.transaction("outbox", mode).objectStore("outbox"));
    });
  }
  const settle = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
  const post = (body) => fetch("/api/v1/responses", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  // A fresh form ticket from the survey page the response was answered on.
  async function freshTicket(page) {
    try {
      const html = await (await fetch(page, { cache: "no-store" })).text();
      const found = html.match(/<script[^>]*id="kepuasan-config"[^>]*>([\s\S]*?)<\/script>/);
      return found ? JSON.parse(found[1]).ticket || null : null;
    } catch (e) {
      return null;
    }
  }
  async function sendOutbox() {
    const items = await settle((await outboxStore("readonly")).getAll());
    let later = false;
    for (const item of items) {
      if (item.kiosk) continue;
      let res;
      try {
        res = await post(item.body);
        if (res.status === 422 && !item.body.token && item.page) {
          const refused = await res.clone().json().catch(() => ({}));
          const ticket = ["invalid_ticket", "ticket_expired", "ticket_required"].includes(refused.error) ? await freshTicket(item.page) : null;
          if (ticket) {
            item.body = { ...item.body, ticket };
            await settle((await outboxStore("readwrite")).put(item));
            res = await post(item.body);
          }
        }
      } catch (e) {
        later = true; // no network after all
        break;
      }
      // Stored, stored before, or refused for good (a spent receipt, a bad body): done with.
      const done = res.ok || (res.status >= 400 && res.status < 500 && ![401, 408, 429].includes(res.status));
      if (done) await settle((await outboxStore("readwrite")).delete(item.submission_id));
      else later = true;
    }
    // A failed sync is tried again by the browser later.
    if (later) throw new Error("kepuasan: surveys still waiting");
  }
  self.addEventListener("sync", (event) => {
    if (event.tag === OUTBOX_TAG) event.waitUntil(sendOutbox());
  });

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
