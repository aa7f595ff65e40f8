import type { Cloud } from "../bindings/Cloud";
import { cloudLabel } from "../lib/format";

export function CloudBadge({ cloud }: { cloud: Cloud }) {
  return <span className={`cloud-badge cloud-${cloud}`}>{cloudLabel(cloud)}</span>;
}
