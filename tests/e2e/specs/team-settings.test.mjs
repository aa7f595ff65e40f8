// Issue 16 (team mode), the window side: Settings → Team database says this desk works on its own data and
// that it answers; Settings → Webhooks adds a webhook pointing at a receiver on 127.0.0.1 (its signing secret
// typed in the form), lists it with its events, shows its (empty) delivery log, and removes it after a
// confirmation. A window told to use a team database that cannot be reached still opens, on this desk's own
// data, and says why (in the header and in Settings).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { launchApp, removeDataDir } from '../lib/app.mjs';
import { freePort } from '../lib/processes.mjs';
import { clickButton, control, fill } from '../lib/form.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { simAndApp } from '../lib/session.mjs';
import { openView, textOf, waitForDeviceRows, waitForText, waitGone } from '../lib/ui.mjs';

const teamSection = 'section[aria-labelledby="settings-team"]';
const webhooksSection = 'section[aria-labelledby="settings-webhooks"]';
const webhookForm = 'form.webhook-form';
const webhooksTable = 'table[aria-label="Webhooks"]';
const SECRET = 'e2e-webhook-signing-secret-7f3a';

const session = simAndApp({
  sim: { devices: 30, seed: 16, timeScale: 1, name: 'team-settings-ota-sim' },
  app: { name: 'team-settings' },
});

/** A webhook receiver on 127.0.0.1 that answers 204 and keeps what it was sent. */
const receiver = { server: null, url: null, requests: [] };
before(async () => {
  receiver.server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      receiver.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${receiver.server.address().port}/ota-events`;
});
after(async () => {
  await new Promise((resolve) => receiver.server?.close(resolve) ?? resolve());
});

/** The data-webhook-id and text of every row of the webhooks table. */
async function webhookRows(browser) {
  return browser.execute(
    (selector) => Array.from(document.querySelectorAll(`${selector} tbody tr`), (row) => ({
      id: row.getAttribute('data-webhook-id'),
      text: row.textContent.replace(/\s+/g, ' ').trim(),
    })),
    webhooksTable,
  );
}

test('Settings shows this desk\'s own data as live, and adds, lists and removes a webhook', { timeout: 180_000 }, async () => {
  const { browser } = session.app;
  await waitForDeviceRows(browser);
  await openView(browser, 'Settings');

  // Team database: this desk's own file, answering.
  await browser.$(teamSection).waitForDisplayed({ timeout: 30_000 });
  await waitForText(browser, `${teamSection} dd[data-team-mode]`, /^This desk's own data$/);
  await waitForText(browser, `${teamSection} [role="status"][aria-label="Database state"]`, /^Live$/);
  const location = await textOf(browser, `${teamSection} dd.mono`);
  assert.ok(location.startsWith(session.app.dataDir), `the location is the desk's file in its data folder: ${location}`);
  assert.equal(await textOf(browser, '[aria-label="Team database notice"]'), null, 'no fallback notice in the header');
  for (const label of ['Database URL', 'Database password']) {
    assert.ok(await (await control(browser, label, teamSection)).isExisting(), `"${label}" is there`);
  }
  assert.equal(await (await control(browser, 'Database password', teamSection)).getAttribute('type'), 'password');

  // Webhooks: none yet.
  await browser.$(webhooksSection).scrollIntoView();
  await waitForText(browser, `${webhooksSection} .empty-note`, /^No webhooks yet\.$/);
  assert.equal(await (await control(browser, 'Events', webhookForm)).getValue(), 'campaign.*', 'all campaign events by default');
  assert.equal(await (await control(browser, 'Signing secret', webhookForm)).getAttribute('type'), 'password');

  // The form checks what it can before asking Rust.
  await fill(browser, 'Webhook URL', receiver.url, webhookForm);
  await clickButton(browser, 'Add webhook', webhookForm);
  await waitForText(browser, `${webhookForm} [role="alert"]`, /Give a signing secret/);

  await fill(browser, 'Signing secret', SECRET, webhookForm);
  await clickButton(browser, 'Add webhook', webhookForm);
  await waitForText(browser, `${webhookForm} .success-note`, new RegExp(`^Webhook ${receiver.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} added\\.$`));
  assert.equal(await (await control(browser, 'Signing secret', webhookForm)).getValue(), '', 'the secret leaves the form');

  await browser.waitUntil(async () => (await webhookRows(browser)).length === 1, {
    timeout: 15_000,
    timeoutMsg: 'the new webhook is not listed',
  });
  const [row] = await webhookRows(browser);
  assert.ok(row.text.includes(receiver.url), `the row shows the URL: ${row.text}`);
  assert.ok(row.text.includes('campaign.*'), `the row shows its events: ${row.text}`);
  assert.ok(row.text.includes('Nothing sent yet'), `nothing was delivered yet: ${row.text}`);
  assert.ok(!row.text.includes(SECRET), 'the secret is never listed');
  await waitForText(browser, `${webhooksSection} .webhook-deliveries h4`, new RegExp(`^Deliveries to `));
  await waitForText(browser, `${webhooksSection} .webhook-deliveries .empty-note`, /^No delivery attempts yet\.$/);
  const page = await browser.execute(() => document.body.textContent);
  assert.ok(!page.includes(SECRET), 'the secret is nowhere in the window');
  await screenshot(browser, 'settings-webhooks.png');

  // Removing asks first.
  await clickButton(browser, `Remove webhook ${receiver.url}`, webhooksTable);
  await browser.$('[role="alertdialog"]').waitForDisplayed({ timeout: 10_000 });
  await clickButton(browser, 'Remove webhook', '[role="alertdialog"]');
  await waitGone(browser, '[role="alertdialog"]');
  await waitForText(browser, `${webhooksSection} .empty-note`, /^No webhooks yet\.$/);
  // Nothing happened that a webhook is told about (no campaign ran).
  assert.deepEqual(receiver.requests, []);
});

