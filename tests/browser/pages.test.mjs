// The respondent pages in Debian's headless Chromium against the real kepuasan binary.
// Run by `cargo test` (tests/integration/browser.rs), which passes KEPUASAN_BIN.
import { test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const BIN = process.env.KEPUASAN_BIN;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.KEPUASAN_SCREENSHOTS; // a directory: keep screenshots for docs/
// A page test that hangs fails after three minutes instead of holding the run.
const test = (name, fn) => nodeTest(name, { timeout: 180000 }, fn);
const BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const dir = mkdtempSync(path.join(os.tmpdir(), "kepuasan-browser-"));
const env = { ...process.env, DATABASE_URL: path.join(dir, "b.db"), RUST_LOG: "warn" };
let base, server, browser, admin, kiosk, kioskTap, counter, counterKecamatan;

const cli = (...args) => execFileSync(BIN, args, { env, encoding: "utf8" }).trim();
const lastLine = (s) => s.split("\n").pop();
const year = String(new Date().getUTCFullYear());

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

async function startServer() {
  server = spawn(BIN, ["serve"], { env, stdio: "ignore" });
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    try { if ((await fetch(base + "/healthz")).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}

async function stopServer() {
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGKILL");
  await exited;
}

async function report(unit) {
  const res = await fetch(`${base}/api/v1/reports/ikm?unit=${unit}&period=${year}`, { headers: { Authorization: "Bearer " + admin } });
  assert.equal(res.status, 200);
  return res.json();
}

// The report once `ready(report)` holds (sending is asynchronous), or the last one after 15 s.
async function reportWhen(unit, ready) {
  const deadline = Date.now() + 15000;
  let r = await report(unit);
  while (!ready(r) && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 100));
    r = await report(unit);
  }
  return r;
}

async function page(viewport = { width: 1280, height: 800 }, options = {}) {
  const context = await browser.newContext({ viewport, bypassCSP: true, locale: "id-ID", ...options });
  return context.newPage();
}

// Waits until question `n` (1-based) of 9 is the one on screen.
async function onQuestion(p, n) {
  await p.getByText(`Pertanyaan ${n} dari 9`).waitFor();
}

// Waits until the respondent screen shown takes taps (after a screen change its buttons
// ignore them for a moment: survey.js, settle). Playwright's clicks wait for this by
// themselves; taps at coordinates do not.
async function settled(p) {
  await p.locator("#app:not([data-settling])").waitFor({ state: "attached" });
}

// On the page's paused clock (`p.clock`): moves it on until the screen shown takes taps. Call it
// once the screen is there (a screen drawn after a fetch settles on the clock as it then stands).
async function settledOnClock(p) {
  for (let i = 0; i < 40 && await p.locator("#app[data-settling]").count(); i++) await p.clock.runFor(100);
  await settled(p);
}

// Two taps at the centre of `target`, `gap` milliseconds apart on the page's paused clock
// (`p.clock`), as a person's double tap or slow second tap. The first tap waits until the
// screen takes taps; when `between` is given, the second waits for it too (the next screen,
// drawn by then), however slow the machine.
async function twoTaps(p, target, gap, between) {
  await settledOnClock(p);
  const box = await target.boundingBox();
  const x = box.x + box.width / 2, y = box.y + box.height / 2;
  await p.touchscreen.tap(x, y);
  await p.clock.runFor(gap);
  if (between) await between();
  await p.touchscreen.tap(x, y);
  // Long past every pause of the page, so the second tap had every chance to act.
  await p.clock.runFor(1500);
}

async function shot(p, name) {
  if (SHOTS) { mkdirSync(SHOTS, { recursive: true }); await p.screenshot({ path: path.join(SHOTS, name + ".png") }); }
}

async function axe(p, where) {
  await p.addScriptTag({ path: AXE });
  const result = await p.evaluate(async () => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`), [], `axe on ${where}`);
}

async function noScroll(p, where) {
  const { sw, sh, w, h } = await p.evaluate(() => ({ sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight, w: innerWidth, h: innerHeight }));
  assert.ok(sw <= w && sh <= h, `${where}: page scrolls (${sw}x${sh} in ${w}x${h})`);
}

// At the viewport's width: the page no wider than the screen, and no button, field or link
// past the edge of the screen or of the box that scrolls it (cut off with nothing to show it).
async function fitsWidth(p, where) {
  const cut = await p.evaluate(() => {
    const wide = document.documentElement.scrollWidth > innerWidth ? [`page ${document.documentElement.scrollWidth} wide`] : [];
    return wide.concat([...document.querySelectorAll("button, input, select, a[href], textarea")].filter((e) => e.offsetParent !== null).map((e) => {
      const r = e.getBoundingClientRect();
      let box = e.parentElement;
      while (box && getComputedStyle(box).overflowX === "visible") box = box.parentElement;
      const edge = box ? Math.min(box.getBoundingClientRect().right, innerWidth) : innerWidth;
      return r.right > edge + 1 ? `${e.tagName} ${(e.textContent || e.id).trim().slice(0, 30)} ends at ${Math.round(r.right)} of ${Math.round(edge)}` : null;
    }).filter(Boolean));
  });
  assert.deepEqual(cut, [], `cut off at ${await p.evaluate(() => innerWidth)} px on ${where}`);
}

// Every button, link and field on screen is at least 44 by 44 CSS pixels (WCAG 2.5.5).
async function bigTargets(p, where) {
  const small = await p.evaluate(() => [...document.querySelectorAll("button, a[href], input, textarea, select")]
    .filter((e) => e.offsetParent !== null)
    .map((e) => ({ what: (e.textContent || e.id || e.tagName).trim().slice(0, 30), r: e.getBoundingClientRect() }))
    .filter(({ r }) => r.width < 44 || r.height < 44)
    .map(({ what, r }) => `${what} ${Math.round(r.width)}x${Math.round(r.height)}`));
  assert.deepEqual(small, [], `touch targets under 44 px on ${where}`);
}

// The six-digit code an authenticator app with this base32 secret shows `ahead` 30-second
// steps from now (RFC 6238, as the apps compute it).
function totpCode(secret, ahead = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...secret.replace(/[=\s]/g, "")].map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0")).join("");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + ahead));
  const h = createHmac("sha1", key).update(counter).digest();
  return String((h.readUInt32BE(h[19] & 15) & 0x7fffffff) % 1000000).padStart(6, "0");
}

// Signs in to the dashboard with an access key, the way a shared screen or a script's user does.
async function signInWithKey(p, key) {
  if ((await p.locator("#with-key").getAttribute("open")) === null) await p.locator("#with-key summary").click();
  await p.getByLabel("Kunci akses").fill(key);
  await p.getByRole("button", { name: "Masuk dengan kunci" }).click();
}

// Answers all nine questions with `value`, as a person does: each once it is on screen.
async function answerAll(p, value, after) {
  for (let i = 0; i < 9; i++) {
    await onQuestion(p, i + 1);
    if (after) await after(i);
    await p.click(`button[data-answer="${value}"]`);
  }
}

before(async () => {
  base = `http://127.0.0.1:${await freePort()}`;
  env.KEPUASAN_BIND = base.slice("http://".length);
  env.KEPUASAN_PUBLIC_URL = base;
  // The webhook receivers of these tests listen on loopback, which only the operator opens.
  env.KEPUASAN_WEBHOOK_ALLOW = "127.0.0.1";
  admin = lastLine(cli("keys", "create", "--role", "admin", "--name", "browser tests"));
  cli("units", "add", "mpp-test", "--name", "MPP Uji", "--timezone", "Asia/Makassar");
  cli("units", "add", "dukcapil", "--name", "Disdukcapil Kota Uji", "--timezone", "Asia/Makassar", "--parent", "mpp-test");
  cli("units", "add", "samsat", "--name", "Samsat Kota Uji", "--timezone", "Asia/Makassar", "--parent", "mpp-test");
  cli("units", "add", "imigrasi", "--name", "Kantor Imigrasi Uji", "--timezone", "Asia/Makassar", "--parent", "mpp-test");
  cli("units", "add", "pajak", "--name", "KPP Pratama Uji", "--timezone", "Asia/Makassar");
  cli("services", "add", "--unit", "pajak", "npwp", "--name", "Pendaftaran NPWP");
  cli("units", "add", "puskesmas", "--name", "Puskesmas Uji", "--timezone", "Asia/Makassar", "--open-link");
  cli("units", "add", "kecamatan", "--name", "Kecamatan Uji", "--timezone", "Asia/Makassar");
  cli("services", "add", "--unit", "kecamatan", "akta", "--name", "Akta Kelahiran");
  cli("services", "add", "--unit", "kecamatan", "pindah", "--name", "Surat Pindah");
  cli("units", "add", "kelurahan", "--name", "Kelurahan Uji", "--timezone", "Asia/Makassar", "--open-link");
  cli("units", "add", "desa-sinyal", "--name", "Desa Tanpa Sinyal", "--timezone", "Asia/Makassar", "--open-link");
  cli("services", "add", "--unit", "dukcapil", "ktp-el", "--name", "KTP-el");
  cli("services", "add", "--unit", "dukcapil", "kk", "--name", "Kartu Keluarga");
  // The double-tap tests: an MPP of two units with two services each, and a phone link.
  cli("units", "add", "mpp-tap", "--name", "MPP Ketuk", "--timezone", "Asia/Makassar");
  for (const [code, name] of [["tap-a", "Dinas Ketuk A"], ["tap-b", "Dinas Ketuk B"]]) {
    cli("units", "add", code, "--name", name, "--timezone", "Asia/Makassar", "--parent", "mpp-tap");
    cli("services", "add", "--unit", code, "satu", "--name", "Layanan Satu");
    cli("services", "add", "--unit", code, "dua", "--name", "Layanan Dua");
  }
  cli("units", "add", "tap-phone", "--name", "Kantor Ketuk", "--timezone", "Asia/Makassar", "--open-link");
  cli("services", "add", "--unit", "tap-phone", "satu", "--name", "Layanan Satu");
  cli("services", "add", "--unit", "tap-phone", "dua", "--name", "Layanan Dua");
  kioskTap = lastLine(cli("keys", "create", "--role", "kiosk", "--unit", "mpp-tap", "--name", "kiosk ketuk"));
  kiosk = lastLine(cli("keys", "create", "--role", "kiosk", "--unit", "mpp-test", "--name", "kiosk 1"));
  counter = lastLine(cli("keys", "create", "--role", "counter", "--unit", "dukcapil", "--name", "loket 1"));
  counterKecamatan = lastLine(cli("keys", "create", "--role", "counter", "--unit", "kecamatan", "--name", "loket kecamatan"));
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: BROWSER_ARGS,
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) server.kill("SIGKILL");
});

test("a complete kiosk survey appears in the report", async () => {
  const p = await page();
  await p.goto(`${base}/kiosk#key=${kiosk}`);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  await shot(p, "kiosk-1-units");
  await bigTargets(p, "kiosk unit screen");
  await axe(p, "kiosk unit screen");
  await p.getByRole("button", { name: "Disdukcapil Kota Uji" }).click();
  await p.getByRole("heading", { name: "Jenis layanan apa yang Anda terima?" }).waitFor();
  await shot(p, "kiosk-2-services");
  await bigTargets(p, "kiosk service screen");
  await p.getByRole("button", { name: "KTP-el" }).click();
  await answerAll(p, 4, async (i) => {
    if (i === 0) {
      await shot(p, "kiosk-3-question");
      await axe(p, "kiosk question screen");
      await bigTargets(p, "kiosk question screen");
      await noScroll(p, "kiosk question, landscape");
      await p.setViewportSize({ width: 800, height: 1280 });
      await noScroll(p, "kiosk question, portrait");
      await p.setViewportSize({ width: 1280, height: 800 });
    }
  });
  await p.getByRole("heading", { name: "Tentang Anda (boleh dilewati)" }).waitFor();
  await p.getByRole("button", { name: "Perempuan" }).click();
  await p.getByRole("button", { name: "SMA/SMK" }).click();
  await p.fill("#age", "41");
  await shot(p, "kiosk-4-profile");
  await bigTargets(p, "kiosk profile screen");
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.fill("#suggestion", "Petugas ramah, antrean cepat.");
  await shot(p, "kiosk-5-suggestion");
  await bigTargets(p, "kiosk suggestion screen");
  await p.getByRole("button", { name: "Kirim" }).click();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  await shot(p, "kiosk-6-thanks");
  await axe(p, "thank-you screen");
  await bigTargets(p, "thank-you screen");
  const r = await reportWhen("dukcapil", (x) => x.respondents >= 1);
  assert.equal(r.respondents, 1);
  assert.equal(r.ikm, 100);
  assert.equal(r.grade, "A");
  // English is one tap away.
  await p.getByRole("button", { name: "Isi survei baru" }).click();
  await p.getByRole("button", { name: "Switch to English" }).click();
  await p.getByRole("heading", { name: "Which office served you just now?" }).waitFor();
  assert.equal(await p.evaluate(() => document.documentElement.lang), "en");
  await p.context().close();
});

