/**
 * docker compose's check of external resources before `up` creates anything: each `external`
 * network and volume the selected services use must already exist in the daemon. Asks through a
 * two-call client; decides nothing else.
 */
import { EngineError } from '../../base/errors.js';
import type { Project } from '../model.js';
import { networkName, sortedNetworks, volumeName } from './translate.js';

/** What the check asks the daemon (dockerode: `getNetwork(n).inspect()`, `getVolume(n).inspect()`). */
export interface ExternalResourceClient {
  /** `GET /networks/{name}`: true on 200, false on 404; other failures reject. */
  networkExists(name: string): Promise<boolean>;
  /** `GET /volumes/{name}`: true on 200, false on 404; other failures reject. */
  volumeExists(name: string): Promise<boolean>;
}

/**
 * The external networks and volumes (engine names) that `services` use: networks a service joins
 * (no `network_mode`), named volumes it mounts. Sorted, without repeats.
 */
export function externalResources(
  project: Project,
  services: Iterable<string>,
): { networks: string[]; volumes: string[] } {
  const networks = new Set<string>();
  const volumes = new Set<string>();
  for (const s of services) {
    const svc = project.services[s];
    if (svc === undefined) continue;
    if (svc.network_mode === undefined) {
      for (const [k] of sortedNetworks(svc))
        if (project.networks?.[k]?.external === true) networks.add(networkName(project, k));
    }
    for (const v of svc.volumes ?? []) {
      if (v.type === 'volume' && v.source && project.volumes?.[v.source]?.external === true)
        volumes.add(volumeName(project, v.source));
    }
  }
  return { networks: [...networks].sort(), volumes: [...volumes].sort() };
}

/**
 * Checks that every external network and volume `services` use exists, before anything is
 * created (docker compose v2 `create`: ensureNetworks / ensureVolumes).
 * @throws EngineError TSC_ENGINE_NOT_FOUND with docker compose's words: `network NAME declared
 *   as external, but could not be found`, `external volume "NAME" not found`
 */
export async function checkExternalResources(
  client: ExternalResourceClient,
  project: Project,
  services: Iterable<string>,
): Promise<void> {
  const { networks, volumes } = externalResources(project, services);
  const [netOk, volOk] = await Promise.all([
    Promise.all(networks.map((n) => client.networkExists(n))),
    Promise.all(volumes.map((v) => client.volumeExists(v))),
  ]);
  const net = networks.find((_, i) => netOk[i] !== true);
  if (net !== undefined)
    throw new EngineError(
      'TSC_ENGINE_NOT_FOUND',
      { kind: 'network', name: net },
      `network ${net} declared as external, but could not be found`,
      { hint: `create it first (docker network create ${net}) or drop external: true` },
    );
  const vol = volumes.find((_, i) => volOk[i] !== true);
  if (vol !== undefined)
    throw new EngineError(
      'TSC_ENGINE_NOT_FOUND',
      { kind: 'volume', name: vol },
      `external volume "${vol}" not found`,
      { hint: `create it first (docker volume create ${vol}) or drop external: true` },
    );
}
