import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Device } from "../bindings/Device";
import type { DeviceSort } from "../bindings/DeviceSort";
import type { StatusFilter } from "../bindings/StatusFilter";
import { DeviceDetail } from "../components/DeviceDetail";
import { useLatestDevice } from "../hooks/useLatestDevice";
import { DeviceTable } from "../components/DeviceTable";
import { DeviceToolbar, type CloudChoice } from "../components/DeviceToolbar";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectionBar } from "../components/SelectionBar";
import { useBulkVicohomeUpdate } from "../hooks/useBulkVicohomeUpdate";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { fetchAllMatching } from "../hooks/useDevicePages";
import { useDeviceSelection } from "../hooks/useDeviceSelection";
import { useAccounts } from "../hooks/useServerState";
import type { DeviceFilter } from "../queryKeys";

export const SEARCH_DEBOUNCE_MS = 150;

export function DevicesView() {
  const [search, setSearch] = useState("");
  const [cloud, setCloud] = useState<CloudChoice>("all");
  const [status, setStatus] = useState<StatusFilter>("all");
  const [sort, setSort] = useState<DeviceSort>("name");
  const [descending, setDescending] = useState(false);
  const [activeIndex, setActiveIndex] = useState<number | null>(null);
  const [openDevice, setOpenDevice] = useState<Device | null>(null);
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
    const base: DeviceFilter = { search: debouncedSearch.trim(), status, sort, descending };
    return cloud === "all" ? base : { ...base, cloud };
  }, [debouncedSearch, cloud, status, sort, descending]);

  // A new filter starts at the top of its list.
  const filterKey = JSON.stringify(filter);
  useEffect(() => {
    setActiveIndex(null);
    if (gridRef.current) gridRef.current.scrollTop = 0;
  }, [filterKey]);

  const closeDetail = useCallback(() => {
    setOpenDevice(null);
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

  const shownDevice = useLatestDevice(openDevice);
  const accountName = openDevice ? accounts.data?.find((a) => a.id === openDevice.accountId)?.name : undefined;

  return (
    <div
      className="view devices-view"
      onKeyDown={(event) => {
        if (event.key === "Escape" && openDevice) {
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
        {selectAllError ? <ErrorMessage error={selectAllError} /> : null}
        <DeviceTable
          filter={filter}
          activeIndex={activeIndex}
          onActiveIndexChange={setActiveIndex}
          onSortChange={(nextSort, nextDescending) => {
            setSort(nextSort);
            setDescending(nextDescending);
          }}
          onOpen={setOpenDevice}
          onClearSearch={() => setSearch("")}
          onClearFilters={() => {
            setSearch("");
            setCloud("all");
            setStatus("all");
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
          device={shownDevice ?? openDevice}
          accountName={accountName}
          onClose={closeDetail}
        />
      ) : null}
    </div>
  );
}
