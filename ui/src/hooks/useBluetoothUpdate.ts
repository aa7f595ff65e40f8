import { useCallback, useState } from "react";

import { quectelBleDownload, quectelBleFetch, quectelBleReport } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { QuectelBlePackage } from "../bindings/QuectelBlePackage";
import type { QuectelBlePlan } from "../bindings/QuectelBlePlan";
import type { QuectelBleProgress } from "../bindings/QuectelBleProgress";
import type { QuectelBleReported } from "../bindings/QuectelBleReported";

type Busy = "fetching" | "confirming" | "downloading" | "reporting" | null;

/** Code 0 of the Bluetooth report table: the user confirmed the upgrade. */
export const BLE_CONFIRMED = 0;

/**
 * One Bluetooth device's flow: fetch the plan → confirm it (report 0) → download and verify the package →
 * report the outcome. `onReported` runs after every report the cloud accepted (the plan's state moved).
 */
export function useBluetoothUpdate(deviceKey: string, onReported: () => void) {
  const [plan, setPlan] = useState<QuectelBlePlan | null | undefined>(undefined);
  const [confirmed, setConfirmed] = useState<QuectelBleReported | null>(null);
  const [progress, setProgress] = useState<QuectelBleProgress | null>(null);
  const [saved, setSaved] = useState<QuectelBlePackage | null>(null);
  const [answer, setAnswer] = useState<QuectelBleReported | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<Busy>(null);

  const run = useCallback(async <T,>(what: Exclude<Busy, null>, work: () => Promise<T>): Promise<T | undefined> => {
    setError(null);
    setBusy(what);
    try {
      return await work();
    } catch (err) {
      setError(err as ApiError);
      return undefined;
    } finally {
      setBusy(null);
    }
  }, []);

  const fetchPlan = useCallback(async () => {
    setConfirmed(null);
    setProgress(null);
    setSaved(null);
    setAnswer(null);
    const found = await run("fetching", () => quectelBleFetch(deviceKey));
    setPlan(found === undefined ? undefined : found);
  }, [deviceKey, run]);

  const confirm = useCallback(async () => {
    const reported = await run("confirming", () => quectelBleReport(deviceKey, BLE_CONFIRMED, plan?.componentNo ?? undefined));
    if (reported) {
      setConfirmed(reported);
      onReported();
    }
  }, [deviceKey, plan, run, onReported]);

  const download = useCallback(async () => {
    setSaved(null);
    setProgress(null);
    const result = await run("downloading", () => quectelBleDownload(deviceKey, setProgress));
    if (result) setSaved(result);
    else setProgress((prev) => (prev ? { ...prev, phase: "failed" } : prev));
    onReported();
  }, [deviceKey, run, onReported]);

  const report = useCallback(
    async (code: number) => {
      setAnswer(null);
      const reported = await run("reporting", () => quectelBleReport(deviceKey, code, plan?.componentNo ?? undefined));
      if (reported) {
        setAnswer(reported);
        onReported();
      }
    },
    [deviceKey, plan, run, onReported],
  );

  return { plan, confirmed, progress, saved, answer, error, busy, fetchPlan, confirm, download, report };
}
