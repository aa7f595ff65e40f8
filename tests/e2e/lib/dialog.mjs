// The app's file dialogs under test. A native dialog cannot be driven through WebDriver, so a debug build
// started with OTA_CONSOLE_E2E_DIALOG_DIR answers its dialogs from that folder instead (src-tauri/src/dialogs.rs):
// before the click, the test names a file of the folder in `<dir>/answer`; the dialog takes that answer
// (no answer: the user closed the dialog) and notes what it was asked in `<dir>/asked.log`.
import fs from 'node:fs';
import path from 'node:path';

export const DIALOG_DIR_ENV = 'OTA_CONSOLE_E2E_DIALOG_DIR';

/** The env that makes the app's dialogs answer from `dir`. */
export function dialogEnv(dir) {
  return { [DIALOG_DIR_ENV]: dir };
}

/** The next dialog answers `fileName` (a file of `dir`, which may not exist yet for a save dialog). */
export function answerNextDialog(dir, fileName) {
  fs.writeFileSync(path.join(dir, 'answer'), fileName);
}

/** What the dialogs were asked, in order: { purpose: "open" | "save", title, fileName }. */
export function dialogQuestions(dir) {
  const log = path.join(dir, 'asked.log');
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [purpose, title, fileName] = line.split('\t');
    return { purpose, title, fileName };
  });
}
