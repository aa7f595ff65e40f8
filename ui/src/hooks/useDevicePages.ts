import { useQueries, type QueryClient } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";

import type { ApiError } from "../bindings/ApiError";
import type { Device } from "../bindings/Device";
import type { DevicePage } from "../bindings/DevicePage";
import { queryKeys, type DeviceFilter } from "../queryKeys";
import { PAGE_GC_MS, PAGE_SIZE, PAGE_STALE_MS, fetchDevicePage, useFirstDevicePage } from "./useFirstDevicePage";

export { PAGE_SIZE } from "./useFirstDevicePage";

/** The pages holding the given row indexes, ascending, each once. */
export function pagesOfRows(indexes: readonly number[]): number[] {
  const pages = new Set(indexes.map((index) => Math.floor(Math.max(0, index) / PAGE_SIZE)));
  return Array.from(pages).sort((a, b) => a - b);
}

export interface DevicePages {
  /** Rows matching the filter, over all pages (undefined until the first page arrived). */
  matching: number | undefined;
  /** Rows in the cache, unfiltered. */
  total: number | undefined;
  /** First page still loading with nothing to show. */
  loading: boolean;
  /** The first page failed and nothing can be shown. */
  error: ApiError | null;
  /** Rows still from the previous filter while the new one loads. */
  stale: boolean;
  retry: () => void;
  /** The row at `index`, or undefined while its page loads. */
  rowAt: (index: number) => Device | undefined;
}

/**
 * The device list as pages of PAGE_SIZE rows, cached per filter and page. Page 0 is always fetched (it
 * carries the counts); other pages only while `visiblePages` includes them.
 */
export function useDevicePages(filter: DeviceFilter, visiblePages: readonly number[]): DevicePages {
  const first = useFirstDevicePage(filter);
  const otherPages = useMemo(
    () => Array.from(new Set(visiblePages)).filter((page) => page > 0),
    [visiblePages],
  );
  const others = useQueries({
    queries: otherPages.map((page) => ({
      queryKey: queryKeys.devicePage(filter, page),
      queryFn: () => fetchDevicePage(filter, page),
      staleTime: PAGE_STALE_MS,
      gcTime: PAGE_GC_MS,
      // Until page 0 of this filter is in, the counts (and so the pages worth asking for) may be wrong.
      enabled: !first.isPlaceholderData,
    })),
  });

  const pageData = new Map<number, DevicePage>();
  if (first.data) pageData.set(0, first.data);
  otherPages.forEach((page, i) => {
    const data = others[i]?.data;
    if (data) pageData.set(page, data);
  });
  const rowAt = (index: number): Device | undefined => {
    const page = Math.floor(index / PAGE_SIZE);
    return pageData.get(page)?.rows[index - page * PAGE_SIZE];
  };

  const { refetch } = first;
  const retry = useCallback(() => {
    void refetch();
  }, [refetch]);

  return {
    matching: first.data?.matching,
    total: first.data?.total,
    loading: first.isPending,
    error: first.data ? null : first.error,
    stale: first.isPlaceholderData,
    retry,
    rowAt,
  };
}

/** Every row matching `filter`, page by page through the same cache the table reads ("Select all shown"). */
export async function fetchAllMatching(queryClient: QueryClient, filter: DeviceFilter): Promise<Device[]> {
  const fetchPage = (page: number) =>
    queryClient.fetchQuery({
      queryKey: queryKeys.devicePage(filter, page),
      queryFn: () => fetchDevicePage(filter, page),
      staleTime: PAGE_STALE_MS,
      gcTime: PAGE_GC_MS,
    });
  const first = await fetchPage(0);
  const pageCount = Math.ceil(first.matching / PAGE_SIZE);
  const rest = await Promise.all(Array.from({ length: Math.max(0, pageCount - 1) }, (_, i) => fetchPage(i + 1)));
  return [first, ...rest].flatMap((page) => page.rows);
}
