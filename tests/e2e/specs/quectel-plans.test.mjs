// Issue 5: Quectel upgrade plans in the window. Plans are made through the simulator's admin API before the
// app starts, for devices outside the plans the sandbox starts with; then, as a person would: appoint a window with the date-time pickers (the one-hour rule is
// enforced before anything is sent), cancel another plan through its confirmation, upgrade a third and
// follow it live to Succeeded, toggle auto-upgrade and see the value read back from the cloud, and run the
// Bluetooth flow (fetch plan → confirm → download with progress → report the outcome).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot } from '../lib/screenshot.mjs';
import { simAndApp, timeScaleEnv } from '../lib/session.mjs';
import { textOf, waitGone } from '../lib/ui.mjs';

// 10x: an MQTT upgrade (60 s simulated) takes 6 s, so the 3 s poll shows it Upgrading before Succeeded.
const TIME_SCALE = 10;
const TARGET = '9.9.9';
const HOUR = 3_600_000;
let appointed;
let cancelled;
let confirmed;
let bluetooth;

/**
 * The devices the simulator starts with a plan: per product, the first three (in fleet order) behind the
 * product's newest firmware (crates/ota-sim/src/quectel_sandbox.rs). This test makes its own plans, so it
 * leaves those devices to the sandbox's plans.
 */
function sandboxPlanMembers(fleet) {
  const members = new Set();
  const perProduct = new Map();
  for (const d of fleet) {
    if (d.cloud !== 'quectel' || d.firmware === d.newest_firmware) continue;
    const taken = perProduct.get(d.product_key) ?? 0;
    if (taken < 3) members.add(d.id);
    perProduct.set(d.product_key, taken + 1);
  }
  return members;
}

/** deviceKeys of the devices the sandbox starts with a plan (set when the session is prepared). */
let planned = new Set();

const session = simAndApp({
  sim: { devices: 60, seed: 42, timeScale: TIME_SCALE, name: 'quectel-ota-sim' },
  app: { name: 'quectel', env: timeScaleEnv(TIME_SCALE) },
  prepare: async (sim) => {
    const fleet = await sim.devices();
    planned = sandboxPlanMembers(fleet);
    const byProduct = (transport, n) => {
      const groups = new Map();
      for (const d of fleet) {
        if (d.cloud !== 'quectel' || d.transport !== transport || d.firmware === TARGET || planned.has(d.id)) continue;
        groups.set(d.product_key, [...(groups.get(d.product_key) ?? []), d]);
      }
      const found = [...groups.values()].find((devices) => devices.length >= n);
      assert.ok(found, `the fleet has a Quectel ${transport} product with ${n} devices`);
      return found;
    };
    [appointed, cancelled, confirmed] = byProduct('mqtt', 3);
    [bluetooth] = byProduct('ble', 1);
    await sim.post('/_sim/quectel/plans', {
      planName: 'Spring update',
      targetVersion: TARGET,
      productKey: appointed.product_key,
      deviceKeys: [appointed.id, cancelled.id, confirmed.id],
    });
    await sim.post('/_sim/quectel/plans', {
      planName: 'Lock firmware',
      targetVersion: TARGET,
      productKey: bluetooth.product_key,
      deviceKeys: [bluetooth.id],
    });
  },
});

const rowSelector = (device) => `[role="row"][data-device-key="${device.id}"]`;

/** The row's state as the user reads it ("Appointed", "Upgrading 50 %", ...), or null without a row. */
async function stateOf(browser, device) {
  return textOf(browser, `${rowSelector(device)} .plan-state`);
}

async function waitForState(browser, device, expected, { timeout = 30_000 } = {}) {
  let last = null;
  const seen = [];
  try {
    await browser.waitUntil(async () => {
      last = await stateOf(browser, device);
      if (last !== null && seen[seen.length - 1] !== last) seen.push(last);
      return last !== null && (expected instanceof RegExp ? expected.test(last) : last === expected);
    }, { timeout, interval: 200 });
  } catch {
    throw new Error(`${device.name} never showed "${expected}" within ${timeout} ms (it says "${last}")`);
  }
  return seen;
}

/** Clicks the button with this exact accessible name (aria-label). */
async function clickLabelled(browser, label) {
  const button = await browser.$(`button[aria-label="${label}"]`);
  await button.waitForClickable({ timeout: 15_000 });
  await button.click();
}

/** Clicks a button found by its visible text inside `scope` (a CSS selector). */
async function clickText(browser, scope, text) {
  const button = await browser.$(scope).$(`button*=${text}`);
  await button.waitForClickable({ timeout: 15_000 });
  await button.click();
}

/**
 * Sets a datetime-local input (found by its label) the way the picker does: the native value setter, then
 * an input event (WebKitWebDriver's setValue is unreliable for date-time inputs).
 */
