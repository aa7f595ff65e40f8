// Issue 17 in the real window: tick the cameras of one model, save them as a cohort, run a campaign on the
// cohort with a manual gate, approve its second wave with the dashboard's button, and watch the Fleet
// view's version counts move to the new firmware. The firmware is added and published with `otactl` on the
// same data folder before the window opens (the library flow itself is the campaign spec's).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freshDataDir } from '../lib/app.mjs';
import { choose, clickButton, fill } from '../lib/form.mjs';
import { otactlBinary } from '../lib/paths.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { simAndApp, timeScaleEnv } from '../lib/session.mjs';
import { openView, searchDevices, selectors, textOf, visibleDeviceIds, waitForText } from '../lib/ui.mjs';

// 20x: a camera update (about 23 s simulated) takes about a second.
const TIME_SCALE = 20;
const VERSION = '8.8.8';
const COHORT = 'Pilot cameras';
let model;
let cameras;
let dataDir;
let packageDir;

function otactl(simUrl, ...args) {
  return execFileSync(otactlBinary(), ['--data-dir', dataDir, '--sim-url', simUrl, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...timeScaleEnv(TIME_SCALE) },
  });
}

const session = simAndApp({
  sim: { devices: 40, seed: 42, timeScale: TIME_SCALE, name: 'release-rules-sim' },
  app: () => ({ name: 'release-rules', dataDir, env: timeScaleEnv(TIME_SCALE) }),
  prepare: async (sim) => {
    const fleet = await sim.devices();
    const byModel = new Map();
    for (const d of fleet.filter((d) => d.cloud === 'vicohome')) byModel.set(d.model, [...(byModel.get(d.model) ?? []), d]);
    [model, cameras] = [...byModel.entries()].sort((a, b) => b[1].length - a[1].length)[0];
    assert.ok(cameras.length >= 4, `a camera model with at least four cameras (${model}: ${cameras.length})`);
    await sim.readyForUpdate(cameras);
    dataDir = freshDataDir('release-rules');
    packageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-e2e-release-'));
    const file = path.join(packageDir, `camera-${VERSION}.bin`);
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 3));
    otactl(sim.url, 'firmware', 'add', file, '--version', VERSION, '--cloud', 'vicohome', '--model', model);
    const entry = JSON.parse(otactl(sim.url, 'firmware', 'list', '--json')).find((e) => e.version === VERSION);
    otactl(sim.url, 'firmware', 'publish', String(entry.id));
  },
  cleanup: () => {
    if (packageDir) fs.rmSync(packageDir, { recursive: true, force: true });
  },
});

/** The rows of the Fleet view's "Versions of MODEL" table: { version: devices }. */
async function versionCounts(browser) {
  return browser.execute((label) => {
    const table = document.querySelector(`table[aria-label="${label}"]`);
    if (!table) return null;
    return Object.fromEntries(
      Array.from(table.querySelectorAll('tbody tr'), (row) => [row.dataset.version, Number(row.querySelector('td').textContent)]),
    );
  }, `Versions of ${model}`);
}

async function waitForVersionCounts(browser, accept, what) {
  let counts = null;
  await browser.waitUntil(async () => {
    counts = await versionCounts(browser);
    return counts !== null && accept(counts);
  }, { timeout: 60_000, interval: 500 }).catch(async () => {
    const page = await textOf(browser, 'main');
    throw new Error(`the Fleet view never showed ${what} (its table: ${JSON.stringify(counts)}; the view: "${page}")`);
  });
  return counts;
}

/** Starts of the model's cameras in the simulator's record. */
async function startsOf(sim) {
  const starts = await sim.get('/_sim/starts');
  return cameras.reduce((n, camera) => n + (starts.vicohome?.[camera.id] ?? 0), 0);
}

