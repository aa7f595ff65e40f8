// Forms in the window as a person fills them: controls found by their label (the accessible name), values
// set the way typing does, options picked by value or text, buttons clicked by their name.
import assert from 'node:assert/strict';

/** The form control whose <label> reads `label` exactly, inside `scope`. */
export async function control(browser, label, scope = 'body') {
  const id = await browser.execute((labelText, scopeSelector) => {
    const root = document.querySelector(scopeSelector) ?? document;
    const labelEl = Array.from(root.querySelectorAll('label')).find((l) => l.textContent.trim() === labelText);
    if (labelEl?.htmlFor) return labelEl.htmlFor;
    const byAria = root.querySelector(`[aria-label="${labelText}"]`);
    if (byAria) {
      if (!byAria.id) byAria.id = `e2e-${Math.random().toString(36).slice(2)}`;
      return byAria.id;
    }
    const nested = labelEl?.querySelector('input, select, textarea');
    if (nested) {
      if (!nested.id) nested.id = `e2e-${Math.random().toString(36).slice(2)}`;
      return nested.id;
    }
    return null;
  }, label, scope);
  assert.ok(id, `a control labelled "${label}"`);
  return browser.$(`[id="${id}"]`);
}

/** Sets a text/number input the way typing does (the native setter + input event). */
export async function fill(browser, label, value, scope = 'body') {
  const input = await control(browser, label, scope);
  await input.waitForExist({ timeout: 10_000 });
  await browser.execute((el, newValue) => {
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, newValue);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, input, value);
}

/** Picks the option whose value is `match.value`, or whose text contains `match.text`. */
export async function choose(browser, label, match, scope = 'body') {
  const select = await control(browser, label, scope);
  await select.waitForExist({ timeout: 10_000 });
  let chosen = null;
  await browser.waitUntil(async () => {
    chosen = await browser.execute((el, value, text) => {
      const option = Array.from(el.options).find((o) =>
        value !== null ? o.value === value : o.textContent.includes(text));
      if (!option) return null;
      Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(el, option.value);
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return option.textContent;
    }, select, match.value ?? null, match.text ?? null);
    return chosen !== null;
  }, { timeout: 15_000, interval: 200, timeoutMsg: `no option of "${label}" matches ${JSON.stringify(match)}` });
  return chosen;
}

export async function clickButton(browser, name, scope = 'body') {
  const button = await browser.$(scope).$(`button=${name}`);
  const found = (await button.isExisting()) ? button : await browser.$(`${scope} button[aria-label="${name}"]`);
  await found.waitForClickable({ timeout: 15_000 });
  await found.click();
}
