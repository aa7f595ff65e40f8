// One simulator and one app window on it for a whole spec file: the set-up and tear-down every window spec
// shares, so a spec states only what it needs (its fleet, its app options, what it prepares in between).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { launchApp, removeDataDir } from './app.mjs';
import { startSim } from './sim.mjs';

/**
 * Registers `before`: start ota-sim with `sim` (startSim's options), run `prepare(sim)` (shape the fleet
 * before the window first reads it), launch the app on it with `app` (launchApp's options, or a function
 * answering them once `prepare` has run, for options that depend on it); and `after`: close the window,
 * stop the simulator, remove the data folder, then run `cleanup()`.
 * Returns the session: its `sim`, `app` and `prepared` (what `prepare` answered) are set once `before` has run.
 */
export function simAndApp({ sim: simOptions = {}, app: appOptions = {}, prepare, cleanup } = {}) {
  const session = { sim: null, app: null, prepared: undefined };
  before(async () => {
    session.sim = await startSim(simOptions);
    session.prepared = await prepare?.(session.sim);
    const options = typeof appOptions === 'function' ? appOptions() : appOptions;
    session.app = await launchApp({ ...options, simUrl: session.sim.url });
  }, { timeout: 120_000 });
  after(async () => {
    await session.app?.close();
    await session.sim?.stop();
    removeDataDir(session.app?.dataDir);
    await cleanup?.();
  }, { timeout: 60_000 });
  return session;
}

/** The app's env that runs its clock as fast as the simulator's (`--time-scale`). */
export function timeScaleEnv(timeScale) {
  return { OTA_CONSOLE_TIME_SCALE: String(timeScale) };
}

/**
 * The clock of the camera-update specs: the simulator and the app run 4x, so a download takes a few seconds
 * and installing about 5 s, while the app polls every 1.25 s (5 s of simulated time): each phase is seen
 * as a person would see it.
 */
const CAMERA_UPDATE_TIME_SCALE = 4;

/**
 * A session for camera updates (simAndApp on the 4x clock): the first `cameras` Vicohome cameras with an
 * update waiting are put online and charged, so they accept it. `session.prepared` is { fleet, cameras }.
 */
export function cameraUpdateSession({ name, cameras: count }) {
  return simAndApp({
    sim: { devices: 60, seed: 42, timeScale: CAMERA_UPDATE_TIME_SCALE, name: `${name}-ota-sim` },
    app: { name, env: timeScaleEnv(CAMERA_UPDATE_TIME_SCALE) },
    prepare: async (sim) => {
      const fleet = await sim.devices();
      const cameras = fleet.filter((d) => d.cloud === 'vicohome' && d.firmware !== d.newest_firmware).slice(0, count);
      assert.equal(cameras.length, count, `the fleet has ${count} cameras with an update waiting`);
      await sim.readyForUpdate(cameras);
      return { fleet, cameras };
    },
  });
}
