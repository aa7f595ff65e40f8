// Issue 9: the whole camera-update flow with the keyboard alone — no clicks. Tab to "Search devices", type
// part of a serial, Tab into the device grid and move to the camera with the arrow keys, Enter opens its
// details, Tab reaches "Update firmware", Enter starts it, Escape closes the details and focus goes back to
// the grid on the same row; Enter opens it again and the update is seen through to 100 %.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot } from '../lib/screenshot.mjs';
import { cameraUpdateSession } from '../lib/session.mjs';
import { rowFirmware, selectors, visibleDeviceIds, waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

// The camera-update set-up of vicohome-update: the 4x clock, so every phase is seen.
const session = cameraUpdateSession({ name: 'keyboard', cameras: 1 });

/** What has the keyboard focus, as far as these checks care. */
async function focused(browser) {
  return browser.execute(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { tag: 'body' };
    const descendant = el.getAttribute('aria-activedescendant');
    const activeRow = descendant ? document.getElementById(descendant) : null;
    return {
      tag: el.tagName.toLowerCase(),
      role: el.getAttribute('role'),
      label: el.getAttribute('aria-label'),
      text: (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40),
      disabled: el.disabled === true,
      activeRowDeviceId: activeRow?.getAttribute('data-device-id') ?? null,
      inDialog: el.closest('[role="dialog"]') !== null,
    };
  });
}

function describe(f) {
  if (f.tag === 'body') return 'body';
  return `${f.tag}${f.role ? `[role=${f.role}]` : ''}${f.label ? ` "${f.label}"` : f.text ? ` "${f.text}"` : ''}`;
}

/** Presses Tab until `wanted(focus)` holds; fails with the path focus took. */
async function tabTo(browser, wanted, what, { max = 20 } = {}) {
  const path = [describe(await focused(browser))];
  for (let i = 0; i < max; i += 1) {
    await browser.keys('Tab');
    const f = await focused(browser);
    path.push(describe(f));
    if (wanted(f)) return f;
  }
  throw new Error(`Tab never reached ${what} in ${max} presses; focus went: ${path.join(' → ')}`);
}

/** The shortest start of the camera's serial (3 characters at least: the search works on trigrams) that at most a few devices share. */
function serialStart(device, fleet) {
  const haystacks = (d) => [d.id, d.name, d.model].map((s) => String(s ?? '').toLowerCase());
  for (let length = 3; length <= device.id.length; length += 1) {
    const needle = device.id.slice(0, length).toLowerCase();
    const matches = fleet.filter((d) => haystacks(d).some((s) => s.includes(needle)));
    if (matches.length <= 4) return { fragment: device.id.slice(0, length), matches: matches.map((d) => d.id) };
  }
  return { fragment: device.id, matches: [device.id] };
}

async function progress(browser) {
  return browser.execute(() => {
    const group = document.querySelector('[role="dialog"] [role="group"][aria-label="Update progress"]');
    const bar = group?.querySelector('[role="progressbar"]');
    return group ? { text: group.textContent ?? '', value: Number(bar?.getAttribute('aria-valuenow')) } : null;
  });
}

async function dialogTitle(browser) {
  return browser.execute(() => {
    const dialog = document.querySelector('[role="dialog"]');
    if (!dialog) return null;
    const id = dialog.getAttribute('aria-labelledby');
    return (id ? document.getElementById(id)?.textContent : dialog.getAttribute('aria-label')) ?? '';
  });
}

async function waitForFocusOnGridRow(browser, deviceId, what) {
  let last = null;
  await browser.waitUntil(async () => {
    last = await focused(browser);
    return last.role === 'grid' && last.activeRowDeviceId === deviceId;
  }, { timeout: 5_000, interval: 100, timeoutMsg: `${what}: focus is not on the grid's row ${deviceId}` })
    .catch((error) => {
      throw new Error(`${error.message} (focus is on ${last ? describe(last) : '?'}, active row ${last?.activeRowDeviceId})`);
    });
}

