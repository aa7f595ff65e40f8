// Issue 15, "one instance per data folder": a second launch of the app on the data folder of an open window
// says the folder is in use, hands over to that window (which comes to the front) and exits at once; the
// first window carries on. A launch on another data folder opens its own window.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { freshDataDir, removeDataDir } from '../lib/app.mjs';
import { appBinary } from '../lib/paths.mjs';
import { exited, startProcess, stopProcess } from '../lib/processes.mjs';
import { simAndApp } from '../lib/session.mjs';
import { textOf } from '../lib/ui.mjs';

let otherDataDir;

const session = simAndApp({
  sim: { devices: 20, seed: 5, timeScale: 20, name: 'single-instance-sim' },
  app: { name: 'single-instance' },
  cleanup: () => removeDataDir(otherDataDir),
});

function appLog(dataDir) {
  const file = path.join(dataDir, 'logs', 'ota-console.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** Starts the app binary directly (not through tauri-driver) on `dataDir`. */
function launchAgain(name, dataDir) {
  return startProcess(name, appBinary(), [], {
    env: { OTA_CONSOLE_DATA_DIR: dataDir, OTA_CONSOLE_SIM_URL: session.sim.url, RUST_LOG: 'info' },
  });
}

/** Resolves true when `child` exits within `ms`, false when it is still running then. */
async function exitsWithin(child, ms) {
  return Promise.race([exited(child).then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);
}

test('a second launch on the same data folder brings the first window to the front and exits', { timeout: 90_000 }, async () => {
  const { app } = session;
  const { browser } = app;
  await browser.waitUntil(async () => (await textOf(browser, 'nav[aria-label="Main"]')) !== null, {
    timeout: 30_000,
    timeoutMsg: 'the first window shows its navigation',
  });

  const second = launchAgain('single-instance-second', app.dataDir);
  const quick = await exitsWithin(second, 20_000);
  if (!quick) await stopProcess(second);
  assert.ok(quick, 'the second launch exits by itself');
  assert.equal(second.exitCode, 0, 'handed over, not failed');
  const said = fs.readFileSync(second.logFile, 'utf8');
  assert.match(said, /the data folder .* is in use by OTA Console pid \d+ .*bringing its window to the front/);

  // The first window got the hand-over and is still the app it was.
  await browser.waitUntil(async () => appLog(app.dataDir).includes('brought this window to the front'), {
    timeout: 15_000,
    timeoutMsg: 'the first window logged that a second launch brought it to the front',
  });
  assert.equal(await browser.getTitle(), 'OTA Console');
  const nav = await textOf(browser, 'nav[aria-label="Main"]');
  assert.ok(nav?.includes('Devices'), `the first window still answers: ${nav}`);
});

test('a launch on another data folder opens its own window', { timeout: 90_000 }, async () => {
  otherDataDir = freshDataDir('other-folder');
  const other = launchAgain('single-instance-other-folder', otherDataDir);
  try {
    assert.equal(await exitsWithin(other, 8_000), false, 'another folder is not handed over');
    // It holds its own folder: its lock file names it.
    const lock = JSON.parse(fs.readFileSync(path.join(otherDataDir, '.lock'), 'utf8'));
    assert.equal(lock.pid, other.pid);
    assert.match(appLog(otherDataDir), /starting OTA Console/);
  } finally {
    await stopProcess(other);
  }
});
