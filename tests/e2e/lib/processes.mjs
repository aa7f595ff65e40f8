// Child processes that never outlive the tests: each runs in its own process group, its output goes to a
// log file, and stopping it escalates from SIGTERM to SIGKILL.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { logsDir } from './paths.mjs';

const isWindows = process.platform === 'win32';
const running = new Set();

function killTree(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (isWindows) spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F']);
    else process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

// Last line of defence when a test file crashes or is interrupted.
process.on('exit', () => {
  for (const child of running) killTree(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(130));
}

/**
 * Starts `command` with `env` added to ours; stdout and stderr go to logs/<name>.log (rewritten each run).
 * Returns the ChildProcess plus `logFile`.
 */
export function startProcess(name, command, args, { env = {} } = {}) {
  if (!fs.existsSync(command)) {
    throw new Error(`${name}: ${command} does not exist (build it first: cargo build -p ota-console -p ota-sim)`);
  }
  fs.mkdirSync(logsDir, { recursive: true });
  const logFile = path.join(logsDir, `${name}.log`);
  const log = fs.createWriteStream(logFile, { flags: 'w' });
  log.write(`\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: !isWindows,
  });
  running.add(child);
  child.stdout.on('data', (chunk) => log.write(chunk));
  child.stderr.on('data', (chunk) => log.write(chunk));
  child.once('exit', (code, signal) => {
    running.delete(child);
    log.end(`--- exited (code ${code}, signal ${signal})\n`);
  });
  child.logFile = logFile;
  return child;
}

/** Resolves once `child` has exited (immediately if it already has). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Stops `child` and everything it started: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(child, { graceMs = 5000 } = {}) {
  if (!child) return;
  killTree(child, 'SIGTERM');
  const gone = await Promise.race([exited(child).then(() => true), sleep(graceMs).then(() => false)]);
  if (!gone) {
    killTree(child, 'SIGKILL');
    await Promise.race([exited(child), sleep(2000)]);
  }
}

/** Waits for the first stdout line matching `pattern`; fails when the process exits or time runs out. */
export function waitForLine(child, pattern, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const finish = (error, match) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(match);
    };
    const onData = (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        const match = line.match(pattern);
        if (match) return finish(null, match);
      }
    };
    const onExit = (code) =>
      finish(new Error(`process exited (code ${code}) before printing ${pattern}; see ${child.logFile}`));
    const timer = setTimeout(
      () => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms; see ${child.logFile}`)),
      timeoutMs,
    );
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts connections on 127.0.0.1:`port`, or fails when `child` exits first. */
export async function waitForPort(port, child, { timeoutMs = 20000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited (code ${child.exitCode}); see ${child.logFile}`);
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms; see ${child.logFile}`);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
