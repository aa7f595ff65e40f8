// Server state of local tags and saved cohorts (both live in the Rust store).

import { useQuery } from "@tanstack/react-query";

import { listCohorts, listTags } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Cohort } from "../bindings/Cohort";
import type { TagCount } from "../bindings/TagCount";
import { queryKeys } from "../queryKeys";

export function useCohorts() {
  return useQuery<Cohort[], ApiError>({ queryKey: queryKeys.cohorts, queryFn: listCohorts });
}

export function useTags() {
  return useQuery<TagCount[], ApiError>({ queryKey: queryKeys.tags, queryFn: listTags });
}
