// Issue 16 in the real window: team mode. A campaign is created and started from a colleague's desk with
// `otactl --database` (in team mode that only sets it running), an `otactl serve` runner on another "machine"
// (its own data folder) runs it, and the window — its own data folder, the same team PostgreSQL — shows the
// campaign, who runs it, and its counts moving live until it completes, with no click.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freshDataDir } from '../lib/app.mjs';
import { otactlBinary } from '../lib/paths.mjs';
import { startProcess, stopProcess } from '../lib/processes.mjs';
import { screenshot } from '../lib/screenshot.mjs';
import { simAndApp, timeScaleEnv } from '../lib/session.mjs';
import { openView, textOf, waitForText } from '../lib/ui.mjs';

const TIME_SCALE = 20;
const VERSION = '9.1.0';
const NAME = `Team rollout ${VERSION}`;
const CLUSTER = process.env.OTA_CONSOLE_TEST_DATABASE_URL;
let teamUrl;
let deskDir;
let runnerDir;
let packageDir;
let runner;

/** A fresh database on the test cluster (`cargo xtask test` starts one and sets the variable). */
function freshTeamDatabase() {
  assert.ok(CLUSTER, 'OTA_CONSOLE_TEST_DATABASE_URL names the test PostgreSQL (cargo xtask test sets it)');
  const name = `e2e_team_${process.pid}_${Date.now() % 1_000_000}`;
  execFileSync('psql', [CLUSTER, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`]);
  const url = new URL(CLUSTER);
  url.pathname = `/${name}`;
  return url.toString();
}

function teamEnv() {
  return { ...timeScaleEnv(TIME_SCALE), OTA_CONSOLE_DATABASE_URL: teamUrl };
}

function otactl(simUrl, ...args) {
  return execFileSync(otactlBinary(), ['--data-dir', deskDir, '--sim-url', simUrl, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...teamEnv() },
  });
}

const session = simAndApp({
  sim: { devices: 60, seed: 42, timeScale: TIME_SCALE, name: 'team-mode-sim' },
  app: () => ({ name: 'team-mode', env: teamEnv() }),
  prepare: async (sim) => {
    teamUrl = freshTeamDatabase();
    const fleet = await sim.devices();
    const cameras = fleet.filter((d) => d.cloud === 'vicohome');
    await sim.readyForUpdate(cameras);
    deskDir = freshDataDir('team-desk');
    runnerDir = freshDataDir('team-runner');
    packageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-e2e-team-'));
    const file = path.join(packageDir, `camera-${VERSION}.bin`);
    fs.writeFileSync(file, Buffer.alloc(32 * 1024, 9));
    otactl(sim.url, 'firmware', 'add', file, '--version', VERSION, '--cloud', 'vicohome');
    const entry = JSON.parse(otactl(sim.url, 'firmware', 'list', '--json')).find((e) => e.version === VERSION);
    otactl(sim.url, 'firmware', 'publish', String(entry.id));
    // Slow on purpose (two at a time, two requests a second), so the counts are seen moving.
    const created = JSON.parse(
      otactl(sim.url, 'campaign', 'create', '--name', NAME, '--firmware', String(entry.id), '--cloud', 'vicohome',
        '--online', '--waves', '50,100', '--concurrency', '2', '--rate', '2', '--json'),
    );
    const started = JSON.parse(otactl(sim.url, 'campaign', 'start', String(created.id), '--json'));
    assert.equal(started.state, 'running', 'team mode: start sets it running and returns');
    return { id: created.id, total: created.counts.pending };
  },
  cleanup: async () => {
    if (runner) await stopProcess(runner);
    for (const dir of [packageDir, deskDir, runnerDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  },
});

/** The number on the dashboard tile labelled `label`. */
async function tile(browser, label) {
  return browser.execute((wanted) => {
    const tiles = Array.from(document.querySelectorAll('.tile'));
    const found = tiles.find((t) => t.querySelector('.tile-label')?.textContent === wanted);
    return found ? Number(found.querySelector('.tile-value')?.textContent) : null;
  }, label);
}

test('the window in team mode shows a campaign an otactl serve runner runs, its counts live', { timeout: 300_000 }, async () => {
  const { app, sim, prepared } = session;
  const { browser } = app;

  await openView(browser, 'Campaigns');
  const link = await browser.$(`button=${NAME}`);
  await link.waitForClickable({ timeout: 30_000 });
  await link.click();
  const state = '[role="status"][aria-label="Campaign state"]';
  await waitForText(browser, state, /^Running$/);
  assert.equal(await tile(browser, 'Succeeded'), 0, 'nothing ran before the runner started');

  runner = startProcess('team-mode-serve', otactlBinary(), ['--data-dir', runnerDir, '--sim-url', sim.url, 'serve', '--name', 'e2e-runner'], {
    env: teamEnv(),
  });

  // Who runs it, and counts that move with no click: seen through the team database.
  await waitForText(browser, '[aria-label="Who runs this campaign"]', /^Run by otactl serve e2e-runner pid \d+ on /, 30_000);
  const seen = new Set();
  await browser.waitUntil(async () => {
    const n = await tile(browser, 'Succeeded');
    if (n !== null) seen.add(n);
    return n !== null && n > 0 && n < prepared.total;
  }, { timeout: 90_000, interval: 250, timeoutMsg: 'the Succeeded count never moved while the runner worked' });
  await screenshot(browser, 'team-mode-dashboard.png', { docs: true });
  await waitForText(browser, state, /^Completed$/, 180_000);
  assert.equal(await tile(browser, 'Succeeded'), prepared.total, 'every camera succeeded');
  assert.ok(seen.size >= 2, `the count was seen at several values on the way: ${[...seen].join(', ')}`);

  const starts = await sim.get('/_sim/starts');
  const started = Object.values(starts.vicohome ?? {});
  assert.equal(started.length, prepared.total, 'every camera of the campaign started');
  assert.ok(started.every((n) => n === 1), 'each exactly once');
  assert.match(await textOf(browser, 'main'), new RegExp(NAME));
});
