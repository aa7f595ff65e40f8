// Window figures for `cargo xtask bench` (issue 18), measured in the real window of the RELEASE build over
// WebDriver, each beside the same figure with 100 devices in the same run:
// - warm start (the app started again on a filled cache) → first device row painted, median of 5 launches;
// - a keystroke in "Search devices" → only matching rows shown, measured inside the page (median of 3 words);
// - cold start (empty cache, the simulator's whole fleet to import) → first rows painted, and when the
//   list first shows the whole fleet (the import's end as the window sees it);
// - scrolling the device grid from top to bottom for a few seconds (scrollTop set every frame): the
//   frame times seen by requestAnimationFrame inside the page, and the idle frame time before it;
// - warm start with a million cached devices: the cache is written by `ota-bench --fill-cache` (through
//   the app's own store), copied afresh for every launch because the background refresh replaces it;
// - idle RSS of the app's core process; the size of the binary and of the .deb (OTA_BENCH_DEB).
// Every start is timed from the app process's own start (read from /proc), not from tauri-driver's; one
// untimed launch first takes the disk reads of the run's very first start out of the figures.
// Writes JSON to the path given as the first argument.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDataDir, launchApp, removeDataDir } from '../lib/app.mjs';
import { appBinary, repoRoot, targetDir } from '../lib/paths.mjs';
import { sleep } from '../lib/processes.mjs';
import { startSim } from '../lib/sim.mjs';
import { selectors, textOf } from '../lib/ui.mjs';

const out = process.argv[2] ?? 'window-bench.json';
const DEVICES = Number(process.env.OTA_BENCH_WINDOW_DEVICES ?? 100_000);
const MILLION = Number(process.env.OTA_BENCH_WINDOW_MILLION ?? 1_000_000);
const BASELINE = 100;
// Starts vary by a second on this shared machine: the median of 5 (a launch takes 2-8 s).
const WARM_LAUNCHES = 5;
const SEARCH_WORDS = ['Porch', 'Garage', 'pump'];
const SCROLL_MS = 4_000;
const SIM_SEED = 11;
const benchBinary = path.resolve(process.env.OTA_BENCH_BIN ?? path.join(targetDir(), 'release', 'ota-bench'));
const skeletonRow = `${selectors.deviceGrid} [role="row"][aria-busy="true"]`;
// Under Xvfb there is no GPU: WebKitGTK's accelerated compositing runs on Mesa's software GL, where any
// change on screen, even an 8-pixel square, costs a frame of 100-200 ms on this 2-core machine (measured),
// whatever the page does. The figures are taken with WebKit painting without compositing, which shows
// the app's own cost; the scroll is also measured once with compositing, for comparison.
// OTA_BENCH_WEBKIT_COMPOSITING=1 measures everything with it.
const COMPOSITING = process.env.OTA_BENCH_WEBKIT_COMPOSITING === '1';
const WEBKIT_ENV = COMPOSITING ? {} : { WEBKIT_DISABLE_COMPOSITING_MODE: '1' };

/** The list's search debounce, read from the UI's source so the figure follows it. */
function searchDebounceMs() {
  const source = fs.readFileSync(path.join(repoRoot, 'ui', 'src', 'views', 'DevicesView.tsx'), 'utf8');
  const found = /SEARCH_DEBOUNCE_MS\s*=\s*(\d+)/.exec(source);
  if (!found) throw new Error('SEARCH_DEBOUNCE_MS not found in ui/src/views/DevicesView.tsx');
  return Number(found[1]);
}

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null;
};
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null;
};
const round = (v, digits = 1) => (v === null || v === undefined ? null : Number(v.toFixed(digits)));

// ---- The app process, from /proc ----

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function statFields(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'; index 0 is field 3.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The newest process running the app binary under test. */
function appProcess() {
  const binary = fs.realpathSync(appBinary());
  let best = null;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) !== binary) continue;
      const started = Number(statFields(pid)[19]);
      if (!best || started > best.started) best = { pid: Number(pid), started };
    } catch {
      // Not ours to read, or it ended meanwhile.
    }
  }
  return best?.pid ?? null;
}

