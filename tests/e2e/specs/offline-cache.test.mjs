// Issue 2: with the clouds unreachable the app still shows the fleet it saw last, marked as cached.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { freshDataDir, launchApp, removeDataDir } from '../lib/app.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { startSim } from '../lib/sim.mjs';
import { waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

const dataDir = freshDataDir('offline-cache');
let sim;
let online;
let offline;

after(async () => {
  await online?.close();
  await offline?.close();
  await sim?.stop();
  removeDataDir(dataDir);
}, { timeout: 60_000 });

test('after the simulator is gone, a restart shows the cached fleet marked "Cached"', { timeout: 240_000 }, async () => {
  sim = await startSim({ devices: 120, seed: 42, name: 'offline-cache-ota-sim' });
  const fleetIds = new Set((await sim.devices()).map((device) => device.id));

  online = await launchApp({ dataDir, simUrl: sim.url, name: 'offline-cache-online' });
  const liveIds = await waitForDeviceRows(online.browser);
  await waitForFreshness(online.browser, 'Live');
  for (const id of liveIds) assert.ok(fleetIds.has(id), `live row ${id} is a simulated device`);
  await online.close();

  const deadUrl = sim.url;
  await sim.stop();

  offline = await launchApp({ dataDir, simUrl: deadUrl, name: 'offline-cache-offline' });
  const cachedIds = await waitForDeviceRows(offline.browser);
  const freshness = await waitForFreshness(offline.browser, 'Cached', { timeout: 60_000 });
  assert.match(freshness, /^Cached/);
  for (const id of cachedIds) assert.ok(fleetIds.has(id), `cached row ${id} is a device seen while online`);
  assert.ok(cachedIds.some((id) => liveIds.includes(id)), 'the cached list shows the devices seen while online');
  await screenshot(offline.browser, 'offline-cache.png');
});
