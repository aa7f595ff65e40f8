// Issue 15, "files the window can name": the window passes no path to Rust. A file comes from a dialog Rust
// opens (answered here by the debug-build test hook, see lib/dialog.mjs) or from a one-time handle Rust
// issued, and whatever the dialog answers is checked like any file: a FIFO or a device is refused at once
// with the reason, an export never writes through a link, a handle works once, and the webview can neither
// open a dialog itself nor slip a path into a command.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { answerNextDialog, dialogEnv } from '../lib/dialog.mjs';
import { simAndApp } from '../lib/session.mjs';
import { openView, waitForText, waitGone } from '../lib/ui.mjs';

let dialogDir;
let outsideDir;
const PRECIOUS = 'ssh-ed25519 AAAA precious\n';
const DEVICE_LIST = '527776559,Pump 1\n527776560,Pump 2\n';

/** The dialog folder: a FIFO, a link to a device, a link out of the folder, and two plain files. */
function prepareDialogFolder() {
  dialogDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-e2e-dialog-'));
  outsideDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-e2e-outside-'));
  execFileSync('mkfifo', [path.join(dialogDir, 'pipe.bin')]);
  fs.symlinkSync('/dev/zero', path.join(dialogDir, 'zero.bin'));
  fs.writeFileSync(path.join(outsideDir, 'authorized_keys'), PRECIOUS);
  fs.symlinkSync(path.join(outsideDir, 'authorized_keys'), path.join(dialogDir, 'audit.csv'));
  fs.writeFileSync(path.join(dialogDir, 'fw.bin'), Buffer.alloc(4096, 3));
  fs.writeFileSync(path.join(dialogDir, 'pumps.csv'), DEVICE_LIST);
}

