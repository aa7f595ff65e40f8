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

/** How far the pages loaded so far reach into the list. */
export interface Reach {
  /** The row after the last loaded one. */
  rows: number;
  /** A page came back short: the list ends at `rows`. */
  ended: boolean;
}

export const NO_REACH: Reach = { rows: 0, ended: false };

/** The reach of these pages (page number → page): where a short page ends the list, else past the furthest. */
export function reachOf(pages: ReadonlyMap<number, DevicePage>): Reach {
  let furthest = 0;
  let end: number | null = null;
  pages.forEach((data, page) => {
    const rows = page * PAGE_SIZE + data.rows.length;
    if (data.rows.length < PAGE_SIZE) end = end === null ? rows : Math.min(end, rows);
    else furthest = Math.max(furthest, rows);
  });
  return end === null ? { rows: furthest, ended: false } : { rows: end, ended: true };
}

/**
 * What is known of the list after seeing `now` on top of `seen`: a short page is where the list ends now;
 * otherwise the furthest row either has seen (pages scrolled away are dropped, the rows they held are not).
 */
export function furtherReach(seen: Reach, now: Reach): Reach {
  if (now.ended) return now;
  if (seen.ended && now.rows <= seen.rows) return seen;
  return { rows: Math.max(seen.rows, now.rows), ended: false };
}

/**
 * Rows the table lays out. An exact count is the answer. When the store only says "at least N" (it stops
 * counting at its cap), the table reaches one page past the furthest row seen, so scrolling to the bottom
 * loads the next page and grows the list, until a short page says where it ends.
 */
export function tableRowCount(first: DevicePage | undefined, reach: Reach): number {
  if (!first) return 0;
  if (!first.matchingAtLeast) return first.matching;
  if (reach.ended) return reach.rows;
  return Math.max(first.matching, reach.rows) + PAGE_SIZE;
}

export interface DevicePages {
  /** Rows matching the filter, over all pages (undefined until the first page arrived). */
  matching: number | undefined;
  /** `matching` is a floor: the store stopped counting at its cap. */
  matchingAtLeast: boolean;
  /** How far the pages held now reach. */
  reach: Reach;
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
    matchingAtLeast: first.data?.matchingAtLeast ?? false,
    reach: reachOf(pageData),
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
  const pages = [first, ...rest];
  // Past a capped count ("10000+"), page after page until one comes back short.
  if (first.matchingAtLeast) {
    let last = pages[pages.length - 1]!;
    while (last.rows.length === PAGE_SIZE) {
      last = await fetchPage(pages.length);
      pages.push(last);
    }
  }
  return pages.flatMap((page) => page.rows);
}
