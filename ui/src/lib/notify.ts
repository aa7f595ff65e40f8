// Desktop notification when a job this window started has finished. Best effort: a denied permission or
// a missing notification service never disturbs the window.

import { isPermissionGranted, requestPermission, sendNotification } from "@tauri-apps/plugin-notification";

import type { JobView } from "../bindings/JobView";
import { t } from "../i18n";

export async function notifyJobFinished(job: JobView, deviceName: string): Promise<void> {
  try {
    let granted = await isPermissionGranted();
    if (!granted) granted = (await requestPermission()) === "granted";
    if (!granted) return;
    const device = deviceName || job.deviceId;
    if (job.state === "succeeded") {
      sendNotification({
        title: t("notify.jobDoneTitle"),
        body: t("notify.jobDoneBody", { device, version: job.toVersion ?? "" }),
      });
    } else {
      sendNotification({
        title: t("notify.jobFailedTitle"),
        body: t("notify.jobFailedBody", { device, message: job.error?.message ?? t(`state.${job.state}`) }),
      });
    }
  } catch {
    // No notification service: the Jobs view still shows the outcome.
  }
}
