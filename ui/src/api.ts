// The only module that talks to the Rust side. One typed function per command; every rejection comes out
// as an ApiError (the window branches on `code`, never on message text).

import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { Account } from "./bindings/Account";
import type { AuditEntry } from "./bindings/AuditEntry";
import type { AuditFormat } from "./bindings/AuditFormat";
import type { AuditQuery } from "./bindings/AuditQuery";
import type { ApiError } from "./bindings/ApiError";
import type { CameraUpdateEvent } from "./bindings/CameraUpdateEvent";
import type { CameraUpdatePlan } from "./bindings/CameraUpdatePlan";
import type { CampaignDashboard } from "./bindings/CampaignDashboard";
import type { CampaignDevicePage } from "./bindings/CampaignDevicePage";
import type { CampaignDeviceQuery } from "./bindings/CampaignDeviceQuery";
import type { CampaignPlan } from "./bindings/CampaignPlan";
import type { CampaignView } from "./bindings/CampaignView";
import type { Cohort } from "./bindings/Cohort";
import type { FleetVersions } from "./bindings/FleetVersions";
import type { NewCohort } from "./bindings/NewCohort";
import type { NewWebhook } from "./bindings/NewWebhook";
import type { TeamDatabaseStatus } from "./bindings/TeamDatabaseStatus";
import type { Webhook } from "./bindings/Webhook";
import type { WebhookDelivery } from "./bindings/WebhookDelivery";
import type { TagCount } from "./bindings/TagCount";
import type { FirmwareAdded } from "./bindings/FirmwareAdded";
import type { FirmwareEntry } from "./bindings/FirmwareEntry";
import type { NewCampaign } from "./bindings/NewCampaign";
import type { FirmwareDetails } from "./bindings/FirmwareDetails";
import type { ChosenFile } from "./bindings/ChosenFile";
import type { AuditExported } from "./bindings/AuditExported";
import type { DeviceListFile } from "./bindings/DeviceListFile";
import type { AppInfo } from "./bindings/AppInfo";
import type { DataChanged } from "./bindings/DataChanged";
import type { DevicePage } from "./bindings/DevicePage";
import type { DeviceKey } from "./bindings/DeviceKey";
import type { DeviceQuery } from "./bindings/DeviceQuery";
import type { FleetFreshness } from "./bindings/FleetFreshness";
import type { JobEvent } from "./bindings/JobEvent";
import type { JobView } from "./bindings/JobView";
import type { NewAccount } from "./bindings/NewAccount";
import type { OnenetCheck } from "./bindings/OnenetCheck";
import type { OnenetDownloadProgress } from "./bindings/OnenetDownloadProgress";
import type { OnenetFetchEnd } from "./bindings/OnenetFetchEnd";
import type { OnenetReportAnswer } from "./bindings/OnenetReportAnswer";
import type { OnenetResultCode } from "./bindings/OnenetResultCode";
import type { OnenetTask } from "./bindings/OnenetTask";
import type { OnenetTaskType } from "./bindings/OnenetTaskType";
import type { QuectelActionReport } from "./bindings/QuectelActionReport";
import type { QuectelAutoUpgrade } from "./bindings/QuectelAutoUpgrade";
import type { QuectelBlePackage } from "./bindings/QuectelBlePackage";
import type { QuectelBlePlan } from "./bindings/QuectelBlePlan";
import type { QuectelBleProgress } from "./bindings/QuectelBleProgress";
import type { QuectelBleReported } from "./bindings/QuectelBleReported";
import type { QuectelBleStatus } from "./bindings/QuectelBleStatus";
import type { QuectelPlanAction } from "./bindings/QuectelPlanAction";
import type { QuectelPlanItem } from "./bindings/QuectelPlanItem";
import type { QuectelPlanList } from "./bindings/QuectelPlanList";
import type { QuectelPlanRow } from "./bindings/QuectelPlanRow";
import type { QuectelWindow } from "./bindings/QuectelWindow";
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

