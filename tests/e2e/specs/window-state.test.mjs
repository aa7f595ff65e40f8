// Issue 19: the window reopens with the size and position it had. The state lives in the data folder, so
// a new data folder (every other test's) opens at the configured size, whatever another run left behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freshDataDir, launchApp, removeDataDir } from '../lib/app.mjs';
import { startSim } from '../lib/sim.mjs';
import { waitForDeviceRows } from '../lib/ui.mjs';

// tauri.conf.json: the size a first start opens at.
const CONFIGURED = { width: 1280, height: 820 };
const MOVED = { x: 40, y: 30, width: 1100, height: 700 };
let sim;
let remembered;
let fresh;

before(async () => {
  sim = await startSim({ devices: 20, seed: 5, name: 'window-state-ota-sim' });
  remembered = freshDataDir('window-state');
  fresh = freshDataDir('window-fresh');
}, { timeout: 60_000 });

after(async () => {
  await sim?.stop();
  removeDataDir(remembered);
  removeDataDir(fresh);
}, { timeout: 60_000 });

async function windowRect(browser) {
  const { x, y, width, height } = await browser.getWindowRect();
  return { x, y, width, height };
}

test('a moved and resized window opens the same way next time; a new data folder opens at the configured size', { timeout: 180_000 }, async () => {
  const first = await launchApp({ simUrl: sim.url, dataDir: remembered, name: 'window-state-1', windowSize: null });
  try {
    await waitForDeviceRows(first.browser);
    const opened = await windowRect(first.browser);
    assert.deepEqual({ width: opened.width, height: opened.height }, CONFIGURED, 'a first start opens at the configured size');
    await first.browser.setWindowRect(MOVED.x, MOVED.y, MOVED.width, MOVED.height);
    // Saved once the move settles, so even a killed app (as the driver ends it) remembers.
    const stateFile = path.join(remembered, 'window-state.json');
    await first.browser.waitUntil(() => {
      if (!fs.existsSync(stateFile)) return false;
      const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8')).main;
      return saved?.width === MOVED.width && saved?.height === MOVED.height;
    }, { timeout: 10_000, interval: 200, timeoutMsg: `${stateFile} did not record ${MOVED.width}×${MOVED.height}` });
  } finally {
    await first.close();
  }

  const second = await launchApp({ simUrl: sim.url, dataDir: remembered, name: 'window-state-2', windowSize: null });
  try {
    await waitForDeviceRows(second.browser);
    assert.deepEqual(await windowRect(second.browser), MOVED, 'reopened where and as large as it was');
    const viewport = await second.browser.execute(() => [window.innerWidth, window.innerHeight]);
    assert.deepEqual(viewport, [MOVED.width, MOVED.height], 'the page is laid out at the remembered size');
  } finally {
    await second.close();
  }

  const other = await launchApp({ simUrl: sim.url, dataDir: fresh, name: 'window-state-3', windowSize: null });
  try {
    await waitForDeviceRows(other.browser);
    const opened = await windowRect(other.browser);
    assert.deepEqual({ width: opened.width, height: opened.height }, CONFIGURED, 'another data folder inherits nothing');
  } finally {
    await other.close();
  }
});
