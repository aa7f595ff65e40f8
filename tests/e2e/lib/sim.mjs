// The cloud simulator (`ota-sim`) on a free port.
import { simBinary } from './paths.mjs';
import { startProcess, stopProcess, waitForLine } from './processes.mjs';

/**
 * Starts ota-sim and waits for its `listening on http://ADDR` line.
 * Returns { url, process, devices(), accounts(), get(), post(), readyForUpdate(), stop() }.
 */
export async function startSim({ devices = 60, seed = 7, timeScale = 20, faults = [], name = 'ota-sim' } = {}) {
  const args = [
    '--listen', '127.0.0.1:0',
    '--devices', String(devices),
    '--seed', String(seed),
    '--time-scale', String(timeScale),
    ...faults.flatMap((fault) => ['--fault', fault]),
  ];
  const child = startProcess(name, simBinary(), args);
  try {
    const [, url] = await waitForLine(child, /^listening on (http:\/\/\S+)\s*$/);
    const getJson = async (path) => {
      const response = await fetch(new URL(path, url));
      if (!response.ok) throw new Error(`GET ${path} -> HTTP ${response.status}`);
      return response.json();
    };
    // The admin API takes state changes as JSON only (see crates/ota-sim/src/admin_guard.rs).
    const postJson = async (path, body) => {
      const response = await fetch(new URL(path, url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      if (!response.ok) throw new Error(`POST ${path} -> HTTP ${response.status}`);
      return response.json();
    };
    return {
      url,
      process: child,
      /** GET /_sim/devices: [{cloud, id, name, model, manufacturer, firmware, online, battery, signal, ...}] */
      devices: () => getJson('/_sim/devices'),
      accounts: () => getJson('/_sim/accounts'),
      /** GET any admin path (`/_sim/log`, `/_sim/starts`, `/_sim/onenet/tasks/ID`, …) as JSON. */
      get: getJson,
      /** POST a JSON body to an admin path (a fault, a device patch, a plan, a task); the answer as JSON. */
      post: postJson,
      /** Puts each device online and charged (90 %), so it accepts an update. */
      readyForUpdate: async (devices) => {
        for (const device of devices) await postJson(`/_sim/devices/${device.id}`, { online: true, battery: 90 });
      },
      stop: () => stopProcess(child),
    };
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
}
