// Issue 4: a technician checks a OneNET device's upgrade task in the window, downloads the package
// (verified, 101 reported), reports 201 after flashing, and the simulator's task shows it completed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot } from '../lib/screenshot.mjs';
import { simAndApp } from '../lib/session.mjs';
import { rowFirmware, showDeviceAlone, textOf, waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

const TARGET = 'V9.1';
const SIZE = 12 * 1024 * 1024;
let device;
let task;

const session = simAndApp({
  sim: { devices: 60, seed: 42, timeScale: 1, name: 'onenet-ota-sim' },
  app: { name: 'onenet' },
  prepare: async (sim) => {
    const fleet = await sim.devices();
    device = fleet.find((d) => d.cloud === 'onenet' && d.firmware !== TARGET);
    assert.ok(device, 'the fleet has a OneNET device');
    task = await sim.post('/_sim/onenet/tasks', { dev_id: device.id, target: TARGET, size: SIZE, type: 2 });
  },
});

async function simTask(id) {
  return session.sim.get(`/_sim/onenet/tasks/${id}`);
}

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
  const { browser } = session.app;
  await waitForDeviceRows(browser);
  await waitForFreshness(browser, 'Live');
  await (await showDeviceAlone(browser, device.id)).click();

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
  await browser.waitUntil(async () => (await rowFirmware(browser, device.id)).trim().startsWith(TARGET), {
    timeout: 20_000,
    timeoutMsg: `the row did not show firmware ${TARGET}`,
  });
});
