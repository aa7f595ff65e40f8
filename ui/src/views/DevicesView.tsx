import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Device } from "../bindings/Device";
import type { DeviceKey } from "../bindings/DeviceKey";
import type { DeviceSort } from "../bindings/DeviceSort";
import type { StatusFilter } from "../bindings/StatusFilter";
import { DeviceDetail } from "../components/DeviceDetail";
import { DeviceTable } from "../components/DeviceTable";
import { DeviceToolbar, groupFilter, type CloudChoice } from "../components/DeviceToolbar";
import { ErrorMessage } from "../components/ErrorMessage";
import { GroupSelection } from "../components/GroupSelection";
import { SelectionBar } from "../components/SelectionBar";
import { useBulkVicohomeUpdate } from "../hooks/useBulkVicohomeUpdate";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useDevice } from "../hooks/useDevice";
import { fetchAllMatching } from "../hooks/useDevicePages";
import { useDeviceSelection } from "../hooks/useDeviceSelection";
import { useAccounts } from "../hooks/useServerState";
import type { DeviceFilter } from "../queryKeys";

export const SEARCH_DEBOUNCE_MS = 150;

export function DevicesView() {
  const [search, setSearch] = useState("");
  const [cloud, setCloud] = useState<CloudChoice>("all");
  const [status, setStatus] = useState<StatusFilter>("all");
  const [group, setGroup] = useState("");
  const [sort, setSort] = useState<DeviceSort>("name");
  const [descending, setDescending] = useState(false);
  const [activeIndex, setActiveIndex] = useState<number | null>(null);
  // Which device is open, by key only: what the panel shows is looked up in the current device data.
  const [openKey, setOpenKey] = useState<DeviceKey | null>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const accounts = useAccounts();
  const queryClient = useQueryClient();
  const selection = useDeviceSelection();
  const bulkUpdate = useBulkVicohomeUpdate();
  // The rows "Select all shown" ticked, and under which filter, so the header box can show it.
  const [allShown, setAllShown] = useState<{ filterKey: string; devices: Device[] } | null>(null);
  const [selectAllError, setSelectAllError] = useState<ApiError | null>(null);

  const debouncedSearch = useDebouncedValue(search, SEARCH_DEBOUNCE_MS);
  const filter = useMemo<DeviceFilter>(() => {
    const base: DeviceFilter = { search: debouncedSearch.trim(), status, sort, descending, ...groupFilter(group) };
    return cloud === "all" ? base : { ...base, cloud };
  }, [debouncedSearch, cloud, status, sort, descending, group]);

  // A new filter starts at the top of its list.
  const filterKey = JSON.stringify(filter);
  useEffect(() => {
    setActiveIndex(null);
    if (gridRef.current) gridRef.current.scrollTop = 0;
  }, [filterKey]);

  const closeDetail = useCallback(() => {
    setOpenKey(null);
    gridRef.current?.focus();
  }, []);

  const { isSelected, setMany } = selection;
  const allShownChecked = useMemo(
    () => allShown !== null && allShown.filterKey === filterKey && allShown.devices.every(isSelected),
    [allShown, filterKey, isSelected],
  );
  const checkAllShown = useCallback(
    async (checked: boolean) => {
      setSelectAllError(null);
      if (!checked) {
        if (allShown) setMany(allShown.devices, false);
        setAllShown(null);
        return;
      }
      try {
        const devices = await fetchAllMatching(queryClient, filter);
        setMany(devices, true);
        setAllShown({ filterKey, devices });
      } catch (err) {
        setSelectAllError(toApiError(err));
      }
    },
    [allShown, setMany, queryClient, filter, filterKey],
  );

  const openDevice = useDevice(openKey).device;
  const openAccountId = openKey?.accountId;
  const accountName = accounts.data?.find((a) => a.id === openAccountId)?.name;
  const openRow = useCallback((device: Device) => setOpenKey({ accountId: device.accountId, deviceId: device.id }), []);

  return (
    <div
      className="view devices-view"
      onKeyDown={(event) => {
        if (event.key === "Escape" && openKey) {
          event.preventDefault();
          closeDetail();
        }
      }}
    >
      <div className="devices-main">
        <DeviceToolbar
          search={search}
          onSearchChange={setSearch}
          cloud={cloud}
          onCloudChange={setCloud}
          status={status}
          onStatusChange={setStatus}
          group={group}
          onGroupChange={setGroup}
          filter={filter}
        />
        <SelectionBar
          selected={selection.devices}
          onClear={() => {
            selection.clear();
            setAllShown(null);
          }}
          onUpdate={(cameras) => void bulkUpdate.start(cameras)}
          updating={bulkUpdate.running}
          results={bulkUpdate.results}
          onDismissResults={bulkUpdate.dismiss}
        />
        {selection.count > 0 ? <GroupSelection selected={selection.devices} /> : null}
        {selectAllError ? <ErrorMessage error={selectAllError} /> : null}
        <DeviceTable
          filter={filter}
          activeIndex={activeIndex}
          onActiveIndexChange={setActiveIndex}
          onSortChange={(nextSort, nextDescending) => {
            setSort(nextSort);
            setDescending(nextDescending);
          }}
          onOpen={openRow}
          onClearSearch={() => setSearch("")}
          onClearFilters={() => {
            setSearch("");
            setCloud("all");
            setStatus("all");
            setGroup("");
          }}
          gridRef={gridRef}
          isChecked={isSelected}
          onToggleChecked={selection.toggle}
          allShownChecked={allShownChecked}
          someChecked={selection.count > 0}
          onCheckAllShown={(checked) => void checkAllShown(checked)}
        />
      </div>
      {openDevice ? (
        <DeviceDetail
          key={`${openDevice.accountId}:${openDevice.id}`}
          device={openDevice}
          accountName={accountName}
          onClose={closeDetail}
        />
      ) : null}
    </div>
  );
}
