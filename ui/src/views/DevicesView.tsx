import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import type { Device } from "../bindings/Device";
import type { DeviceSort } from "../bindings/DeviceSort";
import type { StatusFilter } from "../bindings/StatusFilter";
import { DeviceDetail } from "../components/DeviceDetail";
import { DeviceTable } from "../components/DeviceTable";
import { DeviceToolbar, type CloudChoice } from "../components/DeviceToolbar";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
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