test('a camera can be found, opened, updated and closed with the keyboard only', { timeout: 240_000 }, async () => {
  const { browser } = session.app;
  const { fleet, cameras: [camera] } = session.prepared;
  await waitForDeviceRows(browser);
  await waitForFreshness(browser, 'Live');

  // Tab from the top of the window to "Search devices" and type the start of the camera's serial.
  const search = await tabTo(browser, (f) => f.label === 'Search devices', '"Search devices"');
  assert.equal(search.tag, 'input');
  const { fragment, matches } = serialStart(camera, fleet);
  await browser.keys(fragment.split(''));
  await browser.waitUntil(async () => {
    const ids = await visibleDeviceIds(browser);
    return ids.length === matches.length && ids.every((id) => matches.includes(id));
  }, { timeout: 15_000, timeoutMsg: `typing "${fragment}" did not narrow the grid to ${matches.join(', ')}` });
  const typed = await browser.execute((s) => document.querySelector(s)?.value, selectors.search);
  assert.equal(typed, fragment, 'the search box holds what was typed');

  // Tab on into the grid: it takes focus as a whole and makes its first row the active one.
  const grid = await tabTo(browser, (f) => f.role === 'grid', 'the "Devices" grid', { max: 8 });
  assert.equal(grid.label, 'Devices');
  assert.ok(grid.activeRowDeviceId, 'focusing the grid makes a row active (aria-activedescendant)');

  // Arrow down to the camera's row (Home first, so the walk starts at the top whatever the order).
  await browser.keys('Home');
  const walked = [];
  for (let i = 0; i <= matches.length; i += 1) {
    const f = await focused(browser);
    walked.push(f.activeRowDeviceId);
    if (f.activeRowDeviceId === camera.id) break;
    await browser.keys('ArrowDown');
  }
  assert.equal(walked.at(-1), camera.id, `ArrowDown never reached ${camera.id}: ${walked.join(' → ')}`);
  if (walked.length > 1) {
    await browser.keys('ArrowUp');
    assert.equal((await focused(browser)).activeRowDeviceId, walked.at(-2), 'ArrowUp goes back one row');
    await browser.keys('ArrowDown');
    assert.equal((await focused(browser)).activeRowDeviceId, camera.id);
  }

  // Enter opens the details; focus moves into them.
  await browser.keys('Enter');
  await browser.waitUntil(async () => (await dialogTitle(browser)) === camera.name, {
    timeout: 10_000,
    timeoutMsg: `Enter did not open the details of ${camera.name}`,
  });
  await browser.waitUntil(async () => (await focused(browser)).inDialog, {
    timeout: 5_000,
    timeoutMsg: 'focus did not move into the details',
  });

  // Tab to "Update firmware" and start it with Enter.
  const update = await tabTo(browser, (f) => f.tag === 'button' && f.text === 'Update firmware', '"Update firmware"', { max: 10 });
  assert.ok(update.inDialog && !update.disabled);
  await browser.keys('Enter');
  const seen = [];
  await browser.waitUntil(async () => {
    const p = await progress(browser);
    if (p) seen.push(p.value);
    return p !== null && p.value > 0;
  }, { timeout: 60_000, interval: 200, timeoutMsg: 'Enter on "Update firmware" showed no progress' });
  await screenshot(browser, 'keyboard-update-started.png');

  // Escape closes the details (wherever focus is inside them) and puts focus back on the camera's row.
  await browser.keys('Escape');
  await browser.waitUntil(async () => (await dialogTitle(browser)) === null, {
    timeout: 5_000,
    timeoutMsg: `Escape did not close the details (focus on ${describe(await focused(browser))})`,
  });
  await waitForFocusOnGridRow(browser, camera.id, 'after Escape');

  // Enter on the same row opens it again: the running update is still shown, through to 100 %.
  await browser.keys('Enter');
  await browser.waitUntil(async () => (await dialogTitle(browser)) === camera.name, {
    timeout: 10_000,
    timeoutMsg: 'Enter did not reopen the details',
  });
  await browser.waitUntil(async () => {
    const p = await progress(browser);
    if (p) seen.push(p.value);
    return p !== null && p.value === 100;
  }, { timeout: 120_000, interval: 200, timeoutMsg: `the update never reached 100 % (saw ${seen.join(' ')})` });
  for (let i = 1; i < seen.length; i += 1) {
    assert.ok(seen[i] >= seen[i - 1], `progress ran backwards: ${seen.join(' ')}`);
  }
  await screenshot(browser, 'keyboard-update-done.png');

  await browser.keys('Escape');
  await browser.waitUntil(async () => (await dialogTitle(browser)) === null, {
    timeout: 5_000,
    timeoutMsg: 'Escape did not close the details the second time',
  });
  await waitForFocusOnGridRow(browser, camera.id, 'after the second Escape');
  await browser.waitUntil(async () => {
    const text = await rowFirmware(browser, camera.id);
    return text.trim().startsWith(camera.newest_firmware) && !text.includes('→');
  }, { timeout: 20_000, timeoutMsg: `the row did not show firmware ${camera.newest_firmware}` });
});
