// The only module that talks to the Rust side. One typed function per command; every rejection comes out
// as an ApiError (the window branches on `code`, never on message text).

import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { Account } from "./bindings/Account";
import type { AppInfo } from "./bindings/AppInfo";
import type { DataChanged } from "./bindings/DataChanged";
import type { DevicePage } from "./bindings/DevicePage";
import type { DeviceQuery } from "./bindings/DeviceQuery";
import type { FleetFreshness } from "./bindings/FleetFreshness";
import type { JobEvent } from "./bindings/JobEvent";
import type { JobView } from "./bindings/JobView";
import type { NewAccount } from "./bindings/NewAccount";
import { toApiError } from "./lib/errors";

export { isApiError, toApiError } from "./lib/errors";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (err) {
    throw toApiError(err);
  }
}

export function appInfo(): Promise<AppInfo> {
  return call("app_info");
}

export function listDevices(query: DeviceQuery): Promise<DevicePage> {
  return call("list_devices", { query });
}

export function fleetFreshness(): Promise<FleetFreshness> {
  return call("fleet_freshness");
}

/** Fetches every account's devices now. One cloud failing shows in the answer, not as a rejection. */
export function refreshFleet(): Promise<FleetFreshness> {
  return call("refresh_fleet");
}

export function listAccounts(): Promise<Account[]> {
  return call("list_accounts");
}

/** The secret goes straight to the OS keychain on the Rust side. */
export function addAccount(account: NewAccount, secret: string): Promise<Account> {
  return call("add_account", { account, secret });
}

export function removeAccount(name: string): Promise<Account> {
  return call("remove_account", { name });
}

/** Adds OneNET devices from CSV text (dev_id,name,manufacturer,model,firmware); answers how many. */
export function importDevices(accountId: number, csv: string): Promise<number> {
  return call("import_devices", { accountId, csv });
}

/** Starts a Vicohome OTA; `onProgress` receives the job now and at every change until it ends. */
export function startVicohomeUpdate(
  accountId: number,
  serial: string,
  onProgress: (job: JobView) => void,
): Promise<JobView> {
  const channel = new Channel<JobView>();
  channel.onmessage = onProgress;
  return call("start_vicohome_update", { accountId, serial, onProgress: channel });
}

/** Follows a running job; `onProgress` receives it now and at every change until it ends. */
export function watchJob(jobId: number, onProgress: (job: JobView) => void): Promise<JobView> {
  const channel = new Channel<JobView>();
  channel.onmessage = onProgress;
  return call("watch_job", { jobId, onProgress: channel });
}

export function listJobs(limit: number): Promise<JobView[]> {
  return call("list_jobs", { limit });
}

export function jobEvents(jobId: number): Promise<JobEvent[]> {
  return call("job_events", { jobId });
}

/** Batched "these kinds of data changed" notices from the Rust side. */
export function onDataChanged(handler: (change: DataChanged) => void): Promise<UnlistenFn> {
  return listen<DataChanged>("data-changed", (event) => handler(event.payload));
}
