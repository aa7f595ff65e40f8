// Server state of the firmware library, campaigns and the audit log.

import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { campaignDashboard, campaignDevices, listAudit, listCampaigns, listFirmware } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { AuditEntry } from "../bindings/AuditEntry";
import type { AuditQuery } from "../bindings/AuditQuery";
import type { CampaignDashboard } from "../bindings/CampaignDashboard";
import type { CampaignDevicePage } from "../bindings/CampaignDevicePage";
import type { CampaignDeviceQuery } from "../bindings/CampaignDeviceQuery";
import type { CampaignView } from "../bindings/CampaignView";
import type { FirmwareEntry } from "../bindings/FirmwareEntry";
import { queryKeys } from "../queryKeys";

/** A campaign the runner may still move on (worth polling besides the change notices). */
export function isLive(state: CampaignView["state"] | undefined): boolean {
  return state === "running" || state === "paused";
}

export function useFirmwareList() {
  return useQuery<FirmwareEntry[], ApiError>({ queryKey: queryKeys.library, queryFn: listFirmware });
}

export function useCampaigns() {
  return useQuery<CampaignView[], ApiError>({ queryKey: queryKeys.campaigns, queryFn: listCampaigns });
}

export function useCampaignDashboard(id: number) {
  return useQuery<CampaignDashboard, ApiError>({
    queryKey: queryKeys.campaignDashboard(id),
    queryFn: () => campaignDashboard(id),
    refetchInterval: (query) => (isLive(query.state.data?.campaign.state) ? 2_000 : false),
  });
}

export function useCampaignDevices(id: number, query: CampaignDeviceQuery, live: boolean) {
  return useQuery<CampaignDevicePage, ApiError>({
    queryKey: queryKeys.campaignDevices(id, JSON.stringify(query)),
    queryFn: () => campaignDevices(id, query),
    placeholderData: keepPreviousData,
    refetchInterval: live ? 2_000 : false,
  });
}

export function useAudit(query: AuditQuery) {
  return useQuery<AuditEntry[], ApiError>({
    queryKey: queryKeys.auditList(JSON.stringify(query)),
    queryFn: () => listAudit(query),
    placeholderData: keepPreviousData,
  });
}