test("an unfinished kiosk survey is discarded after the idle timeout", async () => {
  const p = await page();
  await p.goto(`${base}/kiosk?idle=5#key=${kiosk}`);
  await p.getByRole("button", { name: "Samsat Kota Uji" }).click();
  await p.click('button[data-answer="2"]');
  await onQuestion(p, 2);
  await p.click('button[data-answer="2"]');
  await onQuestion(p, 3);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor({ timeout: 9000 });
  assert.equal((await report("samsat")).respondents, 0);
  await p.context().close();
});

test("two taps 120 ms apart answer one question, and going back shows the choice made", async () => {
  const p = await page({ width: 1024, height: 600 }, { hasTouch: true, isMobile: false });
  await p.goto(`${base}/kiosk#key=${kiosk}`);
  await p.getByRole("button", { name: "Samsat Kota Uji" }).tap();
  await onQuestion(p, 1);
  const box = await p.locator('button[data-answer="3"]').boundingBox();
  const x = box.x + box.width / 2, y = box.y + box.height / 2;
  await settled(p);
  await p.touchscreen.tap(x, y);
  await p.waitForTimeout(120);
  await p.touchscreen.tap(x, y);
  await onQuestion(p, 2);
  // The second tap answered nothing: question 2 waits, with no choice made.
  await p.waitForTimeout(800);
  await onQuestion(p, 2);
  assert.equal(await p.locator('.answers button[aria-checked="true"]').count(), 0, "question 2 was never shown a tap");
  // Back to question 1: its choice is there, and it looks chosen.
  await p.getByRole("button", { name: "Kembali" }).tap();
  await onQuestion(p, 1);
  const chosen = p.locator('.answers button[aria-checked="true"]');
  assert.equal(await chosen.count(), 1);
  assert.equal(await chosen.getAttribute("data-answer"), "3");
  const look = (sel) => p.locator(sel).evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.notEqual(await look('button[data-answer="3"]'), await look('button[data-answer="1"]'), "the chosen answer looks chosen");
  await shot(p, "kiosk-7-chosen-on-back");
  await axe(p, "a question with its earlier choice");
  await p.context().close();
});

// What each double-tap test answers: question by question, so that an answer given to the
// wrong question would show in the totals.
const TAPPED = [1, 2, 3, 4, 1, 2, 3, 4, 2];

// The screens a double-tap test walks, by what they show.
function surveyScreens(p) {
  return {
    units: p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }),
    services: p.getByRole("heading", { name: "Jenis layanan apa yang Anda terima?" }),
    profile: p.getByRole("heading", { name: "Tentang Anda (boleh dilewati)" }),
    suggestion: p.getByRole("heading", { name: "Saran atau masukan (boleh dikosongkan)" }),
    thanks: p.getByRole("status").filter({ hasText: "Terima kasih!" }),
  };
}

// From the service screen to the thank-you screen, every change tapped twice `gap` ms apart on
// the page's paused clock: the service "Layanan Dua", the answers of TAPPED, "Lanjut", "Kirim";
// after each, the next screen is shown and no second tap reached it.
async function tapServiceToThanks(p, gap) {
  const { profile, suggestion, thanks } = surveyScreens(p);
  const { slow, nothingPressed } = tapChecks(p, gap);
  // service -> question 1: the second tap answers nothing.
  await twoTaps(p, p.getByRole("button", { name: "Layanan Dua" }), gap, slow(p.getByText("Pertanyaan 1 dari 9")));
  await onQuestion(p, 1);
  await nothingPressed("question 1");
  // each answer -> the next question, the last -> the profile.
  for (let i = 0; i < 9; i++) {
    const next = i < 8 ? p.getByText(`Pertanyaan ${i + 2} dari 9`) : profile;
    await twoTaps(p, p.locator(`button[data-answer="${TAPPED[i]}"]`), gap, slow(next));
    await next.waitFor();
    await nothingPressed(i < 8 ? `question ${i + 2}` : "the profile");
  }
  // profile -> suggestion: the second tap does not send.
  await twoTaps(p, p.getByRole("button", { name: "Lanjut" }), gap, slow(suggestion));
  await suggestion.waitFor();
  assert.ok(!(await thanks.isVisible()), `${gap} ms: the second tap on Lanjut sent the survey`);
  // suggestion -> thanks.
  await twoTaps(p, p.getByRole("button", { name: "Kirim" }), gap, slow(thanks));
  await thanks.waitFor();
}

// For taps `gap` ms apart: what to wait for between them (the next screen, when the second
// tap comes after it is drawn), and the check that no tap reached the screen now shown.
function tapChecks(p, gap) {
  return {
    slow: gap > 350 ? (next) => () => next.waitFor() : () => undefined,
    nothingPressed: async (where) => assert.equal(await p.locator('main [aria-pressed="true"], main [aria-checked="true"]').count(), 0, `${gap} ms: a tap reached ${where}`),
  };
}

// The report's per-item totals, respondents and service counts of `unit`, once `n` responses arrived.
async function tappedReport(unit, n) {
  const r = await reportWhen(unit, (x) => x.respondents >= n);
  return { respondents: r.respondents, totals: r.items.map((i) => i.total), services: r.services.filter((x) => x.respondents).map((x) => [x.code, x.respondents]) };
}

test("a double or slow second tap across every kiosk screen change answers only the screen that was seen", async () => {
  for (const gap of [150, 500]) {
    const p = await page({ width: 1024, height: 600 }, { hasTouch: true });
    await p.clock.install();
    await p.goto(`${base}/kiosk#key=${kioskTap}`);
    const { units, services } = surveyScreens(p);
    await units.waitFor();
    await p.evaluate(() => window.kepuasanDirectoryLearnt());
    await p.clock.pauseAt(await p.evaluate(() => Date.now() + 50));
    const { slow, nothingPressed } = tapChecks(p, gap);
    // unit -> services: the second tap chooses no service.
    await twoTaps(p, p.getByRole("button", { name: "Dinas Ketuk A" }), gap, slow(services));
    await services.waitFor();
    await nothingPressed("the service screen");
    await tapServiceToThanks(p, gap);
    // thanks -> the next respondent: the second tap starts nothing.
    await twoTaps(p, p.getByRole("button", { name: "Isi survei baru" }), gap, slow(units));
    await units.waitFor();
    await nothingPressed("the unit screen");
    await p.clock.resume();
    await p.evaluate(() => window.kepuasanSync());
    await p.context().close();
  }
  // Two surveys, each exactly as tapped once: unit A, its second service, the nine answers.
  const r = await tappedReport("tap-a", 2);
  assert.deepEqual(r, { respondents: 2, totals: TAPPED.map((v) => 2 * v), services: [["dua", 2]] });
  assert.equal((await report("tap-b")).respondents, 0, "no survey went to the unit whose tile a second tap could reach");
});

test("a double or slow second tap across every phone screen change answers only the screen that was seen", async () => {
  for (const gap of [150, 500]) {
    const p = await page({ width: 390, height: 844 }, { hasTouch: true, isMobile: true });
    await p.clock.install();
    await p.goto(`${base}/u/tap-phone`);
    await surveyScreens(p).services.waitFor();
    await p.clock.pauseAt(await p.evaluate(() => Date.now() + 50));
    await tapServiceToThanks(p, gap);
    await p.context().close();
  }
  const r = await tappedReport("tap-phone", 2);
  assert.deepEqual(r, { respondents: 2, totals: TAPPED.map((v) => 2 * v), services: [["dua", 2]] });
});

test("a double-click on Kirim stores one response", async () => {
  const before = (await report("imigrasi")).respondents;
  const p = await page();
  await p.goto(`${base}/kiosk#key=${kiosk}`);
  await p.getByRole("button", { name: "Kantor Imigrasi Uji" }).click();
  await answerAll(p, 2);
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.getByRole("button", { name: "Kirim" }).dblclick();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  await p.evaluate(() => window.kepuasanSync());
  await reportWhen("imigrasi", (x) => x.respondents > before);
  // Long enough for a second submission to have arrived, had there been one.
  await new Promise((r) => setTimeout(r, 1500));
  await p.evaluate(() => window.kepuasanSync());
  assert.equal((await report("imigrasi")).respondents - before, 1);
  await p.context().close();
});

test("a quick second visitor keeps their thank-you screen for its full time, and its button stays put", async () => {
  const p = await page();
  // The page's clock is the test's: it stops while the second visitor answers, so their
  // survey takes no time at all on it, however slow this machine is.
  await p.clock.install();
  // A tablet whose screens take taps 100 ms after they change (`?settle=`), so the second
  // visitor fits their whole survey inside the first one's eight seconds.
  await p.goto(`${base}/kiosk?settle=100#key=${kiosk}`);
  const thanks = p.getByRole("status").filter({ hasText: "Terima kasih!" });
  await p.getByRole("button", { name: "Kantor Imigrasi Uji" }).click();
  await answerAll(p, 4);
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.getByRole("button", { name: "Kirim" }).click();
  await thanks.waitFor();
  await p.clock.pauseAt(await p.evaluate(() => Date.now() + 50));
  await settledOnClock(p);
  await p.getByRole("button", { name: "Isi survei baru" }).click();
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  await settledOnClock(p);
  await p.getByRole("button", { name: "Kantor Imigrasi Uji" }).click();
  await p.clock.runFor(400);
  for (let i = 0; i < 9; i++) {
    await onQuestion(p, i + 1);
    await settledOnClock(p);
    await p.click('button[data-answer="3"]');
    await p.clock.runFor(400);
  }
  await p.getByRole("heading", { name: "Tentang Anda (boleh dilewati)" }).waitFor();
  await settledOnClock(p);
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.getByRole("heading", { name: "Saran atau masukan (boleh dikosongkan)" }).waitFor();
  await settledOnClock(p);
  await p.getByRole("button", { name: "Kirim" }).click();
  await thanks.waitFor();
  const button = await p.getByRole("button", { name: "Isi survei baru" }).elementHandle();
  // Eight seconds after the first visitor's thanks, and under five after the second's: the
  // second still reads theirs, on the very button it was drawn with.
  await p.clock.runFor(4500);
  assert.ok(await thanks.isVisible(), "the second visitor's thank-you screen is still shown");
  assert.ok(await button.evaluate((b) => b.isConnected), "the button was not redrawn under the visitor's finger");
  // Its own eight seconds up, the kiosk is ready for the next visitor.
  await p.clock.runFor(4000);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  await p.context().close();
});

test("an enrolment link opened in the tab already on the kiosk enrols it and leaves the address bar", async () => {
  const p = await page();
  await p.goto(`${base}/kiosk`);
  await p.getByRole("heading", { name: "Daftarkan kiosk ini" }).waitFor();
  await p.goto(`${base}/kiosk#key=${kiosk}`);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  assert.equal(new URL(p.url()).hash, "", "the key left the address bar");
  assert.equal(await p.evaluate(() => localStorage.getItem("kepuasan.kiosk_key")), kiosk);
  await p.context().close();
});

