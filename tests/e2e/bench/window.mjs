// Window figures for `cargo xtask bench` (issue 7), measured in the real window over WebDriver:
// - cold start to the first painted row of the device list, with 100 000 devices and with 100 (the
//   baseline, same run); cold = an empty cache, so it includes the first fleet import;
// - warm start (the app started again on the filled cache): first paint from SQLite;
// - time from typing a search to the list showing its result, measured inside the page;
// - idle RSS of the app's core process (the Rust process, not the WebKit web process).
// Writes JSON to the path given as the first argument.
import fs from 'node:fs';
import { launchApp, removeDataDir, freshDataDir } from '../lib/app.mjs';
import { startSim } from '../lib/sim.mjs';
import { selectors, visibleDeviceIds } from '../lib/ui.mjs';

const out = process.argv[2] ?? 'window-bench.json';
const DEVICES = Number(process.env.OTA_BENCH_WINDOW_DEVICES ?? 100_000);
const BASELINE = 100;

async function firstRow(browser, started, timeout) {
  await browser.waitUntil(async () => (await visibleDeviceIds(browser)).length > 0, {
    timeout,
    interval: 25,
    timeoutMsg: `no device row within ${timeout} ms`,
  });
  return Date.now() - started;
}

/** RSS (MiB) of the app process: the newest process whose command line is the app binary. */
function appRssMib() {
  let best = null;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.split('\0')[0].endsWith('ota-console')) continue;
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      if (!best || Number(pid) > best.pid) best = { pid: Number(pid), mib: kib / 1024 };
    } catch {
      // The process ended meanwhile.
    }
  }
  return best?.mib ?? null;
}

/** Types `text` into the search box and waits, inside the page, until every shown row matches it. */
async function searchMs(browser, text) {
  return browser.executeAsync((searchSelector, rowSelector, wanted, done) => {
    const input = document.querySelector(searchSelector);
    const started = performance.now();
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, wanted);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    const check = () => {
      const rows = Array.from(document.querySelectorAll(rowSelector));
      const lower = wanted.toLowerCase();
      if (rows.length > 0 && rows.every((r) => r.textContent.toLowerCase().includes(lower))) {
        done(performance.now() - started);
      } else if (performance.now() - started > 30_000) {
        done(-1);
      } else {
        requestAnimationFrame(check);
      }
    };
    requestAnimationFrame(check);
  }, selectors.search, selectors.deviceRow, text);
}

async function coldStart(devices, name) {
  const sim = await startSim({ devices, seed: 11, timeScale: 1, name: `${name}-sim` });
  const dataDir = freshDataDir();
  try {
    let started = Date.now();
    let app = await launchApp({ simUrl: sim.url, dataDir, name });
    const cold = await firstRow(app.browser, started, 300_000);
    await new Promise((r) => setTimeout(r, 3_000));
    const idleRss = appRssMib();
    const search = [];
    for (const text of ['Porch', 'Garage', 'Lock']) search.push(await searchMs(app.browser, text));
    await app.close();
    started = Date.now();
    app = await launchApp({ simUrl: sim.url, dataDir, name: `${name}-warm` });
    const warm = await firstRow(app.browser, started, 120_000);
    await app.close();
    return { devices, coldMs: cold, warmMs: warm, idleRssMib: idleRss, searchMs: Math.min(...search.filter((s) => s >= 0)) };
  } finally {
    await sim.stop();
    removeDataDir(dataDir);
  }
}

const baseline = await coldStart(BASELINE, 'bench-small');
const large = await coldStart(DEVICES, 'bench-large');
fs.writeFileSync(out, JSON.stringify({ baseline, large }, null, 2));
console.log(JSON.stringify({ baseline, large }));
