// Screenshots of the window: always into tests/e2e/screenshots/; the ones the README shows (`docs: true`)
// into docs/screenshots/ as well when OTA_E2E_DOCS_SCREENSHOTS=1, to refresh them.
import fs from 'node:fs';
import path from 'node:path';
import { docsScreenshotsDir, screenshotsDir } from './paths.mjs';

/** Saves a PNG of the app window as `name` (e.g. "device-list.png"); returns its path. */
export async function screenshot(browser, name, { docs = false } = {}) {
  const fileName = name.endsWith('.png') ? name : `${name}.png`;
  fs.mkdirSync(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, fileName);
  await settleRendering(browser);
  await browser.saveScreenshot(file);
  if (docs && process.env.OTA_E2E_DOCS_SCREENSHOTS === '1') {
    fs.mkdirSync(docsScreenshotsDir, { recursive: true });
    fs.copyFileSync(file, path.join(docsScreenshotsDir, fileName));
  }
  return file;
}

/**
 * Lets the page paint what its DOM already says before the picture is taken: WebKitGTK under Xvfb may hand
 * WebDriver the last composited frame, which can lag the DOM by a few updates.
 */
async function settleRendering(browser) {
  await browser.executeAsync((done) => {
    const fallback = setTimeout(done, 1000);
    requestAnimationFrame(() => requestAnimationFrame(() => {
      clearTimeout(fallback);
      done();
    }));
  });
  await browser.pause(400);
}