test("a kiosk of one unit opens on it, and a unit with one service asks no service", async () => {
  const single = lastLine(cli("keys", "create", "--role", "kiosk", "--unit", "pajak", "--name", "kiosk pajak"));
  const p = await page();
  await p.goto(`${base}/kiosk#key=${single}`);
  await onQuestion(p, 1);
  assert.match(await p.locator("header h1").textContent(), /KPP Pratama Uji/);
  await answerAll(p, 4);
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.getByRole("button", { name: "Kirim" }).click();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  const r = await reportWhen("pajak", (x) => x.respondents >= 1);
  assert.deepEqual(r.services.map((s) => [s.code, s.respondents]), [["npwp", 1]], "the response carries its service");
  // The next respondent starts on the unit's first question again.
  await p.getByRole("button", { name: "Isi survei baru" }).click();
  await onQuestion(p, 1);
  await p.context().close();
});

test("before an unfinished survey starts over, the kiosk asks whether someone is still there", async () => {
  // The page's clock stands still unless the test moves it, so no check below races the
  // kiosk's six-second countdown, however loaded the machine.
  const p = await page();
  await p.clock.install();
  await p.goto(`${base}/kiosk?idle=6#key=${kiosk}`);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  await p.clock.pauseAt(await p.evaluate(() => Date.now() + 50));
  await settledOnClock(p);
  await p.getByRole("button", { name: "Samsat Kota Uji" }).click();
  await p.clock.runFor(400);
  await onQuestion(p, 1);
  await settledOnClock(p);
  // The last touch: the notice comes three seconds after it, the restart six.
  await p.click('button[data-answer="3"]');
  await p.clock.runFor(400);
  await onQuestion(p, 2);
  await settledOnClock(p);
  const dialog = p.getByRole("alertdialog", { name: "Masih di sana?" });
  assert.equal(await dialog.count(), 0, "no notice a second after a touch");
  await p.clock.runFor(2100);
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /dimulai ulang dalam \d detik/);
  await shot(p, "kiosk-8-still-there");
  // axe waits on timers of its own: the clock moves in small steps while it runs, never as far
  // as the restart (under three seconds).
  let checked = false;
  const checking = axe(p, "the still-there notice").finally(() => { checked = true; });
  for (let moved = 0; !checked && moved < 2500; moved += 20) await p.clock.runFor(20);
  await checking;
  await bigTargets(p, "the still-there notice");
  await dialog.getByRole("button", { name: "Lanjut" }).click();
  await dialog.waitFor({ state: "detached" });
  // Past the moment the survey would have started over: it is still on question 2.
  await p.clock.runFor(3500);
  await onQuestion(p, 2);
  assert.equal(await p.locator('button[data-answer]').count(), 4);
  await p.context().close();
});

test("a kiosk reloaded while the server answers 503 stays enrolled and recovers by itself; a revoked key is forgotten", async () => {
  const own = lastLine(cli("keys", "create", "--role", "kiosk", "--unit", "mpp-test", "--name", "kiosk outage"));
  // Without the service worker (a browser or an address that allows none), the page itself
  // rides out the outage; with it, the kept directory does (the next test).
  const p = await page(undefined, { serviceWorkers: "block" });
  await p.goto(`${base}/kiosk#key=${own}`);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  // A database or proxy outage: every API request answers 503 for a while.
  await p.evaluate(() => window.kepuasanDirectoryLearnt());
  await p.route("**/api/v1/**", (r) => r.fulfill({ status: 503, contentType: "application/json",
    body: JSON.stringify({ error: "db_unavailable", message: "the database is busy or unavailable; retry shortly" }) }));
  // With the directory it learnt, the kiosk takes surveys through the outage.
  await p.reload();
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  await p.getByRole("button", { name: "Disdukcapil Kota Uji" }).click();
  await p.getByRole("button", { name: "KTP-el" }).waitFor();
  // A tablet that never learnt one says it is reconnecting, and keeps its key.
  await p.evaluate(() => localStorage.removeItem("kepuasan.directory"));
  await p.reload();
  await p.getByRole("heading", { name: "Menghubungkan kembali ke server…" }).waitFor();
  assert.equal(await p.evaluate(() => localStorage.getItem("kepuasan.kiosk_key")), own, "the key stays");
  await shot(p, "kiosk-9-reconnecting");
  await bigTargets(p, "the reconnecting screen");
  await axe(p, "the reconnecting screen");
  await p.unroute("**/api/v1/**");
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor({ timeout: 15000 });
  // The server says the key was revoked: only then is it forgotten.
  const keys = JSON.parse(cli("keys", "list"));
  const mine = keys.find((k) => k.name === "kiosk outage");
  cli("keys", "revoke", mine.id);
  // A change from the command line reaches the server's key directory within two seconds.
  await new Promise((r) => setTimeout(r, 2500));
  await p.reload();
  await p.getByRole("heading", { name: "Daftarkan kiosk ini" }).waitFor({ timeout: 15000 });
  await bigTargets(p, "the enrolment screen");
  await axe(p, "the enrolment screen");
  await p.getByText("Server tidak lagi menerima kunci kiosk ini").waitFor();
  assert.equal(await p.evaluate(() => localStorage.getItem("kepuasan.kiosk_key")), null);
  await p.context().close();
});

test("three surveys completed offline are counted exactly once after the server returns", async () => {
  const p = await page();
  await p.goto(`${base}/kiosk#key=${kiosk}`);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  await p.evaluate(() => window.kepuasanDirectoryLearnt());
  const before = (await report("samsat")).respondents;
  await stopServer();
  try {
    for (let n = 0; n < 3; n++) {
      await p.getByRole("button", { name: "Samsat Kota Uji" }).click();
      await answerAll(p, 3);
      await p.getByRole("button", { name: "Lanjut" }).click();
      await p.getByRole("button", { name: "Kirim" }).click();
      await p.getByText("Tersimpan di perangkat, akan dikirim otomatis.").waitFor();
      await p.getByRole("button", { name: "Isi survei baru" }).click();
    }
    await p.getByText("Menunggu dikirim: 3").waitFor();
  } finally {
    // Whatever happened, the tests after this one find the server up.
    await startServer();
  }
  await p.evaluate(() => window.kepuasanSync());
  await p.getByText("Terkirim: 3").waitFor();
  await p.reload();
  await p.evaluate(() => window.kepuasanSync());
  const r = await reportWhen("samsat", (x) => x.respondents - before >= 3);
  assert.equal(r.respondents - before, 3);
  assert.equal(r.ikm, 75);
  await p.context().close();
});

test("a kiosk restarted with no network opens from its cache, and its queued surveys arrive once each with their service", async () => {
  const own = lastLine(cli("keys", "create", "--role", "kiosk", "--unit", "mpp-test", "--name", "kiosk offline start"));
  const profile = mkdtempSync(path.join(os.tmpdir(), "kepuasan-tablet-"));
  // A tablet: a browser profile that outlives the browser.
  const tablet = async () => {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: BROWSER_ARGS, viewport: { width: 1280, height: 800 }, locale: "id-ID", bypassCSP: true });
    return [context, context.pages()[0] || (await context.newPage())];
  };
  const count = (r, code) => (r.services.find((s) => s.code === code) || { respondents: 0 }).respondents;
  const before = await report("dukcapil");
  let [context, p] = await tablet();
  await p.goto(`${base}/kiosk#key=${own}`);
  await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  // The service worker takes over and keeps the page and every unit's services.
  await p.waitForFunction(async () => {
    if (!navigator.serviceWorker.controller) return false;
    const kept = (await (await caches.open("kepuasan-data")).keys()).map((r) => new URL(r.url).pathname);
    return ["/kiosk", "/api/v1/units", "/api/v1/units/dukcapil/services"].every((x) => kept.includes(x));
  }, null, { timeout: 20000, polling: 200 });
  const installable = await (await context.newCDPSession(p)).send("Page.getInstallabilityErrors");
  assert.deepEqual(installable.installabilityErrors, [], "the kiosk can be installed");
  // The tablet is switched off a while later, not in the middle of a write to its cache.
  await p.evaluate(() => window.kepuasanDirectoryLearnt());
  await p.waitForTimeout(1000);
  await context.close();

  // The network is gone and the tablet restarts. Whatever happens, the tablet's browser is
  // closed at the end: a profile left open would keep the test run from ever finishing.
  await stopServer();
  try {
    try {
      [context, p] = await tablet();
      await offlineStart(context, p);
    } finally {
      if (server.exitCode !== null || server.signalCode !== null) await startServer();
    }
    await p.evaluate(() => window.kepuasanSync());
    await p.getByText("Terkirim: 2").waitFor({ timeout: 15000 });
    await p.evaluate(() => window.kepuasanSync());
    const after = await reportWhen("dukcapil", (x) => x.respondents - before.respondents >= 2);
    await new Promise((r) => setTimeout(r, 1000));
    const settled = await report("dukcapil");
    assert.equal(settled.respondents - before.respondents, 2, "each queued survey once");
    assert.equal(count(after, "ktp-el") - count(before, "ktp-el"), 1, "one with KTP-el");
    assert.equal(count(after, "kk") - count(before, "kk"), 1, "one with Kartu Keluarga");
  } finally {
    await context.close();
  }
});

// The tablet, started with no network: two surveys queued with their services, and a unit
// whose services it never learnt asked again.
async function offlineStart(context, p) {
  await context.setOffline(true);
  await p.goto(`${base}/kiosk`);
  try {
    await p.getByRole("heading", { name: "Layanan instansi mana yang baru Anda terima?" }).waitFor();
  } catch (e) {
    console.log("the kiosk started offline shows:", await p.evaluate(() => document.body.innerText));
    throw e;
  }
  for (const service of ["KTP-el", "Kartu Keluarga"]) {
    await p.getByRole("button", { name: "Disdukcapil Kota Uji" }).click();
    await p.getByRole("button", { name: service }).click();
    await answerAll(p, 4);
    await p.getByRole("button", { name: "Lanjut" }).click();
    await p.getByRole("button", { name: "Kirim" }).click();
    await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
    await p.getByText("Tersimpan di perangkat, akan dikirim otomatis.").waitFor();
    await p.getByRole("button", { name: "Isi survei baru" }).click();
  }
  await p.getByText("Menunggu dikirim: 2").waitFor();
  await shot(p, "kiosk-10-offline-start");
  await axe(p, "the kiosk started offline");
  // A unit whose services the tablet never learnt is asked again, not answered without one.
  await p.evaluate(async () => {
    await (await caches.open("kepuasan-data")).delete("/api/v1/units/samsat/services");
    const kept = JSON.parse(localStorage.getItem("kepuasan.directory"));
    delete kept.services.samsat;
    localStorage.setItem("kepuasan.directory", JSON.stringify(kept));
  });
  await p.reload();
  await p.getByRole("button", { name: "Samsat Kota Uji" }).click();
  await p.getByRole("heading", { name: "Daftar layanan belum dapat dimuat" }).waitFor();
  await shot(p, "kiosk-11-services-unknown");
  await axe(p, "the services-unknown screen");
  await bigTargets(p, "the services-unknown screen");
  await p.getByRole("button", { name: "Kembali" }).click();
  await context.setOffline(false);
}

test("a receipt survey on a 360-pixel phone is accepted once and refused the second time", async () => {
  const before = (await report("dukcapil")).respondents;
  const res = await fetch(`${base}/api/v1/units/dukcapil/receipt-tokens`, {
    method: "POST", headers: { Authorization: "Bearer " + counter, "Content-Type": "application/json" },
    body: JSON.stringify({ service: "kk", transaction: "T-1" }),
  });
  assert.equal(res.status, 201);
  const { url } = await res.json();
  const p = await page({ width: 360, height: 740 });
  await p.goto(url);
  await p.locator("main h2").waitFor();
  await shot(p, "phone-1-question");
  await axe(p, "phone survey");
  await noScroll(p, "phone question at 360 px");
  await answerAll(p, 3);
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.getByRole("button", { name: "Kirim" }).click();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  await shot(p, "phone-2-thanks");
  await p.goto(url);
  await p.getByRole("heading", { name: "Struk ini sudah dipakai" }).waitFor();
  await shot(p, "phone-3-receipt-used");
  await bigTargets(p, "a used receipt");
  await axe(p, "a used receipt");
  await reportWhen("dukcapil", (x) => x.respondents > before);
  await new Promise((res) => setTimeout(res, 500));
  assert.equal((await report("dukcapil")).respondents - before, 1, "one receipt, one response");
  await p.context().close();
});

