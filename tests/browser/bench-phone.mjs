// The phone survey on a slow link: Chromium over CDP with a slow-3G profile (400 kbit/s each
// way, 400 ms round trip) and the CPU slowed four times, as a cheap Android phone on a weak
// signal. Reports, for a first visit (nothing cached) and a second one (the browser's HTTP
// cache warm), the bytes transferred and the time from the start of navigation until the
// first answer can be tapped.
//
//   node tests/browser/bench-phone.mjs [--runs 5] [--bin target/release/kepuasan]
//
// Run by `scripts/bench-phone`; the figures go in docs/performance.md.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const arg = (name, fallback) => {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Math.min(50, Math.max(1, Number(arg("runs", "5"))));
const BIN = arg("bin", process.env.KEPUASAN_BIN || "target/release/kepuasan");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SLOW_3G = { offline: false, latency: 400, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 };
const CPU_SLOWDOWN = 4;

const dir = mkdtempSync(path.join(os.tmpdir(), "kepuasan-bench-phone-"));
const env = { ...process.env, DATABASE_URL: path.join(dir, "bench.db"), RUST_LOG: "warn" };
const cli = (...args) => execFileSync(BIN, args, { env, encoding: "utf8" }).trim();

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

// One visit: bytes over the wire (headers and bodies, as CDP counts them) and the moment,
// on the page's own clock, the first answer button was on screen.
async function visit(page, cdp, url) {
  let bytes = 0;
  const finished = (e) => { bytes += e.encodedDataLength; };
  cdp.on("Network.loadingFinished", finished);
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(() => window.__tappableAt !== undefined, null, { timeout: 60000, polling: 50 });
  const tappable = await page.evaluate(() => window.__tappableAt);
  await page.waitForLoadState("networkidle");
  cdp.off("Network.loadingFinished", finished);
  return { ms: tappable, bytes };
}

async function main() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  env.KEPUASAN_BIND = `127.0.0.1:${port}`;
  env.KEPUASAN_PUBLIC_URL = base;
  cli("units", "add", "puskesmas", "--name", "Puskesmas Kecamatan Uji", "--timezone", "Asia/Jakarta", "--open-link");
  cli("services", "add", "--unit", "puskesmas", "umum", "--name", "Poli Umum");
  const server = spawn(BIN, ["serve"], { env, stdio: "ignore" });
  try {
    const deadline = Date.now() + 20000;
    for (;;) {
      try { if ((await fetch(base + "/healthz")).ok) break; } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error("the server did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"] });
    const first = [], again = [];
    for (let run = 0; run < RUNS; run++) {
      // Service workers blocked: CDP's throttling does not reach a worker's own requests, so
      // a visit it served would look faster than the link allows.
      const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, locale: "id-ID", serviceWorkers: "block" });
      // The moment the first answer is on screen and can take a tap.
      await context.addInitScript(() => {
        new MutationObserver((_, observer) => {
          const b = document.querySelector("button[data-answer]");
          if (b && !b.disabled && b.getBoundingClientRect().height > 0) { window.__tappableAt = performance.now(); observer.disconnect(); }
        }).observe(document, { childList: true, subtree: true });
      });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
      first.push(await visit(page, cdp, `${base}/u/puskesmas`));
      again.push(await visit(page, cdp, `${base}/u/puskesmas`));
      await context.close();
    }
    await browser.close();
    const summary = (name, xs) => ({
      visit: name,
      runs: xs.length,
      tappable_ms_median: Math.round(median(xs.map((x) => x.ms))),
      tappable_ms_max: Math.round(Math.max(...xs.map((x) => x.ms))),
      bytes_median: median(xs.map((x) => x.bytes)),
    });
    const result = [summary("first", first), summary("again", again)];
    console.log(`phone survey (/u/{unit}), 360x740, slow 3G (400 kbit/s, 400 ms RTT), CPU ${CPU_SLOWDOWN}x slower`);
    for (const r of result) {
      console.log(`  ${r.visit.padEnd(6)} first answer tappable after ${r.tappable_ms_median} ms (median of ${r.runs}, max ${r.tappable_ms_max}), ${(r.bytes_median / 1024).toFixed(1)} KiB transferred`);
    }
    console.log(JSON.stringify(result));
  } finally {
    server.kill("SIGKILL");
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
