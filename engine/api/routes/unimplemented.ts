/**
 * Every Engine API route tscompose will serve, registered first as an honest 501 (never a fake
 * success). Route modules written later (containers, images, networks, exec) replace these entries
 * through Router.add. The table is also the source of docs/api.md's "not yet" list.
 */
import { EngineError } from '../../../base/errors.js';
import type { HttpMethod, Router } from '../router.js';

/** `[method, pattern, operation id]` of the routes that need the container/image/network services. */
export const PLANNED_ROUTES: ReadonlyArray<readonly [HttpMethod, string, string]> = [
  ['GET', '/containers/json', 'ContainerList'],
  ['POST', '/containers/create', 'ContainerCreate'],
  ['GET', '/containers/{id}/json', 'ContainerInspect'],
  ['POST', '/containers/{id}/start', 'ContainerStart'],
  ['POST', '/containers/{id}/stop', 'ContainerStop'],
  ['POST', '/containers/{id}/restart', 'ContainerRestart'],
  ['POST', '/containers/{id}/kill', 'ContainerKill'],
  ['POST', '/containers/{id}/wait', 'ContainerWait'],
  ['DELETE', '/containers/{id}', 'ContainerDelete'],
  ['GET', '/containers/{id}/logs', 'ContainerLogs'],
  ['POST', '/containers/{id}/attach', 'ContainerAttach'],
  ['GET', '/containers/{id}/top', 'ContainerTop'],
  ['GET', '/containers/{id}/stats', 'ContainerStats'],
  ['POST', '/containers/{id}/pause', 'ContainerPause'],
  ['POST', '/containers/{id}/unpause', 'ContainerUnpause'],
  ['POST', '/containers/{id}/rename', 'ContainerRename'],
  ['POST', '/containers/{id}/update', 'ContainerUpdate'],
  ['POST', '/containers/{id}/resize', 'ContainerResize'],
  ['GET', '/containers/{id}/archive', 'ContainerArchive'],
  ['HEAD', '/containers/{id}/archive', 'ContainerArchiveInfo'],
  ['PUT', '/containers/{id}/archive', 'PutContainerArchive'],
  ['POST', '/containers/prune', 'ContainerPrune'],
  ['POST', '/containers/{id}/exec', 'ContainerExec'],
  ['POST', '/exec/{id}/start', 'ExecStart'],
  ['POST', '/exec/{id}/resize', 'ExecResize'],
  ['GET', '/exec/{id}/json', 'ExecInspect'],
  ['GET', '/images/json', 'ImageList'],
  ['POST', '/images/create', 'ImageCreate'],
  ['GET', '/images/{name*}/json', 'ImageInspect'],
  ['GET', '/images/{name*}/history', 'ImageHistory'],
  ['POST', '/images/{name*}/tag', 'ImageTag'],
  ['POST', '/images/{name*}/push', 'ImagePush'],
  ['GET', '/images/{name*}/get', 'ImageGet'],
  ['GET', '/images/get', 'ImageGetAll'],
  ['POST', '/images/load', 'ImageLoad'],
  ['POST', '/images/prune', 'ImagePrune'],
  ['DELETE', '/images/{name*}', 'ImageDelete'],
  ['POST', '/build', 'ImageBuild'],
  ['GET', '/networks', 'NetworkList'],
  ['GET', '/networks/{id}', 'NetworkInspect'],
  ['POST', '/networks/create', 'NetworkCreate'],
  ['DELETE', '/networks/{id}', 'NetworkDelete'],
  ['POST', '/networks/{id}/connect', 'NetworkConnect'],
  ['POST', '/networks/{id}/disconnect', 'NetworkDisconnect'],
  ['POST', '/networks/prune', 'NetworkPrune'],
  ['GET', '/system/df', 'SystemDataUsage'],
  ['PUT', '/volumes/{name}', 'VolumeUpdate'],
];

/** The 501 error for one operation. */
export function notImplemented(operation: string, method: string, pattern: string): EngineError {
  return new EngineError(
    'TSC_ENGINE_UNSUPPORTED',
    { kind: 'route', name: `${method} ${pattern}` },
    `${operation} (${method} ${pattern}) is not implemented by the tscompose engine yet`,
  );
}

/** Registers every {@link PLANNED_ROUTES} entry as a 501 (plus the GET /networks/ alias). */
export function registerUnimplemented(router: Router): void {
  for (const [method, pattern, op] of PLANNED_ROUTES) {
    router.add(method, pattern, () => {
      throw notImplemented(op, method, pattern);
    });
  }
}