async function setPicker(browser, label, value) {
  const ok = await browser.execute((labelText, newValue) => {
    const labelEl = Array.from(document.querySelectorAll('[role="dialog"] label')).find((l) => l.textContent === labelText);
    const input = labelEl && document.getElementById(labelEl.htmlFor);
    if (!input) return false;
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    setter.call(input, newValue);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return input.value === newValue;
  }, label, value);
  assert.ok(ok, `the "${label}" picker took ${value}`);
}

/** "YYYY-MM-DDTHH:mm" for a local time `hoursAhead` whole hours from now, as the window's clock reads it. */
async function localInputValue(browser, hoursAhead, extraMinutes = 0) {
  return browser.execute((hours, minutes, hour) => {
    const at = new Date((Math.floor(Date.now() / hour) + hours) * hour + minutes * 60_000);
    const pad = (n) => String(n).padStart(2, '0');
    return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
  }, hoursAhead, extraMinutes, HOUR);
}

async function simLog() {
  return session.sim.get('/_sim/log');
}

/** Opens the Plans view from the nav and waits for its table. */
async function openPlans(browser) {
  const table = await browser.$('table[aria-label="Upgrade plans"]');
  if (await table.isExisting()) return;
  await clickText(browser, 'nav[aria-label="Main"]', 'Plans');
  await table.waitForExist({ timeout: 60_000 });
}

test("plans: a first start shows the sandbox's own plans, in several states, with nothing done before", { timeout: 120_000 }, async () => {
  const { browser } = session.app;
  await openPlans(browser);
  let states = [];
  await browser.waitUntil(async () => {
    states = [];
    for (const id of planned) {
      const state = await textOf(browser, `[role="row"][data-device-key="${id}"] .plan-state`);
      if (state !== null) states.push(state);
    }
    return states.length >= 3;
  }, { timeout: 60_000, interval: 500, timeoutMsg: `the sandbox's plans never showed (rows: ${states.length})` });
  const distinct = new Set(states.map((s) => s.replace(/\s*\d+\s*%$/, '')));
  assert.ok(distinct.size >= 2, `plans in at least two states: ${[...distinct].join(' | ')}`);
  assert.ok(distinct.has('Waiting for confirmation'), [...distinct].join(' | '));
  assert.ok([...distinct].some((s) => s.startsWith('Upgrade failed')), [...distinct].join(' | '));
});

test('plans: appoint with the picker, cancel another, upgrade live, toggle auto-upgrade', { timeout: 240_000 }, async () => {
  const { browser } = session.app;
  await openPlans(browser);
  for (const device of [appointed, cancelled, confirmed]) {
    await waitForState(browser, device, 'Waiting for confirmation');
  }
  const row = await browser.$(rowSelector(appointed));
  assert.match(await row.getAttribute('data-plan-id'), /^\d+$/);
  const rowText = await textOf(browser, rowSelector(appointed));
  assert.ok(rowText.includes(TARGET) && rowText.includes('Spring update'), rowText);

  // Appoint: the rules are explained; a 30-minute window is refused before anything is sent.
  await clickLabelled(browser, `Appoint a window: ${appointed.name}`);
  const dialog = '[role="dialog"][aria-modal="true"]';
  await browser.$(dialog).waitForDisplayed({ timeout: 10_000 });
  const rules = await textOf(browser, dialog);
  assert.ok(rules.includes('inside the plan period') && rules.includes('at least one hour'), rules);
  const start = await localInputValue(browser, 3);
  await setPicker(browser, 'Window start', start);
  await setPicker(browser, 'Window end', await localInputValue(browser, 3, 30));
  const submit = await browser.$(`${dialog} button[type="submit"]`);
  await browser.waitUntil(async () => !(await submit.isEnabled()), { timeout: 5_000, timeoutMsg: 'a 30-minute window was not refused' });
  const reason = await textOf(browser, `${dialog} .appoint-reason`);
  assert.equal(reason, 'The window must be at least 1 hour long; this one is 30 minutes.');
  const end = await localInputValue(browser, 5);
  await setPicker(browser, 'Window end', end);
  await browser.waitUntil(() => submit.isEnabled(), { timeout: 5_000, timeoutMsg: 'a two-hour window was not accepted' });
  assert.equal(await textOf(browser, `${dialog} .appoint-reason`), 'Window length: 2 h 0 min');
  await screenshot(browser, 'quectel-appoint.png');
  const batchesBefore = (await simLog()).filter((e) => e.endpoint.endsWith('userBatchConfirmUpgrade')).length;
  assert.equal(batchesBefore, 0, 'nothing was sent while the window broke a rule');
  await submit.click();
  await waitGone(browser, dialog, 15_000);
  await waitForState(browser, appointed, 'Appointed');
  const windowText = await textOf(browser, `${rowSelector(appointed)} .plan-window`);
  assert.ok(windowText?.startsWith('Window '), `the row shows the appointed window: ${windowText}`);

  // Cancel: the confirmation says the plan ends as "upgrade failed".
  await clickLabelled(browser, `Cancel plan: ${cancelled.name}`);
  const question = '[role="alertdialog"]';
  await browser.$(question).waitForDisplayed({ timeout: 10_000 });
  const questionText = await textOf(browser, question);
  assert.ok(questionText.includes(`Cancel the upgrade plan for ${cancelled.name}?`), questionText);
  assert.ok(questionText.includes('“upgrade failed”'), questionText);
  await clickText(browser, question, 'Cancel plan');
  await waitGone(browser, question, 15_000);
  await waitForState(browser, cancelled, 'Cancelled (upgrade failed)');
  assert.equal(await browser.$(`${rowSelector(cancelled)} button[aria-label^="Retry"]`).isExisting(), false);

  // Upgrade now: followed live (polled every 3 s) to Succeeded.
  await clickLabelled(browser, `Upgrade now: ${confirmed.name}`);
  const seen = await waitForState(browser, confirmed, 'Succeeded', { timeout: 60_000 });
  assert.ok(seen.some((s) => s.startsWith('Upgrading')), `the upgrade was seen in progress: ${seen.join(' → ')}`);
  await screenshot(browser, 'quectel-plans.png', { docs: true });

  // Auto-upgrade: off as read from the cloud; on after the toggle, as read back from the cloud.
  const toggle = await browser.$(`[role="switch"][aria-label="Auto-upgrade for ${appointed.name}"]`);
  await toggle.waitForClickable({ timeout: 30_000 });
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  await toggle.click();
  await browser.waitUntil(async () => (await toggle.getAttribute('aria-checked')) === 'true', {
    timeout: 15_000,
    timeoutMsg: 'the switch did not turn on',
  });
  await browser.waitUntil(async () => (await textOf(browser, `${rowSelector(appointed)} [role="switch"]`)) === 'On', {
    timeout: 15_000,
    timeoutMsg: 'the switch did not say On',
  });
  const calls = (await simLog()).filter((e) => e.target === appointed.id).map((e) => e.endpoint.split('/').pop());
  const set = calls.lastIndexOf('setAutoUpgradeSwitch');
  assert.ok(set >= 0, `the switch was sent: ${calls.join(', ')}`);
  assert.ok(calls.slice(set + 1).includes('getAutoUpgradeSwitch'), `the value was read back after it was set: ${calls.join(', ')}`);
});