test('a team database that cannot be reached at start leaves the window on this desk\'s own data, saying why', { timeout: 180_000 }, async () => {
  // Nothing listens there: the connection is refused at once.
  const port = await freePort();
  const teamUrl = `postgres://ota@127.0.0.1:${port}/ota_team`;
  const app = await launchApp({
    simUrl: session.sim.url,
    name: 'team-settings-fallback',
    env: { OTA_CONSOLE_DATABASE_URL: teamUrl },
  });
  try {
    const { browser } = app;
    await waitForDeviceRows(browser);
    const notice = await waitForText(browser, '[aria-label="Team database notice"]', /^Team database unreachable/);
    assert.equal(notice, 'Team database unreachable — using this desk\'s own data');
    await openView(browser, 'Settings');
    await browser.$(teamSection).waitForDisplayed({ timeout: 30_000 });
    await waitForText(browser, `${teamSection} dd[data-team-mode]`, /^This desk's own data$/);
    await waitForText(browser, `${teamSection} [role="status"][aria-label="Database state"]`, /^Live$/);
    const section = await textOf(browser, teamSection);
    assert.ok(section.includes('Named by OTA_CONSOLE_DATABASE_URL'), section);
    assert.ok(section.includes(`Team database unreachable:`), section);
    assert.ok(section.includes(`127.0.0.1:${port}`), `the reason names the database: ${section}`);
    assert.ok(section.includes('using this desk\'s own data'), section);
    assert.ok(section.includes(`OTA_CONSOLE_DATABASE_URL is set for this app (${teamUrl})`), section);
    assert.ok(await browser.$(teamSection).$("button=Restart now").isExisting(), "a restart is offered");
    await browser.$(teamSection).scrollIntoView();
    await screenshot(browser, 'settings-team-database-fallback.png');
  } finally {
    await app.close();
    removeDataDir(app.dataDir);
  }
});
