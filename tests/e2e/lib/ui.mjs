// The app's accessible surface as the e2e contract names it (see PROJECT.md, "App contract").
// Selectors use exact attributes so a label change breaks loudly here, in one place.

export const selectors = {
  deviceGrid: '[role="grid"][aria-label="Devices"]',
  deviceRow: '[role="grid"][aria-label="Devices"] [role="row"][data-device-id]',
  search: '[aria-label="Search devices"]',
  cloudFilter: '[aria-label="Filter by cloud"]',
  statusFilter: '[aria-label="Filter by status"]',
  refresh: '[aria-label="Refresh devices"]',
  freshness: '[aria-label="Fleet freshness"]',
  deviceCount: '[aria-label="Device count"]',
};

/** The data-device-id of every device row currently in the DOM (the grid is virtualised: visible rows only). */
export async function visibleDeviceIds(browser) {
  return browser.execute(
    (rowSelector) => Array.from(document.querySelectorAll(rowSelector), (row) => row.getAttribute('data-device-id')),
    selectors.deviceRow,
  );
}

/** Waits until the Devices grid shows at least one row; returns the visible ids. */
export async function waitForDeviceRows(browser, { timeout = 30000 } = {}) {
  let ids = [];
  await browser.waitUntil(
    async () => {
      ids = await visibleDeviceIds(browser);
      return ids.length > 0;
    },
    { timeout, interval: 250, timeoutMsg: `the "Devices" grid showed no rows within ${timeout} ms` },
  );
  return ids;
}

/**
 * The text content of the element matching `selector`, or null when there is none. (WebKitWebDriver's
 * getText answers "" for some elements that do show text, e.g. a live region with a title, so the DOM is
 * read directly.)
 */
export async function textOf(browser, selector) {
  const text = await browser.execute((s) => document.querySelector(s)?.textContent ?? null, selector);
  return text === null ? null : text.replace(/\s+/g, ' ').trim();
}

/** The text of the "Fleet freshness" status ("Live ..." or "Cached ..."). */
export async function freshnessText(browser) {
  return (await textOf(browser, selectors.freshness)) ?? '';
}

/** Waits until "Fleet freshness" starts with `prefix`; returns the whole text. */
export async function waitForFreshness(browser, prefix, { timeout = 30000 } = {}) {
  let text = '(no "Fleet freshness" element)';
  try {
    await browser.waitUntil(
      async () => {
        const current = await textOf(browser, selectors.freshness);
        if (current === null) return false;
        text = current;
        return text.startsWith(prefix);
      },
      { timeout, interval: 250 },
    );
  } catch {
    throw new Error(`"Fleet freshness" did not start with "${prefix}" within ${timeout} ms (it says "${text}")`);
  }
  return text;
}

/** Types `text` into "Search devices", replacing what was there. */
export async function searchDevices(browser, text) {
  const box = await browser.$(selectors.search);
  await box.waitForDisplayed();
  await box.setValue(text);
}

/** Opens a view by clicking its entry (by visible text) in the main navigation. */
export async function openView(browser, label) {
  const button = await browser.$('nav[aria-label="Main"]').$(`button*=${label}`);
  await button.waitForClickable({ timeout: 30_000 });
  await button.click();
}

/** Searches for `deviceId` and waits until its row shows alone in the grid; answers the row. */
export async function showDeviceAlone(browser, deviceId, { timeout = 15_000 } = {}) {
  await searchDevices(browser, deviceId);
  await browser.waitUntil(async () => {
    const ids = await visibleDeviceIds(browser);
    return ids.length === 1 && ids[0] === deviceId;
  }, { timeout, timeoutMsg: `the row of ${deviceId} did not show alone` });
  return browser.$(`[role="row"][data-device-id="${deviceId}"]`);
}

/** The text of the firmware cell in the row of `deviceId` ('' when the row is not shown). */
export async function rowFirmware(browser, deviceId) {
  return browser.execute((id) => {
    const row = document.querySelector(`[role="row"][data-device-id="${id}"]`);
    return row?.querySelector('.cell-firmware')?.textContent ?? '';
  }, deviceId);
}

/**
 * Waits until nothing matches `selector`, reading the DOM directly: a WebDriver element handle on a dialog
 * that React is removing can go stale mid-request.
 */
export async function waitGone(browser, selector, timeout = 15_000) {
  await browser.waitUntil(() => browser.execute((s) => document.querySelector(s) === null, selector), {
    timeout,
    interval: 100,
    timeoutMsg: `${selector} did not close`,
  });
}

/** Waits until the text of `selector` matches `pattern`; answers it. The error names what it said last. */
export async function waitForText(browser, selector, pattern, timeout = 30_000) {
  let last = null;
  try {
    await browser.waitUntil(async () => {
      last = await textOf(browser, selector);
      return last !== null && pattern.test(last);
    }, { timeout, interval: 200 });
  } catch {
    throw new Error(`${selector} never matched ${pattern} within ${timeout} ms (it says "${last}")`);
  }
  return last;
}