test("on the phone, Back and Forward move between questions and keep every answer until it is sent", async () => {
  const res = await fetch(`${base}/api/v1/units/kecamatan/receipt-tokens`, {
    method: "POST", headers: { Authorization: "Bearer " + counterKecamatan, "Content-Type": "application/json" },
    body: JSON.stringify({ service: "akta" }),
  });
  assert.equal(res.status, 201);
  const { url } = await res.json();
  const p = await page({ width: 360, height: 740 }, { hasTouch: true, isMobile: true });
  await p.goto(url);
  // The opening line says who asks, how long it takes, and that it is anonymous.
  const intro = p.locator("p.intro");
  await intro.waitFor();
  assert.match(await intro.textContent(), /Kecamatan Uji.*9 pertanyaan, sekitar 1 menit, tanpa nama/);
  await noScroll(p, "phone question 1 with its opening line");
  assert.equal(await p.getByRole("button", { name: "Kembali" }).count(), 0, "nothing comes before question 1");
  await bigTargets(p, "phone question 1");
  await shot(p, "phone-5-opening-line");
  await axe(p, "phone question 1 with its opening line");
  const chosen = () => p.locator('.answers button[aria-checked="true"]').getAttribute("data-answer");
  for (const [i, v] of [1, 2, 3, 4].entries()) {
    await onQuestion(p, i + 1);
    await p.tap(`button[data-answer="${v}"]`);
  }
  await onQuestion(p, 5);
  await p.goBack();
  await onQuestion(p, 4);
  assert.equal(await chosen(), "4");
  await p.goBack();
  await onQuestion(p, 3);
  assert.equal(await chosen(), "3");
  await p.goForward();
  await onQuestion(p, 4);
  assert.equal(await chosen(), "4");
  // The in-page "Kembali" walks the same path as the phone's Back.
  await p.getByRole("button", { name: "Kembali" }).tap();
  await onQuestion(p, 3);
  await p.goForward();
  await onQuestion(p, 4);
  // Back past the first question leaves the page; Forward comes back to the answers given.
  await p.goBack(); await p.goBack(); await p.goBack();
  await onQuestion(p, 1);
  await p.goBack();
  await p.waitForURL("about:blank");
  await p.goForward();
  await onQuestion(p, 1);
  assert.equal(await chosen(), "1", "the answer to question 1 survived leaving the page");
  await p.goForward(); await p.goForward(); await p.goForward();
  await onQuestion(p, 4);
  assert.equal(await chosen(), "4");
  // A reload keeps the step and the answers too.
  await p.reload();
  await onQuestion(p, 4);
  assert.equal(await chosen(), "4");
  await p.tap('button[data-answer="4"]');
  for (let i = 5; i <= 9; i++) {
    await onQuestion(p, i);
    await p.tap('button[data-answer="2"]');
  }
  await p.getByRole("button", { name: "Lanjut" }).tap();
  await p.fill("#suggestion", "Loket dibuka lebih pagi.");
  await p.goBack();
  await p.getByRole("heading", { name: "Tentang Anda (boleh dilewati)" }).waitFor();
  await p.goForward();
  assert.equal(await p.inputValue("#suggestion"), "Loket dibuka lebih pagi.");
  await p.getByRole("button", { name: "Kirim" }).tap();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  // Sent: Back does not bring the form back.
  await p.goBack();
  await p.waitForTimeout(300);
  assert.equal(await p.getByRole("status").filter({ hasText: "Terima kasih!" }).count(), 1);
  const r = await reportWhen("kecamatan", (x) => x.respondents >= 1);
  assert.equal(r.respondents, 1);
  assert.deepEqual(r.items.map((i) => i.total), [1, 2, 3, 4, 2, 2, 2, 2, 2], "each answer as given, once");
  assert.deepEqual(r.services.map((s) => [s.code, s.respondents]), [["akta", 1]]);
  await p.context().close();
});

test("an open-link unit takes a phone survey without a key", async () => {
  const p = await page({ width: 360, height: 740 });
  await p.goto(`${base}/u/puskesmas`);
  await answerAll(p, 2);
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.getByRole("button", { name: "Kirim" }).click();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  await p.locator("#queue").waitFor({ state: "hidden" });
  assert.equal((await reportWhen("puskesmas", (x) => x.respondents >= 1)).respondents, 1);
  // A form whose ticket the server no longer accepts (here: forged on its way to the phone)
  // takes a fresh one from the page and is stored, once, with the answers given.
  await p.route(`${base}/u/puskesmas`, async (route) => {
    const res = await route.fetch();
    const html = (await res.text()).replace(/"ticket":"t1\.([^"]*)"/, '"ticket":"t1.AAAA$1"');
    await route.fulfill({ response: res, body: html });
  }, { times: 1 });
  await p.goto(`${base}/u/puskesmas`);
  await answerAll(p, 3);
  await p.getByRole("button", { name: "Lanjut" }).click();
  await p.getByRole("button", { name: "Kirim" }).click();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  await p.locator("#queue").waitFor({ state: "hidden" });
  assert.equal((await reportWhen("puskesmas", (x) => x.respondents >= 2)).respondents, 2);
  // A unit without an open link says where its survey is; an address of no unit says so.
  await p.goto(`${base}/u/samsat`);
  await p.getByRole("heading", { name: "Survei unit ini tidak dibuka lewat tautan" }).waitFor();
  assert.match(await p.textContent("main"), /Samsat Kota Uji menerima survei di kiosk/);
  await p.goto(`${base}/u/tidak-ada`);
  await p.getByRole("heading", { name: "Tautan survei tidak dikenal" }).waitFor();
  await p.context().close();
});

test("a phone survey kept offline is sent with the page closed, or at the next visit to a survey page", async () => {
  // Chromium has Background Sync: the page says the survey will go by itself, and it does,
  // with the page closed, from the service worker.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "id-ID", bypassCSP: true });
  let p = await context.newPage();
  await p.goto(`${base}/u/desa-sinyal`);
  await p.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000, polling: 200 });
  const before = (await report("desa-sinyal")).respondents;
  await stopServer();
  try {
    await answerAll(p, 4);
    await p.getByRole("button", { name: "Lanjut" }).click();
    await p.getByRole("button", { name: "Kirim" }).click();
    await p.getByText("akan dikirim otomatis begitu ada sinyal, walaupun halaman ini ditutup").waitFor();
    await shot(p, "phone-6-offline-background");
    await axe(p, "the phone's thanks, kept offline");
    const tags = await p.evaluate(async () => (await navigator.serviceWorker.getRegistration()).sync.getTags());
    assert.ok(tags.includes("kepuasan-outbox"), `sync registered: ${tags}`);
  } finally {
    await startServer();
  }
  await p.close();
  // The network is back. The browser fires the sync on its own schedule (its first retry is
  // minutes away); the test fires it as the browser does, through DevTools, with no survey
  // page open.
  const blank = await context.newPage();
  const cdp = await context.newCDPSession(blank);
  const registered = new Promise((resolve) => cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
    const ours = registrations.find((r) => r.scopeURL.startsWith(base) && !r.isDeleted);
    if (ours) resolve(ours.registrationId);
  }));
  await cdp.send("ServiceWorker.enable");
  const registrationId = await registered;
  await cdp.send("ServiceWorker.dispatchSyncEvent", { origin: base, registrationId, tag: "kepuasan-outbox", lastChance: false });
  const r = await reportWhen("desa-sinyal", (x) => x.respondents > before);
  assert.equal(r.respondents - before, 1, "sent once, with no survey page open");
  await context.close();

  // A browser without Background Sync says the survey goes at the next visit, and it does:
  // at a visit to another survey page of the site.
  const plain = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "id-ID", bypassCSP: true });
  await plain.addInitScript(() => { delete window.SyncManager; });
  p = await plain.newPage();
  await p.goto(`${base}/u/desa-sinyal`);
  await onQuestion(p, 1);
  await stopServer();
  try {
    await answerAll(p, 3);
    await p.getByRole("button", { name: "Lanjut" }).click();
    await p.getByRole("button", { name: "Kirim" }).click();
    await p.getByText("akan dikirim saat halaman survei situs ini dibuka lagi dengan sinyal").waitFor();
  } finally {
    await startServer();
  }
  await p.goto(`${base}/u/puskesmas`);
  await onQuestion(p, 1);
  const again = await reportWhen("desa-sinyal", (x) => x.respondents > before + 1);
  assert.equal(again.respondents - before, 2);
  await plain.close();
});

test("a respondent who never complained skips U9, and the report counts it as skipped", async () => {
  const p = await page({ width: 360, height: 740 }, { hasTouch: true, isMobile: true });
  await p.goto(`${base}/u/kelurahan`);
  for (let i = 0; i < 8; i++) {
    await onQuestion(p, i + 1);
    if (i === 0) await bigTargets(p, "phone question");
    await p.tap('button[data-answer="4"]');
  }
  await onQuestion(p, 9);
  const skip = p.getByRole("radio", { name: "Belum pernah menyampaikan pengaduan" });
  await skip.waitFor();
  await bigTargets(p, "phone question 9 with its skip choice");
  await noScroll(p, "phone question 9 at 360 px");
  await shot(p, "phone-4-skip-u9");
  await axe(p, "question 9 with its skip choice");
  await skip.tap();
  await p.getByRole("heading", { name: "Tentang Anda (boleh dilewati)" }).waitFor();
  await bigTargets(p, "phone profile");
  // The profile is longer than the phone: the page scrolls (no box scrolling inside it with
  // nothing to say so), and "Lanjut" is on screen all along.
  const profile = await p.evaluate(() => {
    const box = document.querySelector(".profile");
    const next = [...document.querySelectorAll("button")].find((b) => b.textContent === "Lanjut").getBoundingClientRect();
    return { inner: box.scrollHeight - box.clientHeight, page: document.documentElement.scrollHeight - innerHeight, next: next.bottom <= innerHeight && next.top >= 0 };
  });
  assert.ok(profile.inner <= 1 && profile.page > 0 && profile.next, JSON.stringify(profile));
  await shot(p, "phone-7-profile-360");
  // Back shows the skip as the choice made.
  await p.getByRole("button", { name: "Kembali" }).tap();
  await onQuestion(p, 9);
  assert.equal(await skip.getAttribute("aria-checked"), "true");
  await skip.tap();
  await p.getByRole("button", { name: "Lanjut" }).tap();
  await p.getByRole("button", { name: "Kirim" }).tap();
  await p.getByRole("status").filter({ hasText: "Terima kasih!" }).waitFor();
  const r = await reportWhen("kelurahan", (x) => x.respondents >= 1);
  assert.equal(r.respondents, 1);
  assert.deepEqual([r.items[8].code, r.items[8].answered, r.items[8].skipped], ["U9", 0, 1]);
  assert.deepEqual([r.items[0].answered, r.items[0].skipped], [1, 0]);
  await p.context().close();
});

