import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { onenetCheck, onenetFetch, onenetPause, onenetReport } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Device } from "../bindings/Device";
import type { OnenetCheck } from "../bindings/OnenetCheck";
import type { OnenetDownloadProgress } from "../bindings/OnenetDownloadProgress";
import type { OnenetFetchOutcome } from "../bindings/OnenetFetchOutcome";
import type { OnenetReportAnswer } from "../bindings/OnenetReportAnswer";
import type { OnenetTaskType } from "../bindings/OnenetTaskType";
import { queryKeys } from "../queryKeys";

type Busy = "checking" | "downloading" | "reporting" | null;

/** One OneNET device's check → download → report, acting for the device. */
export function useOnenetUpdate(device: Device) {
  const queryClient = useQueryClient();
  const [check, setCheck] = useState<OnenetCheck | null>(null);
  const [progress, setProgress] = useState<OnenetDownloadProgress | null>(null);
  const [outcome, setOutcome] = useState<OnenetFetchOutcome | null>(null);
  const [answer, setAnswer] = useState<OnenetReportAnswer | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<Busy>(null);

  const runCheck = useCallback(
    async (taskType: OnenetTaskType) => {
      setError(null);
      setBusy("checking");
      setOutcome(null);
      setAnswer(null);
      setProgress(null);
      try {
        setCheck(await onenetCheck(device.id, taskType));
      } catch (err) {
        setCheck(null);
        setError(err as ApiError);
      } finally {
        setBusy(null);
      }
    },
    [device.id],
  );

  const download = useCallback(async () => {
    const task = check?.task;
    if (!task) return;
    setError(null);
    setAnswer(null);
    setBusy("downloading");
    try {
      const end = await onenetFetch(task, setProgress);
      if (end.kind === "done") {
        setOutcome(end.outcome);
        setAnswer(end.outcome.report);
      } else {
        setProgress(end.progress);
        setCheck((prev) => (prev ? { ...prev, savedBytes: end.progress.received } : prev));
      }
    } catch (err) {
      setError(err as ApiError);
      setProgress((prev) => (prev ? { ...prev, phase: "failed", bytesPerSec: null, etaSecs: null } : prev));
    } finally {
      setBusy(null);
      void queryClient.invalidateQueries({ queryKey: queryKeys.audit });
    }
  }, [check, queryClient]);

  const pause = useCallback(async () => {
    try {
      await onenetPause(device.id);
    } catch (err) {
      setError(err as ApiError);
    }
  }, [device.id]);

  const report = useCallback(
    async (code: number) => {
      const task = check?.task;
      if (!task) return;
      setError(null);
      setBusy("reporting");
      try {
        setAnswer(await onenetReport(device.id, task.token, code));
        void queryClient.invalidateQueries({ queryKey: queryKeys.devices });
      } catch (err) {
        setAnswer(null);
        setError(err as ApiError);
      } finally {
        setBusy(null);
        void queryClient.invalidateQueries({ queryKey: queryKeys.audit });
      }
    },
    [check, device.id, queryClient],
  );

  return { check, progress, outcome, answer, error, busy, runCheck, download, pause, report };
}
