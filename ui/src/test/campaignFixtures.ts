// Library entries and campaigns as the Rust side answers them.

import type { CampaignDashboard } from "../bindings/CampaignDashboard";
import type { CampaignView } from "../bindings/CampaignView";
import type { FirmwareEntry } from "../bindings/FirmwareEntry";

export function makeFirmware(overrides: Partial<FirmwareEntry> = {}): FirmwareEntry {
  return {
    id: 1,
    sha256: "a".repeat(64),
    md5: "b".repeat(32),
    size: 96 * 1024,
    fileName: "cam.bin",
    version: "7.7.7",
    cloud: "vicohome",
    model: "CG6",
    notes: "",
    addedBy: "ana",
    addedAt: 1_795_996_800_000,
    publications: [],
    campaigns: 0,
    ...overrides,
  };
}

export function makeCampaign(overrides: Partial<CampaignView> = {}): CampaignView {
  return {
    id: 3,
    name: "CG6 to 7.7.7",
    firmwareId: 1,
    firmwareVersion: "7.7.7",
    firmwareFile: "cam.bin",
    cloud: "vicohome",
    state: "running",
    settings: {
      waves: [1, 10, 100],
      concurrency: 50,
      requestsPerSecond: 20,
      failureThresholdPercent: 10,
      onThreshold: "abort",
      retry: { maxRetries: 0, backoffSecs: 60, retryOn: ["offline"] },
      minBattery: 20,
    },
    waveCount: 3,
    currentWave: 1,
    reason: null,
    createdBy: "ana",
    createdAt: 1_795_996_800_000,
    startedAt: 1_795_996_810_000,
    finishedAt: null,
    counts: { total: 12, pending: 5, inFlight: 2, succeeded: 4, failed: 1, skipped: 0, cancelled: 0 },
    rules: { bakeSecs: 0, gate: "auto", verifyVersion: true, requireApproval: false, continuous: false },
    approvedBy: null,
    approvedAt: null,
    waveApproved: 0,
    waiting: null,
    closed: false,
    cohortId: null,
    ...overrides,
  };
}

export function makeDashboard(campaign: CampaignView = makeCampaign()): CampaignDashboard {
  return {
    campaign,
    waves: [
      { index: 0, counts: { total: 1, pending: 0, inFlight: 0, succeeded: 1, failed: 0, skipped: 0, cancelled: 0 }, failurePercent: 0 },
      { index: 1, counts: { total: 2, pending: 0, inFlight: 1, succeeded: 0, failed: 1, skipped: 0, cancelled: 0 }, failurePercent: 100 },
      { index: 2, counts: { total: 9, pending: 5, inFlight: 1, succeeded: 3, failed: 0, skipped: 0, cancelled: 0 }, failurePercent: 0 },
    ],
    successPercent: 80,
    perMinute: 2.5,
    etaSecs: 168,
    windowOpensAt: null,
    failures: [
      {
        code: "device",
        vendorCode: "-10402",
        message: "The camera could not install the update.",
        hint: "Restart the camera and start the update again.",
        count: 1,
        devices: ["SN-FAIL"],
      },
    ],
    history: [
      { at: 1_795_996_810_000, succeeded: 0, failed: 0, inFlight: 1, pending: 11 },
      { at: 1_795_996_870_000, succeeded: 4, failed: 1, inFlight: 2, pending: 5 },
    ],
  };
}
