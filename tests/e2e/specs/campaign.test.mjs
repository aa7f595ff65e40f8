// Issue 6 in the real window: add a firmware file to the library (chosen in the file dialog Rust opens),
// publish it to the sandbox, check and create a small campaign, start it and watch the dashboard reach
// "Completed"; then the window's Export CSV (to where the save dialog says) and `otactl audit export
// --format csv` on the same data folder list every action the test took.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { answerNextDialog, dialogEnv, dialogQuestions } from '../lib/dialog.mjs';
import { otactlBinary } from '../lib/paths.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { choose, clickButton, control, fill } from '../lib/form.mjs';
import { simAndApp, timeScaleEnv } from '../lib/session.mjs';
import { openView, textOf, waitForText, waitGone } from '../lib/ui.mjs';

// 20x: a camera update (about 23 s simulated) takes about a second.
const TIME_SCALE = 20;
const VERSION = '7.7.7';
let model;
let cameras;
let packageDir;
let packagePath;

const session = simAndApp({
  sim: { devices: 40, seed: 42, timeScale: TIME_SCALE, name: 'campaign-sim' },
  // The file dialogs answer from the package's folder (a debug-build test hook; see lib/dialog.mjs), which
  // `prepare` makes.
  app: () => ({ name: 'campaign', env: { ...timeScaleEnv(TIME_SCALE), ...dialogEnv(packageDir) } }),
  prepare: async (sim) => {
    const fleet = await sim.devices();
    const byModel = new Map();
    for (const d of fleet.filter((d) => d.cloud === 'vicohome')) {
      byModel.set(d.model, [...(byModel.get(d.model) ?? []), d]);
    }
    [model, cameras] = [...byModel.entries()].sort((a, b) => b[1].length - a[1].length)[0];
    assert.ok(cameras.length >= 2, `a camera model with at least two cameras (${model}: ${cameras.length})`);
    // Every camera of the model can take it: online and charged.
    await sim.readyForUpdate(cameras);
    packageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-e2e-fw-'));
    packagePath = path.join(packageDir, `camera-${VERSION}.bin`);
    fs.writeFileSync(packagePath, Buffer.alloc(96 * 1024, 7));
  },
  cleanup: () => {
    if (packageDir) fs.rmSync(packageDir, { recursive: true, force: true });
  },
});

