import { memo, type CSSProperties } from "react";

import type { Device } from "../bindings/Device";
import { t } from "../i18n";
import { CloudBadge } from "./CloudBadge";

export const LOW_BATTERY = 20;

export function deviceRowId(index: number): string {
  return `device-row-${index}`;
}

interface RowProps {
  index: number;
  device: Device;
  active: boolean;
  /** Ticked for a bulk action (not the same as the active row, which aria-selected marks). */
  checked: boolean;
  style?: CSSProperties;
  onSelect: (index: number) => void;
  onOpen: (device: Device) => void;
  onToggleChecked: (device: Device) => void;
}

/**
 * One row of the device grid. Memoized: while the grid scrolls, the rows already on screen keep their
 * device, place and state, so only the rows coming into view render (scrolling 100 000 rows spent most of
 * its frame in the web process's main thread; bench/RESULTS.md).
 */
export const DeviceRow = memo(DeviceRowView, sameRow);

function sameRow(a: RowProps, b: RowProps): boolean {
  return (
    a.index === b.index &&
    a.device === b.device &&
    a.active === b.active &&
    a.checked === b.checked &&
    a.style?.transform === b.style?.transform &&
    a.style?.height === b.style?.height &&
    a.onSelect === b.onSelect &&
    a.onOpen === b.onOpen &&
    a.onToggleChecked === b.onToggleChecked
  );
}

function DeviceRowView({ index, device, active, checked, style, onSelect, onOpen, onToggleChecked }: RowProps) {
  const newer = device.newestFirmware && device.newestFirmware !== device.firmware ? device.newestFirmware : null;
  const lowBattery = device.battery !== null && device.battery < LOW_BATTERY;
  return (
    <div
      role="row"
      id={deviceRowId(index)}
      aria-rowindex={index + 2}
      aria-selected={active}
      data-device-id={device.id}
      className={`grid-row${active ? " active" : ""}${checked ? " checked" : ""}`}
      style={style}
      onClick={() => {
        onSelect(index);
        onOpen(device);
      }}
    >
      <div role="gridcell" className="cell cell-select">
        {/* Out of the tab order: the grid owns the keyboard (Space ticks the active row). */}
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={t("devices.selectRow", { name: device.name })}
          checked={checked}
          onClick={(event) => event.stopPropagation()}
          onChange={() => onToggleChecked(device)}
        />
      </div>
      <div role="gridcell" className="cell cell-cloud">
        <CloudBadge cloud={device.cloud} />
      </div>
      <div role="gridcell" className="cell cell-name" title={device.name}>
        {device.name}
      </div>
      <div role="gridcell" className="cell cell-id mono" title={device.id}>
        {device.id}
      </div>
      <div role="gridcell" className="cell cell-model" title={device.model}>
        {device.model}
      </div>
      <div role="gridcell" className="cell cell-firmware">
        <span className="mono">{device.firmware}</span>
        {newer ? (
          <span className="newer-hint" title={t("devices.newerTitle", { version: newer })}>
            {" "}
            {t("devices.newerHint", { version: newer })}
          </span>
        ) : null}
      </div>
      <div role="gridcell" className="cell cell-online">
        <span className={device.online ? "dot dot-online" : "dot dot-offline"} aria-hidden="true" />
        {device.online ? t("status.online") : t("status.offline")}
      </div>
      <div role="gridcell" className={lowBattery ? "cell cell-battery battery-low" : "cell cell-battery"}>
        {device.battery === null ? t("devices.batteryUnknown") : `${device.battery} %`}
      </div>
    </div>
  );
}

interface SkeletonProps {
  index: number;
  active: boolean;
  style?: CSSProperties;
}

/** A row whose page is still loading. */
export function SkeletonRow({ index, active, style }: SkeletonProps) {
  return (
    <div
      role="row"
      id={deviceRowId(index)}
      aria-rowindex={index + 2}
      aria-selected={active}
      aria-busy="true"
      className={active ? "grid-row skeleton active" : "grid-row skeleton"}
      style={style}
    >
      {Array.from({ length: 8 }, (_, i) => (
        <div role="gridcell" className="cell" key={i}>
          <span className="skeleton-bar" />
        </div>
      ))}
    </div>
  );
}
