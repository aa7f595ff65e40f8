import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { getQuectelAutoUpgrade, setQuectelAutoUpgrade } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { QuectelAutoUpgrade } from "../bindings/QuectelAutoUpgrade";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";

interface Props {
  deviceKey: string;
  deviceName: string;
}

/**
 * A device's user auto-confirmation mode, as read from the cloud. Flipping it sends the change and shows
 * what the cloud answers when read back; until then the switch is busy and keeps the old value.
 */
export function AutoUpgradeSwitch({ deviceKey, deviceName }: Props) {
  const queryClient = useQueryClient();
  const key = queryKeys.quectelAutoUpgrade(deviceKey);
  const current = useQuery<QuectelAutoUpgrade, ApiError>({
    queryKey: key,
    queryFn: () => getQuectelAutoUpgrade(deviceKey),
    staleTime: 60_000,
  });
  const change = useMutation<QuectelAutoUpgrade, ApiError, boolean>({
    mutationFn: (on) => setQuectelAutoUpgrade(deviceKey, on),
    onSuccess: (value) => queryClient.setQueryData(key, value),
  });
  const on = current.data?.on ?? false;
  const busy = current.isPending || change.isPending;
  const text = current.isPending
    ? t("autoUpgrade.reading")
    : change.isPending
      ? t("autoUpgrade.saving")
      : on
        ? t("autoUpgrade.on")
        : t("autoUpgrade.off");
  const error = change.error ?? (current.data === undefined ? current.error : null);

  return (
    <div className="auto-upgrade">
      <button
        type="button"
        role="switch"
        className={on ? "switch switch-on" : "switch"}
        aria-checked={on}
        aria-busy={busy}
        aria-label={t("autoUpgrade.label", { name: deviceName })}
        title={t("autoUpgrade.title")}
        disabled={busy || current.data === undefined}
        onClick={() => change.mutate(!on)}
      >
        <span className="switch-track" aria-hidden="true">
          <span className="switch-thumb" />
        </span>
        <span className="switch-text">{text}</span>
      </button>
      {error ? <ErrorMessage error={error} live={change.error !== null} onRetry={change.error ? undefined : () => void current.refetch()} /> : null}
    </div>
  );
}