test('a cohort saved from a selection runs a manually gated campaign, and the Fleet view counts the new version', { timeout: 300_000 }, async () => {
  const { app, sim } = session;
  const { browser } = app;

  // The Fleet view before: nobody runs the new version yet.
  await openView(browser, 'Fleet');
  const before = await waitForVersionCounts(browser, (c) => Object.keys(c).length > 0, `the versions of ${model}`);
  assert.equal(before[VERSION] ?? 0, 0, JSON.stringify(before));
  const total = Object.values(before).reduce((a, b) => a + b, 0);
  assert.equal(total, cameras.length, `every ${model} camera is counted once: ${JSON.stringify(before)}`);

  // Devices: the model's cameras, all ticked, saved as a cohort.
  await openView(browser, 'Devices');
  await choose(browser, 'Filter by cloud', { value: 'vicohome' });
  await searchDevices(browser, model);
  await browser.waitUntil(async () => {
    const ids = await visibleDeviceIds(browser);
    return ids.length === cameras.length && cameras.every((c) => ids.includes(c.id));
  }, { timeout: 20_000, timeoutMsg: `the list shows exactly the ${cameras.length} ${model} cameras` });
  await browser.$(`${selectors.deviceGrid} [aria-label="Select all shown"]`).click();
  await waitForText(browser, '.selection-count', new RegExp(`^${cameras.length} selected$`));
  await fill(browser, 'Cohort name', COHORT);
  await clickButton(browser, `Save ${cameras.length} as cohort`);
  await waitForText(browser, '[role="group"][aria-label="Group the selection"] [role="status"]', new RegExp(`Saved cohort .${COHORT}. \\(${cameras.length} devices\\)`));
  await screenshot(browser, 'cohort-saved.png');

  // Campaigns: the cohort, two waves, the second behind a manual gate.
  await openView(browser, 'Campaigns');
  await clickButton(browser, 'New campaign');
  await fill(browser, 'Campaign name', `${COHORT} to ${VERSION}`);
  await choose(browser, 'Firmware', { text: VERSION });
  await choose(browser, 'Target', { value: 'cohort' });
  await choose(browser, 'Cohort', { text: COHORT });
  await fill(browser, 'Waves (%)', '50, 100');
  await choose(browser, 'Next wave', { value: 'manual' });
  await clickButton(browser, 'Check devices');
  await waitForText(browser, '[aria-label="Pre-flight check"]', new RegExp(`${cameras.length} of ${cameras.length}`));
  await clickButton(browser, 'Create campaign');

  const state = '[role="status"][aria-label="Campaign state"]';
  const waiting = '[role="status"][aria-label="What the campaign waits for"]';
  await waitForText(browser, state, /^Ready$/);
  assert.match(await textOf(browser, '[aria-label="Campaign rules"]'), /manual gate/);
  await clickButton(browser, 'Start campaign');
  // Wave 1 finishes, then the campaign holds: wave 2 waits for the button, and nothing of it starts.
  await waitForText(browser, waiting, /^Wave 2 waits for approval \(manual gate\)\.$/, 90_000);
  const firstWave = Math.ceil(cameras.length * 0.5);
  assert.equal(await startsOf(sim), firstWave, 'only the first wave started before the approval');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.equal(await startsOf(sim), firstWave, 'still only the first wave while the gate is closed');
  assert.match(await textOf(browser, state), /^Running$/);
  await screenshot(browser, 'campaign-manual-gate.png', { docs: true });

  await clickButton(browser, 'Approve next wave');
  await waitForText(browser, state, /^Completed$/, 120_000);
  assert.equal(await startsOf(sim), cameras.length, 'every camera of the cohort started exactly once');
  const starts = await sim.get('/_sim/starts');
  for (const camera of cameras) assert.equal(starts.vicohome[camera.id], 1, `${camera.id} started once`);

  // The Fleet view after: the whole model runs the new version, without a manual refresh.
  await openView(browser, 'Fleet');
  const after = await waitForVersionCounts(browser, (c) => c[VERSION] === cameras.length, `${cameras.length} devices on ${VERSION}`);
  assert.deepEqual(after, { [VERSION]: cameras.length });
  assert.match(await textOf(browser, `[aria-label="${model} summary"]`), new RegExp(`newest ${VERSION.replaceAll('.', '\\.')} · 0 behind`));
  await screenshot(browser, 'fleet-versions.png', { docs: true });

  // The approval is in the audit log, as the CLI reads it.
  const audit = execFileSync(otactlBinary(), ['--data-dir', app.dataDir, 'audit', 'export', '--format', 'csv'], { encoding: 'utf8' });
  for (const action of ['cohort.create', 'campaign.create', 'campaign.approve_wave', 'campaign.complete']) {
    assert.ok(audit.includes(`,${action},`), `${action} is in the audit log`);
  }
});
