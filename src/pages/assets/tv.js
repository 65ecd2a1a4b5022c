// The lobby display (/p/{unit}/tv): every few minutes it asks the server for the page again
// and puts the new numbers in place of the old, without reloading (a reload would blank the
// screen, and a display on a wall has no one to press a key). When the server cannot be
// reached it keeps what it shows and tries again at the next turn. When the units do not all
// fit on the screen (an MPP of 20 to 40 units on a 1366x768 television), it shows them a
// screenful at a time, turning every few seconds, and says which screenful is on.
(function () {
  "use strict";
  const script = document.currentScript;
  const seconds = Number((script && script.dataset.refresh) || 300);
  const turnSeconds = Number((script && script.dataset.turn) || 12);
  let page = 0;

  // Shows the screenful `page` of the ranked units: as many as fit above the footer.
  function paginate() {
    const list = document.querySelector("main ol");
    const footer = document.querySelector("main footer");
    const indicator = document.getElementById("tv-page");
    if (!list || !footer || !indicator) return;
    const items = [...list.children];
    items.forEach((li) => { li.hidden = false; });
    // Measured with the screen number shown, as it will be: it may fold the footer's text.
    indicator.textContent = indicator.dataset.template.replace("{page}", "9").replace("{pages}", "9");
    indicator.hidden = false;
    const main = document.querySelector("main");
    const room = window.innerHeight - footer.offsetHeight - parseFloat(getComputedStyle(main).paddingBottom) - parseFloat(getComputedStyle(main).rowGap || "0");
    const first = items.findIndex((li) => li.getBoundingClientRect().bottom > room);
    if (first === -1) { page = 0; indicator.hidden = true; document.body.dataset.pages = "1"; return; }
    const perPage = Math.max(1, first);
    const pages = Math.ceil(items.length / perPage);
    page %= pages;
    items.forEach((li, i) => { li.hidden = Math.floor(i / perPage) !== page; });
    indicator.textContent = indicator.dataset.template.replace("{page}", String(page + 1)).replace("{pages}", String(pages));
    indicator.hidden = false;
    document.body.dataset.pages = String(pages);
  }

  async function refresh() {
    try {
      const res = await fetch(location.href, { cache: "no-store" });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), "text/html").querySelector("main");
      const here = document.querySelector("main");
      if (next && here) { here.replaceWith(next); paginate(); }
    } catch (e) { /* offline: keep the numbers on screen */ }
  }
  paginate();
  window.addEventListener("resize", paginate);
  setInterval(() => { page += 1; paginate(); }, turnSeconds * 1000);
  setInterval(refresh, seconds * 1000);
})();
