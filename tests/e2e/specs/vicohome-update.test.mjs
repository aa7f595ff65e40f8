// Issue 3: a camera update started in the window shows "Installing" at 95 %, then 100 %, and the device
// row shows the new firmware version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot } from '../lib/screenshot.mjs';
import { cameraUpdateSession } from '../lib/session.mjs';
import { rowFirmware, searchDevices, showDeviceAlone, textOf, waitForDeviceRows, waitForFreshness, waitGone } from '../lib/ui.mjs';

// The simulator's clock and the app's run 4x, so each phase is seen as a person would see it; three
// cameras with an update waiting, online and charged.
const session = cameraUpdateSession({ name: 'vicohome', cameras: 3 });

async function progress(browser) {
  return browser.execute(() => {
    const group = document.querySelector('[role="group"][aria-label="Update progress"]');
    const bar = group?.querySelector('[role="progressbar"]');
    return group ? { text: group.textContent ?? '', value: Number(bar?.getAttribute('aria-valuenow')) } : null;
  });
}

test('updating a camera from its details shows Installing 95 %, then 100 % and the new firmware', { timeout: 180_000 }, async () => {
  const { browser } = session.app;
  const [camera] = session.prepared.cameras;
  await waitForDeviceRows(browser);
  await waitForFreshness(browser, 'Live');
  const row = await showDeviceAlone(browser, camera.id);
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

  // The open details follow the device data: the new firmware, and no second update offered.
  let panel = null;
  await browser.waitUntil(async () => {
    panel = await browser.execute(() => {
      const dialog = document.querySelector('aside[role="dialog"]');
      const firmware = Array.from(dialog?.querySelectorAll('.detail-field') ?? [])
        .find((f) => f.querySelector('dt')?.textContent === 'Firmware')?.querySelector('dd')?.textContent ?? null;
      const buttons = Array.from(dialog?.querySelectorAll('button') ?? [], (b) => b.textContent.trim());
      const status = dialog?.querySelector('section[aria-label="Update firmware"] [role="status"]')?.textContent ?? null;
      return { firmware, buttons, status };
    });
    return panel.firmware === camera.newest_firmware && panel.status !== null;
  }, { timeout: 20_000, interval: 250, timeoutMsg: `the open details did not show ${camera.newest_firmware} as up to date` })
    .catch((error) => {
      throw new Error(`${error.message}: ${JSON.stringify(panel)}`);
    });
  assert.ok(!panel.buttons.includes('Update firmware'), `no update offered once up to date: ${panel.buttons.join(', ')}`);
  assert.ok(panel.status.startsWith(`Up to date: ${camera.newest_firmware}`), panel.status);
  await screenshot(browser, 'vicohome-up-to-date.png');

  // The row now shows the camera on the new firmware.
  await browser.keys('Escape');
  await browser.waitUntil(async () => {
    const text = await rowFirmware(browser, camera.id);
    return text.trim().startsWith(camera.newest_firmware) && !text.includes('→');
  }, { timeout: 20_000, timeoutMsg: `the row did not show firmware ${camera.newest_firmware}` });
  await screenshot(browser, 'vicohome-updated.png');
});

/** Shows the one row of `device` (searching its serial) and ticks its box. */
async function tick(browser, device) {
  await searchDevices(browser, device.id);
  const box = await browser.$(`[role="row"][data-device-id="${device.id}"] input[type="checkbox"]`);
  await box.waitForClickable({ timeout: 15_000 });
  await box.click();
  await browser.waitUntil(() => box.isSelected(), { timeout: 5_000, timeoutMsg: `${device.name} was not ticked` });
}

test('updating a selection asks first, leaves out the camera already up to date, and starts each once', { timeout: 180_000 }, async () => {
  const { app, sim } = session;
  const { browser } = app;
  const [camera, ...others] = session.prepared.cameras;
  const startsBefore = await sim.get('/_sim/starts');
  // The camera the first test updated is on its newest firmware now.
  for (const device of [camera, ...others]) await tick(browser, device);
  const bar = 'section[aria-label="Selection"]';
  assert.match(await textOf(browser, bar), /3 selected/);
  assert.ok(
    (await textOf(browser, bar)).includes(`${camera.name}: already on the newest firmware (${camera.newest_firmware}).`),
    await textOf(browser, bar),
  );

  await (await browser.$(bar).$('button=Update 2 cameras')).click();
  const question = '[role="alertdialog"]';
  await browser.$(question).waitForDisplayed({ timeout: 5_000 });
  const asked = await textOf(browser, question);
  assert.ok(asked.startsWith('Update 2 cameras?'), asked);
  assert.ok(asked.includes('Each of the 2 cameras is started once'), asked);
  assert.ok(asked.includes('1 selected camera already on the newest firmware is left out.'), asked);
  await screenshot(browser, 'devices-update-confirm.png');
  const startsAsked = await sim.get('/_sim/starts');
  assert.deepEqual(startsAsked, startsBefore, 'nothing was started before the confirmation');

  await (await browser.$(question).$('button=Start 2 updates')).click();
  await waitGone(browser, question);
  const results = `${bar} [aria-label="Update results"]`;
  await browser.waitUntil(async () => ((await textOf(browser, results)) ?? '').split('Started').length - 1 === 2, {
    timeout: 30_000,
    timeoutMsg: 'the two updates did not start',
  });

  // Jobs: all three updates end Succeeded; the newest one's history is opened.
  await (await browser.$('nav[aria-label="Main"]')).$('button*=Jobs').then((b) => b.click());
  await browser.waitUntil(
    async () => (await browser.execute(() =>
      document.querySelectorAll('table[aria-label="Firmware update jobs"] tr.job-row.job-succeeded').length)) === 3,
    { timeout: 90_000, interval: 500, timeoutMsg: 'the three jobs did not all end Succeeded' },
  );
  const starts = await sim.get('/_sim/starts');
  for (const device of others) assert.equal(starts.vicohome[device.id], 1, `${device.id} started once`);
  assert.equal(starts.vicohome[camera.id], 1, `${camera.id} (already up to date) was not started again`);
  await screenshot(browser, 'jobs.png', { docs: true });
  // A cell, not the row: WebKit's driver finds no point to click on a table row itself.
  await (await browser.$('tr.job-row[data-job-id] td')).click();
  await browser.$('table[aria-label="Job history"]').waitForDisplayed({ timeout: 10_000 });
  await screenshot(browser, 'job-history.png');
});
