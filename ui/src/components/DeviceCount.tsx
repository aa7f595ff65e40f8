import { useFirstDevicePage } from "../hooks/useFirstDevicePage";
import { t } from "../i18n";
import { deviceCountText } from "../lib/format";
import type { DeviceFilter } from "../queryKeys";

/** "500 devices" / "12 of 500 devices" / "10000+ of 100000 devices", from the page-0 query the table shows. */
export function DeviceCount({ filter }: { filter: DeviceFilter }) {
  const page = useFirstDevicePage(filter);
  const text = page.data ? deviceCountText(page.data.matching, page.data.total, page.data.matchingAtLeast) : "";
  return (
    <span className="device-count" role="status" aria-label={t("devices.countLabel")}>
      {text}
    </span>
  );
}