test("the dashboard shows a kiosk tablet going late and back online; retired, the tablet keeps its survey for its next key", async () => {
  // A server of its own on the file clock (debug builds): Tuesday 2026-12-01, 09:00 WIB.
  const own = { ...env, DATABASE_URL: path.join(dir, "fleet.db"), KEPUASAN_TEST_CLOCK_FILE: path.join(dir, "fleet-clock") };
  const clock = (utc) => writeFileSync(own.KEPUASAN_TEST_CLOCK_FILE, utc);
  clock("2026-12-01 02:00:00");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  Object.assign(own, { KEPUASAN_BIND: `127.0.0.1:${port}`, KEPUASAN_PUBLIC_URL: url });
  const run = (...args) => execFileSync(BIN, args, { env: own, encoding: "utf8" }).trim();
  run("units", "add", "mpp-armada", "--name", "MPP Armada", "--timezone", "Asia/Jakarta");
  run("units", "add", "kantor-armada", "--name", "Kantor Armada", "--timezone", "Asia/Jakarta", "--parent", "mpp-armada");
  const boss = lastLine(run("keys", "create", "--role", "admin", "--name", "kepala MPP"));
  const tabletKey = lastLine(run("keys", "create", "--role", "kiosk", "--unit", "mpp-armada", "--name", "tablet pintu keluar"));
  const own_server = spawn(BIN, ["serve"], { env: own, stdio: "ignore" });
  const tablets = async () => (await (await fetch(`${url}/api/v1/kiosks?unit=mpp-armada`, { headers: { Authorization: "Bearer " + boss } })).json());
  const until = async (ready) => {
    const deadline = Date.now() + 15000;
    for (;;) {
      try { const x = await tablets(); if (ready(x)) return x; } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error("the tablets did not reach the state expected");
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    const tablet = await page({ width: 1024, height: 600 }, { serviceWorkers: "block" });
    await until(() => true);
    await tablet.goto(`${url}/kiosk#key=${tabletKey}`);
    await onQuestion(tablet, 1);
    await until((x) => x.length === 1 && x[0].state === "online");
    const p = await page();
    await p.goto(`${url}/dashboard`);
    await signInWithKey(p, boss);
    const state = p.locator("#kiosks tbody tr td:nth-child(3)");
    await p.getByRole("heading", { name: "Tablet kiosk" }).waitFor();
    assert.equal(await state.textContent(), "Aktif");
    // Six minutes without a heartbeat, in service hours.
    clock("2026-12-01 02:06:00");
    await p.getByRole("button", { name: "Perbarui" }).click();
    await p.locator("#kiosks .kiosk-late").filter({ hasText: "Terlambat" }).waitFor();
    await p.locator("#kiosks").scrollIntoViewIfNeeded();
    await shot(p, "dashboard-kiosk-late");
    await axe(p, "the dashboard's kiosk tablets");
    // The tablet comes back: its heartbeat makes it online again.
    await tablet.reload();
    await until((x) => x[0].state === "online");
    await p.getByRole("button", { name: "Perbarui" }).click();
    await p.locator("#kiosks .kiosk-online").filter({ hasText: "Aktif" }).waitFor();
    // Retired: its key revoked, after the administrator confirms.
    p.once("dialog", (d) => d.accept());
    await p.getByRole("button", { name: /^Pensiunkan/ }).click();
    await p.locator("#kiosks .kiosk-retired").filter({ hasText: "Dipensiunkan" }).waitFor();
    assert.equal((await tablets())[0].state, "retired");
    // The open tablet learns it was retired when it next sends: the survey it just took waits
    // on it for a new enrolment, and arrives once with the new key.
    await answerAll(tablet, 3);
    await tablet.getByRole("button", { name: "Lanjut" }).click();
    await tablet.getByRole("button", { name: "Kirim" }).click();
    await tablet.getByRole("heading", { name: "Daftarkan kiosk ini" }).waitFor();
    await tablet.getByText("Server tidak lagi menerima kunci kiosk ini").waitFor();
    await tablet.getByText("Menunggu dikirim: 1").waitFor();
    const fresh = lastLine(run("keys", "create", "--role", "kiosk", "--unit", "mpp-armada", "--name", "tablet baru"));
    await new Promise((r) => setTimeout(r, 2500)); // the server's key directory, refreshed every 2 s
    await tablet.goto(`${url}/kiosk#key=${fresh}`);
    await onQuestion(tablet, 1);
    const armada = async () => (await (await fetch(`${url}/api/v1/reports/ikm?unit=mpp-armada&period=2026-Q4`, { headers: { Authorization: "Bearer " + boss } })).json()).respondents;
    const deadline = Date.now() + 15000;
    while ((await armada()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await tablet.evaluate(() => window.kepuasanSync());
    assert.equal(await armada(), 1, "the retired tablet's survey, once, under its new key");
    await p.context().close();
    await tablet.context().close();
  } finally {
    own_server.kill("SIGKILL");
  }
});

test("the lobby TV of an MPP of 32 units shows every unit, a screenful at a time, at 1366x768 and 1920x1080", async () => {
  // 32 units that publish, each with paper questionnaires in the last complete quarter.
  const now = new Date();
  const quarter = Math.floor(now.getUTCMonth() / 3);
  const [y, m] = quarter === 0 ? [now.getUTCFullYear() - 1, 11] : [now.getUTCFullYear(), quarter * 3 - 1];
  const day = `${y}-${String(m).padStart(2, "0")}-15`;
  cli("units", "add", "mpp-tv", "--name", "MPP Layar", "--timezone", "Asia/Makassar", "--public-results");
  const names = [];
  let rows = "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9\n";
  for (let i = 1; i <= 32; i++) {
    const code = `tv-${i}`, name = `Dinas Layar ${String(i).padStart(2, "0")}`;
    names.push(name);
    cli("units", "add", code, "--name", name, "--timezone", "Asia/Makassar", "--parent", "mpp-tv", "--public-results");
    const v = 1 + (i % 4);
    rows += `${code},${day},${Array(9).fill(v).join(",")}\n`;
  }
  const file = path.join(dir, "tv.csv");
  writeFileSync(file, rows);
  cli("import", file);
  for (const [width, height] of [[1366, 768], [1920, 1080]]) {
    const p = await page({ width, height });
    await p.clock.install();
    await p.goto(`${base}/p/mpp-tv/tv`);
    const indicator = p.locator("#tv-page");
    await indicator.waitFor();
    const pages = Number(await p.evaluate(() => document.body.dataset.pages));
    assert.ok(pages >= 2, `${width}x${height}: ${pages} screens`);
    const seen = new Set();
    for (let screen = 1; screen <= pages; screen++) {
      await p.getByText(`Layar ${screen} dari ${pages}`).waitFor();
      // Everything shown is on the screen: the units, the footer and the screen number.
      const { shown, lowest, rightmost, scroll, scrollWide } = await p.evaluate(() => {
        const boxes = [...document.querySelectorAll("main li:not([hidden]), main footer")].map((e) => e.getBoundingClientRect());
        return {
          shown: [...document.querySelectorAll("main li:not([hidden]) .name")].map((n) => n.firstChild.textContent.trim()),
          lowest: Math.max(...boxes.map((b) => b.bottom)),
          rightmost: Math.max(...boxes.map((b) => b.right)),
          scroll: document.documentElement.scrollHeight,
          scrollWide: document.documentElement.scrollWidth,
        };
      });
      assert.ok(lowest <= height && scroll <= height, `${width}x${height} screen ${screen}: ${lowest} / ${scroll}`);
      assert.ok(rightmost <= width && scrollWide <= width, `${width}x${height} screen ${screen}: ${rightmost} / ${scrollWide} wide`);
      shown.forEach((n) => seen.add(n));
      if (width === 1366 && screen === 1) await shot(p, "lobby-tv-1366");
      if (screen === 1) await axe(p, `the lobby TV at ${width}x${height}`);
      // Twelve seconds a screen: time enough to find one's unit.
      await p.clock.runFor(12000);
    }
    assert.deepEqual([...seen].sort(), names, `${width}x${height}: every unit shown once a round`);
    // After the last screen, the first again.
    await p.getByText(`Layar 1 dari ${pages}`).waitFor();
    await p.context().close();
  }
});

test("the dashboard shows the report's numbers, its charts and working downloads", async () => {
  const viewer = lastLine(cli("keys", "create", "--role", "viewer", "--unit", "mpp-test", "--name", "kepala MPP"));
  const r = await report("dukcapil");
  assert.ok(r.respondents >= 1, "earlier tests left responses at dukcapil");
  const p = await page();
  // The report the dashboard opens with (this quarter) answers late, after the user has asked
  // for another unit and period: it must never replace the report asked for last.
  const late = 1500;
  await p.route(/\/api\/v1\/reports\/ikm(\/chart\/\w+)?\?/, async (route) => {
    if (new URL(route.request().url()).searchParams.get("period") !== year) await new Promise((r) => setTimeout(r, late));
    await route.continue();
  });
  await p.goto(`${base}/dashboard`);
  await signInWithKey(p, "kp_not-a-key");
  await p.getByRole("alert").filter({ hasText: "Kunci tidak dikenal" }).waitFor();
  await signInWithKey(p, viewer);
  // It opens on the last complete quarter (the running one is a choice away, marked provisional).
  const now = new Date();
  const lastIndex = now.getFullYear() * 4 + Math.floor(now.getMonth() / 3) - 1;
  const lastQuarter = `${Math.floor(lastIndex / 4)}-Q${(lastIndex % 4) + 1}`;
  await p.locator("#period").waitFor();
  assert.equal(await p.inputValue("#period"), lastQuarter);
  assert.equal(await p.inputValue("#period-pick"), lastQuarter);
  await p.getByLabel("Unit", { exact: true }).selectOption("dukcapil");
  await p.getByLabel("Pilih periode").selectOption(`${year}-Q1`);
  assert.equal(await p.inputValue("#period"), `${year}-Q1`, "a choice fills the period");
  await p.getByLabel("Periode", { exact: true }).fill(year);
  await p.getByRole("button", { name: "Tampilkan" }).click();
  await p.locator("#chart-items svg").waitFor();
  await p.waitForTimeout(late + 500);
  assert.equal(await p.locator("#result-title").textContent(), `Disdukcapil Kota Uji · ${r.period}`, "the report asked for last stays");
  assert.equal(await p.getByLabel("Periode", { exact: true }).inputValue(), year);
  // Dates as the PDF and Indonesian documents write them.
  assert.match(await p.locator("#result-title + p.hint").textContent(), new RegExp(`^01-01-${year} – 31-12-${year} · WITA`));
  const id = (v, d = 2) => v.toFixed(d).replace(".", ",");
  assert.equal(await p.locator("#ikm-value").textContent(), id(r.ikm));
  assert.match(await p.locator("#grade-value").textContent(), new RegExp(`Mutu ${r.grade} · ${r.performance}`));
  for (const item of r.items) {
    const row = p.locator("tbody tr", { has: p.locator("td", { hasText: new RegExp(`^${item.code}$`) }) });
    // Code, item, answered, skipped, NRR, IKM, grade.
    assert.equal(await row.locator("td").nth(3).textContent(), String(item.skipped), `${item.code} skipped`);
    assert.equal(await row.locator("td").nth(5).textContent(), id(item.ikm), `${item.code} IKM`);
  }
  // The unit head plans a follow-up (its item the weakest by default) and later marks it done.
  const action = "Menambah satu loket pada jam sibuk";
  await p.getByLabel("Tindakan").fill(action);
  await p.getByLabel("Penanggung jawab").fill("Kepala seksi pelayanan");
  await p.getByLabel("Tenggat").fill(`${year}-12-31`);
  await p.getByRole("button", { name: "Tambah rencana" }).click();
  const plan = p.locator("tbody tr", { hasText: action });
  await plan.waitFor();
  assert.ok((await plan.locator("td").first().textContent()).startsWith(`${r.priorities[0]} `), "the weakest item by default");
  assert.equal(await plan.locator("td").nth(3).textContent(), `31-12-${year}`);
  await plan.locator("select").selectOption("done");
  const stored = async () => {
    const res = await fetch(`${base}/api/v1/units/dukcapil/follow-ups`, { headers: { Authorization: "Bearer " + viewer } });
    return (await res.json()).find((a) => a.action === action);
  };
  for (let i = 0; i < 100 && (await stored()).status !== "done"; i++) await p.waitForTimeout(100);
  assert.deepEqual(
    (({ item, owner, due, status, period }) => ({ item, owner, due, status, period }))(await stored()),
    { item: r.priorities[0], owner: "Kepala seksi pelayanan", due: `${year}-12-31`, status: "done", period: year },
  );
  await p.locator("tbody tr", { hasText: action }).locator("select option[value=done][selected]").waitFor({ state: "attached" });
  // Only an administrator is offered the population; with it the report says whether the
  // sample is large enough (Krejcie & Morgan: 278 for 1,000 people).
  assert.equal(await p.locator("#population").count(), 0, "a viewer sets no population");
  const a = await page();
  await a.goto(`${base}/dashboard`);
  await signInWithKey(a, admin);
  // The report the dashboard opens with first, so nothing re-renders under the next steps.
  await a.locator("#result-title").waitFor();
  await a.getByLabel("Unit", { exact: true }).selectOption("dukcapil");
  await a.locator("#service option[value=ktp-el]").waitFor({ state: "attached" });
  await a.getByLabel("Periode", { exact: true }).fill(year);
  await a.getByRole("button", { name: "Tampilkan" }).click();
  await a.locator("#result-title", { hasText: `Disdukcapil Kota Uji · ${year}` }).waitFor();
  await a.getByLabel("Populasi periode ini").fill("1000");
  await a.getByRole("button", { name: "Simpan populasi" }).click();
  await a.locator("#sample").waitFor();
  assert.equal(await a.locator("#sample").textContent(),
    `Populasi 1.000: sampel minimum 278 (Krejcie & Morgan); terkumpul ${r.respondents}, belum cukup.`);
  await a.context().close();
  await p.locator("#chart-trend svg").waitFor();
  await shot(p, "dashboard");
  await axe(p, "dashboard");
  // On a 360-pixel phone the dashboard is no wider than the screen.
  await p.setViewportSize({ width: 360, height: 740 });
  await fitsWidth(p, "the dashboard");
  await p.setViewportSize({ width: 1280, height: 800 });
  for (const [name, ext, magic] of [["XLSX", "xlsx", "PK"], ["PDF", "pdf", "%PDF"], ["Word (dapat disunting)", "docx", "PK"], ["CSV", "csv", "\ufeff"]]) {
    const [dl] = await Promise.all([p.waitForEvent("download"), p.getByRole("button", { name, exact: true }).click()]);
    assert.equal(dl.suggestedFilename(), `ikm-dukcapil-${year}.${ext}`);
    const file = await dl.path();
    const head = (await import("node:fs")).readFileSync(file).subarray(0, 8).toString("utf8");
    assert.ok(head.startsWith(magic), `${name} starts with ${magic}: ${JSON.stringify(head)}`);
  }
  // The unit's staff rewrite a chapter of the report's narrative; a double tap on Save stores
  // it once, and the documents then print it.
  await p.getByText("Narasi laporan").click();
  const analysis = p.getByLabel("BAB IV ANALISIS");
  await analysis.waitFor();
  assert.match(await analysis.inputValue(), /^Unsur yang paling perlu diperbaiki/, "the template's text, from the numbers");
  const own = "Antrean pagi masih panjang pada hari Senin; kami menambah satu loket.";
  await analysis.fill(own);
  await p.getByRole("button", { name: "Simpan narasi" }).dblclick();
  await p.getByRole("status").filter({ hasText: "Narasi tersimpan" }).waitFor();
  await p.getByText(/^Disunting /).waitFor();
  await shot(p, "dashboard-narrative");
  await axe(p, "dashboard narrative");
  const narrative = await (await fetch(`${base}/api/v1/units/dukcapil/report-narrative/${year}`, { headers: { Authorization: "Bearer " + viewer } })).json();
  const chapter = narrative.chapters.find((c) => c.chapter === "analysis");
  assert.equal(chapter.text, own);
  assert.equal(chapter.edited, true);
  const saves = await (await fetch(`${base}/api/v1/audit?action=narrative.save&unit=dukcapil`, { headers: { Authorization: "Bearer " + admin } })).json();
  assert.equal(saves.length, 1, "one save for a double tap");
  // Back to the template, one tap.
  await p.getByRole("button", { name: "Kembalikan ke teks otomatis" }).click();
  await p.getByRole("button", { name: "Kembalikan ke teks otomatis" }).waitFor({ state: "detached" });
  assert.match(await p.getByLabel("BAB IV ANALISIS").inputValue(), /^Unsur yang paling perlu diperbaiki/);
  await p.getByText("Narasi laporan").click();
  // The downloads come before the numbers; the period, not yet ended, is marked provisional.
  assert.ok(await p.evaluate(() => Boolean(document.querySelector(".downloads").compareDocumentPosition(document.querySelector(".score")) & Node.DOCUMENT_POSITION_FOLLOWING)));
  await p.locator("#provisional").getByText("SEMENTARA").waitFor();
  // Flagged responses are counted, and one switch leaves them out: the numbers shown are then
  // the API's with exclude_flagged=true. A survey answered in 2 seconds is flagged too_fast.
  const now2 = new Date();
  const fast = await fetch(`${base}/api/v1/responses`, {
    method: "POST", headers: { Authorization: "Bearer " + kiosk, "Content-Type": "application/json" },
    body: JSON.stringify({ submission_id: crypto.randomUUID(), unit: "dukcapil", instrument: "skm-2017", channel: "kiosk",
      answers: { U1: 1, U2: 1, U3: 1, U4: 1, U5: 1, U6: 1, U7: 1, U8: 1, U9: 1 },
      started_at: new Date(now2.getTime() - 2000).toISOString(), client_time: now2.toISOString() }),
  });
  assert.equal(fast.status, 201);
  const all = await report("dukcapil");
  const kept = await (await fetch(`${base}/api/v1/reports/ikm?unit=dukcapil&period=${year}&exclude_flagged=true`, { headers: { Authorization: "Bearer " + admin } })).json();
  assert.ok(all.quality.flagged >= 1, "the quick survey is flagged");
  await p.getByRole("button", { name: "Tampilkan" }).click();
  await p.locator("#flagged-count", { hasText: `${all.quality.flagged} dari ${all.respondents} respons ditandai (terlalu cepat, terlalu sering, atau berulang).` }).waitFor();
  await p.check("#exclude-flagged");
  await p.locator("#flagged-count", { hasText: `${all.quality.flagged} respons yang ditandai tidak dihitung.` }).waitFor();
  assert.equal(await p.locator("#ikm-value").textContent(), kept.ikm === null ? "-" : id(kept.ikm), "the IKM without the flagged responses, as the API computes it");
  assert.match(await p.locator(".score").textContent(), new RegExp(`${kept.respondents} responden`));
  await p.uncheck("#exclude-flagged");
  await p.locator("#flagged-count", { hasText: "dari" }).waitFor();
  assert.equal(await p.locator("#ikm-value").textContent(), id(all.ikm));
  // English is one tap away.
  await p.getByRole("button", { name: "English" }).click();
  await p.getByRole("heading", { name: "Scores by item" }).waitFor();
  assert.equal(await p.locator("#ikm-value").textContent(), all.ikm.toFixed(2));
  // A unit with more suggestions than the dashboard lists says how many it shows.
  for (let k = 0; k < 21; k++) {
    const res = await fetch(`${base}/api/v1/responses`, {
      method: "POST",
      headers: { Authorization: "Bearer " + kiosk, "Content-Type": "application/json" },
      body: JSON.stringify({ submission_id: crypto.randomUUID(), unit: "samsat", instrument: "skm-2017", channel: "kiosk",
        answers: { U1: 3, U2: 3, U3: 3, U4: 3, U5: 3, U6: 3, U7: 3, U8: 3, U9: 3 }, suggestion: `Saran nomor ${k}` }),
    });
    assert.equal(res.status, 201);
  }
  await p.getByLabel("Unit", { exact: true }).selectOption("samsat");
  await p.getByRole("button", { name: "Show" }).click();
  await p.locator("#suggestions-note").waitFor();
  assert.equal(await p.locator("ul.suggestions li").count(), 20);
  assert.equal(await p.locator("#suggestions-note").textContent(), "Suggestions 1–20 of 21, newest first.");
  // Paged and searchable.
  await p.click("#suggestions-next");
  assert.equal(await p.locator("ul.suggestions li").count(), 1);
  assert.equal(await p.locator("#suggestions-note").textContent(), "Suggestions 21–21 of 21, newest first.");
  await p.fill("#suggestion-search", "nomor 7");
  assert.equal(await p.locator("ul.suggestions li").count(), 1);
  assert.match(await p.locator("ul.suggestions li").textContent(), /Samsat Kota Uji · Survey kiosk[\s\S]*Saran nomor 7/);
  await p.fill("#suggestion-search", "");
  // For the MPP, every unit below comes first, sortable.
  await p.getByLabel("Unit", { exact: true }).selectOption("mpp-test");
  await p.getByLabel("Period", { exact: true }).fill(year);
  await p.getByRole("button", { name: "Show" }).click();
  await p.locator("#units-below").waitFor();
  assert.ok(await p.evaluate(() => Boolean(document.querySelector("#units-below").compareDocumentPosition(document.querySelector("#chart-items")) & Node.DOCUMENT_POSITION_FOLLOWING)),
    "the units come before the items");
  await p.click('[data-sort="name"]');
  const names = await p.locator("table.units tbody tr td:first-child").allTextContents();
  assert.deepEqual(names, [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  assert.ok(names.includes("Disdukcapil Kota Uji"), names.join());
  await p.getByLabel("Unit", { exact: true }).selectOption("samsat");
  // A period that does not exist is refused in the page's language, naming the field.
  await p.getByLabel("Period", { exact: true }).fill(`${year}-Q5`);
  await p.getByRole("button", { name: "Show" }).click();
  const refused = await p.getByRole("alert").textContent();
  assert.ok(refused.startsWith("Could not load: Invalid input: Period. ("), refused);
  // A viewer of the MPP cannot read a unit outside it.
  const outside = await fetch(`${base}/api/v1/reports/ikm?unit=puskesmas&period=${year}`, { headers: { Authorization: "Bearer " + viewer } });
  assert.equal(outside.status, 403);
  await p.context().close();
});

test("a suggestion marked as acted on in the dashboard shows on the public page beside its plan and status", async () => {
  // A server of its own on the file clock: the suggestions come in the third quarter of 2026,
  // the unit head files them on 6 October, when the quarter is complete and published.
  const own = { ...env, DATABASE_URL: path.join(dir, "published.db"), KEPUASAN_TEST_CLOCK_FILE: path.join(dir, "published-clock") };
  const clock = (utc) => writeFileSync(own.KEPUASAN_TEST_CLOCK_FILE, utc);
  clock("2026-08-12 03:00:00");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  Object.assign(own, { KEPUASAN_BIND: `127.0.0.1:${port}`, KEPUASAN_PUBLIC_URL: url });
  const run = (...args) => execFileSync(BIN, args, { env: own, encoding: "utf8" }).trim();
  run("units", "add", "pelayanan", "--name", "Kantor Pelayanan Uji", "--timezone", "Asia/Jakarta");
  const boss = lastLine(run("keys", "create", "--role", "admin", "--name", "kepala kantor"));
  const own_server = spawn(BIN, ["serve"], { env: own, stdio: "ignore" });
  const call = (method, pathname, body) => fetch(url + pathname, {
    method, headers: { Authorization: "Bearer " + boss, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
  try {
    for (let tries = 0; ; tries++) {
      try { if ((await fetch(url + "/healthz")).ok) break; } catch { /* not up yet */ }
      if (tries > 200) throw new Error("server did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
    const said = "Antrean terlalu lama, mohon tambah loket.";
    for (const [answer, suggestion] of [[2, said], [3, null], [4, "Petugas ramah."]]) {
      const res = await call("POST", "/api/v1/responses", { submission_id: crypto.randomUUID(), unit: "pelayanan", instrument: "skm-2017", channel: "paper",
        answers: Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [`U${n}`, answer])), ...(suggestion ? { suggestion } : {}) });
      assert.equal(res.status, 201);
    }
    clock("2026-10-06 02:00:00");
    const action = "Menambah satu loket pada jam sibuk";
    assert.equal((await call("POST", "/api/v1/units/pelayanan/follow-ups", { period: "2026-Q3", item: "U3", action, owner: "Kepala seksi pelayanan", due: "2026-11-30" })).status, 201);
    assert.equal((await call("PATCH", "/api/v1/units/pelayanan", { public_results: true })).status, 200);
    const p = await page({ width: 1024, height: 600 });
    await p.goto(`${url}/dashboard`);
    await signInWithKey(p, boss);
    await p.locator("#result-title").waitFor();
    await p.getByLabel("Periode", { exact: true }).fill("2026-Q3");
    await p.getByRole("button", { name: "Tampilkan" }).click();
    await p.locator("#result-title", { hasText: "Kantor Pelayanan Uji · 2026-Q3" }).waitFor();
    const item = p.locator("ul.suggestions li", { hasText: said });
    await item.getByLabel(/^Kategori saran/).selectOption("U3");
    await item.getByLabel(/^Rencana tindak lanjut untuk saran/).selectOption({ label: `Ditindaklanjuti: ${action}` });
    await p.locator("ul.suggestions li .handled", { hasText: `✓ Ditindaklanjuti: ${action}` }).waitFor();
    // Filed under U3: the category filter finds it, and only it.
    await p.getByLabel("Kategori", { exact: true }).selectOption("U3");
    assert.equal(await p.locator("ul.suggestions li").count(), 1);
    await p.locator("ul.suggestions").scrollIntoViewIfNeeded();
    await shot(p, "dashboard-suggestion-handled");
    await axe(p, "the dashboard's suggestions");
    // Work on the plan starts.
    await p.locator("tbody tr", { hasText: action }).locator("select").selectOption("in_progress");
    for (let i = 0; i < 100; i++) {
      const plans = await (await call("GET", "/api/v1/units/pelayanan/follow-ups")).json();
      if (plans[0].status === "in_progress") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await (await call("GET", "/api/v1/reports/ikm?unit=pelayanan&period=2026-Q3")).json();
    const noted = r.suggestions.find((x) => x.text === said);
    assert.equal(noted.category, "U3");
    assert.equal(noted.follow_up.action, action);
    // Citizens read what they said beside what the unit does about it, and how far it is.
    for (const [size, name] of [[{ width: 1024, height: 600 }, "public-handled"], [{ width: 360, height: 740 }, "public-handled-phone"]]) {
      const citizen = await page(size);
      await citizen.goto(`${url}/p/pelayanan`);
      const row = citizen.locator("#plans + p + .scroll tbody tr", { hasText: action });
      await row.waitFor();
      assert.match(await row.textContent(), new RegExp(`Anda menyampaikan:.*“${said}”.*Kami: ${action}.*Berjalan`));
      assert.equal(await citizen.getByText("Petugas ramah.").count(), 0, "only the suggestions the unit linked are published");
      await row.scrollIntoViewIfNeeded();
      await shot(citizen, name);
      await axe(citizen, `the public page (${size.width} px)`);
      await citizen.context().close();
    }
    await p.context().close();
  } finally {
    own_server.kill("SIGKILL");
  }
});

test("a new administrator sets up an MPP in /admin, and a unit's manager runs only their unit", async () => {
  const password = "sandi-admin-baru-2026";
  execFileSync(BIN, ["users", "add", "pengelola", "--role", "admin"], { env, input: password + "\n" });
  const p = await page();
  const signIn = async (name, pass) => {
    await p.goto(base + "/admin");
    await p.fill("#username", name);
    await p.fill("#password", pass);
    await p.click("#sign-in button[type=submit]");
  };
  // A wrong password is refused in words, and the name typed stays.
  await signIn("pengelola", "bukan-sandinya");
  await p.locator(".error").getByText("Nama pengguna atau kata sandi salah.").waitFor();
  assert.equal(await p.inputValue("#username"), "pengelola");
  await axe(p, "the sign-in page");
  await shot(p, "admin-sign-in");
  await p.fill("#password", password);
  await p.click("#sign-in button[type=submit]");
  await p.locator("#unit-tree").waitFor();

  // Units: an MPP and two units under it, each with a service.
  const newUnit = async (code, name, parent) => {
    await p.fill("#unit-code", code);
    await p.fill("#unit-name", name);
    await p.selectOption("#unit-tz", "Asia/Makassar");
    if (parent) await p.selectOption("#unit-parent", parent);
    await p.click("#new-unit button[type=submit]");
    await p.locator("#unit-tree li", { hasText: name }).waitFor();
  };
  // Choosing a unit redraws the section with that unit's data; wait until it has.
  const pickUnit = async (code) => {
    const before = Number(await p.getAttribute("#app", "data-renders"));
    await p.selectOption("#unit-pick", code);
    await p.waitForFunction(([n, c]) => Number(document.getElementById("app").dataset.renders) > n && document.getElementById("app").dataset.unit === c, [before, code]);
  };
  await newUnit("mpp-walk", "MPP Kota Contoh");
  await newUnit("walk-x", "Disdukcapil Contoh", "mpp-walk");
  await newUnit("walk-y", "Samsat Contoh", "mpp-walk");
  for (const [code, service, name, unitName] of [["walk-x", "ktp", "KTP-el", "Disdukcapil Contoh"], ["walk-y", "stnk", "Perpanjangan STNK", "Samsat Contoh"]]) {
    await p.click(`[data-services="${code}"]`);
    // The section is drawn again with that unit's services before anything is typed.
    await p.locator("#services-title", { hasText: unitName }).waitFor();
    await p.fill("#service-code", service);
    await p.fill("#service-name", name);
    await p.click("#new-service button[type=submit]");
    await p.locator("#services td", { hasText: name }).waitFor();
  }
  // A service renamed in place.
  await p.click('[data-rename-service="stnk"]');
  await p.fill("#rename-name", "Perpanjangan STNK Tahunan");
  await p.click("#rename-service button[type=submit]");
  await p.locator("#services td", { hasText: "Perpanjangan STNK Tahunan" }).waitFor();
  const tree = await p.textContent("#unit-tree");
  assert.ok(tree.includes("MPP Kota Contoh") && tree.includes("walk-x · WITA"), tree);
  // On a 360-pixel phone every service's buttons are on screen: the rows become cards.
  await p.setViewportSize({ width: 360, height: 740 });
  await fitsWidth(p, "units and services");
  await p.setViewportSize({ width: 1280, height: 800 });
  await axe(p, "units and services");
  await shot(p, "admin-units");

  // A kiosk enrolment code for the MPP, shown as a QR code with the unit's name.
  await p.goto(base + "/admin#kiosks");
  await pickUnit("mpp-walk");
  await p.fill("#kiosk-name", "Tablet pintu keluar");
  await p.click("#enrol button[type=submit]");
  await p.locator("#enrolment .qr svg").waitFor();
  assert.match(await p.textContent("#enrolment"), /MPP Kota Contoh[\s\S]*\/kiosk#key=kp_/);
  await axe(p, "the kiosk enrolment code");
  await shot(p, "admin-kiosk-code");

  // A receipt sheet of 12 slips for one service opens, ready to print.
  await p.goto(base + "/admin#sheets");
  await pickUnit("walk-x");
  await p.selectOption("#sheet-service", "ktp");
  await p.fill("#sheet-count", "12");
  const [sheet] = await Promise.all([p.context().waitForEvent("page"), p.click("#sheet button[type=submit]")]);
  await sheet.waitForLoadState();
  assert.equal(await sheet.locator(".slip").count(), 12);
  assert.match(await sheet.textContent(".slip"), /Disdukcapil Contoh[\s\S]*KTP-el/);
  await sheet.close();
  await axe(p, "receipt sheets");

  // Populations for this year's third quarter, typed into the table.
  await p.goto(base + "/admin#populations");
  const cell = p.locator(`[data-cell="walk-x/${year}-Q3"]`);
  await cell.fill("4200");
  await cell.press("Tab");
  await p.locator(".cell-ok").first().waitFor();
  const pops = await (await fetch(`${base}/api/v1/units/walk-x/populations`, { headers: { Authorization: "Bearer " + admin } })).json();
  assert.deepEqual(pops.map((r) => [r.period, r.population]), [[`${year}-Q3`, 4200]]);
  await axe(p, "populations");

  // A paper file with one bad row: the dry run names it by line; fixed, it imports; again, nothing changes.
  await p.goto(base + "/admin#imports");
  // The first row's occupation is a spelling no form uses: it is left out, said as a warning,
  // and the row imports all the same; "D3" is read as Diploma.
  const file = (u3) => ({ name: "kuesioner.csv", mimeType: "text/csv", buffer: Buffer.from(
    `unit,service,date,U1,U2,U3,U4,U5,U6,U7,U8,U9,pendidikan,pekerjaan\nwalk-x,ktp,${year}-08-01,4,4,3,4,3,4,4,3,4,D3,Dokter hewan\nwalk-x,ktp,${year}-08-02,3,4,${u3},4,3,4,4,3,4,SMA,Wiraswasta\n`) });
  await p.setInputFiles("#import-file", file(7));
  await p.click("#import button[type=submit]");
  await p.locator("#dry-run").waitFor();
  assert.match(await p.textContent("#dry-run"), /2 baris, 1 siap diimpor, 0 sudah pernah diimpor, 1 bermasalah/);
  assert.match(await p.textContent("#dry-run table"), /3\s*U3: harus bilangan bulat dari 1 sampai 4/);
  assert.match(await p.textContent("#dry-run"), /isian profil yang tidak dikenali dikosongkan/);
  assert.match(await p.locator("#dry-run table").nth(1).textContent(), /2\s*Pekerjaan: `Dokter hewan` tidak dikenali/);
  await axe(p, "an import's dry run");
  await shot(p, "admin-import-dry-run");
  await p.setInputFiles("#import-file", file(2));
  await p.click("#import button[type=submit]");
  await p.locator("#dry-run", { hasText: "2 siap diimpor" }).waitFor();
  await p.click("#confirm-import");
  await p.locator("#import-done").getByText("2 baris diimpor").waitFor();
  await p.setInputFiles("#import-file", file(2));
  await p.click("#import button[type=submit]");
  await p.locator("#dry-run", { hasText: "2 sudah pernah diimpor" }).waitFor();
  assert.equal(await p.locator("#confirm-import").count(), 0, "nothing left to import");
  const walk = await (await fetch(`${base}/api/v1/reports/ikm?unit=walk-x&period=${year}`, { headers: { Authorization: "Bearer " + admin } })).json();
  assert.equal(walk.respondents, 2);

  // The unit's report settings and logo; its results are not published, so no snippet yet.
  await p.goto(base + "/admin#settings");
  await pickUnit("walk-x");
  await p.fill("#set-address", "Jl. Jenderal Sudirman No. 7");
  await p.fill("#set-city", "Makassar");
  await p.fill("#set-head", "Andi Rahmat, S.H.");
  await p.fill("#set-nip", "19750203 200003 1 004");
  await p.click("#settings button[type=submit]");
  await p.locator(".note").getByText("Tersimpan.").waitFor();
  await p.setInputFiles("#logo-file", { name: "logo.svg", mimeType: "image/svg+xml",
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="18" fill="#1a5fb4"/></svg>') });
  await p.click("#logo button[type=submit]");
  await p.locator("#logo-preview").waitFor();
  assert.match(await p.textContent("main"), /belum dipublikasikan/);
  const unitX = (await (await fetch(`${base}/api/v1/units`, { headers: { Authorization: "Bearer " + admin } })).json()).find((u) => u.code === "walk-x");
  assert.deepEqual([unitX.address, unitX.city, unitX.head_name, unitX.head_id], ["Jl. Jenderal Sudirman No. 7", "Makassar", "Andi Rahmat, S.H.", "197502032000031004"]);
  await axe(p, "report settings");
  await shot(p, "admin-settings");

  // A manager for one unit.
  await p.goto(base + "/admin#people");
  await p.fill("#person-name", "kepala-x");
  await p.fill("#person-pass", "sandi-kepala-x-2026");
  await p.selectOption("#person-new-role", "manager");
  await p.check("#new-walk-x");
  await p.click("#new-person button[type=submit]");
  await p.locator("table td", { hasText: "kepala-x" }).waitFor();
  await axe(p, "people");
  await p.click("#sign-out");
  await p.locator("#sign-in").waitFor();

  // The manager sees and runs their unit only; the other unit answers 403.
  await signIn("kepala-x", "sandi-kepala-x-2026");
  await p.locator("#unit-tree").waitFor();
  assert.deepEqual(await p.locator("#unit-tree li strong").allTextContents(), ["Disdukcapil Contoh"]);
  await p.fill("#service-code", "kia");
  await p.fill("#service-name", "Kartu Identitas Anak");
  await p.click("#new-service button[type=submit]");
  await p.locator("#services td", { hasText: "Kartu Identitas Anak" }).waitFor();
  assert.equal(await p.locator("#new-unit").count(), 0, "a manager creates no units");
  const statuses = await p.evaluate(async () => {
    const me = await (await fetch("/api/v1/sessions/current")).json();
    const change = (unit) => fetch(`/api/v1/units/${unit}/services`, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
      body: JSON.stringify({ code: "coba", name: "Coba" }) }).then((r) => r.status);
    return [await change("walk-y"), await change("walk-x")];
  });
  assert.deepEqual(statuses, [403, 201]);
  await axe(p, "the manager's units");
  await shot(p, "admin-manager");
  // The manager adds a report reader for their unit; only "viewer" is offered them.
  await p.goto(base + "/admin#people");
  await p.locator("#new-person").waitFor();
  assert.deepEqual(await p.locator("#person-new-role option").allTextContents(), ["pembaca laporan"]);
  await p.fill("#person-name", "staf-x");
  await p.fill("#person-pass", "sandi-staf-x-2026");
  await p.check("#new-walk-x");
  await p.click("#new-person button[type=submit]");
  await p.locator("table td", { hasText: "staf-x" }).waitFor();

  // The dashboard knows the session; signed out, it signs in with the name and password again.
  await p.goto(base + "/dashboard");
  await p.locator("#result-title", { hasText: "Disdukcapil Contoh" }).waitFor();
  await p.click("#sign-out");
  await p.fill("#username", "kepala-x");
  await p.fill("#password", "salah-salah-salah");
  await p.click("#sign-in button[type=submit]");
  await p.getByRole("alert").filter({ hasText: "Nama pengguna atau kata sandi salah." }).waitFor();
  await axe(p, "the dashboard's sign-in");
  await shot(p, "dashboard-sign-in");
  await p.fill("#password", "sandi-kepala-x-2026");
  await p.click("#sign-in button[type=submit]");
  await p.locator("#result-title", { hasText: "Disdukcapil Contoh" }).waitFor();

  // A report reader at /admin is pointed to the dashboard.
  await p.click("#sign-out");
  await signIn("staf-x", "sandi-staf-x-2026");
  await p.locator("#reader-only").waitFor();
  await p.click("#sign-out");

  // Every change made through the pages is in the audit log, by the person who made it.
  const log = await (await fetch(`${base}/api/v1/audit?limit=500`, { headers: { Authorization: "Bearer " + admin } })).json();
  const by = (actor) => log.filter((e) => e.actor === actor).map((e) => e.action);
  for (const action of ["unit.create", "service.create", "key.create", "population.set", "import.paper", "user.add"]) {
    assert.ok(by("user:pengelola").includes(action), `${action} by pengelola in ${JSON.stringify(by("user:pengelola"))}`);
  }
  assert.ok(by("user:kepala-x").includes("service.create"));
  assert.ok(!JSON.stringify(log).includes("sandi-"), "no password in the audit log");

  // The administrator turns on two-step sign-in; from then on the page asks for the code.
  await signIn("pengelola", password);
  await p.locator("#unit-tree").waitFor();
  await p.goto(base + "/admin#account");
  await p.click("#totp-begin");
  await p.locator("#totp-setup .qr svg").waitFor();
  await axe(p, "two-step sign-in setup");
  await shot(p, "admin-two-step");
  const secret = (await p.textContent("#totp-secret")).replace(/\s/g, "");
  await p.fill("#totp-code", totpCode(secret));
  await p.click("#totp-confirm button[type=submit]");
  await p.locator("#totp-state").getByText("Verifikasi dua langkah aktif").waitFor();
  await p.click("#sign-out");
  await signIn("pengelola", password);
  await p.locator("#totp").waitFor();
  assert.match(await p.textContent(".error"), /masukkan kode dari aplikasi autentikator/);
  await p.fill("#password", password);
  await p.fill("#totp", totpCode(secret, 1));
  await p.click("#sign-in button[type=submit]");
  await p.locator("#unit-tree").waitFor();
  await p.context().close();
});

test("an administrator sets up a webhook and records the Ombudsman's assessment in /admin, without a terminal", async () => {
  // A receiver of the test's own, on loopback: it records each signed POST it gets.
  const received = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => { received.push({ signature: req.headers["x-kepuasan-signature"], body }); res.writeHead(204).end(); });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/kepuasan`;
  const password = "sandi-pemberitahuan-2026";
  execFileSync(BIN, ["users", "add", "penghubung", "--role", "admin"], { env, input: password + "\n" });
  const p = await page({ width: 1024, height: 768 });
  // The page draws itself again when what it loaded arrives; a draw after typing would start
  // the form afresh. Wait until it has drawn nothing for half a second.
  const settled = async () => {
    let last = -1;
    for (let i = 0; i < 100; i++) {
      const now = Number(await p.getAttribute("#app", "data-renders"));
      if (now === last) return;
      last = now;
      await p.waitForTimeout(500);
    }
    throw new Error("the page keeps drawing itself");
  };
  // Whether an element is wholly on screen: a refusal or a secret drawn above a long form must
  // be brought to whoever pressed the form's button at its foot.
  const onScreen = (sel) => p.locator(sel).evaluate((e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; });
  // A civil servant's old laptop: the CPU four times slower.
  const cdp = await p.context().newCDPSession(p);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  try {
    await p.goto(base + "/admin");
    await p.fill("#username", "penghubung");
    await p.fill("#password", password);
    await p.click("#sign-in button[type=submit]");
    await p.locator("#unit-tree").waitFor();

    // Notifications: no mail server is set, so e-mail is offered but cannot be chosen.
    await p.goto(base + "/admin#signals");
    await p.locator("#new-hook").waitFor();
    await settled();
    assert.ok(await p.isDisabled("#hook-mail"));
    assert.match(await p.textContent("#mail-off"), /KEPUASAN_SMTP_URL/);
    await p.selectOption("#hook-unit", "kecamatan");
    // The events offered in words; a webhook without an event is refused, naming the field.
    for (const e of ["response-low", "suggestion-new", "kiosk-offline", "unit-drop"]) await p.uncheck(`#ev-${e}`);
    await p.fill("#hook-url", hookUrl);
    await p.click("#new-hook button[type=submit]");
    await p.locator(".error").waitFor();
    assert.match(await p.textContent(".error"), /Peristiwa/);
    assert.ok(await onScreen(".error"), "the refusal is brought into view");
    assert.equal(await p.inputValue("#hook-url"), hookUrl, "what was typed stays after a refusal");
    await p.check("#ev-response-low");
    await p.fill("#hook-threshold", "60");
    const secret = await p.inputValue("#hook-secret");
    assert.match(secret, /^[0-9a-f]{32}$/, "a random secret is offered");
    await p.click("#new-hook button[type=submit]");
    await p.locator("table.hooks td", { hasText: hookUrl }).waitFor();
    assert.equal(await p.textContent("#secret code"), secret, "the secret is shown once, to copy");
    assert.ok(await onScreen("#secret"), "the secret is brought into view");
    assert.match(await p.textContent("table.hooks"), /Jawaban dengan IKM di bawah ambang/);
    await axe(p, "notifications");
    await shot(p, "admin-notifications");

    // A low response to the watched unit reaches the receiver, signed with that secret.
    const low = await fetch(`${base}/api/v1/responses`, { method: "POST", headers: { Authorization: "Bearer " + admin, "Content-Type": "application/json" },
      body: JSON.stringify({ submission_id: crypto.randomUUID(), unit: "kecamatan", service: "akta", instrument: "skm-2017", channel: "web",
        answers: { U1: 1, U2: 2, U3: 1, U4: 2, U5: 1, U6: 2, U7: 1, U8: 2, U9: 1 } }) });
    assert.equal(low.status, 201);
    const deadline = Date.now() + 15000;
    while (!received.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 1, "one delivery");
    assert.equal(received[0].signature, "sha256=" + createHmac("sha256", secret).update(received[0].body).digest("hex"));
    assert.equal(JSON.parse(received[0].body).event, "response.low");
    // Its delivery, as the page shows it.
    await p.click("[data-deliveries]");
    await p.locator("#deliveries td", { hasText: "Terkirim" }).waitFor();
    assert.match(await p.textContent("#deliveries"), /Jawaban dengan IKM di bawah ambang/);
    await axe(p, "deliveries");
    await shot(p, "admin-notification-deliveries");
    // Removed after a confirmation: listed as removed, no button left to remove it again.
    p.once("dialog", (d) => d.accept());
    await p.click("[data-remove-hook]");
    await p.locator("table.hooks td", { hasText: "Dihapus" }).waitFor();
    assert.equal(await p.locator("[data-remove-hook]").count(), 0);

    // The Ombudsman's assessment, typed with a decimal comma as it is published.
    await p.goto(base + "/admin#ombudsman");
    await p.locator("#assessment").waitFor();
    await settled();
    await p.selectOption("#unit-pick", "kecamatan");
    await p.waitForFunction(() => document.getElementById("app").dataset.unit === "kecamatan");
    await settled();
    await p.fill("#om-year", "2025");
    await p.fill("#om-score", "101");
    await p.fill("#om-source", "Laporan Penilaian Kepatuhan Ombudsman RI 2025");
    await p.click("#assessment button[type=submit]");
    await p.locator(".error").waitFor();
    assert.match(await p.textContent(".error"), /Nilai/);
    assert.ok(await onScreen(".error"), "the refusal of the score is brought into view");
    await p.fill("#om-score", "85,98");
    await p.selectOption("#om-zone", "green");
    await p.fill("#om-category", "Kualitas Tertinggi");
    await p.click("#assessment button[type=submit]");
    await p.locator("table.assessments td", { hasText: "85,98" }).waitFor();
    assert.match(await p.textContent("table.assessments"), /Hijau.*Kualitas Tertinggi/s);
    const recorded = await (await fetch(`${base}/api/v1/units/kecamatan/ombudsman`, { headers: { Authorization: "Bearer " + admin } })).json();
    assert.deepEqual(recorded.map((a) => [a.year, a.score, a.zone, a.category, a.recorded_by]), [[2025, 85.98, "green", "Kualitas Tertinggi", "user:penghubung"]]);
    // Corrected in place: the form opens on the recorded year.
    await p.click('[data-assess="2025"]');
    assert.equal(await p.inputValue("#om-score"), "85,98");
    await p.fill("#om-score", "86,01");
    await p.click("#assessment button[type=submit]");
    await p.locator("table.assessments td", { hasText: "86,01" }).waitFor();
    await axe(p, "the Ombudsman's assessment");
    await shot(p, "admin-ombudsman");
    // In English, by the switch.
    await p.click("#lang");
    await p.locator("table.assessments td", { hasText: "Green" }).waitFor();
    await p.click("#lang");
    // On a 360-pixel phone both sections fit the width: tables scroll inside themselves.
    await p.setViewportSize({ width: 360, height: 740 });
    for (const [hash, ready, name] of [["signals", "#new-hook", "admin-notifications-phone"], ["ombudsman", "table.assessments", "admin-ombudsman-phone"]]) {
      await p.goto(`${base}/admin#${hash}`);
      await p.locator(ready).waitFor();
      // What overflows, should anything: the elements whose content is wider than they are.
      const { sw, w, wide } = await p.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: innerWidth,
        wide: [...document.querySelectorAll("main *")].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible").map((e) => e.id || e.tagName) }));
      assert.ok(sw <= w, `${hash} at 360 px: ${sw} wide (${wide.join(", ")})`);
      await axe(p, `${hash} at 360 px`);
      if (SHOTS) await p.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });
    }
  } finally {
    await p.context().close();
    receiver.close();
  }
});
