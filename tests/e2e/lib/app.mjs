// The desktop app under test, driven through tauri-driver (which starts the app itself, so the app's
// environment is set on the tauri-driver process and passes down through the native WebDriver).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { remote } from 'webdriverio';
import { appBinary, logsDir } from './paths.mjs';
import { freePort, startProcess, stopProcess, waitForPort, withTimeout } from './processes.mjs';

/** The window size every test runs at (and the README's screenshots show), whatever the app last saved. */
export const WINDOW_SIZE = Object.freeze({ width: 1280, height: 800 });

/** A fresh, empty folder for one app's data (store, cache, logs). */
export function freshDataDir(label = 'app') {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ota-e2e-${label}-`));
}

function findOnPath(program) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, program);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** Starts tauri-driver on free ports and waits until it listens. */
export async function startTauriDriver({ env = {}, name = 'tauri-driver' } = {}) {
  const driver = findOnPath(process.platform === 'win32' ? 'tauri-driver.exe' : 'tauri-driver');
  if (!driver) throw new Error('tauri-driver is not on PATH: cargo install tauri-driver --locked');
  const port = await freePort();
  const nativePort = await freePort();
  const args = ['--port', String(port), '--native-port', String(nativePort)];
  const nativeDriver = process.env.OTA_E2E_NATIVE_DRIVER ??
    (process.platform === 'linux' ? findOnPath('WebKitWebDriver') : null);
  if (nativeDriver) args.push('--native-driver', nativeDriver);
  const child = startProcess(name, driver, args, { env });
  try {
    await waitForPort(port, child);
    // tauri-driver starts WebKitWebDriver itself and forwards the new-session request to it at once;
    // waiting until the native driver listens too avoids a "connection refused" race on slow machines.
    if (nativeDriver) await waitForPort(nativePort, child);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { port, process: child };
}

/**
 * Launches the app with its own data folder and opens a WebDriver session on its window.
 * `simUrl` points the app's sandbox at a running ota-sim (without it the app starts its built-in one);
 * `env` adds more variables; `application` is the binary to start (default: the cargo build);
 * `windowSize` is set once the window is up (null keeps what the app opened with).
 * Returns { browser, dataDir, close() }; close() never throws and never hangs.
 */
export async function launchApp({
  application = appBinary(),
  dataDir: givenDataDir,
  simUrl,
  env = {},
  name = 'app',
  windowSize = WINDOW_SIZE,
} = {}) {
  if (!fs.existsSync(application)) {
    throw new Error(`${application} does not exist: build it with cargo build -p ota-console`);
  }
  // A folder made here is removed here when the launch fails, since the caller never gets to see it.
  const dataDir = givenDataDir ?? freshDataDir();
  const discardOwnDataDir = () => {
    if (!givenDataDir) removeDataDir(dataDir);
  };
  const appEnv = { OTA_CONSOLE_DATA_DIR: dataDir, RUST_LOG: process.env.RUST_LOG ?? 'info', ...env };
  if (simUrl) appEnv.OTA_CONSOLE_SIM_URL = simUrl;
  let driver;
  try {
    driver = await startTauriDriver({ env: appEnv, name: `${name}-tauri-driver` });
  } catch (error) {
    discardOwnDataDir();
    throw error;
  }
  let browser;
  try {
    browser = await withTimeout(
      remote({
        hostname: '127.0.0.1',
        port: driver.port,
        logLevel: 'warn',
        connectionRetryCount: 0,
        connectionRetryTimeout: 60000,
        waitforTimeout: 20000,
        capabilities: {
          'tauri:options': { application },
          'wdio:enforceWebDriverClassic': true,
        },
      }),
      90000,
      'opening a WebDriver session on the app',
    );
  } catch (error) {
    await stopProcess(driver.process);
    keepAppLog(dataDir, name);
    discardOwnDataDir();
    throw error;
  }

  if (windowSize) {
    try {
      await browser.setWindowSize(windowSize.width, windowSize.height);
    } catch (error) {
      console.error(`warning: the window could not be set to ${windowSize.width}×${windowSize.height}: ${error.message}`);
    }
  }

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await withTimeout(browser.deleteSession(), 15000, 'closing the WebDriver session');
    } catch (error) {
      console.error(`warning: ${error.message}`);
    }
    await stopProcess(driver.process);
    keepAppLog(dataDir, name);
  };
  return { browser, dataDir, close };
}

/** Copies the app's own log next to the driver logs, so a failed run can be read after the data folder is gone. */
function keepAppLog(dataDir, name) {
  const appLog = path.join(dataDir, 'logs', 'ota-console.log');
  if (!fs.existsSync(appLog)) return;
  fs.mkdirSync(logsDir, { recursive: true });
  fs.copyFileSync(appLog, path.join(logsDir, `${name}-ota-console.log`));
}

/** Removes a data folder made by freshDataDir (ignores errors). */
export function removeDataDir(dataDir) {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}
