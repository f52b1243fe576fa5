/**
 * Engine API versions this daemon speaks and the version prefix of request paths (`/v1.47/...`).
 * Follows moby `api/server/middleware/version.go`: below the minimum or above the current version
 * is a 400 with Docker's wording; an unprefixed path means the current version.
 */
import { EngineError } from '../../base/errors.js';

/** The API version served (Docker 27.x). Clients above it negotiate down through `/_ping`. */
export const API_VERSION = '1.47';
/** The oldest API version accepted (Docker 25+ accepts 1.24 and newer; docker-compose v1 needs it). */
export const MIN_API_VERSION = '1.24';
/** The engine's own version, reported as the server version. */
export const ENGINE_VERSION = '0.1.0';

/** Compares two `major.minor` versions: negative, 0 or positive. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A request path split into the API version (current when unprefixed) and the path without prefix. */
export interface VersionedPath {
  readonly version: string;
  readonly path: string;
}

/**
 * Strips `/v<major>.<minor>` from `path` and checks the version against
 * [{@link MIN_API_VERSION}, {@link API_VERSION}]. Throws TSC_ENGINE_INVALID (HTTP 400) with
 * Docker's message when it is outside.
 */
export function splitVersion(path: string): VersionedPath {
  const m = /^\/v(\d+\.\d+)(\/.*)?$/.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1] ?? API_VERSION;
  const rest = m[2] ?? '/';
  if (compareApiVersions(version, MIN_API_VERSION) < 0) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'api version', name: version },
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  if (compareApiVersions(version, API_VERSION) > 0) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'api version', name: version },
      `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`,
    );
  }
  return { version, path: rest };
}
