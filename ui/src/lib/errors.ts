import type { ApiError } from "../bindings/ApiError";
import type { ErrorKind } from "../bindings/ErrorKind";

const KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  "validation",
  "auth",
  "offline",
  "rate_limited",
  "retryable",
  "not_found",
  "conflict",
  "device",
  "keychain",
  "internal",
]);

export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { code?: unknown; message?: unknown };
  return typeof candidate.code === "string" && KINDS.has(candidate.code) && typeof candidate.message === "string";
}

/** Every failure the window handles is an ApiError; anything else (a bug, no Tauri) becomes "internal". */
export function toApiError(err: unknown): ApiError {
  if (isApiError(err)) return err;
  if (err instanceof Error) return { code: "internal", message: err.message };
  return { code: "internal", message: String(err) };
}
