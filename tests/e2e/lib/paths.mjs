// Where the binaries under test and the test outputs live.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const e2eDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(e2eDir, '..', '..');

const exe = process.platform === 'win32' ? '.exe' : '';

/** Cargo's target folder, honouring CARGO_TARGET_DIR like cargo does. */
export function targetDir() {
  const fromEnv = process.env.CARGO_TARGET_DIR;
  return fromEnv ? path.resolve(repoRoot, fromEnv) : path.join(repoRoot, 'target');
}

/** The desktop app; OTA_E2E_APP overrides it (e.g. to test a release build). */
export function appBinary() {
  return path.resolve(process.env.OTA_E2E_APP ?? path.join(targetDir(), 'debug', `ota-console${exe}`));
}

/** The cloud simulator; OTA_E2E_SIM overrides it. */
export function simBinary() {
  return path.resolve(process.env.OTA_E2E_SIM ?? path.join(targetDir(), 'debug', `ota-sim${exe}`));
}

/** The CLI, for checks a test makes from outside the window (e.g. the audit export). */
export function otactlBinary() {
  return path.resolve(process.env.OTA_E2E_OTACTL ?? path.join(targetDir(), 'debug', `otactl${exe}`));
}

export const screenshotsDir = path.join(e2eDir, 'screenshots');
export const docsScreenshotsDir = path.join(repoRoot, 'docs', 'screenshots');
export const logsDir = path.join(e2eDir, 'logs');
