// Issue 3: a camera update started in the window shows "Installing" at 95 %, then 100 %, and the device
// row shows the new firmware version.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchApp, removeDataDir } from '../lib/app.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { startSim } from '../lib/sim.mjs';
import { searchDevices, visibleDeviceIds, waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

// The simulator's clock runs 4x: the download takes a few seconds and installing about 5 s, while the app
// polls every 1.25 s (5 s of simulated time), so each phase is seen as a person would see it.
const TIME_SCALE = 4;
let sim;
let app;
let camera;

before(async () => {
  sim = await startSim({ devices: 60, seed: 42, timeScale: TIME_SCALE, name: 'vicohome-ota-sim' });
  const fleet = await sim.devices();
  camera = fleet.find((d) => d.cloud === 'vicohome' && d.firmware !== d.newest_firmware);
  assert.ok(camera, 'the fleet has a camera with an update waiting');
  // Online and charged, so the camera accepts the update.
  const response = await fetch(new URL(`/_sim/devices/${camera.id}`, sim.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ online: true, battery: 90 }),
  });
  assert.ok(response.ok, 'the simulator accepted the device patch');
  app = await launchApp({ simUrl: sim.url, name: 'vicohome', env: { OTA_CONSOLE_TIME_SCALE: String(TIME_SCALE) } });
}, { timeout: 120_000 });

after(async () => {
  await app?.close();
  await sim?.stop();
  removeDataDir(app?.dataDir);
}, { timeout: 60_000 });

async function progress(browser) {
  return browser.execute(() => {
    const group = document.querySelector('[role="group"][aria-label="Update progress"]');
    const bar = group?.querySelector('[role="progressbar"]');
    return group ? { text: group.textContent ?? '', value: Number(bar?.getAttribute('aria-valuenow')) } : null;
  });
}

test('updating a camera from its details shows Installing 95 %, then 100 % and the new firmware', { timeout: 180_000 }, async () => {
  const { browser } = app;
  await waitForDeviceRows(browser);
  await waitForFreshness(browser, 'Live');
  await searchDevices(browser, camera.id);
  await browser.waitUntil(async () => {
    const ids = await visibleDeviceIds(browser);
    return ids.length === 1 && ids[0] === camera.id;
  }, { timeout: 15_000, timeoutMsg: `the row of ${camera.id} did not show alone` });

  const row = await browser.$(`[role="row"][data-device-id="${camera.id}"]`);
  await row.click();
  const updateButton = await browser.$('button=Update firmware');
  await updateButton.waitForClickable({ timeout: 10_000 });
  await updateButton.click();

  const seen = [];
  await browser.waitUntil(async () => {
    const p = await progress(browser);
    if (p) seen.push(p);
    return p !== null && p.value === 95 && p.text.includes('Installing');
  }, { timeout: 90_000, interval: 200, timeoutMsg: 'the bar never showed "Installing" at 95 %' });
  await screenshot(browser, 'vicohome-installing.png');

  await browser.waitUntil(async () => {
    const p = await progress(browser);
    if (p) seen.push(p);
    return p !== null && p.value === 100;
  }, { timeout: 60_000, interval: 200, timeoutMsg: 'the bar never reached 100 %' });
  const values = seen.map((p) => p.value);
  for (let i = 1; i < values.length; i += 1) {
    assert.ok(values[i] >= values[i - 1], `progress ran backwards: ${values.join(' ')}`);
  }
  assert.ok(seen.some((p) => p.text.includes('Downloading') || p.value < 95), 'the download phase was shown');

  // The row now shows the camera on the new firmware.
  await browser.keys('Escape');
  await browser.waitUntil(async () => {
    const text = await browser.execute((id) => {
      const r = document.querySelector(`[role="row"][data-device-id="${id}"]`);
      return r?.querySelector('.cell-firmware')?.textContent ?? '';
    }, camera.id);
    return text.trim().startsWith(camera.newest_firmware) && !text.includes('→');
  }, { timeout: 20_000, timeoutMsg: `the row did not show firmware ${camera.newest_firmware}` });
  await screenshot(browser, 'vicohome-updated.png');
});
