import type { Cloud } from "../bindings/Cloud";
import type { StatusFilter } from "../bindings/StatusFilter";
import { t } from "../i18n";
import { DeviceCount } from "./DeviceCount";
import type { DeviceFilter } from "../queryKeys";

export type CloudChoice = Cloud | "all";

interface Props {
  search: string;
  onSearchChange: (search: string) => void;
  cloud: CloudChoice;
  onCloudChange: (cloud: CloudChoice) => void;
  status: StatusFilter;
  onStatusChange: (status: StatusFilter) => void;
  /** The filter the list currently shows (debounced search), for the count. */
  filter: DeviceFilter;
}

const CLOUD_CHOICES: readonly CloudChoice[] = ["all", "vicohome", "onenet", "quectel"];
const STATUS_CHOICES: readonly StatusFilter[] = ["all", "online", "offline"];

function isCloudChoice(value: string): value is CloudChoice {
  return (CLOUD_CHOICES as readonly string[]).includes(value);
}

function isStatusFilter(value: string): value is StatusFilter {
  return (STATUS_CHOICES as readonly string[]).includes(value);
}

export function DeviceToolbar(props: Props) {
  return (
    <div className="toolbar">
      <input
        type="search"
        className="search-input"
        aria-label={t("devices.search")}
        placeholder={t("devices.searchPlaceholder")}
        value={props.search}
        onChange={(e) => props.onSearchChange(e.target.value)}
        spellCheck={false}
        autoComplete="off"
      />
      <select
        aria-label={t("devices.filterCloud")}
        value={props.cloud}
        onChange={(e) => {
          if (isCloudChoice(e.target.value)) props.onCloudChange(e.target.value);
        }}
      >
        <option value="all">{t("devices.allClouds")}</option>
        <option value="vicohome">{t("cloud.vicohome")}</option>
        <option value="onenet">{t("cloud.onenet")}</option>
        <option value="quectel">{t("cloud.quectel")}</option>
      </select>
      <select
        aria-label={t("devices.filterStatus")}
        value={props.status}
        onChange={(e) => {
          if (isStatusFilter(e.target.value)) props.onStatusChange(e.target.value);
        }}
      >
        <option value="all">{t("devices.allStatuses")}</option>
        <option value="online">{t("devices.statusOnline")}</option>
        <option value="offline">{t("devices.statusOffline")}</option>
      </select>
      <DeviceCount filter={props.filter} />
    </div>
  );
}