/** Rust opens a file dialog and reads the chosen device list; null when the user closed the dialog. */
export function chooseDeviceCsv(): Promise<DeviceListFile | null> {
  return call("choose_device_csv");
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

/** Which of the selected devices an update would start, and why each other one is left out (Rust decides). */
export function vicohomeUpdatePlan(devices: DeviceKey[]): Promise<CameraUpdatePlan> {
  return call("vicohome_update_plan", { devices });
}

/**
 * Starts the update of every camera among `devices`, in Rust: each once, a few at a time, one refusal never
 * stopping the others. `onEvent` receives what happens to each camera, then `settled` once every camera has
 * its answer (progress of the started ones may follow).
 */
export function startVicohomeUpdates(devices: DeviceKey[], onEvent: (event: CameraUpdateEvent) => void): Promise<void> {
  const channel = new Channel<CameraUpdateEvent>();
  channel.onmessage = onEvent;
  return call("start_vicohome_updates", { devices, onEvent: channel });
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

/** The result codes a OneNET device can report, with their meanings. */
export function onenetResultCodes(): Promise<OnenetResultCode[]> {
  return call("onenet_result_codes");
}

/** Asks OneNET (as the device) for its upgrade task; says how much of its package is already saved. */
export function onenetCheck(devId: string, taskType: OnenetTaskType): Promise<OnenetCheck> {
  return call("onenet_check", { devId, taskType });
}

/**
 * Downloads (or resumes) the package of the task the core last checked for this device; ends verified
 * and reported, or paused. Only the device and the task type are sent: the core never takes the task's
 * token, size or MD5 from the window.
 */
export function onenetFetch(
  task: Pick<OnenetTask, "devId" | "taskType">,
  onProgress: (progress: OnenetDownloadProgress) => void,
): Promise<OnenetFetchEnd> {
  const channel = new Channel<OnenetDownloadProgress>();
  channel.onmessage = onProgress;
  return call("onenet_fetch", { devId: task.devId, taskType: task.taskType, onProgress: channel });
}

/** Pauses a running download; false when none was running. */
export function onenetPause(devId: string): Promise<boolean> {
  return call("onenet_pause", { devId });
}

export function onenetReport(devId: string, token: string, code: number): Promise<OnenetReportAnswer> {
  return call("onenet_report", { devId, token, code });
}

/** Quectel upgrade plans of every cached Quectel device: from the local cache alone, or asked of the cloud now. */
export function listQuectelPlans(cached: boolean): Promise<QuectelPlanList> {
  return call("list_quectel_plans", { cached });
}

/** Confirms, appoints (needs `window`), cancels or retries plans; one answer per device, and the rows after. */
export function actOnQuectelPlans(
  action: QuectelPlanAction,
  items: QuectelPlanItem[],
  window?: QuectelWindow,
): Promise<QuectelActionReport> {
  return call("act_on_quectel_plans", { action, items, window: window ?? null });
}

/**
 * Whether an appointment window keeps Quectel's rules for a plan running from `planStart` to `planEnd`: the
 * rule it breaks (Rust's words), or null. Nothing is sent to the cloud.
 */
export function checkQuectelAppointment(
  planStart: number | null,
  planEnd: number | null,
  window: QuectelWindow,
): Promise<ApiError | null> {
  return call("check_quectel_appointment", { planStart, planEnd, window });
}

/** These plans as the cloud shows them now (polled while something is in progress). */
export function quectelPlanDetails(items: QuectelPlanItem[]): Promise<QuectelPlanRow[]> {
  return call("quectel_plan_details", { items });
}

export function getQuectelAutoUpgrade(deviceKey: string): Promise<QuectelAutoUpgrade> {
  return call("get_quectel_auto_upgrade", { deviceKey });
}

/** Turns the device's auto-upgrade on or off; answers the value read back from the cloud. */
export function setQuectelAutoUpgrade(deviceKey: string, on: boolean): Promise<QuectelAutoUpgrade> {
  return call("set_quectel_auto_upgrade", { deviceKey, on });
}

export function deleteQuectelAutoUpgrade(deviceKey: string): Promise<QuectelAutoUpgrade> {
  return call("delete_quectel_auto_upgrade", { deviceKey });
}

/** The Bluetooth report table: every step and outcome with its code and meaning. */
export function quectelBleStatuses(): Promise<QuectelBleStatus[]> {
  return call("quectel_ble_statuses");
}

/** The Bluetooth device's open plan, or null when there is none. */
export function quectelBleFetch(deviceKey: string): Promise<QuectelBlePlan | null> {
  return call("quectel_ble_fetch", { deviceKey });
}

export function quectelBleReport(deviceKey: string, code: number, componentNo?: string): Promise<QuectelBleReported> {
  return call("quectel_ble_report", { deviceKey, code, componentNo: componentNo ?? null });
}

/** Downloads the Bluetooth package (SHA-256 verified, steps reported); `onProgress` gets the bytes as they come. */
export function quectelBleDownload(
  deviceKey: string,
  onProgress: (progress: QuectelBleProgress) => void,
): Promise<QuectelBlePackage> {
  const channel = new Channel<QuectelBleProgress>();
  channel.onmessage = onProgress;
  return call("quectel_ble_download", { deviceKey, onProgress: channel });
}

/** Batched "these kinds of data changed" notices from the Rust side. */
export function onDataChanged(handler: (change: DataChanged) => void): Promise<UnlistenFn> {
  return listen<DataChanged>("data-changed", (event) => handler(event.payload));
}

// Firmware library.

export function listFirmware(): Promise<FirmwareEntry[]> {
  return call("list_firmware");
}

/**
 * Rust opens a file dialog; the chosen file comes back as a one-time handle with its name (the window never
 * handles paths). Null when the user closed the dialog.
 */
export function chooseFirmwareFile(): Promise<ChosenFile | null> {
  return call("choose_firmware_file");
}

/** Adds the file behind `file` (a handle from chooseFirmwareFile or a drop) to the library. */
export function addFirmware(file: string, firmware: FirmwareDetails): Promise<FirmwareAdded> {
  return call("add_firmware", { file, firmware });
}

/** A file dropped on the window, as a one-time handle Rust issued for it. */
export function onFileDropped(handler: (file: ChosenFile) => void): Promise<UnlistenFn> {
  return listen<ChosenFile>("file-dropped", (event) => handler(event.payload));
}

export function deleteFirmware(id: number): Promise<FirmwareEntry> {
  return call("delete_firmware", { id });
}

/** Rejects with a plain explanation for a real cloud whose upload API is not known. */
export function publishFirmware(firmwareId: number, accountId: number): Promise<FirmwareEntry> {
  return call("publish_firmware", { firmwareId, accountId });
}

// Campaigns.

/** The waves with their device counts and the earliest time each can start; nothing is created. */
export function planCampaign(campaign: NewCampaign): Promise<CampaignPlan> {
  return call("plan_campaign", { campaign });
}

export function createCampaign(campaign: NewCampaign): Promise<CampaignView> {
  return call("create_campaign", { campaign });
}

export function listCampaigns(): Promise<CampaignView[]> {
  return call("list_campaigns");
}

export function campaignDashboard(id: number): Promise<CampaignDashboard> {
  return call("campaign_dashboard", { id });
}

export function campaignDevices(id: number, query: CampaignDeviceQuery): Promise<CampaignDevicePage> {
  return call("campaign_devices", { id, query });
}

export type CampaignAction =
  | "approve"
  | "approve_wave"
  | "start"
  | "pause"
  | "resume"
  | "close"
  | "cancel"
  | "retry_failed"
  | "delete";

const CAMPAIGN_COMMANDS: Record<CampaignAction, string> = {
  approve: "approve_campaign",
  approve_wave: "approve_wave",
  close: "close_campaign",
  start: "start_campaign",
  pause: "pause_campaign",
  resume: "resume_campaign",
  cancel: "cancel_campaign",
  retry_failed: "retry_failed_devices",
  delete: "delete_campaign",
};

export function actOnCampaign(id: number, action: CampaignAction): Promise<CampaignView> {
  return call(CAMPAIGN_COMMANDS[action], { id });
}

// Tags and cohorts.

/** Adds and removes local tags on these devices; answers how many devices changed. */
export function tagDevices(devices: DeviceKey[], add: string[], remove: string[]): Promise<number> {
  return call("tag_devices", { devices, add, remove });
}

export function listTags(): Promise<TagCount[]> {
  return call("list_tags");
}

export function createCohort(cohort: NewCohort): Promise<Cohort> {
  return call("create_cohort", { cohort });
}

export function listCohorts(): Promise<Cohort[]> {
  return call("list_cohorts");
}

export function deleteCohort(id: number): Promise<void> {
  return call("delete_cohort", { id });
}

// Fleet versions.

export function fleetVersions(): Promise<FleetVersions> {
  return call("fleet_versions");
}

/** Rust asks where to save (a save dialog) and writes the CSV there; null when cancelled. */
export function exportFleetVersions(): Promise<string | null> {
  return call("export_fleet_versions");
}

// Audit log.

export function listAudit(query: AuditQuery): Promise<AuditEntry[]> {
  return call("list_audit", { query });
}

/** Rust asks where to save (a save dialog) and writes the matching entries there; null when cancelled. */
export function exportAudit(query: AuditQuery, format: AuditFormat): Promise<AuditExported | null> {
  return call("export_audit", { query, format });
}

// Team database.

/** Which data this window works on, whether it answers now, and what the next start will open. */
export function teamDatabaseStatus(): Promise<TeamDatabaseStatus> {
  return call("team_database_status");
}

/**
 * Connects to the team database first (a wrong URL or password is refused and nothing is kept), then keeps
 * the URL in the data folder and the password in the OS keychain. Used from the next start.
 */
export function saveTeamDatabase(url: string, password: string): Promise<TeamDatabaseStatus> {
  return call("save_team_database", { url, password });
}

/** Back to this desk's own data from the next start (the saved URL and its keychain entry are deleted). */
export function clearTeamDatabase(): Promise<TeamDatabaseStatus> {
  return call("clear_team_database");
}

/** Closes the window and starts the app again (the database is chosen at start). */
export function restartApp(): Promise<void> {
  return call("restart_app");
}

// Webhooks.

export function listWebhooks(): Promise<Webhook[]> {
  return call("list_webhooks");
}

/** The signing secret goes straight to the OS keychain on the Rust side. */
export function addWebhook(webhook: NewWebhook, secret: string): Promise<Webhook> {
  return call("add_webhook", { webhook, secret });
}

export function removeWebhook(id: number): Promise<Webhook> {
  return call("remove_webhook", { id });
}

/** Delivery attempts, newest first, of one webhook; at most `limit`. */
export function webhookDeliveries(webhookId: number, limit: number): Promise<WebhookDelivery[]> {
  return call("webhook_deliveries", { webhookId, limit });
}