/** When `pid` started, as epoch milliseconds (to 1/CLK_TCK s): its age from /proc/uptime. */
function processStartEpochMs(pid) {
  const started = Number(statFields(pid)[19]) / clockTicks;
  const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - (uptime - started) * 1000;
}

/** User + system CPU seconds of `pid` so far. */
function cpuSeconds(pid) {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

function rssMib(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Waits until the app's core process has used under 10 % of a core for a whole second (its background
 * refresh is done); answers how long that took, or null when it never settled within `timeoutMs`. */
async function waitIdle(pid, timeoutMs = 180_000) {
  const started = Date.now();
  let last = cpuSeconds(pid);
  while (Date.now() - started < timeoutMs) {
    await sleep(1_000);
    const now = cpuSeconds(pid);
    if (now - last < 0.1) return Date.now() - started;
    last = now;
  }
  return null;
}

// ---- Inside the page ----

/**
 * Starts the app on `dataDir` and times its first painted device row from the process's start: a loop
 * inside the page watches every frame for a row and answers the time of the frame after the one that
 * first had it (that frame has been painted). When the row was there before WebDriver could look, the
 * figure is an upper bound (`upperBound`).
 */
async function launchAndTimeFirstRow({ sim, dataDir, name, timeoutMs = 120_000, env = WEBKIT_ENV }) {
  const app = await launchApp({ simUrl: sim.url, dataDir, name, windowSize: null, env });
  try {
    const pid = appProcess();
    if (!pid) throw new Error(`no process of ${appBinary()} found after the launch`);
    const processStart = processStartEpochMs(pid);
    // One look at most every 45 s (WebDriver's HTTP requests time out after 60 s); only a row already
    // there at the very first look makes the figure an upper bound.
    const look = 45_000;
    await app.browser.setTimeout({ script: look + 5_000 });
    const deadline = Date.now() + timeoutMs;
    let seen = null;
    let looks = 0;
    for (let failures = 0; !seen;) {
      if (Date.now() > deadline) throw new Error(`${name}: no device row within ${timeoutMs} ms`);
      try {
        seen = await app.browser.executeAsync((rowSelector, limit, done) => {
          const answer = (already) => done({ at: Date.now(), already, origin: performance.timeOrigin ?? null });
          if (document.querySelector(rowSelector)) return answer(true);
          const began = Date.now();
          const watch = () => {
            if (document.querySelector(rowSelector)) requestAnimationFrame(() => answer(false));
            else if (Date.now() - began > limit) done(null);
            else requestAnimationFrame(watch);
          };
          requestAnimationFrame(watch);
          return undefined;
        }, selectors.deviceRow, look);
        looks += 1;
        if (seen?.already && looks > 1) seen.already = false;
      } catch (error) {
        // The page may still be loading when the session opens: its script context goes away once.
        failures += 1;
        if (failures > 20) throw error;
        await sleep(50);
      }
    }
    return {
      app,
      pid,
      processStart,
      firstRowMs: seen.at - processStart,
      upperBound: seen.already,
      pageLoadStartMs: seen.origin ? seen.origin - processStart : null,
    };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The number of devices "Device count" says the list holds (null while it says nothing). */
async function shownTotal(browser) {
  const text = (await textOf(browser, selectors.deviceCount)) ?? '';
  const match = /([\d,.\s\u00a0\u202f]+)\s+devices?$/.exec(text);
  return match ? Number(match[1].replace(/\D/g, '')) : null;
}

/** Waits until "Device count" shows `n` devices; answers the epoch time it was seen (polled every 200 ms). */
async function waitForTotal(browser, n, timeoutMs) {
  await browser.waitUntil(async () => (await shownTotal(browser)) === n, {
    timeout: timeoutMs,
    interval: 200,
    timeoutMsg: `"Device count" never said ${n} devices within ${timeoutMs} ms`,
  });
  return Date.now();
}

/** One keystroke's worth of input (the whole word in one input event, into the empty box over the whole
 * fleet) to the moment every row the grid shows contains the word, timed inside the page; -1 when it
 * never did within 30 s. */
async function searchMs(browser, word) {
  return browser.executeAsync((searchSelector, rowSelector, wanted, done) => {
    const input = document.querySelector(searchSelector);
    const lower = wanted.toLowerCase();
    const allMatch = () => {
      const shown = Array.from(document.querySelectorAll(rowSelector));
      return shown.length > 0 && shown.every((r) => r.textContent.toLowerCase().includes(lower));
    };
    if (allMatch()) return done(-1);
    const started = performance.now();
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, wanted);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    const check = () => {
      if (allMatch()) done(performance.now() - started);
      else if (performance.now() - started > 30_000) done(-1);
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
    return undefined;
  }, selectors.search, selectors.deviceRow, word);
}

/** Clears the search box and waits until the unfiltered list is back. */
async function clearSearch(browser, total) {
  await browser.execute((searchSelector) => {
    const input = document.querySelector(searchSelector);
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, '');
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, selectors.search);
  await waitForTotal(browser, total, 30_000);
}

/**
 * Frame times inside the page: requestAnimationFrame intervals for 1.5 s with nothing happening (idle),
 * then for `durationMs` while the grid's scrollTop moves linearly from the top to the bottom of its
 * scroll range (one step every frame). Also how many frames showed placeholder rows (pages not yet
 * loaded) and how long after the scroll the bottom rows were real.
 */
async function scrollFrames(browser, durationMs) {
  return browser.executeAsync((gridSelector, rowSelector, skeletonSelector, duration, done) => {
    const grid = document.querySelector(gridSelector);
    const frames = (ms, onFrame) => new Promise((resolve) => {
      const deltas = [];
      let last = null;
      let start = null;
      const tick = (t) => {
        if (start === null) start = t;
        if (last !== null) deltas.push(t - last);
        last = t;
        if (t - start >= ms) return resolve(deltas);
        onFrame?.(t - start);
        return requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    (async () => {
      grid.scrollTop = 0;
      await frames(500);
      const idle = await frames(1_500);
      const range = grid.scrollHeight - grid.clientHeight;
      let skeletonFrames = 0;
      let frameCount = 0;
      const scroll = await frames(duration, (elapsed) => {
        grid.scrollTop = Math.round((range * elapsed) / duration);
        frameCount += 1;
        if (document.querySelector(skeletonSelector)) skeletonFrames += 1;
      });
      grid.scrollTop = range;
      const ended = performance.now();
      const settled = await new Promise((resolve) => {
        const look = () => {
          if (!document.querySelector(skeletonSelector) && document.querySelector(rowSelector)) {
            resolve(performance.now() - ended);
          } else if (performance.now() - ended > 30_000) resolve(null);
          else requestAnimationFrame(look);
        };
        requestAnimationFrame(look);
      });
      done({
        idle,
        scroll,
        rangePx: range,
        rowHeightPx: grid.querySelector(rowSelector)?.getBoundingClientRect().height ?? null,
        reachedTopPx: grid.scrollTop,
        skeletonFrames,
        frameCount,
        settleMs: settled,
      });
    })().catch((error) => done({ error: String(error) }));
  }, selectors.deviceGrid, selectors.deviceRow, skeletonRow, durationMs);
}

/** scrollFrames over the grid, summed up. */
async function scrollFigures(browser) {
  const frames = await scrollFrames(browser, SCROLL_MS);
  if (frames.error) throw new Error(`scroll: ${frames.error}`);
  return {
    durationMs: SCROLL_MS,
    rangePx: frames.rangePx,
    rows: frames.rowHeightPx ? Math.round(frames.rangePx / frames.rowHeightPx) : null,
    reachedBottom: frames.reachedTopPx >= frames.rangePx - 1,
    skeletonFrames: frames.skeletonFrames,
    settleMs: round(frames.settleMs),
    idle: frameFigures(frames.idle),
    ...frameFigures(frames.scroll),
  };
}

function frameFigures(deltas) {
  return {
    frames: deltas.length,
    p50: round(percentile(deltas, 50), 2),
    p95: round(percentile(deltas, 95), 2),
    max: round(Math.max(...deltas), 2),
    over20ms: deltas.filter((d) => d > 20).length,
  };
}

// ---- One fleet ----

function log(line) {
  console.log(`[window-bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** Cold start on an empty cache, then warm starts on what it imported; search and scroll on the last. */
async function fleet(devices, name, { withCompositing = false } = {}) {
  const sim = await startSim({ devices, seed: SIM_SEED, timeScale: 1, name: `${name}-sim` });
  const dataDir = freshDataDir(name);
  const result = { devices };
  try {
    // Cold: an empty cache; the first rows wait for (part of) the import.
    const cold = await launchAndTimeFirstRow({ sim, dataDir, name: `${name}-cold`, timeoutMs: 300_000 });
    try {
      const whole = await waitForTotal(cold.app.browser, devices, 300_000);
      result.cold = {
        firstRowMs: cold.firstRowMs,
        upperBound: cold.upperBound,
        wholeFleetShownMs: whole - cold.processStart,
        pageLoadStartMs: cold.pageLoadStartMs,
      };
      log(`${name}: cold start, first row ${cold.firstRowMs.toFixed(0)} ms, whole fleet shown ${result.cold.wholeFleetShownMs.toFixed(0)} ms`);
      result.cold.idleAfterMs = await waitIdle(cold.pid);
      await sleep(2_000);
      result.idleRssMib = round(rssMib(cold.pid));
    } finally {
      await cold.app.close();
    }

    // Warm: the same folder again; the cached fleet first, the refresh in the background.
    result.warm = [];
    for (let i = 1; i <= WARM_LAUNCHES; i += 1) {
      const warm = await launchAndTimeFirstRow({ sim, dataDir, name: `${name}-warm${i}` });
      try {
        const run = { firstRowMs: warm.firstRowMs, upperBound: warm.upperBound, pageLoadStartMs: warm.pageLoadStartMs };
        // Closed only once the refresh is done, as a person would find it next time.
        run.refreshDoneMs = await waitIdle(warm.pid);
        result.warm.push(run);
        log(`${name}: warm start ${i}, first row ${warm.firstRowMs.toFixed(0)} ms${warm.upperBound ? ' (upper bound)' : ''}`);
        if (i === WARM_LAUNCHES) {
          await waitForTotal(warm.app.browser, devices, 60_000);
          const search = [];
          for (const word of SEARCH_WORDS) {
            await clearSearch(warm.app.browser, devices);
            await sleep(500);
            const ms = await searchMs(warm.app.browser, word);
            search.push({ word, ms: ms >= 0 ? round(ms) : null });
          }
          result.search = search;
          await clearSearch(warm.app.browser, devices);
          await sleep(500);
          result.scroll = await scrollFigures(warm.app.browser);
          log(`${name}: search ${JSON.stringify(search)}, scroll p95 ${result.scroll.p95} ms (idle ${result.scroll.idle.p95} ms)`);
        }
      } finally {
        await warm.app.close();
      }
    }
    if (withCompositing && !COMPOSITING) {
      // The same scroll once more, with WebKit's compositing on Mesa's software GL (see WEBKIT_ENV).
      const gl = await launchAndTimeFirstRow({ sim, dataDir, name: `${name}-gl`, env: {} });
      try {
        await waitIdle(gl.pid);
        await waitForTotal(gl.app.browser, devices, 60_000);
        result.scrollCompositing = await scrollFigures(gl.app.browser);
        log(`${name}: with compositing, scroll p95 ${result.scrollCompositing.p95} ms (idle ${result.scrollCompositing.idle.p95} ms)`);
      } finally {
        await gl.app.close();
      }
    }
    result.warmMs = median(result.warm.map((r) => r.firstRowMs));
    result.searchMs = median(result.search.map((s) => s.ms));
    return result;
  } finally {
    await sim.stop();
    removeDataDir(dataDir);
  }
}

/** Warm starts on a cache of `devices` written by `ota-bench --fill-cache`, against a small simulator. */
async function filledCache(devices, name) {
  const sim = await startSim({ devices: BASELINE, seed: SIM_SEED, timeScale: 1, name: `${name}-sim` });
  const template = freshDataDir(`${name}-template`);
  const result = { devices };
  try {
    const filling = Date.now();
    const filled = JSON.parse(
      execFileSync(benchBinary, ['--fill-cache', template, String(devices), sim.url], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop(),
    );
    result.fill = { ...filled, wallMs: Date.now() - filling };
    result.cacheMib = round(
      fs.readdirSync(template).reduce((sum, f) => sum + fs.statSync(path.join(template, f)).size, 0) / 1024 / 1024,
    );
    log(`${name}: ${devices} devices written in ${result.fill.wallMs} ms (${result.cacheMib} MiB)`);
    result.warm = [];
    for (let i = 1; i <= WARM_LAUNCHES; i += 1) {
      // A fresh copy each time: the refresh that follows the first paint replaces the synthetic fleet.
      const dataDir = freshDataDir(`${name}-run`);
      fs.cpSync(template, dataDir, { recursive: true });
      try {
        const warm = await launchAndTimeFirstRow({ sim, dataDir, name: `${name}-warm${i}` });
        const total = await shownTotal(warm.app.browser);
        await warm.app.close();
        result.warm.push({ firstRowMs: warm.firstRowMs, upperBound: warm.upperBound, shownTotal: total });
        log(`${name}: warm start ${i}, first row ${warm.firstRowMs.toFixed(0)} ms (list said ${total} devices)`);
      } finally {
        removeDataDir(dataDir);
      }
    }
    result.warmMs = median(result.warm.map((r) => r.firstRowMs));
    return result;
  } finally {
    await sim.stop();
    removeDataDir(template);
  }
}

/** One launch that is not timed: the first start of the run reads the binary, WebKit and the fonts from
 * disk, which no later start (and no start of a person's second day) does. */
async function warmUp() {
  const sim = await startSim({ devices: BASELINE, seed: SIM_SEED, timeScale: 1, name: 'bench-warmup-sim' });
  const dataDir = freshDataDir('bench-warmup');
  try {
    const run = await launchAndTimeFirstRow({ sim, dataDir, name: 'bench-warmup' });
    await waitIdle(run.pid);
    await run.app.close();
  } finally {
    await sim.stop();
    removeDataDir(dataDir);
  }
}

function fileBytes(file) {
  try {
    return file ? fs.statSync(file).size : null;
  } catch {
    return null;
  }
}

/** Whether `file` says the binary has no symbol table (null when `file` is not installed). */
function isStripped(file) {
  try {
    return !/not stripped/.test(execFileSync('file', ['-L', file], { encoding: 'utf8' }));
  } catch {
    return null;
  }
}

const began = Date.now();
const binary = appBinary();
const deb = process.env.OTA_BENCH_DEB ?? null;
const app = {
  binary,
  binaryBytes: fileBytes(binary),
  stripped: isStripped(binary),
  deb,
  debBytes: fileBytes(deb),
};
const debounceMs = searchDebounceMs();
log(`app ${binary} (${app.binaryBytes} bytes), search debounce ${debounceMs} ms`);
const loadBefore = os.loadavg();
await warmUp();
const baseline = await fleet(BASELINE, 'bench-small');
const large = await fleet(DEVICES, 'bench-large', { withCompositing: true });
const million = MILLION > 0 ? await filledCache(MILLION, 'bench-million') : null;
const figures = {
  app,
  debounceMs,
  webkitCompositing: COMPOSITING,
  baseline,
  large,
  million,
  elapsedMs: Date.now() - began,
  // The machine is shared: its load average (1 min) as the run began and ended.
  load: { before: round(loadBefore[0], 2), after: round(os.loadavg()[0], 2), cores: os.cpus().length },
};
fs.writeFileSync(out, JSON.stringify(figures, null, 2));
log(`done in ${((Date.now() - began) / 1000).toFixed(0)} s; figures in ${out}`);
