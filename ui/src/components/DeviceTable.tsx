import { defaultRangeExtractor, useVirtualizer, type Range } from "@tanstack/react-virtual";
import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type FocusEvent,
  type KeyboardEvent,
  type RefObject,
} from "react";

import type { Device } from "../bindings/Device";
import type { DeviceSort } from "../bindings/DeviceSort";
import { NO_REACH, furtherReach, pagesOfRows, tableRowCount, useDevicePages, type Reach } from "../hooks/useDevicePages";
import { useFirstDevicePage } from "../hooks/useFirstDevicePage";
import { t, type MessageKey } from "../i18n";
import type { DeviceFilter } from "../queryKeys";
import { DeviceRow, SkeletonRow, deviceRowId } from "./DeviceRow";
import { ErrorMessage } from "./ErrorMessage";

export const ROW_HEIGHT = 36;
const HEADER_HEIGHT = 36;
const LOADING_ROWS = 12;

const COLUMNS: ReadonlyArray<{ sort: DeviceSort; label: MessageKey }> = [
  { sort: "cloud", label: "column.cloud" },
  { sort: "name", label: "column.name" },
  { sort: "id", label: "column.id" },
  { sort: "model", label: "column.model" },
  { sort: "firmware", label: "column.firmware" },
  { sort: "online", label: "column.online" },
  { sort: "battery", label: "column.battery" },
];

interface Props {
  filter: DeviceFilter;
  activeIndex: number | null;
  onActiveIndexChange: (index: number) => void;
  onSortChange: (sort: DeviceSort, descending: boolean) => void;
  onOpen: (device: Device) => void;
  onClearSearch: () => void;
  onClearFilters: () => void;
  gridRef: RefObject<HTMLDivElement | null>;
  isChecked: (device: Device) => boolean;
  onToggleChecked: (device: Device) => void;
  /** The header box: ticked when every row shown is; mixed when only some rows are ticked. */
  allShownChecked: boolean;
  someChecked: boolean;
  onCheckAllShown: (checked: boolean) => void;
}

/**
 * The device list: an ARIA grid, virtualized, fed page by page. Keyboard: the grid takes focus; arrows,
 * Page Up/Down, Home and End move the active row (aria-activedescendant); Enter opens its details; Space
 * ticks it for a bulk action.
 */
