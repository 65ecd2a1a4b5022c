// kepuasan respondent pages: the MPP exit kiosk and the phone survey. No framework, no
// network fetches beyond this server. Completed surveys go to an IndexedDB outbox first and are
// sent from there, so a dropped network never loses one and a retry never counts twice.
"use strict";

(function () {
  const { esc, config, translator, request } = window.kepuasan;
  const CONFIG = config();
  const KIOSK = CONFIG.mode === "kiosk";
  const KEY_STORE = "kepuasan.kiosk_key";
  const T = {
    id: {
      title: "Survei Kepuasan Masyarakat",
      lang: "English", langLabel: "Switch to English",
      readAloud: "Bacakan", readAloudOn: "Bacakan: aktif",
      chooseUnit: "Layanan instansi mana yang baru Anda terima?",
      search: "Cari instansi", searchLabel: "Cari nama instansi",
      chooseService: "Jenis layanan apa yang Anda terima?", skipService: "Lewati",
      question: "Pertanyaan", of: "dari", back: "Kembali", next: "Lanjut",
      profileTitle: "Tentang Anda (boleh dilewati)",
      age: "Usia (tahun)",
      suggestionTitle: "Saran atau masukan (boleh dikosongkan)",
      suggestionLabel: "Tulis saran Anda",
      send: "Kirim", skip: "Lewati",
      thanks: "Terima kasih!", thanksText: "Penilaian Anda membantu kami memperbaiki pelayanan.",
      again: "Isi survei baru",
      queued: "Menunggu dikirim", sent: "Terkirim", offline: "Tersimpan di perangkat, akan dikirim otomatis.",
      offlineBackground: "Belum terkirim karena tidak ada sinyal. Jawaban Anda tersimpan di ponsel ini dan akan dikirim otomatis begitu ada sinyal, walaupun halaman ini ditutup.",
      offlineNextVisit: "Belum terkirim karena tidak ada sinyal. Jawaban Anda tersimpan di ponsel ini dan akan dikirim saat halaman survei situs ini dibuka lagi dengan sinyal. Jangan hapus data peramban sebelum itu.",
      stillThere: "Masih di sana?", stillThereText: "Survei ini dimulai ulang dalam {n} detik.", keepGoing: "Lanjut",
      enrolTitle: "Daftarkan kiosk ini", enrolText: "Masukkan kunci kiosk dari administrator.",
      enrolLabel: "Kunci kiosk", enrolButton: "Simpan",
      enrolFailed: "Kunci tidak dikenal atau tidak dapat menghubungi server.",
      keyRefused: "Server tidak lagi menerima kunci kiosk ini. Minta kunci baru dari administrator.",
      reconnecting: "Menghubungkan kembali ke server…", reconnectingText: "Kiosk ini tetap terdaftar. Mencoba lagi dalam {n} detik.",
      spentTitle: "Struk ini sudah dipakai", spentText: "Setiap struk hanya untuk satu survei. Terima kasih atas partisipasi Anda.",
      invalidTitle: "Tautan survei tidak berlaku", invalidText: "Tautan ini tidak dikenal atau sudah kedaluwarsa.",
      noLinkTitle: "Survei unit ini tidak dibuka lewat tautan", noLinkText: "{unit} menerima survei di kiosk dekat pintu keluar dan lewat kode QR pada struk pelayanan.",
      closedTitle: "Unit ini tidak lagi menerima survei", closedText: "{unit} tidak lagi menerima survei. Terima kasih atas niat Anda memberi penilaian.",
      unknownLinkTitle: "Tautan survei tidak dikenal", unknownLinkText: "Tidak ada unit layanan dengan alamat ini. Periksa kembali alamatnya, atau isi survei di kiosk dekat pintu keluar.",
      unknownTitle: "Tautan survei tidak dikenal",
      unknownText: "Periksa kembali alamat pada struk Anda, atau isi survei di kiosk dekat pintu keluar.",
      forgedTitle: "Kode pada struk ini tidak sah",
      forgedText: "Kode ini tidak diterbitkan oleh unit layanan. Isi survei di kiosk dekat pintu keluar, atau minta struk baru di loket.",
      expiredTitle: "Struk ini sudah kedaluwarsa",
      expiredText: "Struk berlaku beberapa hari setelah pelayanan. Isi survei di kiosk dekat pintu keluar, atau minta struk baru di loket.",
      loading: "Memuat…", required: "Pilih salah satu jawaban.",
      progress: "Kemajuan survei",
      noServices: "Daftar layanan belum dapat dimuat", noServicesText: "Kiosk sedang tidak terhubung ke server. Periksa jaringan, lalu coba lagi.", retry: "Coba lagi",
      intro: "{unit} meminta pendapat Anda tentang pelayanan yang baru Anda terima: {n} pertanyaan, sekitar 1 menit, tanpa nama.",
      introNoUnit: "Unit layanan meminta pendapat Anda tentang pelayanan yang baru Anda terima: {n} pertanyaan, sekitar 1 menit, tanpa nama.",
    },
    en: {
      title: "Public Satisfaction Survey",
      lang: "Bahasa Indonesia", langLabel: "Ganti ke Bahasa Indonesia",
      readAloud: "Read aloud", readAloudOn: "Read aloud: on",
      chooseUnit: "Which office served you just now?",
      search: "Search offices", searchLabel: "Search office names",
      chooseService: "Which service did you receive?", skipService: "Skip",
      question: "Question", of: "of", back: "Back", next: "Next",
      profileTitle: "About you (optional)",
      age: "Age (years)",
      suggestionTitle: "Suggestions (optional)",
      suggestionLabel: "Write your suggestion",
      send: "Send", skip: "Skip",
      thanks: "Thank you!", thanksText: "Your answers help us improve the service.",
      again: "Start a new survey",
      queued: "Waiting to send", sent: "Sent", offline: "Saved on this device; it will be sent automatically.",
      offlineBackground: "Not sent yet: there is no signal. Your answers are kept on this phone and will be sent by themselves once there is a signal, even if this page is closed.",
      offlineNextVisit: "Not sent yet: there is no signal. Your answers are kept on this phone and will be sent when a survey page of this site is opened again with a signal. Do not clear the browser's data before then.",
      stillThere: "Still there?", stillThereText: "This survey starts over in {n} seconds.", keepGoing: "Continue",
      enrolTitle: "Enrol this kiosk", enrolText: "Enter the kiosk key from the administrator.",
      enrolLabel: "Kiosk key", enrolButton: "Save",
      enrolFailed: "Unknown key, or the server cannot be reached.",
      keyRefused: "The server no longer accepts this kiosk key. Ask the administrator for a new one.",
      reconnecting: "Reconnecting to the server…", reconnectingText: "This kiosk stays enrolled. Trying again in {n} seconds.",
      spentTitle: "This receipt has been used", spentText: "Each receipt is for one survey. Thank you for taking part.",
      invalidTitle: "This survey link is not valid", invalidText: "The link is unknown or has expired.",
      noLinkTitle: "This unit's survey is not open through a link", noLinkText: "{unit} takes its survey at the kiosk by the exit and through the QR code on service receipts.",
      closedTitle: "This unit no longer takes surveys", closedText: "{unit} no longer takes surveys. Thank you for wanting to give your opinion.",
      unknownLinkTitle: "This survey link is unknown", unknownLinkText: "No service unit has this address. Check the address, or take the survey at the kiosk by the exit.",
      unknownTitle: "This survey link is unknown",
      unknownText: "Check the address on your receipt, or take the survey at the kiosk by the exit.",
      forgedTitle: "The code on this receipt is not valid",
      forgedText: "The service unit did not issue this code. Take the survey at the kiosk by the exit, or ask for a new receipt at the counter.",
      expiredTitle: "This receipt has expired",
      expiredText: "A receipt is valid for a few days after the service. Take the survey at the kiosk by the exit, or ask for a new receipt at the counter.",
      loading: "Loading…", required: "Choose one answer.",
      progress: "Survey progress",
      noServices: "The list of services could not be loaded", noServicesText: "The kiosk is not connected to the server. Check the network, then try again.", retry: "Try again",
      intro: "{unit} asks your opinion of the service you have just received: {n} questions, about 1 minute, anonymous.",
      introNoUnit: "The service unit asks your opinion of the service you have just received: {n} questions, about 1 minute, anonymous.",
    },
  };
  const FACES = [
    '<svg viewBox="0 0 64 64" aria-hidden="true"><circle cx="32" cy="32" r="29" fill="#f8d0c8" stroke="#8a1c0b" stroke-width="3"/><circle cx="22" cy="26" r="4" fill="#111"/><circle cx="42" cy="26" r="4" fill="#111"/><path d="M18 48 Q32 34 46 48" fill="none" stroke="#111" stroke-width="4" stroke-linecap="round"/></svg>',
    '<svg viewBox="0 0 64 64" aria-hidden="true"><circle cx="32" cy="32" r="29" fill="#fbe3c2" stroke="#8a4b0b" stroke-width="3"/><circle cx="22" cy="26" r="4" fill="#111"/><circle cx="42" cy="26" r="4" fill="#111"/><path d="M20 46 Q32 40 44 46" fill="none" stroke="#111" stroke-width="4" stroke-linecap="round"/></svg>',
    '<svg viewBox="0 0 64 64" aria-hidden="true"><circle cx="32" cy="32" r="29" fill="#e0f1cf" stroke="#3d6b0b" stroke-width="3"/><circle cx="22" cy="26" r="4" fill="#111"/><circle cx="42" cy="26" r="4" fill="#111"/><path d="M20 40 Q32 50 44 40" fill="none" stroke="#111" stroke-width="4" stroke-linecap="round"/></svg>',
    '<svg viewBox="0 0 64 64" aria-hidden="true"><circle cx="32" cy="32" r="29" fill="#c9ecd9" stroke="#0b6b3a" stroke-width="3"/><circle cx="22" cy="25" r="4" fill="#111"/><circle cx="42" cy="25" r="4" fill="#111"/><path d="M16 38 Q32 58 48 38 Z" fill="#111"/></svg>',
  ];

  const state = {
    lang: "id", speak: false, screen: "loading", instrument: null, units: [], services: [],
    unit: CONFIG.unit || null, unitName: CONFIG.unit_name || "", service: CONFIG.service || null,
    answers: {}, profile: {}, suggestion: "", step: 0, filter: "", queue: 0, note: "",
  };
  const app = document.getElementById("app");
  const t = translator(T, () => state.lang);
  const key = () => localStorage.getItem(KEY_STORE);
  function deviceId() {
    let id = localStorage.getItem("kepuasan.device_id");
    if (!id) { id = "dev-" + uuid().replace(/-/g, "").slice(0, 20); localStorage.setItem("kepuasan.device_id", id); }
    return id;
  }
  const label = (o) => (state.lang === "id" ? o.id : o.en);

  // ---- outbox (IndexedDB) -------------------------------------------------------------------
  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("kepuasan", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("outbox", { keyPath: "submission_id" });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function outbox(mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction("outbox", mode);
      const result = fn(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(result && result.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  const enqueue = (item) => outbox("readwrite", (s) => s.put(item));
  const pending = () => outbox("readonly", (s) => s.getAll());
  const drop = (id) => outbox("readwrite", (s) => s.delete(id));

  // A fresh form ticket from the survey page itself: what reloading it would give, without
  // losing the answers (a form left open for days, or a ticket the server no longer accepts).
  async function freshTicket() {
    try {
      const html = await (await fetch(location.pathname, { cache: "no-store" })).text();
      const embedded = new DOMParser().parseFromString(html, "text/html").getElementById("kepuasan-config");
      return JSON.parse(embedded.textContent).ticket || null;
    } catch (e) {
      return null;
    }
  }

  // This device's clock minus the server's in milliseconds, as last measured; null before the
  // first measurement. (Kept as the server's minus the device's.)
  function clockOffset() {
    const kept = localStorage.getItem("kepuasan.clock_offset_ms");
    return kept === null ? null : Math.round(-Number(kept));
  }

  // The kiosk's heartbeat: at most once a minute, and after every batch it sends, it tells the
  // server its page version, what waits on it, its last successful send, its clock's offset
  // and its last error, so the unit sees a tablet that went quiet or fell behind.
  const fleet = { lastBeat: 0, lastSentAt: null, lastError: null };
  async function heartbeat(force) {
    if (!KIOSK || !key() || (!force && Date.now() - fleet.lastBeat < 60000)) return;
    fleet.lastBeat = Date.now();
    const body = { device_id: deviceId(), page_version: CONFIG.version || "unknown", waiting: (await pending()).length };
    if (fleet.lastSentAt) body.last_sent_at = fleet.lastSentAt;
    const offset = clockOffset();
    if (offset !== null) body.clock_offset_ms = offset;
    if (fleet.lastError) body.last_error = fleet.lastError.slice(0, 300);
    let res;
    try {
      res = await request("/api/v1/kiosks/heartbeat", key(), { method: "POST", body: JSON.stringify(body) });
    } catch (e) {
      return; // offline: the next one will tell
    }
    // Retired while open: the server no longer knows the key.
    if (await keyGone(res)) forgetKey();
  }

  let syncing = false;
  async function sync() {
    if (syncing) return;
    syncing = true;
    let sent = false, retired = false;
    try {
      const items = await pending();
      for (const item of items) {
        const post = async () => {
          const offset = clockOffset();
          const body = offset === null ? item.body : { ...item.body, clock_offset_ms: offset };
          const sentAt = Date.now();
          const answer = await request("/api/v1/responses", KIOSK ? key() : null, { method: "POST", body: JSON.stringify(body) });
          const serverDate = Date.parse(answer.headers.get("Date") || "");
          if (!Number.isNaN(serverDate)) localStorage.setItem("kepuasan.clock_offset_ms", String(serverDate - (sentAt + Date.now()) / 2));
          return answer;
        };
        let res;
        try {
          res = await post();
          // The form's ticket is no longer accepted, or the page came without one (its address
          // had many page loads): take a fresh one from the page, once.
          if (res.status === 422 && !item.body.token) {
            const refused = await res.clone().json().catch(() => ({}));
            const ticket = ["invalid_ticket", "ticket_expired", "ticket_required"].includes(refused.error) ? await freshTicket() : null;
            if (ticket) {
              item.body = { ...item.body, ticket };
              await enqueue(item);
              res = await post();
            }
          }
        } catch (e) {
          fleet.lastError = "network: " + e.message;
          break; // offline: keep everything, try again later
        }
        if (res.status === 201 || res.status === 200) {
          await drop(item.submission_id);
          sent = true;
          fleet.lastSentAt = new Date().toISOString();
          fleet.lastError = null;
        } else if (res.status === 409) {
          const body = await res.json().catch(() => ({}));
          await drop(item.submission_id);
          // This page's own receipt was used meanwhile (a survey of another page says nothing here).
          if (body.error === "token_spent" && !KIOSK && (!item.page || item.page === location.pathname)) { state.screen = "spent"; render(); }
        } else if (KIOSK && await keyGone(res)) {
          // The tablet was retired: this survey waits for a new enrolment; others, completed
          // before the key was revoked, may still be accepted.
          retired = true;
          continue;
        } else if (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 408 && res.status !== 429) {
          console.warn("kepuasan: a queued survey was refused", res.status, await res.text());
          await drop(item.submission_id);
        } else {
          fleet.lastError = `HTTP ${res.status}`;
          break; // 401 (re-enrol), 5xx, 503: keep and retry later
        }
      }
    } finally {
      syncing = false;
      await updateQueue();
    }
    if (retired) { forgetKey(); return; }
    await heartbeat(sent);
  }
  // The badge says what waits to be sent ("Menunggu dikirim: 3") and, once the queue is empty,
  // how many of those went ("Terkirim: 3") for a few seconds.
  let sentTimer = null;
  function badgeText() {
    if (state.queue) return t("queued") + ": " + state.queue;
    return state.sent ? t("sent") + ": " + state.sent : "";
  }
  function showBadge() {
    const b = document.getElementById("queue");
    if (b) { const text = badgeText(); b.hidden = !text; b.textContent = text; }
  }
  async function updateQueue() {
    const n = (await pending()).length;
    if (n === state.queue) return;
    if (n < state.queue) state.sent = (state.sent || 0) + (state.queue - n);
    if (n > 0 && state.queue === 0) state.sent = 0;
    state.queue = n;
    clearTimeout(sentTimer);
    if (n === 0 && state.sent) sentTimer = setTimeout(() => { state.sent = 0; showBadge(); }, 6000);
    showBadge();
  }

  // ---- API ------------------------------------------------------------------------------------
  // A refused request, with the server's status and error code (none when the network failed).
  class Refused extends Error {
    constructor(path, status, code) { super(`${path} ${status} ${code}`); this.status = status; this.code = code; }
  }
  // Whether the server said the kiosk's key is unknown or revoked: only then is it forgotten.
  const KEY_GONE = ["key_unknown", "key_revoked"];
  const keyRefused = (e) => e instanceof Refused && e.status === 401 && KEY_GONE.includes(e.code);
  // The same, told by an answer (its body is read from a copy, so the caller may still read it).
  async function keyGone(res) {
    return res.status === 401 && KEY_GONE.includes((await res.clone().json().catch(() => ({}))).error);
  }

  async function api(path) {
    const res = await request(path, KIOSK ? key() : null);
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Refused(path, res.status, body.error || "");
    }
    return res.json();
  }

  // ---- speech ---------------------------------------------------------------------------------
  function say(text) {
    if (!state.speak || !("speechSynthesis" in window)) return;
    speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.lang = state.lang === "id" ? "id-ID" : "en-US";
    speechSynthesis.speak(u);
  }

  // ---- idle reset (kiosk) ---------------------------------------------------------------------
  const IDLE_MS = (Number(CONFIG.idle_seconds) || 45) * 1000;
  // Before a survey left half done starts over, a notice asks whether someone is still there,
  // counting down; any touch (its "Lanjut" button too) keeps the survey.
  const WARN_MS = Math.min(10000, IDLE_MS / 2);
  let idleTimer = null, warnTimer = null, countdown = null;
  const resting = () => ["units", "enrol", "loading", "thanks"].includes(state.screen);
  function hideWarning() {
    clearInterval(countdown);
    const w = document.getElementById("still-there");
    if (w) w.remove();
  }
  function warn() {
    if (resting()) return;
    let left = Math.round(WARN_MS / 1000);
    const box = document.createElement("div");
    box.id = "still-there";
    box.className = "overlay";
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-labelledby", "still-there-title");
    const text = () => t("stillThereText").replace("{n}", String(left));
    box.innerHTML = `<div class="dialog"><h2 id="still-there-title">${esc(t("stillThere"))}</h2><p id="still-there-text">${esc(text())}</p>
      <button class="primary">${esc(t("keepGoing"))}</button></div>`;
    document.body.appendChild(box);
    box.querySelector("button").focus();
    const line = box.querySelector("#still-there-text");
    countdown = setInterval(() => { left = Math.max(0, left - 1); line.textContent = text(); }, 1000);
    box.addEventListener("click", () => { hideWarning(); touch(); });
  }
  function touch() {
    if (!KIOSK) return;
    hideWarning();
    clearTimeout(idleTimer);
    clearTimeout(warnTimer);
    warnTimer = setTimeout(warn, IDLE_MS - WARN_MS);
    idleTimer = setTimeout(() => { hideWarning(); if (!["units", "enrol", "loading"].includes(state.screen)) restart(); }, IDLE_MS);
  }
  ["pointerdown", "keydown", "input"].forEach((e) => document.addEventListener(e, touch, true));

  // The kiosk's thank-you screen: how long it stays, and which showing of it a timer belongs to
  // (a timer left from an earlier visitor never cuts the next one's short).
  const THANKS_MS = 8000;
  let thanksTimer = null, thanksShown = 0;
  function restart() {
    clearTimeout(thanksTimer);
    Object.assign(state, { answers: {}, profile: {}, suggestion: "", step: 0, filter: "", note: "", startedAt: null, sending: false });
    if (KIOSK) {
      state.unit = null; state.unitName = ""; state.service = null; state.services = []; state.screen = "units";
      // A kiosk that serves one unit opens on it.
      if (state.units.length === 1) { chooseUnit(state.units[0].code); return; }
    } else {
      const services = CONFIG.services || [];
      // One service needs no question.
      state.service = CONFIG.service || (services.length === 1 ? services[0].code : null);
      state.screen = phoneAsksService() ? "services" : "item";
      recall();
    }
    render();
  }
  const manyUnits = () => KIOSK && state.units.length > 1;

  // ---- the phone's history (receipt and open-link pages) ---------------------------------------
  // Every step of the form is a history entry, so the phone's Back and Forward move between
  // questions; the answers live in session storage until the survey is sent, so leaving the
  // page and coming back (Forward, a reload) finds them again.
  const FORM_KEY = "kepuasan.form." + location.pathname;
  const FORM_SCREENS = ["services", "item", "profile", "suggestion"];
  const here = () => ({ kepuasan: true, screen: state.screen, step: state.step });
  function remember() {
    if (KIOSK || !FORM_SCREENS.includes(state.screen)) return;
    const { answers, profile, suggestion, service, startedAt } = state;
    try { sessionStorage.setItem(FORM_KEY, JSON.stringify({ answers, profile, suggestion, service, startedAt })); } catch (e) { /* storage full or off: the form still works */ }
    const entry = history.state;
    if (!entry || !entry.kepuasan) history.replaceState({ ...here(), depth: 0 }, "");
    else if (entry.screen !== state.screen || entry.step !== state.step) history.pushState({ ...here(), depth: entry.depth + 1 }, "");
  }
  // The survey as this tab left it, if it was not sent: answers and the step it was on.
  function recall() {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(FORM_KEY) || "null"); } catch (e) { saved = null; }
    if (!saved) return false;
    Object.assign(state, { answers: saved.answers || {}, profile: saved.profile || {}, suggestion: saved.suggestion || "", startedAt: saved.startedAt || null });
    if (saved.service) state.service = saved.service;
    const entry = history.state;
    if (entry && entry.kepuasan && FORM_SCREENS.includes(entry.screen)) Object.assign(state, { screen: entry.screen, step: Math.min(entry.step, items().length - 1) });
    return true;
  }
  const forget = () => { try { sessionStorage.removeItem(FORM_KEY); } catch (e) { /* nothing kept */ } };
  window.addEventListener("popstate", (e) => {
    const entry = e.state;
    // A sent survey stays sent; a step of this form comes back as it was left.
    if (KIOSK || !entry || !entry.kepuasan || !FORM_SCREENS.includes(state.screen) || advancing) return;
    if (state.screen === "suggestion") { const box = document.getElementById("suggestion"); if (box) state.suggestion = box.value; }
    Object.assign(state, { screen: entry.screen, step: entry.step });
    render();
  });
  // The in-page "Kembali" on the phone is the browser's Back, so both walk the same path.
  const backInHistory = () => !KIOSK && history.state && history.state.kepuasan && history.state.depth > 0;

  // ---- screens --------------------------------------------------------------------------------
  function header() {
    return `<header><h1>${esc(t("title"))}${state.unitName ? " · " + esc(state.unitName) : ""}</h1>
      <div class="tools"><span id="queue" class="badge" role="status" ${badgeText() ? "" : "hidden"}>${esc(badgeText())}</span>
      <button class="small" data-act="speak" aria-pressed="${state.speak}">${esc(state.speak ? t("readAloudOn") : t("readAloud"))}</button>
      <button class="small" data-act="lang" lang="${state.lang === "id" ? "en" : "id"}" aria-label="${esc(t("langLabel"))}">${esc(t("lang"))}</button></div></header>`;
  }
  const items = () => state.instrument.items;

  // The first question has a "Kembali" only when a screen comes before it.
  const canGoBack = () => state.step > 0 || (KIOSK ? state.services.length > 1 || manyUnits() : phoneAsksService());
  // On the phone, the first screen says who asks, how long it takes and that it is anonymous.
  const phoneAsksService = () => !KIOSK && (CONFIG.services || []).length > 1 && !CONFIG.service;
  function intro() {
    if (KIOSK) return "";
    const text = state.unitName ? t("intro").replace("{unit}", state.unitName) : t("introNoUnit");
    return `<p class="intro">${esc(text.replace("{n}", String(items().length)))}</p>`;
  }

  function screenHtml() {
    switch (state.screen) {
      case "loading": return `<main><p>${esc(t("loading"))}</p></main>`;
      case "enrol": return `<main><h2>${esc(t("enrolTitle"))}</h2><p class="hint">${esc(t("enrolText"))}</p>
        <label for="enrol-key">${esc(t("enrolLabel"))}</label><input id="enrol-key" type="text" autocomplete="off">
        <p class="hint" role="alert">${esc(state.note)}</p><button class="primary" data-act="enrol">${esc(t("enrolButton"))}</button></main>`;
      case "units": {
        const f = state.filter.toLowerCase();
        const shown = state.units.filter((u) => u.name.toLowerCase().includes(f));
        const search = state.units.length > 8 ? `<label class="hint" for="unit-search">${esc(t("searchLabel"))}</label><input id="unit-search" type="search" placeholder="${esc(t("search"))}" value="${esc(state.filter)}">` : "";
        return `<main><h2 id="units-title">${esc(t("chooseUnit"))}</h2>${search}
          <ul class="tiles" aria-labelledby="units-title">${shown.map((u) => `<li><button data-unit="${esc(u.code)}">${esc(u.name)}</button></li>`).join("")}</ul></main>`;
      }
      case "services": {
        const list = KIOSK ? state.services : (CONFIG.services || []);
        return `<main>${intro()}<h2 id="services-title">${esc(t("chooseService"))}</h2>
          <ul class="tiles" aria-labelledby="services-title">${list.map((s) => `<li><button data-service="${esc(s.code)}">${esc(s.name)}</button></li>`).join("")}</ul>
          <div class="nav">${manyUnits() ? `<button data-act="back">${esc(t("back"))}</button>` : "<span></span>"}<button data-service="">${esc(t("skipService"))}</button></div></main>`;
      }
      case "item": {
        const item = items()[state.step];
        const n = items().length;
        const chosen = state.answers[item.code];
        const pct = Math.round((state.step / (n + 2)) * 100);
        return `<main><div class="progress" role="progressbar" aria-label="${esc(t("progress"))}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${pct}"><div style="width:${pct}%"></div></div>
          ${state.step === 0 && !phoneAsksService() ? intro() : ""}<p class="hint">${esc(t("question"))} ${state.step + 1} ${esc(t("of"))} ${n} · ${esc(label(item.name))}</p>
          <h2 id="q-${esc(item.code)}">${esc(label(item.question))}</h2>
          <div class="answers" role="radiogroup" aria-labelledby="q-${esc(item.code)}">${item.answers.map((a, i) => `<button role="radio" aria-checked="${chosen === a.value}" data-item="${esc(item.code)}" data-answer="${a.value}">${FACES[Math.min(i, 3)]}<span>${esc(label(a))}</span></button>`).join("")}
          ${item.skip ? `<button role="radio" class="skip" aria-checked="${chosen === null}" data-item="${esc(item.code)}" data-answer="skip">${esc(label(item.skip))}</button>` : ""}</div>
          <div class="nav">${canGoBack() ? `<button data-act="back">${esc(t("back"))}</button>` : ""}<span></span></div></main>`;
      }
      case "profile": {
        const fields = state.instrument.profile.filter((f) => f.kind === "choice");
        const age = state.instrument.profile.find((f) => f.key === "age");
        return `<main><h2>${esc(t("profileTitle"))}</h2><div class="profile">
          ${fields.map((f) => `<fieldset><legend id="p-${esc(f.key)}">${esc(label(f.label))}</legend><div class="chips" role="group" aria-labelledby="p-${esc(f.key)}">${f.choices.map((c) => `<button data-field="${esc(f.key)}" data-value="${esc(c.code)}" aria-pressed="${state.profile[f.key] === c.code}">${esc(label(c))}</button>`).join("")}</div></fieldset>`).join("")}
          ${age ? `<fieldset><legend><label for="age">${esc(t("age"))}</label></legend><input id="age" type="number" inputmode="numeric" min="${age.min}" max="${age.max}" value="${state.profile.age || ""}"></fieldset>` : ""}
          </div><div class="nav"><button data-act="back">${esc(t("back"))}</button><button class="primary" data-act="next">${esc(t("next"))}</button></div></main>`;
      }
      case "suggestion": return `<main><h2><label for="suggestion">${esc(t("suggestionTitle"))}</label></h2>
          <textarea id="suggestion" maxlength="2000" aria-label="${esc(t("suggestionLabel"))}">${esc(state.suggestion)}</textarea>
          <div class="nav"><button data-act="back">${esc(t("back"))}</button><button class="primary" data-act="send">${esc(t("send"))}</button></div></main>`;
      case "thanks": return `<main class="center"><h2 role="status">${esc(t("thanks"))}</h2><p>${esc(t("thanksText"))}</p>
          <p class="hint" id="thanks-note"${state.note ? "" : " hidden"}>${esc(state.note)}</p>${KIOSK ? `<p><button class="primary" data-act="again">${esc(t("again"))}</button></p>` : ""}</main>`;
      case "spent": return `<main class="center"><h2>${esc(t("spentTitle"))}</h2><p>${esc(t("spentText"))}</p></main>`;
      case "noServices": return `<main class="center"><h2>${esc(t("noServices"))}</h2><p>${esc(t("noServicesText"))}</p>
          <div class="nav">${manyUnits() ? `<button data-act="back">${esc(t("back"))}</button>` : "<span></span>"}<button class="primary" data-act="retry-services">${esc(t("retry"))}</button></div></main>`;
      case "reconnecting": return `<main class="center"><h2>${esc(t("reconnecting"))}</h2>
          <p id="reconnect-note">${esc(t("reconnectingText").replace("{n}", String(state.retryIn)))}</p></main>`;
      case "invalid": case "unknown": case "forged": case "expired": case "noLink": case "closed": case "unknownLink":
        return `<main class="center"><h2>${esc(t(state.screen + "Title"))}</h2><p>${esc(t(state.screen + "Text").replace("{unit}", state.unitName || ""))}</p></main>`;
      default: return "";
    }
  }

  // ---- settling -------------------------------------------------------------------------------
  // After each screen change the screen's buttons ignore taps for a moment (KEPUASAN_SETTLE_MS,
  // 600 ms by default), long enough to see what changed: a double tap, or the slower second tap
  // of an unsteady hand, never answers a screen the respondent has not seen. The buttons are
  // disabled meanwhile but look as they will (survey.css), and `#app[data-settling]` says so.
  const SETTLE_MS = Math.max(0, Number(CONFIG.settle_ms ?? 600) || 0);
  let shownScreen = "", settledAt = 0, settleTimer = null;
  function settle() {
    const shown = `${state.screen}:${state.step}`;
    if (shown !== shownScreen) { shownScreen = shown; settledAt = performance.now() + SETTLE_MS; }
    const left = Math.min(SETTLE_MS, settledAt - performance.now());
    clearTimeout(settleTimer);
    if (left <= 0) { delete app.dataset.settling; return; }
    app.querySelectorAll("main button:not([disabled])").forEach((b) => { b.disabled = true; b.dataset.settling = ""; });
    app.dataset.settling = "";
    settleTimer = setTimeout(() => {
      app.querySelectorAll("[data-settling]").forEach((b) => { b.disabled = false; delete b.dataset.settling; });
      delete app.dataset.settling;
    }, left);
  }

  function render() {
    document.documentElement.lang = state.lang;
    remember();
    app.innerHTML = header() + screenHtml();
    app.dataset.screen = state.screen;
    settle();
    const focus = app.querySelector("main h2, main input, main button");
    if (focus && focus.tagName === "H2") { focus.tabIndex = -1; focus.focus({ preventScroll: true }); }
    if (state.screen === "item") {
      if (!state.startedAt) state.startedAt = new Date().toISOString();
      const item = items()[state.step];
      say(label(item.question) + ". " + [...item.answers, ...(item.skip ? [item.skip] : [])].map((a) => label(a)).join(", "));
    }
    const box = document.getElementById("suggestion");
    if (box && !KIOSK) box.addEventListener("input", () => { state.suggestion = box.value; remember(); });
    const search = document.getElementById("unit-search");
    if (search) search.addEventListener("input", (e) => { state.filter = e.target.value; const pos = e.target.selectionStart; render(); const s = document.getElementById("unit-search"); s.focus(); s.setSelectionRange(pos, pos); });
  }

  // The kiosk's directory: each unit's active services, fetched once when the kiosk starts
  // (the service worker keeps them for a start with no network) and again when a unit is
  // chosen and they are not known.
  const directory = {};
  async function fetchServices(code) {
    directory[code] = (await api(`/api/v1/units/${encodeURIComponent(code)}/services`)).filter((s) => s.active);
    keepDirectory();
    return directory[code];
  }
  const servicesOf = (code) => (directory[code] ? Promise.resolve(directory[code]) : fetchServices(code));
  let learning = Promise.resolve();
  function learnDirectory() {
    learning = (async () => {
      for (const u of state.units) {
        try { await fetchServices(u.code); } catch (e) { return; /* offline: asked again when chosen */ }
      }
    })();
    return learning;
  }
  window.kepuasanDirectoryLearnt = () => learning; // for tests

  async function chooseUnit(code) {
    const unit = state.units.find((u) => u.code === code);
    state.unit = code; state.unitName = unit ? unit.name : code;
    state.step = 0;
    try {
      state.services = await servicesOf(code);
    } catch (e) {
      // Not known and not reachable: ask again rather than store a survey without its service.
      state.services = [];
      state.screen = "noServices";
      render();
      return;
    }
    // One service needs no question.
    if (state.services.length === 1) state.service = state.services[0].code;
    state.screen = state.services.length > 1 ? "services" : "item";
    render();
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  async function send() {
    const profile = {};
    for (const [k, v] of Object.entries(state.profile)) if (v !== undefined && v !== "" && v !== null) profile[k] = v;
    const body = {
      submission_id: uuid(), unit: state.unit, instrument: state.instrument.key,
      channel: KIOSK ? "kiosk" : (CONFIG.token ? "qr" : "web"), answers: state.answers,
      client_time: new Date().toISOString(),
    };
    if (state.startedAt) body.started_at = state.startedAt;
    if (KIOSK) body.device_id = deviceId();
    if (state.service) body.service = state.service;
    if (Object.keys(profile).length) body.profile = profile;
    if (state.suggestion.trim()) body.suggestion = state.suggestion.trim();
    if (CONFIG.token) body.token = CONFIG.token;
    if (CONFIG.ticket) body.ticket = CONFIG.ticket;
    // The page it was answered on (for a fresh form ticket) and whether it needs the kiosk's
    // key go with it, for the service worker that may send it with the page closed.
    await enqueue({ submission_id: body.submission_id, body, page: location.pathname, kiosk: KIOSK });
    forget();
    state.note = "";
    if (KIOSK) {
      // The next visitor should not wait for the network: thank now, send behind. The screen
      // stays eight seconds, counted from now whatever the network does.
      state.screen = "thanks";
      render();
      const shown = ++thanksShown;
      thanksTimer = setTimeout(() => { if (state.screen === "thanks" && shown === thanksShown) restart(); }, THANKS_MS);
      await sync();
      // Meanwhile the visitor may have started a new survey, or the next one finished theirs.
      if (state.screen !== "thanks" || shown !== thanksShown) return;
    } else {
      // A phone may be closed the moment it says thanks: send first.
      await sync();
      if (state.screen === "spent") return;
      state.screen = "thanks";
      render();
    }
    // Kept on the device: said on the screen in place, so a button about to be tapped stays.
    // A phone says honestly when it will go: by itself (Background Sync), or at the next visit.
    if ((await pending()).some((p) => p.submission_id === body.submission_id)) {
      state.note = KIOSK ? t("offline") : t(await sendLater() ? "offlineBackground" : "offlineNextVisit");
    }
    const note = document.getElementById("thanks-note");
    if (note && state.screen === "thanks") { note.textContent = state.note; note.hidden = !state.note; }
  }

  // Asks the browser to send the outbox once the network is back, page open or not (Background
  // Sync, through the service worker); false where the browser has no such thing or no worker
  // runs this page, and the page sends it at its next visit instead.
  async function sendLater() {
    try {
      if (!("serviceWorker" in navigator) || !("SyncManager" in window)) return false;
      const registration = await navigator.serviceWorker.getRegistration();
      if (!registration || !registration.active || !registration.sync) return false;
      await registration.sync.register("kepuasan-outbox");
      return true;
    } catch (e) {
      return false;
    }
  }

  // A choice (an answer, a unit, a service) stays on screen, selected, for a moment before the
  // next screen; taps in that moment are ignored, and the next screen settles (above), so a
  // double tap never answers a question that was not shown.
  const CHOSEN_MS = 350;
  let advancing = false;
  function showChosen(b, next) {
    if (advancing) return;
    advancing = true;
    const group = b.closest(".answers, .tiles");
    if (group) group.querySelectorAll("button").forEach((x) => x.setAttribute(x.getAttribute("role") === "radio" ? "aria-checked" : "aria-pressed", String(x === b)));
    setTimeout(async () => {
      try { await next(); } finally { advancing = false; }
    }, CHOSEN_MS);
  }
  function choose(b) {
    const item = items()[state.step];
    if (advancing || state.screen !== "item" || b.dataset.item !== item.code) return;
    // A skipped item is sent as null: unanswered, as a blank cell on paper.
    state.answers[item.code] = b.dataset.answer === "skip" ? null : Number(b.dataset.answer);
    showChosen(b, () => {
      if (state.screen !== "item" || items()[state.step].code !== item.code) return;
      if (state.step + 1 < items().length) state.step += 1; else state.screen = "profile";
      render();
    });
  }
  function chooseService(b) {
    if (state.screen !== "services") return;
    showChosen(b, () => {
      if (state.screen !== "services") return;
      state.service = b.dataset.service || null; state.screen = "item"; state.step = 0; render();
    });
  }

  app.addEventListener("click", async (e) => {
    const b = e.target.closest("button");
    if (!b || b.disabled) return;
    const act = b.dataset.act;
    if (act === "lang") { state.lang = state.lang === "id" ? "en" : "id"; render(); return; }
    if (act === "speak") { state.speak = !state.speak; render(); return; }
    if (act === "enrol") {
      const k = document.getElementById("enrol-key").value.trim();
      localStorage.setItem(KEY_STORE, k);
      await connectKiosk();
      return;
    }
    if (b.dataset.unit !== undefined) { if (state.screen === "units") showChosen(b, () => chooseUnit(b.dataset.unit)); return; }
    if (b.dataset.service !== undefined) { chooseService(b); return; }
    if (b.dataset.answer !== undefined) { choose(b); return; }
    if (b.dataset.field) {
      const f = b.dataset.field;
      state.profile[f] = state.profile[f] === b.dataset.value ? undefined : b.dataset.value;
      render();
      return;
    }
    if (act === "back") {
      if (advancing) return;
      if (backInHistory()) { history.back(); return; }
      if (state.screen === "item" && state.step > 0) state.step -= 1;
      else if (state.screen === "item") state.screen = (KIOSK ? state.services : (CONFIG.services || [])).length > 1 ? "services" : (manyUnits() ? "units" : "item");
      else if ((state.screen === "services" || state.screen === "noServices") && manyUnits()) state.screen = "units";
      else if (state.screen === "profile") { state.screen = "item"; state.step = items().length - 1; }
      else if (state.screen === "suggestion") state.screen = "profile";
      render();
      return;
    }
    if (act === "next") {
      const age = document.getElementById("age");
      if (age) state.profile.age = age.value ? Number(age.value) : undefined;
      state.screen = "suggestion"; render(); return;
    }
    if (act === "send") {
      // One completion is one response, however many clicks reach the button.
      if (state.sending) return;
      state.sending = true;
      b.disabled = true;
      state.suggestion = document.getElementById("suggestion").value;
      try {
        await send();
      } catch (err) {
        // Not even kept on the device: the respondent may press again.
        state.sending = false;
        b.disabled = false;
        throw err;
      }
      return;
    }
    if (act === "again") { restart(); }
    if (act === "retry-services") { await chooseUnit(state.unit); }
  });

  // The units the kiosk serves, from the server; kept on the tablet with their services.
  async function loadUnits() {
    state.instrument = CONFIG.survey || await api("/api/v1/instruments/" + (CONFIG.instrument || "skm-2017"));
    const units = await api("/api/v1/units");
    const parents = new Set(units.map((u) => u.parent).filter(Boolean));
    state.units = units.filter((u) => u.active && !parents.has(u.code)).sort((a, b) => a.name.localeCompare(b.name));
    keepDirectory();
  }
  async function startKiosk() {
    await loadUnits();
    restart();
    learnDirectory();
  }

  // The directory as last learnt, kept on the tablet: a kiosk started while the server is
  // unreachable or in trouble takes surveys with it, queues them, and learns the directory
  // again in the background without disturbing the respondent.
  const DIRECTORY_STORE = "kepuasan.directory";
  function keepDirectory() {
    try { localStorage.setItem(DIRECTORY_STORE, JSON.stringify({ units: state.units, services: directory })); } catch (e) { /* storage full: the service worker still keeps it */ }
  }
  function keptDirectory() {
    try { return JSON.parse(localStorage.getItem(DIRECTORY_STORE) || "null"); } catch (e) { return null; }
  }
  function relearn(delay) {
    setTimeout(async () => {
      try {
        await loadUnits();
        await learnDirectory();
        if (state.screen === "units") render();
      } catch (err) {
        if (keyRefused(err)) { forgetKey(); return; }
        relearn(Math.min(30, delay * 2));
      }
    }, delay * 1000);
  }

  // An enrolment link (`/kiosk#key=...`) keeps its key on the tablet and takes it out of the
  // address bar, whether it opens the page or is opened in the tab already on it.
  function enrolFromAddress() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("key");
    if (!KIOSK || !fromHash) return false;
    localStorage.setItem(KEY_STORE, fromHash);
    history.replaceState(null, "", location.pathname + location.search);
    return true;
  }
  window.addEventListener("hashchange", () => { if (enrolFromAddress()) connectKiosk(); });

  // Starts the enrolled kiosk. Its key is forgotten only when the server says it is unknown or
  // revoked; an outage (a 5xx, a time-out, no network) keeps it: with the directory it kept,
  // the kiosk takes surveys at once; without one it tries again, waiting 1, 2, 4 ... up to 30
  // seconds, while the page says it is reconnecting.
  let retryDelay = 1;
  function forgetKey() {
    localStorage.removeItem(KEY_STORE);
    localStorage.removeItem(DIRECTORY_STORE);
    state.note = t("keyRefused");
    state.screen = "enrol";
    render();
  }
  async function connectKiosk() {
    try {
      await startKiosk();
      retryDelay = 1;
    } catch (err) {
      if (keyRefused(err)) { forgetKey(); return; }
      const kept = keptDirectory();
      if (kept && Array.isArray(kept.units) && kept.units.length) {
        state.units = kept.units;
        Object.assign(directory, kept.services || {});
        restart();
        relearn(retryDelay);
        return;
      }
      state.retryIn = retryDelay;
      state.screen = "reconnecting";
      render();
      const wait = retryDelay;
      retryDelay = Math.min(30, retryDelay * 2);
      setTimeout(connectKiosk, wait * 1000);
    }
  }

  // The service worker keeps the page, its scripts and the directory for a start with no
  // network (browsers allow it on https and on this machine's own address).
  function installOffline() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("kepuasan: no offline start", e));
    // A worker that takes over an open kiosk has not seen its directory yet: fetch it again,
    // through the worker, so it is kept.
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (!KIOSK || !state.units.length) return;
      api("/api/v1/units").then(learnDirectory, () => {});
    });
  }

  async function start() {
    enrolFromAddress();
    // A page that takes no survey (a used or unknown receipt) still sends what waits on the
    // phone: any survey page's visit does.
    if (CONFIG.screen) { state.screen = CONFIG.screen; render(); if (!KIOSK) sync(); return; }
    installOffline();
    if (KIOSK) {
      if (!key()) { state.screen = "enrol"; render(); return; }
      await connectKiosk();
    } else {
      try {
        // The page carries its instrument; older pages ask for it.
        state.instrument = CONFIG.survey || await api("/api/v1/instruments/" + (CONFIG.instrument || "skm-2017"));
        restart();
      } catch (e) {
        console.warn("kepuasan: the survey could not load", e);
      }
    }
    await updateQueue();
    setInterval(sync, 10000);
    window.addEventListener("online", sync);
    sync();
  }
  window.kepuasanSync = sync; // for staff tools and tests
  start();
})();
