// The lobby display (/p/{unit}/tv): every few minutes it asks the server for the page again
// and puts the new numbers in place of the old, without reloading (a reload would blank the
// screen, and a display on a wall has no one to press a key). When the server cannot be
// reached it keeps what it shows and tries again at the next turn.
(function () {
  "use strict";
  const script = document.currentScript;
  const seconds = Number((script && script.dataset.refresh) || 300);
  async function refresh() {
    try {
      const res = await fetch(location.href, { cache: "no-store" });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), "text/html").querySelector("main");
      const here = document.querySelector("main");
      if (next && here) here.replaceWith(next);
    } catch (e) { /* offline: keep the numbers on screen */ }
  }
  setInterval(refresh, seconds * 1000);
})();
