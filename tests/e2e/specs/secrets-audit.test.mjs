// Issue 8: secrets never leave the keychain. Real-looking credentials are added through Settings (a
// Vicohome password and a OneNET access key that the simulator accepts), the fleet is refreshed and a
// OneNET check is made with them; then every IPC answer, event and channel message the window received,
// the data folder (SQLite database, WAL, logs) and the driver's captured output are searched for each
// secret. None may appear.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { logsDir } from '../lib/paths.mjs';
import { simAndApp } from '../lib/session.mjs';
import { waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

const session = simAndApp({
  sim: { devices: 60, seed: 17, timeScale: 1, name: 'secrets-ota-sim' },
  app: { name: 'secrets' },
  // The simulator's credentials: real-looking secrets it accepts.
  prepare: (sim) => sim.accounts(),
});

/** Records every command answer and every callback payload (events, channels) from now on. */
/**
 * Records every IPC answer from now on. Tauri's `invoke` cannot be replaced (its property is frozen), so
 * the recorder sits on the transport underneath: on Linux commands travel as `fetch` requests to the
 * `ipc://` custom protocol; the answer bodies (JSON results, errors, channel payloads fetched by id) are
 * kept as text.
 */
async function recordIpc(browser) {
  return browser.execute(() => {
    window.__ipcRecord = [];
    const original = window.fetch.bind(window);
    window.fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input.url;
      const response = await original(input, init);
      if (url.startsWith('ipc:') || url.includes('ipc.localhost')) {
        response
          .clone()
          .text()
          .then((text) => window.__ipcRecord.push(`${url} -> ${text}`))
          .catch(() => window.__ipcRecord.push(`${url} -> (unreadable)`));
      }
      return response;
    };
    return { fetchReplaced: window.fetch !== original };
  });
}

async function fillField(browser, label, value) {
  const input = await browser.$(`//label[span[normalize-space()="${label}"]]//input`);
  await input.waitForDisplayed();
  await input.setValue(value);
}

async function addAccount(browser, { cloud, name, baseUrl, user, userLabel, secret, secretLabel }) {
  const select = await browser.$('select[aria-label="Cloud"]');
  await select.selectByAttribute('value', cloud);
  await fillField(browser, 'Account name', name);
  await fillField(browser, 'Base URL', baseUrl);
  await fillField(browser, userLabel, user);
  await fillField(browser, secretLabel, secret);
  await (await browser.$('form.account-form button[type="submit"]')).click();
  await browser.waitUntil(
    async () => (await browser.execute(() => document.querySelector('.success-note')?.textContent ?? '')).includes(name),
    { timeout: 30_000, timeoutMsg: `"${name}" was not added` },
  );
}

function filesUnder(dir) {
  const found = [];
  const stack = [dir];
  while (stack.length) {
    const current = stack.pop();
    if (!fs.existsSync(current)) continue;
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else found.push(full);
    }
  }
  return found;
}

test('no secret appears in IPC traffic, the data folder, the database or the logs', { timeout: 240_000 }, async () => {
  const { app, sim, prepared: accounts } = session;
  const { browser } = app;
  await waitForDeviceRows(browser);
  await waitForFreshness(browser, 'Live');
  const installed = await recordIpc(browser);
  console.log('recorder', JSON.stringify(installed));

  const password = accounts.vicohome.password;
  const product = accounts.onenet.products[0];
  const secrets = { 'Vicohome password': password, 'OneNET access key': product.access_key };
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(typeof value === 'string' && value.length >= 8, `${what} is a real-looking secret`);
  }

  await (await browser.$('nav[aria-label="Main"]')).$('button*=Settings').then((b) => b.click());
  await addAccount(browser, {
    cloud: 'vicohome', name: 'Field Vicohome', baseUrl: sim.url,
    userLabel: 'E-mail', user: accounts.vicohome.email, secretLabel: 'Password', secret: password,
  });
  await addAccount(browser, {
    cloud: 'onenet', name: 'Field OneNET', baseUrl: sim.url,
    userLabel: 'Product ID', user: product.product_id, secretLabel: 'Access key', secret: product.access_key,
  });

  // Use both: refresh the fleet (signs in to Vicohome, signs OneNET tokens) and check a OneNET device.
  await (await browser.$('nav[aria-label="Main"]')).$('button*=Devices').then((b) => b.click());
  await (await browser.$('[aria-label="Refresh devices"]')).click();
  await waitForFreshness(browser, 'Live');
  const fleet = await sim.devices();
  const onenetDevice = fleet.find((d) => d.cloud === 'onenet' && d.product_key === product.product_id);
  const checked = await browser.executeAsync((devId, done) => {
    window.__TAURI_INTERNALS__
      .invoke('onenet_check', { devId, taskType: 'application' })
      .then((answer) => done(JSON.stringify(answer)), (error) => done(`error ${JSON.stringify(error)}`));
  }, onenetDevice.id);
  assert.ok(!checked.startsWith('error'), `the OneNET check worked: ${checked}`);

  const record = await browser.execute(() => window.__ipcRecord.join('\n'));
  assert.ok(record.includes('/add_account ->'), `the IPC traffic was captured: ${record.slice(0, 600)}`);
  assert.ok(record.length > 1000, `enough traffic was captured (${record.length} characters)`);
  const addCalls = record.split('\n').filter((line) => line.includes('/add_account ->'));
  assert.equal(addCalls.length, 2);

  await app.close();
  const places = [...filesUnder(app.dataDir), ...filesUnder(logsDir).filter((f) => f.includes('secrets'))];
  assert.ok(places.some((f) => f.endsWith('.sqlite3')), 'the database was searched');
  assert.ok(places.some((f) => f.endsWith('ota-console.log')), 'the log was searched');
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(!record.includes(value), `${what} appeared in the IPC traffic`);
    for (const file of places) {
      const bytes = fs.readFileSync(file);
      assert.ok(!bytes.includes(Buffer.from(value)), `${what} appeared in ${file}`);
    }
  }
});
