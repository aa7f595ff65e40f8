// Smoke test of the Linux installer (run by `cargo xtask bundle`, or: OTA_SMOKE_DEB=path/to.deb npm run smoke).
// The .deb is unpacked with `dpkg-deb -x` into a temp folder — no root, no container — its metadata and files
// are checked, and the unpacked binary is started in sandbox mode (its built-in simulator, a fresh data
// folder) under tauri-driver: the window must come up and the device grid fill with the simulated fleet.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchApp, removeDataDir } from '../lib/app.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { selectors, textOf, waitForDeviceRows, waitForFreshness } from '../lib/ui.mjs';

const deb = process.env.OTA_SMOKE_DEB ? path.resolve(process.env.OTA_SMOKE_DEB) : null;
let root;
let app;

before(() => {
  assert.ok(deb, 'OTA_SMOKE_DEB names the .deb to test (cargo xtask bundle sets it)');
  assert.ok(fs.existsSync(deb), `${deb} does not exist`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-smoke-deb-'));
  execFileSync('dpkg-deb', ['-x', deb, root]);
});

after(async () => {
  await app?.close();
  removeDataDir(app?.dataDir);
  if (root) fs.rmSync(root, { recursive: true, force: true });
}, { timeout: 60_000 });

function field(name) {
  return execFileSync('dpkg-deb', ['--field', deb, name], { encoding: 'utf8' }).trim();
}

/** The installed .desktop entry: its path and its key=value pairs. */
function desktopEntry() {
  const dir = path.join(root, 'usr', 'share', 'applications');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.desktop')) : [];
  assert.equal(files.length, 1, `one .desktop file in usr/share/applications (found: ${files.join(', ') || 'none'})`);
  const file = path.join(dir, files[0]);
  const entries = Object.fromEntries(
    fs.readFileSync(file, 'utf8').split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { file, entries };
}

/** The binary the menu entry starts, inside the unpacked tree. */
function installedBinary() {
  const { entries } = desktopEntry();
  const program = entries.Exec.split(/\s+/)[0];
  return path.join(root, 'usr', 'bin', path.basename(program));
}

test('the package says what it is and what it needs', () => {
  assert.equal(field('Package'), 'ota-console');
  assert.match(field('Version'), /^\d+\.\d+\.\d+/);
  assert.equal(field('Architecture'), 'amd64');
  const depends = field('Depends').split(',').map((d) => d.trim());
  for (const needed of ['libwebkit2gtk-4.1-0', 'libgtk-3-0', 'libdbus-1-3']) {
    assert.ok(depends.includes(needed), `Depends names ${needed}: ${depends.join(', ')}`);
  }
  assert.equal(new Set(depends).size, depends.length, `Depends names each package once: ${depends.join(', ')}`);
  assert.ok(field('Recommends').includes('gnome-keyring'), 'Recommends gnome-keyring (the Secret Service)');
  assert.ok(field('Description').includes('Firmware updates over the air'), 'the description is the app\'s');
});

test('it installs a menu entry, icons and a binary whose libraries all resolve', () => {
  const { entries } = desktopEntry();
  assert.equal(entries.Name, 'OTA Console');
  assert.equal(entries.Type, 'Application');
  const icons = path.join(root, 'usr', 'share', 'icons', 'hicolor');
  const iconFiles = fs.readdirSync(icons, { recursive: true }).filter((f) => f.endsWith(`${entries.Icon}.png`));
  assert.ok(iconFiles.length >= 2, `icons named ${entries.Icon} in several sizes: ${iconFiles.join(', ')}`);

  const binary = installedBinary();
  assert.ok(fs.existsSync(binary), `${binary} exists`);
  fs.accessSync(binary, fs.constants.X_OK);
  const ldd = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const missing = ldd.split('\n').filter((line) => line.includes('not found'));
  assert.deepEqual(missing, [], 'every shared library the binary needs is on this system');
});

test('the installed app starts in sandbox mode and shows the device grid', { timeout: 180_000 }, async () => {
  // No OTA_CONSOLE_SIM_URL: the app starts its own simulator, as on a user's first run.
  app = await launchApp({ application: installedBinary(), name: 'smoke-deb', env: { OTA_CONSOLE_SIM_DEVICES: '80' } });
  const { browser } = app;
  const title = await browser.getTitle();
  assert.equal(title, 'OTA Console');
  const ids = await waitForDeviceRows(browser, { timeout: 60_000 });
  assert.ok(ids.length > 0);
  await waitForFreshness(browser, 'Live', { timeout: 60_000 });
  assert.equal(await textOf(browser, '.sandbox-badge'), 'Sandbox');
  let count = '';
  await browser.waitUntil(async () => {
    count = await textOf(browser, selectors.deviceCount);
    return count === '80 devices';
  }, { timeout: 30_000, timeoutMsg: 'the device count did not reach the 80 simulated devices' })
    .catch((error) => {
      throw new Error(`${error.message} (it says "${count}")`);
    });
  await screenshot(browser, 'smoke-deb.png');

  const log = fs.readFileSync(path.join(app.dataDir, 'logs', 'ota-console.log'), 'utf8');
  assert.ok(log.includes('starting OTA Console'), 'the app logged its start into the data folder');
  assert.ok(log.includes('sandbox ready'), 'the app logged that the sandbox simulator is attached');
});
