// Issue 2: the device list shows the sandbox fleet and "Search devices" narrows it by serial.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot } from '../lib/screenshot.mjs';
import { simAndApp } from '../lib/session.mjs';
import { searchDevices, visibleDeviceIds, waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

const session = simAndApp({ sim: { devices: 120, seed: 42, name: 'devices-ota-sim' }, app: { name: 'devices' } });

/**
 * A piece of `device.id` that no other field of any device contains, so every row the search keeps must
 * match it by id (whatever fields the app's search looks at).
 */
function serialFragment(device, fleet) {
  const texts = (other) => Object.entries(other)
    .filter(([key, value]) => key !== 'id' && (typeof value === 'string' || typeof value === 'number'))
    .map(([, value]) => String(value).toLowerCase());
  for (const length of [6, 8, 10]) {
    for (let start = device.id.length - length; start >= 0; start -= 1) {
      const fragment = device.id.slice(start, start + length);
      const needle = fragment.toLowerCase();
      const matchesElsewhere = fleet.some((other) => texts(other).some((text) => text.includes(needle)));
      if (!matchesElsewhere) return fragment;
    }
  }
  return device.id;
}

test('typing part of a camera serial into "Search devices" keeps only the devices with that serial', { timeout: 120_000 }, async () => {
  const { browser } = session.app;
  const fleet = await session.sim.devices();
  const camera = fleet.find((device) => device.cloud === 'vicohome');
  assert.ok(camera, 'the simulated fleet has a Vicohome camera');
  const fragment = serialFragment(camera, fleet);
  const matchesSearch = (id) => id.toLowerCase().includes(fragment.toLowerCase());
  const expected = fleet.map((device) => device.id).filter(matchesSearch).sort();

  await waitForDeviceRows(browser);
  await waitForFreshness(browser, 'Live');
  await screenshot(browser, 'device-list.png', { docs: true });

  await searchDevices(browser, fragment);
  let shown = [];
  try {
    await browser.waitUntil(
      async () => {
        shown = await visibleDeviceIds(browser);
        return shown.includes(camera.id) && shown.every(matchesSearch);
      },
      { timeout: 15_000, interval: 250 },
    );
  } catch {
    // Fall through: the assertions below say what is wrong with the rows last seen.
  }

  for (const id of shown) assert.ok(matchesSearch(id), `row ${id} does not match the search "${fragment}"`);
  assert.ok(shown.includes(camera.id), `camera ${camera.id} is listed`);
  assert.deepEqual([...shown].sort(), expected, 'exactly the devices whose serial contains the search are listed');
  await screenshot(browser, 'device-search.png');
});