const session = simAndApp({
  sim: { devices: 20, seed: 9, timeScale: 20, name: 'files-sim' },
  app: () => ({ name: 'files', env: dialogEnv(dialogDir) }),
  prepare: prepareDialogFolder,
  cleanup: () => {
    for (const dir of [dialogDir, outsideDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  },
});

async function clickButton(browser, name, scope = 'body') {
  const button = await browser.$(scope).$(`button=${name}`);
  await button.waitForClickable({ timeout: 15_000 });
  await button.click();
}

/** Sets an input as typing does. */
async function type(browser, selector, value) {
  const input = await browser.$(selector);
  await input.waitForExist({ timeout: 10_000 });
  await browser.execute((el, newValue) => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, newValue);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, input, value);
}

/**
 * Calls a command from the page itself, as compromised page code could; answers {ok: true, value} or
 * {ok: false, message}. WebKitWebDriver reports a command's rejection during a script as the script's own
 * error (whatever the script catches), so the rejection's message is read from that error.
 */
async function invokeFromPage(browser, command, args) {
  try {
    return await browser.execute(async (name, payload) => {
      try {
        return { ok: true, value: await window.__TAURI_INTERNALS__.invoke(name, payload) };
      } catch (error) {
        return { ok: false, message: String(error?.message ?? error) };
      }
    }, command, args);
  } catch (error) {
    return { ok: false, message: String(error.message).replace(/ when running "execute\/sync".*$/s, '') };
  }
}

function libraryFiles(dataDir) {
  const dir = path.join(dataDir, 'firmware');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

test('add firmware refuses a FIFO and a device at once, with the reason in the form', { timeout: 90_000 }, async () => {
  const { app } = session;
  const { browser } = app;
  await openView(browser, 'Firmware');
  await clickButton(browser, 'Add firmware');
  const dialog = '[role="dialog"]';
  await browser.$(dialog).waitForDisplayed({ timeout: 10_000 });
  await type(browser, `${dialog} input[aria-label="Version"]`, '1.0.0');
  for (const [name, reason] of [['pipe.bin', /pipe\.bin is not a regular file/], ['zero.bin', /zero\.bin is not a regular file/]]) {
    answerNextDialog(dialogDir, name);
    await clickButton(browser, 'Choose file…', dialog);
    await browser.waitUntil(async () => (await browser.$(`${dialog} input[aria-label="Firmware file"]`).getValue()) === name, {
      timeout: 10_000,
      timeoutMsg: `${name} is named in the form`,
    });
    const started = Date.now();
    await clickButton(browser, 'Add to library', dialog);
    await waitForText(browser, `${dialog} [role="alert"]`, reason, 10_000);
    assert.ok(Date.now() - started < 10_000, 'refused at once, not after reading');
  }
  assert.deepEqual(libraryFiles(app.dataDir), [], 'nothing reached the library');
  await clickButton(browser, 'Close', dialog);
  await waitGone(browser, dialog);
});

test('an export to a link is refused and the file it points to is untouched', { timeout: 60_000 }, async () => {
  const { app } = session;
  const { browser } = app;
  await openView(browser, 'Audit log');
  await browser.$('table[aria-label="Audit log"]').waitForExist({ timeout: 20_000 });
  answerNextDialog(dialogDir, 'audit.csv');
  await clickButton(browser, 'Export CSV');
  await waitForText(browser, 'main [role="alert"]', /audit\.csv is a link; the export is not written through links/);
  assert.equal(fs.readFileSync(path.join(outsideDir, 'authorized_keys'), 'utf8'), PRECIOUS);
  assert.ok(fs.lstatSync(path.join(dialogDir, 'audit.csv')).isSymbolicLink(), 'the link is left as it was');
  assert.deepEqual(fs.readdirSync(outsideDir), ['authorized_keys'], 'nothing was written outside');
});

test('a device list is read by Rust from the file its dialog chose', { timeout: 60_000 }, async () => {
  const { app } = session;
  const { browser } = app;
  await openView(browser, 'Settings');
  answerNextDialog(dialogDir, 'pumps.csv');
  await clickButton(browser, 'Choose CSV file…');
  const list = await browser.$('form.import-form textarea');
  await browser.waitUntil(async () => (await list.getValue()) === DEVICE_LIST, {
    timeout: 10_000,
    timeoutMsg: 'the list holds the chosen file',
  });
  answerNextDialog(dialogDir, 'pipe.bin');
  await clickButton(browser, 'Choose CSV file…');
  await waitForText(browser, 'form.import-form [role="alert"]', /pipe\.bin is not a regular file/);
});

test('the page cannot aim at a file: no dialog of its own, no path in a command, a handle works once', { timeout: 60_000 }, async () => {
  const { app } = session;
  const { browser } = app;
  // The dialog plugin's own commands are not granted to the window.
  const opened = await invokeFromPage(browser, 'plugin:dialog|open', { options: {} });
  assert.equal(opened.ok, false, `the page opened a dialog itself: ${JSON.stringify(opened)}`);
  assert.match(opened.message, /dialog\.open not allowed/);

  // A path where a handle belongs is refused; so is a made-up handle.
  for (const file of ['/etc/hostname', path.join(dialogDir, 'fw.bin'), '0'.repeat(32)]) {
    const added = await invokeFromPage(browser, 'add_firmware', { file, firmware: { version: '1.0.0', cloud: 'vicohome' } });
    assert.equal(added.ok, false, `${file} was accepted`);
    assert.match(added.message, /no longer at hand/);
  }

  // A path slipped into the export is ignored: the export goes where the (here: closed) dialog says.
  const target = path.join(outsideDir, 'owned.csv');
  const exported = await invokeFromPage(browser, 'export_audit', { query: { limit: 0 }, format: 'csv', path: target });
  assert.deepEqual(exported, { ok: true, value: null });
  assert.equal(fs.existsSync(target), false);

  // A handle Rust issued works once.
  answerNextDialog(dialogDir, 'fw.bin');
  const chosen = await invokeFromPage(browser, 'choose_firmware_file', {});
  assert.equal(chosen.ok, true, JSON.stringify(chosen));
  assert.equal(chosen.value.fileName, 'fw.bin');
  const details = { version: '3.1.4', cloud: 'vicohome' };
  const first = await invokeFromPage(browser, 'add_firmware', { file: chosen.value.handle, firmware: details });
  assert.equal(first.ok, true, JSON.stringify(first));
  assert.equal(first.value.entry.fileName, 'fw.bin');
  const again = await invokeFromPage(browser, 'add_firmware', { file: chosen.value.handle, firmware: details });
  assert.equal(again.ok, false, 'a handle used twice');
  assert.match(again.message, /no longer at hand/);
  assert.equal(libraryFiles(app.dataDir).length, 1, 'one package in the library');
});