test('a firmware file goes from the library to a completed campaign, and every action is audited', { timeout: 300_000 }, async () => {
  const { app, sim } = session;
  const { browser } = app;

  // Library: choose the file in the file dialog (Rust's; answered by the test hook).
  await openView(browser, 'Firmware');
  await clickButton(browser, 'Add firmware');
  const dialog = '[role="dialog"]';
  await browser.$(dialog).waitForDisplayed({ timeout: 10_000 });
  answerNextDialog(packageDir, path.basename(packagePath));
  await clickButton(browser, 'Choose file…', dialog);
  const chosenFile = await control(browser, 'Firmware file', dialog);
  await browser.waitUntil(async () => (await chosenFile.getValue()) === path.basename(packagePath), {
    timeout: 15_000,
    timeoutMsg: 'the chosen file is named in the form',
  });
  await fill(browser, 'Version', VERSION, dialog);
  await choose(browser, 'Cloud', { value: 'vicohome' }, dialog);
  await fill(browser, 'Model (optional)', model, dialog);
  await clickButton(browser, 'Add to library', dialog);
  const fileName = path.basename(packagePath);
  await waitForText(browser, `${dialog} [role="status"]`, /^Added /);
  await clickButton(browser, 'Close', dialog);
  await waitGone(browser, dialog);
  await waitForText(browser, 'table[aria-label="Firmware library"]', new RegExp(fileName.replaceAll('.', '\\.')));

  // Publish it to the sandbox Vicohome account.
  await clickButton(browser, `Publish ${fileName} ${VERSION}`);
  await browser.$(dialog).waitForDisplayed({ timeout: 10_000 });
  await choose(browser, 'Account', { text: 'Sandbox' }, dialog);
  await clickButton(browser, 'Publish', dialog);
  await waitForText(browser, `${dialog} [role="status"]`, /offered to \d+ cameras/);
  await clickButton(browser, 'Close', dialog);
  await waitGone(browser, dialog);
  await waitForText(browser, 'table[aria-label="Firmware library"]', /Sandbox Vicohome: offered to/);
  await screenshot(browser, 'firmware-published.png');

  // Campaign: every camera of the model, one wave.
  await openView(browser, 'Campaigns');
  await clickButton(browser, 'New campaign');
  await fill(browser, 'Campaign name', `${model} to ${VERSION}`);
  await choose(browser, 'Firmware', { text: VERSION });
  await fill(browser, 'Waves (%)', '100');
  await fill(browser, 'Search devices', model);
  await clickButton(browser, 'Check devices');
  const preflight = await waitForText(browser, '[aria-label="Pre-flight check"]', new RegExp(`${cameras.length} of \\d+`));
  assert.ok(preflight.includes(`${cameras.length} of`), preflight);
  await screenshot(browser, 'campaign-preflight.png');
  await clickButton(browser, 'Create campaign');

  const state = '[role="status"][aria-label="Campaign state"]';
  await waitForText(browser, state, /^Ready$/);
  await clickButton(browser, 'Start campaign');
  await waitForText(browser, state, /^(Running|Completed)$/);
  await waitForText(browser, state, /^Completed$/, 120_000);
  const page = await textOf(browser, 'main');
  assert.ok(page.includes(`${cameras.length}`), page);
  await screenshot(browser, 'campaign-dashboard.png', { docs: true });

  // The simulator's own record: each camera started once, and each runs the new version.
  const starts = await sim.get('/_sim/starts');
  for (const camera of cameras) assert.equal(starts.vicohome[camera.id], 1, `${camera.id} started once`);
  const fleet = await sim.devices();
  for (const camera of cameras) {
    assert.equal(fleet.find((d) => d.id === camera.id).firmware, VERSION, `${camera.id} runs ${VERSION}`);
  }

  // The window's audit log lists the same story, newest first.
  await openView(browser, 'Audit log');
  await waitForText(browser, 'table[aria-label="Audit log"]', /campaign\.complete/);
  await screenshot(browser, 'audit-log.png', { docs: true });
  // Export CSV writes where the save dialog (Rust's) says, proposing a dated name.
  answerNextDialog(packageDir, 'window-export.csv');
  await clickButton(browser, 'Export CSV');
  await waitForText(browser, 'main [role="status"].success-note', /entries exported to .*window-export\.csv$/);
  const exported = fs.readFileSync(path.join(packageDir, 'window-export.csv'), 'utf8');
  assert.ok(exported.startsWith('id,time,unix_ms,actor,action,cloud,target,result,detail'), exported.slice(0, 200));
  assert.ok(exported.includes(`,firmware.add,vicohome,${path.basename(packagePath)} ${VERSION},ok,`), 'the add is audited by file name');
  assert.ok(!exported.includes(packageDir), 'no path of the package in the audit log');
  const saveQuestion = dialogQuestions(packageDir).find((q) => q.purpose === 'save');
  assert.match(saveQuestion?.fileName ?? '', /^ota-console-audit-\d{4}-\d{2}-\d{2}\.csv$/);
  // The library entry now counts the campaign that used it.
  await openView(browser, 'Firmware');
  await waitForText(browser, 'table[aria-label="Firmware library"]', /offered to/);
  await screenshot(browser, 'firmware-library.png', { docs: true });

  // Done-when 4: the CLI's CSV export lists every action of this test.
  const csv = execFileSync(otactlBinary(), ['--data-dir', app.dataDir, 'audit', 'export', '--format', 'csv'], {
    encoding: 'utf8',
  });
  for (const action of ['firmware.add', 'firmware.publish', 'campaign.create', 'campaign.start', 'campaign.complete']) {
    assert.ok(csv.includes(`,${action},`), `${action} is in the export`);
  }
  for (const camera of cameras) {
    assert.ok(
      csv.split('\n').some((line) => line.includes(',campaign.device.start,') && line.includes(camera.id)),
      `the start of ${camera.id} is in the export`,
    );
  }
});
