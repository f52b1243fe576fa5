/**
 * Maps engine failures to Docker Engine API responses: status code by error code (moby
 * `errdefs/http_helpers.go`: invalid parameter 400, not found 404, conflict 409, not implemented
 * 501, else 500) and the `{"message": "..."}` body. No routing, no I/O beyond the response.
 */
import { TscError, type ErrorCode } from '../../base/errors.js';

/** HTTP status per error code; codes not listed answer 500. */
export const STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  TSC_USAGE: 400,
  TSC_ENGINE_INVALID: 400,
  TSC_IMAGE_REFERENCE: 400,
  TSC_ENGINE_NOT_FOUND: 404,
  TSC_IMAGE_NOT_FOUND: 404,
  TSC_ENGINE_CONFLICT: 409,
  TSC_ENGINE_STATE: 409,
  TSC_ENGINE_UNSUPPORTED: 501,
  TSC_ENGINE_UNAVAILABLE: 503,
};

/** The status and message for any thrown value (non-TscError values are 500 bugs). */
export function errorResponse(err: unknown): { status: number; message: string } {
  if (err instanceof TscError) {
    return { status: STATUS_BY_CODE[err.code] ?? 500, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, message };
}

/** Docker's error body: `{"message":"..."}`. */
export function errorBody(message: string): string {
  return JSON.stringify({ message });
}
