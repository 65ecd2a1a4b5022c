// The IKM dashboard for unit heads and administrators: sign in with a user name and password
// (or, for scripts and shared screens, a viewer or admin key),
// choose unit, period and service, read the numbers, the charts (server-rendered SVG), the
// weakest items, the unit's kiosk tablets, the trend, the units below, the suggestions, and
// download each export.
// Bahasa Indonesia first, English one tap away. Everything comes from this server.
(function () {
  "use strict";
  const { esc, translator, request, signIn, signInForm, signInProblem, zoneLabel } = window.kepuasan;
  const KEY = "kepuasan.dashboard.key";
  const LANG = "kepuasan.dashboard.lang";
  const T = {
    id: {
      title: "Dasbor IKM", signInTitle: "Masuk", signInText: "Masuk dengan nama pengguna dan kata sandi Anda.",
      username: "Nama pengguna", password: "Kata sandi", wrong: "Nama pengguna atau kata sandi salah.",
      wait: (s) => `Terlalu banyak percobaan gagal. Coba lagi dalam ${Math.ceil(s / 60)} menit.`, ended: "Sesi Anda telah berakhir. Silakan masuk lagi.",
      totpCode: "Kode verifikasi", totpHint: "6 angka dari aplikasi autentikator di ponsel Anda.", codeAsk: "Verifikasi dua langkah aktif: masukkan kode dari aplikasi autentikator.",
      codeWrong: "Kode salah atau sudah dipakai. Masukkan kode terbaru.",
      withKey: "Masuk dengan kunci akses", withKeyText: "Untuk layar bersama dan skrip: kunci viewer atau admin dari administrator.",
      signInKey: "Masuk dengan kunci", admin: "Administrasi",
      keyLabel: "Kunci akses", signIn: "Masuk", signOut: "Keluar", badKey: "Kunci tidak dikenal atau sudah dicabut.",
      unit: "Unit", period: "Periode", periodHint: "Contoh: 2026-Q3, 2026-S1, 2026, 2026-07, 2026-07-01..2026-07-15", service: "Layanan",
      choosePeriod: "Pilih periode", running: "Triwulan berjalan (sementara)", lastComplete: "Triwulan terakhir yang lengkap",
      quarter: (y, q) => `Triwulan ${["I", "II", "III", "IV"][q - 1]} ${y}`, semester: (y, n) => `Semester ${n === 1 ? "I" : "II"} ${y}`, year: (y) => `Tahun ${y}`,
      month: (y, m) => `${["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"][m - 1]} ${y}`,
      provisional: "SEMENTARA: periode ini belum berakhir; angkanya masih dapat berubah.",
      flagged: (n, all) => `${n} dari ${all} respons ditandai (terlalu cepat, terlalu sering, atau berulang).`,
      excludeFlagged: "Keluarkan respons yang ditandai dari perhitungan", flaggedOut: (n) => `${n} respons yang ditandai tidak dihitung.`,
      allServices: "Semua layanan", show: "Tampilkan", loading: "Memuat…", noUnits: "Kunci ini tidak mencakup unit mana pun.",
      respondents: "responden", index: "indeks", grade: "Mutu", items: "Nilai per unsur", code: "Kode", item: "Unsur",
      answered: "Menjawab", skipped: "Dilewati", nrr: "NRR", itemIkm: "IKM unsur", priorities: "Prioritas perbaikan", trend: "Tren",
      change: "Perubahan", significant: "Signifikan", sampleCol: "Sampel", respondentsCol: "Responden", sampleOk: "cukup", sampleShort: (n) => `kurang ${n}`, yes: "ya", no: "tidak", children: "Unit di bawahnya",
      kiosks: "Tablet kiosk", device: "Perangkat", kioskKey: "Kunci", kioskState: "Keadaan", waiting: "Menunggu dikirim",
      lastSeen: "Terakhir terdengar", lastError: "Galat terakhir", refresh: "Perbarui", retire: "Pensiunkan",
      kioskStates: { online: "Aktif", late: "Terlambat", offline: "Tidak aktif (di luar jam layanan)", retired: "Dipensiunkan" },
      retireConfirm: (name) => `Cabut kunci "${name}"? Setiap tablet yang memakai kunci ini berhenti mengirim survei dan harus didaftarkan ulang.`,
      suggestions: "Saran dan masukan", noSuggestions: "Belum ada saran pada periode ini.", downloads: "Unduh laporan",
      csvSemicolon: "CSV (titik koma)", notices: "Catatan", weighted: "IKM tertimbang populasi",
      docx: "Word (dapat disunting)", docNumber: "Nomor dokumen (nomor surat) untuk PDF dan Word",
      docNumberHint: "Dari buku agenda atau tata naskah unit, misalnya 000.5/123/Disdukcapil. Bila dikosongkan, dokumen mencetak garis untuk diisi tangan.", narrative: "Narasi laporan", narrativeHint: "Teks setiap bab laporan PDF dan Word. Awalnya ditulis otomatis dari angka; ubah sesuai kebutuhan sebelum ditandatangani. Pisahkan paragraf dengan satu baris kosong.",
      narrativeTemplate: "Teks otomatis dari angka periode ini.", narrativeEdited: (by, at) => `Disunting ${by}, ${at}.`,
      saveNarrative: "Simpan narasi", narrativeSaved: "Narasi tersimpan; unduhan PDF dan Word memuatnya.", narrativeNotSaved: "Narasi belum tersimpan",
      backToTemplate: "Kembalikan ke teks otomatis", unreachable: "Server tidak dapat dihubungi; periksa jaringan lalu coba lagi. Teks Anda tetap di sini.", narrativeWholeUnit: "Narasi berlaku untuk laporan seluruh layanan unit; pilih \"Semua layanan\" untuk menyuntingnya.",
      error: "Gagal memuat", language: "English", chartItems: "Grafik IKM per unsur", chartTrend: "Grafik tren IKM", chartDaily: "Grafik respons dan IKM per hari",
      periodCol: "Periode",
      followUps: "Rencana tindak lanjut", noFollowUps: "Belum ada rencana untuk periode ini.", action: "Tindakan",
      owner: "Penanggung jawab", due: "Tenggat", status: "Status", newPlan: "Rencana baru", addPlan: "Tambah rencana",
      statuses: { planned: "Direncanakan", in_progress: "Berjalan", done: "Selesai", cancelled: "Dibatalkan" },
      previousPlans: (p, d, n) => `Periode sebelumnya (${p}): ${d} dari ${n} rencana selesai.`,
      notSaved: "Rencana belum tersimpan",
      sample: (pop, min, got, ok) => `Populasi ${pop}: sampel minimum ${min} (Krejcie & Morgan); terkumpul ${got}, ${ok ? "sudah cukup" : "belum cukup"}.`,
      population: "Populasi periode ini", populationHint: "Jumlah orang yang dilayani unit ini pada periode tersebut.",
      savePopulation: "Simpan populasi", populationNotSaved: "Populasi belum tersimpan",
      refused: { validation_failed: "Isian tidak valid", not_found: "Tidak ditemukan", forbidden: "Kunci ini tidak berhak untuk itu",
        db_unavailable: "Server sedang sibuk; coba lagi sebentar lagi",
        busy: "Server sedang mengerjakan unduhan dan laporan panjang lain; coba lagi sebentar lagi", other: "Permintaan ditolak" },
      fields: { period: "Periode", service: "Layanan", unit: "Unit", item: "Unsur", action: "Tindakan", owner: "Penanggung jawab", category: "Kategori", tags: "Tag", follow_up: "Rencana tindak lanjut",
        due: "Tenggat", status: "Status", mode: "Mode", instrument: "Instrumen" },
      suggestionsPage: (a, b, all) => `Saran ${a}–${b} dari ${all}, terbaru lebih dulu.`,
      suggestionsCut: (all) => `Periode ini memiliki lebih dari ${all} saran; yang dimuat di sini dan di unduhan adalah ${all} yang terbaru.`,
      searchSuggestions: "Cari saran", noMatch: "Tidak ada saran yang cocok.", previous: "Sebelumnya", next: "Berikutnya",
      zones: { green: "Zona hijau", yellow: "Zona kuning", red: "Zona merah" }, ombudsmanCol: "Ombudsman",
      categoryFilter: "Kategori", allCategories: "Semua kategori", uncategorised: "Belum dikategorikan", categoryOf: (d) => `Kategori saran ${d}`,
      tagsOf: (d) => `Tag saran ${d}, dipisah koma`, tagsHint: "tag, dipisah koma", handledOf: (d) => `Rencana tindak lanjut untuk saran ${d}`,
      notHandled: "Belum ditindaklanjuti", handledWith: (a) => `Ditindaklanjuti: ${a}`, handled: "Ditindaklanjuti",
      noteNotSaved: "Catatan saran belum tersimpan", otherUnit: "Tandai tindak lanjutnya di laporan unit tersebut.",
      channels: { kiosk: "Kios survei", qr: "Kode QR pada struk", web: "Tautan terbuka", paper: "Kuesioner kertas" },
    },
    en: {
      title: "IKM dashboard", signInTitle: "Sign in", signInText: "Sign in with your user name and password.",
      username: "User name", password: "Password", wrong: "The user name or password is wrong.",
      wait: (s) => `Too many failed tries. Try again in ${Math.ceil(s / 60)} minutes.`, ended: "Your session has ended. Please sign in again.",
      totpCode: "Verification code", totpHint: "6 digits from the authenticator app on your phone.", codeAsk: "Two-step sign-in is on: enter the code from your authenticator app.",
      codeWrong: "The code is wrong or already used. Enter the newest one.",
      withKey: "Sign in with an access key", withKeyText: "For shared screens and scripts: a viewer or admin key from your administrator.",
      signInKey: "Sign in with the key", admin: "Administration",
      keyLabel: "Access key", signIn: "Sign in", signOut: "Sign out", badKey: "Unknown or revoked key.",
      unit: "Unit", period: "Period", periodHint: "For example: 2026-Q3, 2026-S1, 2026, 2026-07, 2026-07-01..2026-07-15", service: "Service",
      choosePeriod: "Choose a period", running: "Running quarter (provisional)", lastComplete: "Last complete quarter",
      quarter: (y, q) => `${["First", "Second", "Third", "Fourth"][q - 1]} quarter ${y}`, semester: (y, n) => `${n === 1 ? "First" : "Second"} half ${y}`, year: (y) => `Year ${y}`,
      month: (y, m) => `${["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"][m - 1]} ${y}`,
      provisional: "PROVISIONAL: this period has not ended; its numbers may still change.",
      flagged: (n, all) => `${n} of ${all} responses are flagged (too fast, too frequent, or repeated).`,
      excludeFlagged: "Leave flagged responses out of the numbers", flaggedOut: (n) => `${n} flagged responses are not counted.`,
      allServices: "All services", show: "Show", loading: "Loading…", noUnits: "This key covers no unit.",
      respondents: "respondents", index: "index", grade: "Grade", items: "Scores by item", code: "Code", item: "Item",
      answered: "Answered", skipped: "Skipped", nrr: "NRR", itemIkm: "Item IKM", priorities: "Priorities", trend: "Trend",
      change: "Change", significant: "Significant", sampleCol: "Sample", respondentsCol: "Respondents", sampleOk: "enough", sampleShort: (n) => `${n} short`, yes: "yes", no: "no", children: "Units below",
      kiosks: "Kiosk tablets", device: "Device", kioskKey: "Key", kioskState: "State", waiting: "Waiting to send",
      lastSeen: "Last heard from", lastError: "Last error", refresh: "Refresh", retire: "Retire",
      kioskStates: { online: "Online", late: "Late", offline: "Offline (outside service hours)", retired: "Retired" },
      retireConfirm: (name) => `Revoke the key "${name}"? Every tablet using it stops sending surveys and must be enrolled again.`,
      suggestions: "Suggestions", noSuggestions: "No suggestions in this period yet.", downloads: "Download the report",
      csvSemicolon: "CSV (semicolons)", notices: "Notices", weighted: "Population-weighted IKM",
      docx: "Word (editable)", docNumber: "Document number (nomor surat) for the PDF and Word file",
      docNumberHint: "From the unit's register, such as 000.5/123/Disdukcapil. Left empty, the document prints a line to write it on by hand.", narrative: "Report narrative", narrativeHint: "The text of each chapter of the PDF and Word report. It starts written from the numbers; change it as needed before signing. Separate paragraphs with a blank line.",
      narrativeTemplate: "Written from this period's numbers.", narrativeEdited: (by, at) => `Edited by ${by}, ${at}.`,
      saveNarrative: "Save narrative", narrativeSaved: "Narrative saved; the PDF and Word downloads carry it.", narrativeNotSaved: "Narrative not saved",
      backToTemplate: "Back to the written-from-numbers text", unreachable: "The server cannot be reached; check the network and try again. Your text stays here.", narrativeWholeUnit: "The narrative belongs to the report of all the unit's services; choose \"All services\" to edit it.",
      error: "Could not load", language: "Bahasa Indonesia", chartItems: "Chart of the IKM by item", chartTrend: "Chart of the IKM trend", chartDaily: "Chart of responses and IKM by day",
      periodCol: "Period",
      followUps: "Follow-up plans", noFollowUps: "No plans for this period yet.", action: "Action",
      owner: "Responsible", due: "Due", status: "Status", newPlan: "New plan", addPlan: "Add plan",
      statuses: { planned: "Planned", in_progress: "In progress", done: "Done", cancelled: "Cancelled" },
      previousPlans: (p, d, n) => `Previous period (${p}): ${d} of ${n} plans done.`,
      notSaved: "The plan was not saved",
      sample: (pop, min, got, ok) => `Population ${pop}: minimum sample ${min} (Krejcie & Morgan); ${got} collected, ${ok ? "enough" : "not enough yet"}.`,
      population: "This period's population", populationHint: "How many people this unit served in the period.",
      savePopulation: "Save population", populationNotSaved: "The population was not saved",
      refused: { validation_failed: "Invalid input", not_found: "Not found", forbidden: "This key may not do that",
        db_unavailable: "The server is busy; try again shortly",
        busy: "The server is busy with other downloads and long reports; try again shortly", other: "Request refused" },
      fields: { period: "Period", service: "Service", unit: "Unit", item: "Item", action: "Action", owner: "Responsible", category: "Category", tags: "Tags", follow_up: "Follow-up plan",
        due: "Due", status: "Status", mode: "Mode", instrument: "Instrument" },
      suggestionsPage: (a, b, all) => `Suggestions ${a}–${b} of ${all}, newest first.`,
      suggestionsCut: (all) => `This period has more than ${all} suggestions; here and in the downloads are the newest ${all}.`,
      searchSuggestions: "Search suggestions", noMatch: "No suggestion matches.", previous: "Previous", next: "Next",
      zones: { green: "Green zone", yellow: "Yellow zone", red: "Red zone" }, ombudsmanCol: "Ombudsman",
      categoryFilter: "Category", allCategories: "All categories", uncategorised: "Not categorised", categoryOf: (d) => `Category of the suggestion of ${d}`,
      tagsOf: (d) => `Tags of the suggestion of ${d}, separated by commas`, tagsHint: "tags, separated by commas", handledOf: (d) => `Follow-up plan for the suggestion of ${d}`,
      notHandled: "Not acted on yet", handledWith: (a) => `Acted on: ${a}`, handled: "Acted on",
      noteNotSaved: "Suggestion note not saved", otherUnit: "Mark its follow-up in that unit's report.",
      channels: { kiosk: "Survey kiosk", qr: "QR code on a receipt", web: "Open link", paper: "Paper questionnaire" },
    },
  };
  const app = document.getElementById("app");
  const state = { lang: localStorage.getItem(LANG) || "id", units: [], services: [], unit: null, period: null, service: "", report: null, shown: null, charts: {}, kiosks: null, error: "", me: null, populationError: "",
    // The new follow-up plan being written, kept across re-renders, and why saving it failed.
    plan: { item: "", action: "", owner: "", due: "" }, planError: "",
    // The report narrative being edited: the server's chapters, the texts typed since, and
    // whether the editor is open.
    narrative: null, narrativeDrafts: {}, narrativeOpen: false, narrativeNote: "" };
  // Each report load gets a number; an answer to an older load (the user changed unit or period
  // while it was on its way) is dropped rather than shown under the newer choice.
  let generation = 0;
  const t = translator(T, () => state.lang);
  const SHOWN_SUGGESTIONS = 20;
  const key = () => sessionStorage.getItem(KEY);
  // Signed in: a person's session (state.person, with its CSRF token) or a key.
  const signedIn = () => Boolean(key() || state.person);
  // An administrator or a unit's manager may also change what the dashboard shows.
  const manages = () => Boolean(state.me && (state.me.role === "admin" || state.me.role === "manager"));
  const num = (v, d = 2) => (v === null || v === undefined ? "-" : (state.lang === "id" ? Number(v).toFixed(d).replace(".", ",") : Number(v).toFixed(d)));
  // 2025-07-01 -> 01-07-2025, as the PDF and Indonesian documents write dates.
  const day = (iso) => String(iso).split("-").reverse().join("-");
  const count = (n) => Number(n).toLocaleString(state.lang === "id" ? "id-ID" : "en-US");
  const pick = (id, en) => (state.lang === "id" ? id : en);
  // A service by its name, as the report lists it (of `unit` when several units have one of
  // that code); its code when the report does not know it.
  const serviceName = (r, code, unit) => {
    const found = (r.services || []).find((g) => g.code === code && (!g.unit || !unit || g.unit === unit));
    return found ? pick(found.name, found.name_en) : code;
  };

  // Quarters by the browser's calendar (a unit head's own day); `back` quarters before this one.
  function quarterOf(back = 0) {
    const now = new Date();
    const index = now.getFullYear() * 4 + Math.floor(now.getMonth() / 3) - back;
    return `${Math.floor(index / 4)}-Q${(index % 4) + 1}`;
  }
  const currentQuarter = () => quarterOf(0);
  // The periods offered in the picker: the last complete quarter first, the running one, then
  // this and last year's quarters, halves, months and years. Anything else is typed.
  function periodChoices() {
    const L = T[state.lang];
    const now = new Date();
    const choices = [[quarterOf(1), `${L.quarter(...quarterOf(1).split("-Q").map(Number))} · ${L.lastComplete}`],
      [currentQuarter(), `${L.quarter(...currentQuarter().split("-Q").map(Number))} · ${L.running}`]];
    for (const y of [now.getFullYear(), now.getFullYear() - 1]) {
      choices.push([String(y), L.year(y)]);
      for (const n of [1, 2]) choices.push([`${y}-S${n}`, L.semester(y, n)]);
      for (const q of [1, 2, 3, 4]) choices.push([`${y}-Q${q}`, L.quarter(y, q)]);
      for (let m = 1; m <= 12; m++) choices.push([`${y}-${String(m).padStart(2, "0")}`, L.month(y, m)]);
    }
    const seen = new Set();
    return choices.filter(([v]) => !seen.has(v) && seen.add(v));
  }

  async function api(path, init = {}) {
    // A person's change carries the session's CSRF token; a key needs none.
    const headers = { ...(init.headers || {}) };
    if (!key() && state.person && (init.method || "GET") !== "GET") headers["X-CSRF-Token"] = state.person.csrf_token;
    const res = await request(path, key(), { ...init, headers });
    if (res.status === 401) {
      state.error = key() ? t("badKey") : t("ended");
      sessionStorage.removeItem(KEY); state.person = null; render(); throw new Error("401");
    }
    return res;
  }

  function query() {
    const q = new URLSearchParams({ unit: state.unit, period: (state.period || "").trim() });
    if (state.service) q.set("service", state.service);
    if (state.excludeFlagged) q.set("exclude_flagged", "true");
    return q;
  }

  async function loadUnits() {
    // Who is signed in: an administrator is also offered what only an administrator may do.
    const me = await api("/api/v1/me");
    state.me = me.ok ? await me.json() : null;
    const res = await api("/api/v1/units");
    state.units = await res.json();
    if (!state.unit && state.units.length) {
      const top = state.units.find((u) => !state.units.some((p) => p.code === u.parent)) || state.units[0];
      state.unit = top.code;
    }
    // The last complete quarter: a unit head reads finished periods; the running one is a
    // click away and marked provisional.
    state.period = state.period || quarterOf(1);
    await loadServices();
  }

  async function loadServices() {
    state.services = [];
    if (!state.unit) return;
    const res = await api(`/api/v1/units/${encodeURIComponent(state.unit)}/services`);
    if (res.ok) state.services = await res.json();
  }

  async function loadReport(asked = query()) {
    const mine = ++generation;
    const current = () => mine === generation;
    state.report = null; state.shown = null; state.charts = {}; state.error = "";
    render();
    const res = await api("/api/v1/reports/ikm?" + asked);
    const body = await res.json();
    if (!current()) return;
    if (!res.ok) { state.error = `${t("error")}: ${refusal(body)}`; render(); return; }
    const q = new URLSearchParams(asked); q.set("lang", state.lang);
    const charts = {};
    for (const kind of ["daily", "items", "trend"]) {
      const c = await api(`/api/v1/reports/ikm/chart/${kind}?` + q);
      if (c.ok) charts[kind] = await c.text();
    }
    if (!current()) return;
    // A new report starts its suggestions from the first page, unsearched.
    Object.assign(state, { report: body, shown: asked, charts, suggestionQuery: "", suggestionPage: 0, suggestionCategory: "", noteError: "" });
    await loadKiosks(body.unit);
    if (!current()) return;
    render();
  }

  // ---- the unit's kiosk tablets ---------------------------------------------------------------
  // Listed with the report and refreshed every 30 seconds in place, so a tablet that goes
  // quiet during service hours shows up as late without a reload.
  async function loadKiosks(unit) {
    const res = await api("/api/v1/kiosks?unit=" + encodeURIComponent(unit));
    state.kiosks = res.ok ? await res.json() : [];
  }
  // A moment in the unit's own time zone, as its staff read the clock.
  const when = (iso) => new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z").toLocaleString(state.lang === "id" ? "id-ID" : "en-GB",
    { dateStyle: "short", timeStyle: "short", timeZone: (state.report && state.report.timezone) || undefined });
  function kiosksView() {
    if (!state.kiosks || !state.kiosks.length) return "";
    const L = T[state.lang];
    const admin = manages();
    const rows = state.kiosks.map((k) => [
      `${esc(k.device_id)}<br><span class="hint">${esc(k.page_version)}</span>`, esc(k.key_name),
      `<span class="kiosk-${esc(k.state)}">${esc(L.kioskStates[k.state] || k.state)}</span>`, count(k.waiting), esc(when(k.last_seen_at)),
      esc(k.last_error || "-"),
      ...(admin ? [!k.retirable ? "" : `<button type="button" data-retire="${esc(k.key_id)}" data-name="${esc(k.key_name)}" aria-label="${esc(`${t("retire")}: ${k.device_id}`)}">${t("retire")}</button>`] : []),
    ]);
    const head = [t("device"), t("kioskKey"), t("kioskState"), t("waiting"), t("lastSeen"), t("lastError"), ...(admin ? [""] : [])];
    return `<h3>${t("kiosks")}</h3><p><button type="button" id="kiosks-refresh">${t("refresh")}</button></p>
      ${table(head, rows, [false, false, false, true, false, false, false])}`;
  }
  async function refreshKiosks() {
    if (!state.report) return;
    await loadKiosks(state.report.unit);
    const here = document.getElementById("kiosks");
    if (here) { here.innerHTML = kiosksView(); bindKiosks(); }
  }
  setInterval(() => { if (signedIn()) refreshKiosks().catch(() => {}); }, 30000);
  async function retire(keyId, name) {
    if (!confirm(T[state.lang].retireConfirm(name))) return;
    const res = await api(`/api/v1/keys/${encodeURIComponent(keyId)}`, { method: "DELETE" });
    if (!res.ok && res.status !== 404) { state.error = `${t("error")}: ${refusal(await res.json())}`; render(); return; }
    await refreshKiosks();
  }
  function bindKiosks() {
    const again = document.getElementById("kiosks-refresh");
    if (again) again.addEventListener("click", () => refreshKiosks().catch(() => {}));
    document.querySelectorAll("[data-retire]").forEach((b) => b.addEventListener("click", () => retire(b.dataset.retire, b.dataset.name).catch(() => {})));
  }

  async function download(format, extra) {
    // The export is of the report on screen, whatever has been typed into the form since.
    if (!state.shown) return;
    const q = new URLSearchParams(state.shown); q.set("format", format); q.set("lang", state.lang);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    const res = await api("/api/v1/reports/ikm?" + q);
    if (!res.ok) { state.error = `${t("error")}: ${refusal(await res.json())}`; render(); return; }
    const name = ((res.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/) || [])[1] || `ikm.${format}`;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // The period's suggestions, searchable (text, unit, service), filtered by category and in
  // pages, newest first; each filed under an item, tagged, and linked to the follow-up plan
  // that acts on it (then published with the plan on the public page).
  function suggestionsView(r) {
    const L = T[state.lang];
    if (!r.suggestions.length) return `<p>${t("noSuggestions")}</p>`;
    const words = (state.suggestionQuery || "").trim().toLowerCase();
    const unitName = (code) => (state.units.find((u) => u.code === code) || {}).name || code;
    const itemName = (code) => { const i = r.items.find((x) => x.code === code); return i ? `${code} ${pick(i.name, i.name_en)}` : code; };
    const category = state.suggestionCategory || "";
    const matches = r.suggestions.filter((s) => (!words || [s.text, unitName(s.unit), s.service ? serviceName(r, s.service, s.unit) : "", ...(s.tags || [])].some((x) => String(x).toLowerCase().includes(words)))
      && (!category || (category === "-" ? !s.category : s.category === category)));
    const pages = Math.max(1, Math.ceil(matches.length / SHOWN_SUGGESTIONS));
    const page = Math.min(state.suggestionPage || 0, pages - 1);
    const shown = matches.slice(page * SHOWN_SUGGESTIONS, (page + 1) * SHOWN_SUGGESTIONS);
    const plans = r.follow_ups.current.filter((p) => p.status !== "cancelled");
    const line = (s) => {
      const received = day(s.date);
      const categories = ["", ...r.items.map((i) => i.code)].map((c) => `<option value="${esc(c)}"${(s.category || "") === c ? " selected" : ""}>${esc(c ? itemName(c) : L.uncategorised)}</option>`).join("");
      const handled = s.unit !== r.unit ? `<span class="hint">${t("otherUnit")}</span>`
        : `<select data-handled="${esc(s.id)}" aria-label="${esc(L.handledOf(received))}"><option value="">${t("notHandled")}</option>${plans.map((p) => `<option value="${esc(p.id)}"${s.follow_up && s.follow_up.id === p.id ? " selected" : ""}>${esc(L.handledWith(p.action))}</option>`).join("")}</select>`;
      return `<li><span class="hint">${esc(received)} · ${esc(unitName(s.unit))}${s.service ? " · " + esc(serviceName(r, s.service, s.unit)) : ""} · ${esc(L.channels[s.channel] || s.channel)}</span>
        ${esc(s.text)}${s.follow_up ? ` <span class="handled">✓ ${esc(L.handledWith(s.follow_up.action))}</span>` : ""}
        <span class="note"><select data-category="${esc(s.id)}" aria-label="${esc(L.categoryOf(received))}">${categories}</select>
        <input data-tags="${esc(s.id)}" value="${esc((s.tags || []).join(", "))}" aria-label="${esc(L.tagsOf(received))}" placeholder="${esc(t("tagsHint"))}">
        ${handled}</span></li>`;
    };
    const filter = [["", L.allCategories], ...r.items.map((i) => [i.code, itemName(i.code)]), ["-", L.uncategorised]]
      .map(([v, label]) => `<option value="${esc(v)}"${v === category ? " selected" : ""}>${esc(label)}</option>`).join("");
    const pager = pages > 1 ? `<p class="pager"><button type="button" id="suggestions-previous"${page === 0 ? " disabled" : ""}>${t("previous")}</button>
      <button type="button" id="suggestions-next"${page >= pages - 1 ? " disabled" : ""}>${t("next")}</button></p>` : "";
    return `<div class="filters"><p class="check"><label for="suggestion-search">${t("searchSuggestions")}</label>
        <input id="suggestion-search" type="search" value="${esc(state.suggestionQuery || "")}"></p>
        <p class="check"><label for="suggestion-category">${t("categoryFilter")}</label><select id="suggestion-category">${filter}</select></p></div>
      ${state.noteError ? `<p class="error" role="alert">${esc(state.noteError)}</p>` : ""}
      ${shown.length ? `<ul class="suggestions">${shown.map(line).join("")}</ul>` : `<p>${t("noMatch")}</p>`}
      ${shown.length ? `<p class="hint" id="suggestions-note">${esc(L.suggestionsPage(count(page * SHOWN_SUGGESTIONS + 1), count(page * SHOWN_SUGGESTIONS + shown.length), count(matches.length)))}</p>` : ""}
      ${r.suggestions_truncated ? `<p class="hint">${esc(L.suggestionsCut(count(r.suggestions.length)))}</p>` : ""}${pager}`;
  }

  // Saves a suggestion's note and shows it in place; the report is not loaded again.
  async function noteSuggestion(id, note) {
    try {
      const res = await api(`/api/v1/suggestions/${encodeURIComponent(id)}`, { method: "PATCH", body: JSON.stringify(note) });
      const body = await res.json();
      if (!res.ok) { state.noteError = `${t("noteNotSaved")}: ${refusal(body)}`; render(); return; }
      state.noteError = "";
      const s = state.report && state.report.suggestions.find((x) => x.id === body.id);
      if (s) {
        const plan = state.report.follow_ups.current.find((p) => p.id === body.follow_up);
        Object.assign(s, { category: body.category, tags: body.tags, follow_up: plan ? { id: plan.id, action: plan.action, status: plan.status } : null });
      }
      render();
    } catch (e) {
      if (e.message !== "401") { state.noteError = `${t("noteNotSaved")}: ${t("unreachable")}`; render(); }
    }
  }

  // Each cell carries its column's name, which a phone shows beside it (dashboard.css).
  function table(head, rows, numeric) {
    return `<div class="scroll" tabindex="0"><table><thead><tr>${head.map((h, i) => `<th scope="col"${numeric[i] ? ' class="n"' : ""}>${esc(h)}</th>`).join("")}</tr></thead>
      <tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ""}${head[i] ? ` data-label="${esc(head[i])}"` : ""}>${c}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`;
  }

  // This period's follow-up plans (status changeable in place), how the previous period's
  // went, and a form for a new plan, its item the weakest one by default.
  function followUpsView(r) {
    const L = T[state.lang];
    const f = r.follow_ups;
    const name = (code) => { const i = r.items.find((x) => x.code === code); return i ? `${code} ${pick(i.name, i.name_en)}` : code; };
    const statusSelect = (a) => `<select data-follow-up="${esc(a.id)}" aria-label="${esc(`${t("status")}: ${a.action}`)}">${Object.entries(L.statuses)
      .map(([v, label]) => `<option value="${v}"${v === a.status ? " selected" : ""}>${esc(label)}</option>`).join("")}</select>`;
    const rows = f.current.map((a) => [esc(name(a.item)), esc(a.action), esc(a.owner), esc(day(a.due)), statusSelect(a)]);
    const order = [...r.priorities, ...r.items.map((i) => i.code).filter((c) => !r.priorities.includes(c))];
    const chosen = state.plan.item || order[0];
    const v = (k) => esc(state.plan[k]);
    return `<h3 id="follow-ups">${t("followUps")}</h3>
      ${f.previous ? `<p id="previous-plans">${esc(L.previousPlans(f.previous.period, f.previous.done, f.previous.total))}</p>` : ""}
      ${rows.length ? table([t("item"), t("action"), t("owner"), t("due"), t("status")], rows, [false, false, false, false, false]) : `<p>${t("noFollowUps")}</p>`}
      <form id="plan" aria-labelledby="plan-title"><h4 id="plan-title">${t("newPlan")}</h4>
        <div><label for="plan-item">${t("item")}</label><select id="plan-item">${order.map((c) => `<option value="${esc(c)}"${c === chosen ? " selected" : ""}>${esc(name(c))}</option>`).join("")}</select></div>
        <div><label for="plan-action">${t("action")}</label><textarea id="plan-action" maxlength="1000" required>${v("action")}</textarea></div>
        <div><label for="plan-owner">${t("owner")}</label><input id="plan-owner" maxlength="200" required value="${v("owner")}"></div>
        <div><label for="plan-due">${t("due")}</label><input id="plan-due" type="date" required value="${v("due")}"></div>
        <div><button type="submit">${t("addPlan")}</button></div>
        ${state.planError ? `<p class="error" role="alert">${esc(state.planError)}</p>` : ""}
      </form>`;
  }

  // The sample the period needs for its population, and for an administrator the form that
  // sets the population.
  function sampleView(r) {
    const L = T[state.lang];
    const line = r.sample ? `<p id="sample">${esc(L.sample(count(r.sample.population), count(r.sample.minimum), count(r.sample.collected), r.sample.adequate))}</p>` : "";
    if (!manages()) return line;
    return `${line}<form id="population" class="inline">
        <div><label for="population-value">${t("population")}</label>
        <input id="population-value" type="number" min="1" step="1" required value="${r.sample ? r.sample.population : ""}" aria-describedby="population-hint">
        <span class="hint" id="population-hint">${t("populationHint")}</span></div>
        <div><button type="submit">${t("savePopulation")}</button></div>
        ${state.populationError ? `<p class="error" role="alert">${esc(state.populationError)}</p>` : ""}
      </form>`;
  }

  // The report's narrative, chapter by chapter, as the PDF and Word documents print it; the
  // unit's staff edit it here before the head signs. Loaded when the editor is opened.
  const narrativePath = (r) => `/api/v1/units/${encodeURIComponent(r.unit)}/report-narrative/${encodeURIComponent(r.period)}?lang=${state.lang}`;
  function narrativeView(r) {
    const L = T[state.lang];
    const n = state.narrative && state.narrative.unit === r.unit && state.narrative.period === r.period && state.narrative.lang === state.lang ? state.narrative : null;
    const fields = n ? n.chapters.map((c) => {
      const id = `narrative-${c.chapter}`;
      const note = c.edited ? L.narrativeEdited(c.updated_by.replace(/^(user|key):/, ""), when(c.updated_at)) : L.narrativeTemplate;
      const text = state.narrativeDrafts[c.chapter] ?? c.text;
      return `<div><label for="${id}">${esc(c.heading)}</label>
        <textarea id="${id}" data-chapter="${esc(c.chapter)}" rows="7" maxlength="12000" aria-describedby="${id}-note">${esc(text)}</textarea>
        <span class="hint" id="${id}-note">${esc(note)}</span>
        ${c.edited ? `<button type="button" data-template="${esc(c.chapter)}">${t("backToTemplate")}</button>` : ""}</div>`;
    }).join("") : `<p>${t("loading")}</p>`;
    const body = r.service ? `<p>${t("narrativeWholeUnit")}</p>` : `<p class="hint">${t("narrativeHint")}</p>
      <form id="narrative-form">${fields}
        ${n ? `<div><button type="submit">${t("saveNarrative")}</button></div>` : ""}
        ${state.narrativeNote ? `<p class="${state.narrativeNote === t("narrativeSaved") ? "saved" : "error"}" role="status">${esc(state.narrativeNote)}</p>` : ""}</form>`;
    return `<details id="narrative"${state.narrativeOpen ? " open" : ""}><summary>${t("narrative")}</summary>${body}</details>`;
  }
  async function loadNarrative() {
    const r = state.report;
    if (!r || r.service) return;
    const res = await api(narrativePath(r));
    if (!res.ok) { state.narrativeNote = `${t("narrativeNotSaved")}: ${refusal(await res.json())}`; render(); return; }
    state.narrative = await res.json(); state.narrativeDrafts = {};
    render();
  }
  async function saveNarrative(chapters) {
    if (state.savingNarrative) return;
    state.savingNarrative = true;
    try {
      const res = await api(narrativePath(state.report), { method: "PUT", body: JSON.stringify({ chapters }) });
      const body = await res.json();
      if (!res.ok) { state.narrativeNote = `${t("narrativeNotSaved")}: ${refusal(body)}`; render(); return; }
      state.narrative = body; state.narrativeDrafts = {}; state.narrativeNote = t("narrativeSaved");
      render();
    } catch (e) {
      if (e.message !== "401") { state.narrativeNote = `${t("narrativeNotSaved")}: ${t("unreachable")}`; render(); }
    } finally { state.savingNarrative = false; }
  }

  // Sends a change, then shows the report again. A refusal is kept in `state[where]`, after the
  // words `failed`, and shown; `saved` runs before the report reloads.
  async function change(path, body, method, where, failed, saved = () => {}) {
    const res = await api(path, { method, body: JSON.stringify(body) });
    if (!res.ok) { state[where] = `${t(failed)}: ${refusal(await res.json())}`; render(); return; }
    state[where] = "";
    saved();
    await loadReport(state.shown);
  }

  function savePopulation() {
    const r = state.report;
    const population = Number(document.getElementById("population-value").value);
    return change(`/api/v1/units/${encodeURIComponent(r.unit)}/populations/${encodeURIComponent(r.period)}`, { population },
      "PUT", "populationError", "populationNotSaved");
  }

  // Why a request was refused, in the page's language: the reason by its code and the fields
  // it names, then the server's own sentence (English) as detail.
  function refusal(body) {
    const L = T[state.lang];
    const reason = L.refused[body.error] || L.refused.other;
    const fields = Object.keys(body.fields || {}).map((k) => L.fields[k] || k).join(", ");
    return `${reason}${fields ? ": " + fields : ""}. (${body.message})`;
  }

  function savePlan() {
    const r = state.report;
    const plan = { period: r.period, item: document.getElementById("plan-item").value, action: state.plan.action.trim(),
      owner: state.plan.owner.trim(), due: state.plan.due };
    return change(`/api/v1/units/${encodeURIComponent(r.unit)}/follow-ups`, plan, "POST", "planError", "notSaved",
      () => { state.plan = { item: "", action: "", owner: "", due: "" }; });
  }

  function setStatus(id, status) {
    return change(`/api/v1/follow-ups/${encodeURIComponent(id)}`, { status }, "PATCH", "planError", "notSaved");
  }

  function chart(kind, label) {
    return state.charts[kind] ? `<div class="chart" id="chart-${kind}" role="img" aria-label="${esc(label)}">${state.charts[kind]}</div>` : "";
  }

  // Whether the report's period has not ended yet (its last day is today or later).
  function provisional(r) {
    const today = new Date().toISOString().slice(0, 10);
    return r.to >= today;
  }

  // How many responses carry a quality flag, and the switch that leaves them out.
  function flaggedView(r) {
    const q = r.quality;
    if (!q || (!q.flagged && !state.excludeFlagged)) return "";
    const L = T[state.lang];
    const all = q.exclude_flagged ? q.included + q.flagged : q.included;
    return `<div class="flagged"><p id="flagged-count">${esc(q.exclude_flagged ? L.flaggedOut(count(q.flagged)) : L.flagged(count(q.flagged), count(all)))}</p>
      <p class="check"><input type="checkbox" id="exclude-flagged"${state.excludeFlagged ? " checked" : ""}><label for="exclude-flagged">${t("excludeFlagged")}</label></p></div>`;
  }

  // For a parent (an MPP, a district): every unit below, first, sortable by each column.
  const SORTS = {
    name: (c) => c.name.toLowerCase(),
    ikm: (c) => (c.ikm === null || c.ikm === undefined ? -1 : c.ikm),
    respondents: (c) => c.respondents,
    change: (c) => (c.ikm === null || c.ikm === undefined || c.previous_ikm === undefined ? -999 : c.ikm - c.previous_ikm),
    sample: (c) => (c.sample_minimum ? c.respondents / c.sample_minimum : -1),
  };
  // The Ombudsman's assessment as published: year, score, zone (coloured) and category.
  function ombudsman(a) {
    const L = T[state.lang];
    return `Ombudsman RI ${esc(a.year)}: ${num(a.score)} · <span class="zone zone-${esc(a.zone)}">${esc(L.zones[a.zone] || a.zone)}</span>${a.category ? " · " + esc(a.category) : ""}`;
  }
  function unitsView(r) {
    if (!r.rollup || !r.rollup.children.length) return "";
    const L = T[state.lang];
    const { key: by, dir } = state.sort || { key: "ikm", dir: -1 };
    const rows = [...r.rollup.children].sort((a, b) => {
      const [x, y] = [SORTS[by](a), SORTS[by](b)];
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    const delta = (c) => {
      if (c.ikm === null || c.ikm === undefined || c.previous_ikm === undefined) return "-";
      const d = c.ikm - c.previous_ikm;
      return `<span class="${d > 0 ? "up" : d < 0 ? "down" : ""}">${d > 0 ? "▲ +" : d < 0 ? "▼ " : ""}${num(d)}</span>`;
    };
    const sample = (c) => (c.sample_minimum ? (c.respondents >= c.sample_minimum ? L.sampleOk : L.sampleShort(count(c.sample_minimum - c.respondents))) : "-");
    const head = [["name", t("unit")], ["ikm", "IKM"], [null, t("grade")], ["respondents", L.respondentsCol], ["change", t("change")], ["sample", L.sampleCol], [null, L.ombudsmanCol]];
    const th = head.map(([k, label]) => {
      if (!k) return `<th scope="col">${esc(label)}</th>`;
      const sorted = k === by ? (dir > 0 ? "ascending" : "descending") : "none";
      return `<th scope="col" aria-sort="${sorted}"${k === "name" ? "" : ' class="n"'}><button type="button" class="sort" data-sort="${k}">${esc(label)}${k === by ? (dir > 0 ? " ▲" : " ▼") : ""}</button></th>`;
    }).join("");
    const body = rows.map((c) => `<tr><td>${esc(pick(c.name, c.name_en))}</td><td class="n">${num(c.ikm)}</td><td><span class="chip grade-${esc(c.grade || "none")}">${esc(c.grade || "-")}</span></td>
      <td class="n">${count(c.respondents)}</td><td class="n">${delta(c)}</td><td class="n">${esc(sample(c))}</td><td>${c.ombudsman ? ombudsman(c.ombudsman).replace(/^Ombudsman RI /, "") : "-"}</td></tr>`).join("");
    return `<h3 id="units-below">${t("children")}</h3><div class="scroll" tabindex="0"><table class="units"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
  }

  function reportView(r) {
    const unit = state.units.find((u) => u.code === r.unit);
    const grade = r.grade ? `${t("grade")} ${esc(r.grade)} · ${esc(pick(r.performance, r.performance_en))}` : "-";
    const items = r.items.map((i) => [esc(i.code), esc(pick(i.name, i.name_en)), i.answered, i.skipped, num(i.nrr, 3), num(i.ikm), esc(i.grade || "-")]);
    const byCode = Object.fromEntries(r.items.map((i) => [i.code, i]));
    const trend = r.trend.map((p) => [esc(p.period), p.respondents, num(p.ikm), esc(p.grade || "-"), num(p.change),
      p.significant === null || p.significant === undefined ? "-" : (p.significant ? t("yes") : t("no"))]);
    const weighted = r.rollup && r.rollup.population_weighted;
    return `<section aria-labelledby="result-title">
      <h2 id="result-title">${esc(unit ? unit.name : r.unit)} · ${esc(r.period)}</h2>
      <p class="hint">${esc(day(r.from))} – ${esc(day(r.to))} · ${esc(zoneLabel(r.timezone))}${r.service ? " · " + esc(serviceName(r, r.service)) : ""}</p>
      <div class="field doc-number"><label for="doc-number">${esc(t("docNumber"))}</label>
        <input id="doc-number" maxlength="100" autocomplete="off" value="${esc(state.docNumber || "")}" aria-describedby="doc-number-hint">
        <span class="hint" id="doc-number-hint">${esc(t("docNumberHint"))}</span></div>
      <div class="downloads" role="group" aria-label="${esc(t("downloads"))}"><span class="hint">${t("downloads")}:</span>
        <button type="button" data-download="pdf">PDF</button>
        <button type="button" data-download="docx">${t("docx")}</button>
        <button type="button" data-download="xlsx">XLSX</button>
        <button type="button" data-download="csv">CSV</button>
        <button type="button" data-download="csv" data-delimiter="semicolon">${t("csvSemicolon")}</button>
      </div>
      ${narrativeView(r)}
      ${provisional(r) ? `<p class="provisional" id="provisional">${t("provisional")}</p>` : ""}
      <div class="score grade-${esc(r.grade || "none")}">
        <p class="ikm"><span>IKM</span> <strong id="ikm-value">${num(r.ikm)}</strong></p>
        <p class="grade" id="grade-value">${grade}</p>
        <p>${r.respondents} ${t("respondents")} · ${t("index")} ${num(r.index, 4)}</p>
        ${weighted ? `<p>${t("weighted")}: ${num(weighted.ikm)} (${esc(weighted.grade)})</p>` : ""}
        ${r.ombudsman ? `<p id="ombudsman">${ombudsman(r.ombudsman)}</p>` : ""}
      </div>
      ${sampleView(r)}
      ${flaggedView(r)}
      ${unitsView(r)}
      ${r.daily && r.daily.length ? chart("daily", t("chartDaily")) : ""}
      <div id="kiosks">${kiosksView()}</div>
      ${r.notices.length ? `<h3>${t("notices")}</h3><ul>${r.notices.map((n) => `<li>${esc(pick(n.id, n.en))}</li>`).join("")}</ul>` : ""}
      <h3>${t("items")}</h3>
      ${chart("items", t("chartItems"))}
      ${table([t("code"), t("item"), t("answered"), t("skipped"), t("nrr"), t("itemIkm"), t("grade")], items, [false, false, true, true, true, true, false])}
      <h3>${t("priorities")}</h3>
      <ol>${r.priorities.map((c) => `<li>${esc(c)} ${esc(pick(byCode[c].name, byCode[c].name_en))}: ${num(byCode[c].ikm)} (${esc(byCode[c].grade || "-")})</li>`).join("")}</ol>
      ${followUpsView(r)}
      <h3>${t("trend")}</h3>
      ${chart("trend", t("chartTrend"))}
      ${table([t("periodCol"), t("respondents"), "IKM", t("grade"), t("change"), t("significant")], trend, [false, true, true, false, true, false])}
      <h3>${t("suggestions")}</h3>
      <div id="suggestions">${suggestionsView(r)}</div>
    </section>`;
  }

  function render() {
    // Re-rendering replaces the form; keep the field being typed in focused, caret in place.
    const focused = document.activeElement && document.activeElement.id;
    const caret = typeof document.activeElement?.selectionStart === "number" ? document.activeElement.selectionStart : null;
    document.documentElement.lang = state.lang;
    document.title = t("title");
    const header = `<header><h1>${t("title")}</h1><div class="tools">
      <button type="button" id="lang" lang="${state.lang === "id" ? "en" : "id"}">${t("language")}</button>
      ${manages() && state.person ? `<a class="button" href="/admin">${t("admin")}</a>` : ""}
      ${signedIn() ? `<button type="button" id="sign-out">${t("signOut")}</button>` : ""}</div></header>`;
    if (!signedIn()) {
      app.innerHTML = `${header}<main><h2>${t("signInTitle")}</h2><p>${t("signInText")}</p>
        ${state.error ? `<p class="error" role="alert">${esc(state.error)}</p>` : ""}
        ${signInForm(T[state.lang], state.name, state.askCode)}
        <details id="with-key"${state.keyOpen ? " open" : ""}><summary>${t("withKey")}</summary><p>${t("withKeyText")}</p>
        <form id="sign-in-key"><label for="key">${t("keyLabel")}</label>
        <input id="key" type="password" autocomplete="off" required>
        <button type="submit">${t("signInKey")}</button></form></details></main>`;
    } else {
      const units = state.units.map((u) => `<option value="${esc(u.code)}"${u.code === state.unit ? " selected" : ""}>${esc(u.name)} (${esc(u.code)})</option>`).join("");
      const services = serviceOptions();
      app.innerHTML = `${header}<main>
        ${state.units.length ? `<form id="controls">
          <div><label for="unit">${t("unit")}</label><select id="unit">${units}</select></div>
          <div><label for="period-pick">${t("choosePeriod")}</label><select id="period-pick">${periodChoices().map(([v, label]) => `<option value="${esc(v)}"${v === state.period ? " selected" : ""}>${esc(label)}</option>`).join("")}<option value=""${periodChoices().some(([v]) => v === state.period) ? "" : " selected"}>…</option></select></div>
          <div><label for="period">${t("period")}</label><input id="period" value="${esc(state.period || "")}" aria-describedby="period-hint" required>
            <span class="hint" id="period-hint">${t("periodHint")}</span></div>
          <div><label for="service">${t("service")}</label><select id="service">${services}</select></div>
          <div><button type="submit">${t("show")}</button></div>
        </form>` : `<p>${t("noUnits")}</p>`}
        ${state.error ? `<p class="error" role="alert">${esc(state.error)}</p>` : ""}
        <div id="result" aria-live="polite">${state.report ? reportView(state.report) : (state.unit && !state.error ? `<p>${t("loading")}</p>` : "")}</div>
      </main>`;
    }
    bind();
    const again = focused && document.getElementById(focused);
    if (again) {
      again.focus();
      if (caret !== null && typeof again.setSelectionRange === "function") again.setSelectionRange(caret, caret);
    }
  }

  function serviceOptions() {
    return `<option value="">${t("allServices")}</option>` + state.services.filter((s) => s.active)
      .map((s) => `<option value="${esc(s.code)}"${s.code === state.service ? " selected" : ""}>${esc(s.name)}</option>`).join("");
  }

  function bind() {
    const on = (sel, ev, fn) => { const el = document.querySelector(sel); if (el) el.addEventListener(ev, fn); };
    on("#lang", "click", () => { state.lang = state.lang === "id" ? "en" : "id"; localStorage.setItem(LANG, state.lang); if (state.shown) loadReport(state.shown).catch(() => {}); else render(); });
    on("#sign-out", "click", async () => {
      if (!key() && state.person) await api("/api/v1/sessions/current", { method: "DELETE" }).catch(() => {});
      sessionStorage.removeItem(KEY);
      Object.assign(state, { units: [], unit: null, report: null, error: "", me: null, person: null }); render();
    });
    on("#sign-in", "submit", async (e) => {
      e.preventDefault();
      state.name = document.getElementById("username").value.trim();
      const code = state.askCode ? document.getElementById("totp").value.replace(/\s/g, "") : "";
      const result = await signIn(state.name, document.getElementById("password").value, code);
      if (!result.person) {
        state.error = signInProblem(T[state.lang], result, Boolean(code));
        if (result.problem === "code") state.askCode = true;
        render(); document.getElementById("password").focus(); return;
      }
      // An administrator this server holds until two-step sign-in is set up goes to /admin.
      if (result.person.totp_setup_required) { location.href = "/admin"; return; }
      state.person = result.person; state.error = ""; state.askCode = false;
      try { await loadUnits(); render(); if (state.unit) await loadReport(); } catch (err) { /* shown */ }
    });
    on("#with-key", "toggle", (e) => { state.keyOpen = e.target.open; });
    on("#sign-in-key", "submit", async (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
      state.error = "";
      try { await loadUnits(); render(); if (state.unit) await loadReport(); } catch (err) { /* shown */ }
    });
    on("#unit", "change", async (e) => {
      state.unit = e.target.value; state.service = "";
      await loadServices().catch(() => {});
      // Only the service list changes: the rest of the form, and the button under a finger or
      // a pointer, stays where it is.
      const select = document.getElementById("service");
      if (select) select.innerHTML = serviceOptions(); else render();
    });
    on("#service", "change", (e) => { state.service = e.target.value; });
    on("#period", "input", (e) => { state.period = e.target.value; });
    on("#period-pick", "change", (e) => {
      if (!e.target.value) return;
      state.period = e.target.value;
      const typed = document.getElementById("period");
      if (typed) typed.value = state.period;
    });
    on("#exclude-flagged", "change", (e) => { state.excludeFlagged = e.target.checked; loadReport().catch(() => {}); });
    on("#controls", "submit", (e) => {
      e.preventDefault();
      // The state, not the form: the form may have been drawn again (the unit's services
      // arriving) while the period was typed into the one it replaced, whose listeners kept
      // the state up to date.
      loadReport().catch(() => {});
    });
    for (const [id, k] of [["plan-item", "item"], ["plan-action", "action"], ["plan-owner", "owner"], ["plan-due", "due"]]) {
      on(`#${id}`, "input", (e) => { state.plan[k] = e.target.value; });
    }
    on("#plan", "submit", (e) => { e.preventDefault(); savePlan().catch(() => {}); });
    on("#population", "submit", (e) => { e.preventDefault(); savePopulation().catch(() => {}); });
    document.querySelectorAll("[data-follow-up]").forEach((s) => s.addEventListener("change", () => {
      setStatus(s.dataset.followUp, s.value).catch(() => {});
    }));
    on("#narrative", "toggle", (e) => {
      // Drawn open again after a re-render, the editor fires this too: load each report's
      // narrative once per opening, never in a loop when the server refuses.
      state.narrativeOpen = e.target.open;
      const path = state.report && narrativePath(state.report);
      if (!e.target.open) state.narrativeAsked = null;
      else if (state.narrativeAsked !== path) { state.narrativeAsked = path; state.narrativeNote = ""; loadNarrative().catch(() => {}); }
    });
    document.querySelectorAll("[data-chapter]").forEach((a) => a.addEventListener("input", () => { state.narrativeDrafts[a.dataset.chapter] = a.value; }));
    on("#narrative-form", "submit", (e) => {
      e.preventDefault();
      // Only what was typed since loading: a chapter left alone keeps its template, which
      // follows the numbers.
      const changed = Object.fromEntries(Object.entries(state.narrativeDrafts)
        .filter(([c, v]) => v !== (state.narrative.chapters.find((x) => x.chapter === c) || {}).text));
      if (Object.keys(changed).length) saveNarrative(changed).catch(() => {});
    });
    document.querySelectorAll("[data-template]").forEach((b) => b.addEventListener("click", () => saveNarrative({ [b.dataset.template]: null }).catch(() => {})));
    bindKiosks();
    on("#suggestion-search", "input", (e) => { state.suggestionQuery = e.target.value; state.suggestionPage = 0; render(); });
    on("#suggestion-category", "change", (e) => { state.suggestionCategory = e.target.value; state.suggestionPage = 0; render(); });
    document.querySelectorAll("[data-category]").forEach((c) => c.addEventListener("change", () => noteSuggestion(c.dataset.category, { category: c.value || null })));
    document.querySelectorAll("[data-handled]").forEach((c) => c.addEventListener("change", () => noteSuggestion(c.dataset.handled, { follow_up: c.value || null })));
    document.querySelectorAll("[data-tags]").forEach((c) => c.addEventListener("change", () => noteSuggestion(c.dataset.tags,
      { tags: c.value.split(",").map((x) => x.trim()).filter(Boolean) })));
    on("#suggestions-previous", "click", () => { state.suggestionPage = Math.max(0, (state.suggestionPage || 0) - 1); render(); });
    on("#suggestions-next", "click", () => { state.suggestionPage = (state.suggestionPage || 0) + 1; render(); });
    document.querySelectorAll("[data-sort]").forEach((b) => b.addEventListener("click", () => {
      const column = b.dataset.sort;
      const current = state.sort || { key: "ikm", dir: -1 };
      state.sort = { key: column, dir: current.key === column ? -current.dir : (column === "name" ? 1 : -1) };
      render();
    }));
    const docNumber = document.getElementById("doc-number");
    if (docNumber) docNumber.addEventListener("input", () => { state.docNumber = docNumber.value; });
    document.querySelectorAll("[data-download]").forEach((b) => b.addEventListener("click", () => {
      const extra = b.dataset.delimiter ? { delimiter: b.dataset.delimiter } : {};
      // The document number goes on the PDF and the Word file, the documents that are signed.
      if (["pdf", "docx"].includes(b.dataset.download) && (state.docNumber || "").trim()) extra.number = state.docNumber.trim();
      download(b.dataset.download, extra).catch(() => {});
    }));
  }

  render();
  const start = () => loadUnits().then(() => { render(); if (state.unit) return loadReport(); }).catch(() => {});
  if (key()) start();
  else {
    // Signed in already (at /admin, or before a reload)? The session says so, with its token.
    fetch("/api/v1/sessions/current", { credentials: "same-origin" }).then(async (res) => {
      if (res.ok) { state.person = await res.json(); start(); }
    }).catch(() => {});
  }
})();