test('plans: a Bluetooth device is fetched, confirmed, downloaded with progress and reported', { timeout: 120_000 }, async () => {
  const { browser } = session.app;
  await openPlans(browser);
  await waitForState(browser, bluetooth, 'Waiting for confirmation');
  await clickLabelled(browser, `Bluetooth update: ${bluetooth.name}`);
  const panel = '.ble-panel[role="dialog"]';
  await browser.$(panel).waitForDisplayed({ timeout: 10_000 });

  await clickText(browser, panel, 'Fetch plan');
  await browser.waitUntil(async () => ((await textOf(browser, `${panel} [aria-label="Bluetooth plan"]`)) ?? '').includes(TARGET), {
    timeout: 15_000,
    timeoutMsg: 'the Bluetooth plan did not show',
  });
  await clickText(browser, panel, 'Confirm upgrade');
  await browser.waitUntil(async () => ((await textOf(browser, `${panel} .ble-confirmed`)) ?? '').includes('(confirmed)'), {
    timeout: 15_000,
    timeoutMsg: 'the confirmation was not reported',
  });
  await clickText(browser, panel, 'Download package');
  const progress = `${panel} [role="group"][aria-label="Package download"]`;
  await browser.waitUntil(async () => ((await textOf(browser, progress)) ?? '').includes('SHA-256 verified'), {
    timeout: 30_000,
    timeoutMsg: 'the package was not downloaded and verified',
  });
  const value = await browser.$(`${progress} [role="progressbar"]`).getAttribute('aria-valuenow');
  assert.equal(value, '100');
  assert.match(await textOf(browser, progress), /100 %/);
  await waitForState(browser, bluetooth, /^Upgrading/);

  await clickText(browser, panel, 'Report outcome');
  await browser.waitUntil(async () => ((await textOf(browser, `${panel} .ble-answer`)) ?? '').includes('(succeeded)'), {
    timeout: 15_000,
    timeoutMsg: 'the outcome was not reported',
  });
  assert.equal(
    await textOf(browser, `${panel} .ble-answer`),
    'Quectel recorded 4 (succeeded): the device runs the new firmware.',
  );
  await waitForState(browser, bluetooth, 'Succeeded');
  await browser.execute(() => document.querySelector('.ble-answer')?.scrollIntoView({ block: 'end' }));
  await screenshot(browser, 'quectel-bluetooth.png');
  const device = await session.sim.get(`/_sim/devices/${bluetooth.id}`);
  assert.equal(device.firmware, TARGET);
});