export function DeviceTable(props: Props) {
  const { filter, activeIndex, onActiveIndexChange, onSortChange, onOpen, gridRef } = props;
  const { isChecked, onToggleChecked, allShownChecked, someChecked, onCheckAllShown } = props;
  const checkAllRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (checkAllRef.current) checkAllRef.current.indeterminate = someChecked && !allShownChecked;
  }, [someChecked, allShownChecked]);

  // Page 0 carries the counts the virtualizer needs; the rendered range then decides which other pages load.
  // Past a capped count ("10000+") the table grows with the furthest page seen for this filter.
  const first = useFirstDevicePage(filter);
  const filterKey = JSON.stringify(filter);
  const [seen, setSeen] = useState<{ filterKey: string; reach: Reach }>({ filterKey, reach: NO_REACH });
  const reach = seen.filterKey === filterKey ? seen.reach : NO_REACH;
  const count = tableRowCount(first.data, reach);

  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      // The active row stays rendered so aria-activedescendant always points at something.
      if (activeIndex !== null && activeIndex < range.count && !indexes.includes(activeIndex)) {
        indexes.push(activeIndex);
        indexes.sort((a, b) => a - b);
      }
      return indexes;
    },
    [activeIndex],
  );

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => gridRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollMargin: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
    rangeExtractor,
    initialRect: { width: 1000, height: ROW_HEIGHT * 20 },
  });
  const items = virtualizer.getVirtualItems();
  // Only the pages of rows actually rendered (the active row may sit far from the visible ones).
  const pageKey = items.length > 0 ? pagesOfRows(items.map((item) => item.index)).join(",") : "0";
  const visiblePages = useMemo(() => pageKey.split(",").map(Number), [pageKey]);
  const pages = useDevicePages(filter, visiblePages);
  const next = pages.stale ? reach : furtherReach(reach, pages.reach);
  useEffect(() => {
    if (next.rows !== reach.rows || next.ended !== reach.ended) setSeen({ filterKey, reach: next });
  }, [filterKey, next, reach]);

  const moveTo = (index: number) => {
    if (count === 0) return;
    const next = Math.min(count - 1, Math.max(0, index));
    onActiveIndexChange(next);
    virtualizer.scrollToIndex(next, { align: "auto" });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    // Keys on a column header's sort button are the button's own.
    if (event.target !== event.currentTarget || count === 0) return;
    const current = activeIndex ?? -1;
    const pageRows = Math.max(1, Math.floor(((gridRef.current?.clientHeight ?? 0) - HEADER_HEIGHT) / ROW_HEIGHT));
    switch (event.key) {
      case "ArrowDown":
        moveTo(current + 1);
        break;
      case "ArrowUp":
        moveTo(Math.max(0, current - 1));
        break;
      case "PageDown":
        moveTo(current + pageRows);
        break;
      case "PageUp":
        moveTo(current - pageRows);
        break;
      case "Home":
        moveTo(0);
        break;
      case "End":
        moveTo(count - 1);
        break;
      case "Enter": {
        const device = activeIndex === null ? undefined : pages.rowAt(activeIndex);
        if (device) onOpen(device);
        break;
      }
      case " ": {
        const device = activeIndex === null ? undefined : pages.rowAt(activeIndex);
        if (device) onToggleChecked(device);
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  };

  const onFocus = (event: FocusEvent<HTMLDivElement>) => {
    if (event.target === event.currentTarget && activeIndex === null && count > 0) onActiveIndexChange(0);
  };

  const showRows = !pages.loading && !pages.error && count > 0;
  const activeId = showRows && activeIndex !== null && activeIndex < count ? deviceRowId(activeIndex) : undefined;

  return (
    <div className="device-table">
      <div
        ref={gridRef}
        className="grid"
        role="grid"
        aria-label={t("devices.tableLabel")}
        aria-rowcount={pages.matching === undefined ? undefined : pages.matchingAtLeast ? -1 : pages.matching + 1}
        aria-colcount={COLUMNS.length + 1}
        aria-busy={pages.loading || pages.stale}
        aria-activedescendant={activeId}
        tabIndex={0}
        onKeyDown={onKeyDown}
        onFocus={onFocus}
      >
        <div role="rowgroup" className="grid-head">
          <div role="row" aria-rowindex={1} className="grid-row grid-header-row">
            <div role="columnheader" className="cell cell-select">
              <input
                ref={checkAllRef}
                type="checkbox"
                aria-label={t("devices.selectAll")}
                checked={allShownChecked}
                disabled={count === 0}
                onChange={(event) => onCheckAllShown(event.target.checked)}
              />
            </div>
            {COLUMNS.map((column) => {
              const sorted = filter.sort === column.sort;
              return (
                <div
                  key={column.sort}
                  role="columnheader"
                  className={`cell cell-${column.sort}`}
                  aria-sort={sorted ? (filter.descending ? "descending" : "ascending") : undefined}
                >
                  <button
                    type="button"
                    className="sort-button"
                    onClick={() => onSortChange(column.sort, sorted ? !filter.descending : false)}
                  >
                    {t(column.label)}
                    <span className="sort-arrow" aria-hidden="true">
                      {sorted ? (filter.descending ? "▼" : "▲") : ""}
                    </span>
                  </button>
                </div>
              );
            })}
          </div>
        </div>
        <div
          role="rowgroup"
          className="grid-body"
          style={{ height: showRows ? virtualizer.getTotalSize() - HEADER_HEIGHT : undefined }}
        >
          {pages.loading
            ? Array.from({ length: LOADING_ROWS }, (_, i) => (
                <SkeletonRow key={i} index={i} active={false} style={{ transform: `translateY(${i * ROW_HEIGHT}px)` }} />
              ))
            : null}
          {showRows
            ? items.map((item) => {
                const device = pages.rowAt(item.index);
                const style = { transform: `translateY(${item.start - HEADER_HEIGHT}px)`, height: ROW_HEIGHT };
                const active = item.index === activeIndex;
                return device ? (
                  <DeviceRow
                    key={item.key}
                    index={item.index}
                    device={device}
                    active={active}
                    checked={isChecked(device)}
                    style={style}
                    onSelect={onActiveIndexChange}
                    onOpen={onOpen}
                    onToggleChecked={onToggleChecked}
                  />
                ) : (
                  <SkeletonRow key={item.key} index={item.index} active={active} style={style} />
                );
              })
            : null}
        </div>
      </div>
      <TableState {...props} pages={pages} />
    </div>
  );
}

function TableState({
  filter,
  onClearSearch,
  onClearFilters,
  pages,
}: Props & { pages: ReturnType<typeof useDevicePages> }) {
  if (pages.error) {
    return (
      <div className="table-state">
        <ErrorMessage error={pages.error} onRetry={pages.retry} />
      </div>
    );
  }
  if (pages.loading) {
    return (
      <p className="visually-hidden" role="status">
        {t("devices.loading")}
      </p>
    );
  }
  if (pages.matching !== 0) return null;
  const search = filter.search.trim();
  const filtered = filter.cloud !== undefined || filter.status !== "all";
  return (
    <div className="table-state" role="status">
      {search ? (
        <>
          <p>{t("devices.empty", { search })}</p>
          <button type="button" className="button" onClick={onClearSearch}>
            {t("devices.clearSearch")}
          </button>
        </>
      ) : filtered ? (
        <>
          <p>{t("devices.emptyFiltered")}</p>
          <button type="button" className="button" onClick={onClearFilters}>
            {t("devices.clearFilters")}
          </button>
        </>
      ) : (
        <p>{t("devices.emptyFleet")}</p>
      )}
    </div>
  );
}
