import type { Cloud } from "../bindings/Cloud";
import type { StatusFilter } from "../bindings/StatusFilter";
import { useCohorts, useTags } from "../hooks/useCohorts";
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
  /** A cohort ("cohort:ID") or a tag ("tag:NAME") the list is narrowed to; "" = every device. */
  group: string;
  onGroupChange: (group: string) => void;
  /** The filter the list currently shows (debounced search), for the count. */
  filter: DeviceFilter;
}

/** The device filter's fields for a group choice of the toolbar. */
export function groupFilter(group: string): Pick<DeviceFilter, "cohortId" | "tag"> {
  if (group.startsWith("cohort:")) return { cohortId: Number(group.slice("cohort:".length)) };
  if (group.startsWith("tag:")) return { tag: group.slice("tag:".length) };
  return {};
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
  const cohorts = useCohorts();
  const tags = useTags();
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
      <select aria-label={t("devices.filterGroup")} value={props.group} onChange={(e) => props.onGroupChange(e.target.value)}>
        <option value="">{t("devices.allGroups")}</option>
        {(cohorts.data ?? []).length > 0 ? (
          <optgroup label={t("devices.cohorts")}>
            {(cohorts.data ?? []).map((c) => (
              <option key={c.id} value={`cohort:${c.id}`}>
                {t("devices.cohortOption", { name: c.name, count: c.deviceCount })}
              </option>
            ))}
          </optgroup>
        ) : null}
        {(tags.data ?? []).length > 0 ? (
          <optgroup label={t("devices.tags")}>
            {(tags.data ?? []).map((tag) => (
              <option key={tag.tag} value={`tag:${tag.tag}`}>
                {t("devices.tagOption", { tag: tag.tag, count: tag.count })}
              </option>
            ))}
          </optgroup>
        ) : null}
      </select>
      <DeviceCount filter={props.filter} />
    </div>
  );
}
