import { useQuery } from "@tanstack/react-query";

import { teamDatabaseStatus } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { TeamDatabaseStatus } from "../bindings/TeamDatabaseStatus";
import { queryKeys } from "../queryKeys";

/** How often Settings asks whether the database still answers, while it is open. */
export const TEAM_DATABASE_POLL_MS = 30_000;

/** Which data this window works on and whether it answers (a cheap read on the Rust side). */
export function useTeamDatabaseStatus({ poll = false }: { poll?: boolean } = {}) {
  return useQuery<TeamDatabaseStatus, ApiError>({
    queryKey: queryKeys.teamDatabase,
    queryFn: teamDatabaseStatus,
    staleTime: 10_000,
    refetchInterval: poll ? TEAM_DATABASE_POLL_MS : false,
  });
}

/** The window was told to open a team database at start but works on the desk's own file. */
export function fellBackToDesk(status: TeamDatabaseStatus): boolean {
  return status.mode === "desk" && status.source !== null;
}
