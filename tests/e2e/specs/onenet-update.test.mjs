// Issue 4: a technician checks a OneNET device's upgrade task in the window, downloads the package
// (verified, 101 reported), reports 201 after flashing, and the simulator's task shows it completed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchApp, removeDataDir } from '../lib/app.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { startSim } from '../lib/sim.mjs';
import { searchDevices, textOf, visibleDeviceIds, waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

const TARGET = 'V9.1';
const SIZE = 12 * 1024 * 1024;
let sim;
let app;
let device;
let task;

async function simTask(id) {
  return sim.get(`/_sim/onenet/tasks/${id}`);
}

before(async () => {
  sim = await startSim({ devices: 60, seed: 42, timeScale: 1, name: 'onenet-ota-sim' });
  const fleet = await sim.devices();
  device = fleet.find((d) => d.cloud === 'onenet' && d.firmware !== TARGET);
  assert.ok(device, 'the fleet has a OneNET device');
  task = await sim.post('/_sim/onenet/tasks', { dev_id: device.id, target: TARGET, size: SIZE, type: 2 });
  app = await launchApp({ simUrl: sim.url, name: 'onenet' });
}, { timeout: 120_000 });

after(async () => {
  await app?.close();
  await sim?.stop();
  removeDataDir(app?.dataDir);
}, { timeout: 60_000 });

const PANEL = '[aria-label="OneNET update"]';

async function panelText(browser) {
  return (await textOf(browser, PANEL)) ?? '';
}

async function clickInPanel(browser, name) {
  const button = await (await browser.$(PANEL)).$(`button=${name}`);
  await button.waitForClickable({ timeout: 15_000 });
  await button.click();
}

test('check, download and report 201 for a OneNET device; the task completes', { timeout: 180_000 }, async () => {
  const { browser } = app;
  await waitForDeviceRows(browser);
  await waitForFreshness(browser, 'Live');
  await searchDevices(browser, device.id);
  await browser.waitUntil(async () => {
    const ids = await visibleDeviceIds(browser);
    return ids.length === 1 && ids[0] === device.id;
  }, { timeout: 15_000, timeoutMsg: `the row of ${device.id} did not show alone` });
  await (await browser.$(`[role="row"][data-device-id="${device.id}"]`)).click();

  await clickInPanel(browser, 'Check for update');
  await browser.waitUntil(async () => (await panelText(browser)).includes(task.md5), {
    timeout: 20_000,
    timeoutMsg: 'the check did not show the task (target, size, MD5)',
  });
  const facts = await panelText(browser);
  assert.ok(facts.includes(TARGET), `target version shown: ${facts}`);
  assert.ok(facts.includes('12.0 MiB'), `size shown: ${facts}`);
  assert.ok(facts.includes('Minimum battery'), 'minimum power shown');
  assert.ok(facts.includes('Minimum signal'), 'minimum signal shown');

  await clickInPanel(browser, 'Download package');
  await browser.waitUntil(async () => (await panelText(browser)).includes('OneNET recorded 101'), {
    timeout: 60_000,
    timeoutMsg: 'the download did not end verified with 101 reported',
  });
  const downloaded = await panelText(browser);
  assert.ok(downloaded.includes('Downloaded and verified'), downloaded);
  const bar = await browser.execute(
    (s) => document.querySelector(`${s} [role="progressbar"]`)?.getAttribute('aria-valuenow'),
    PANEL,
  );
  assert.equal(bar, '100');
  assert.equal((await simTask(task.task_id)).state, 'upgrading');
  await screenshot(browser, 'onenet-downloaded.png');

  const select = await browser.$(`${PANEL} fieldset select`);
  await select.selectByAttribute('value', '201');
  await clickInPanel(browser, 'Send report');
  await browser.waitUntil(async () => (await panelText(browser)).includes('OneNET recorded 201: Upgrade succeeded.'), {
    timeout: 20_000,
    timeoutMsg: 'the report of 201 was not answered in words',
  });
  await screenshot(browser, 'onenet-reported.png');

  const finished = await simTask(task.task_id);
  assert.equal(finished.state, 'succeeded');
  assert.equal(finished.last_result, 201);

  // The device's row now shows the version it was upgraded to.
  await browser.keys('Escape');
  await browser.waitUntil(async () => {
    const text = await browser.execute((id) => {
      const r = document.querySelector(`[role="row"][data-device-id="${id}"]`);
      return r?.querySelector('.cell-firmware')?.textContent ?? '';
    }, device.id);
    return text.trim().startsWith(TARGET);
  }, { timeout: 20_000, timeoutMsg: `the row did not show firmware ${TARGET}` });
});
