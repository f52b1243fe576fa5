/**
 * engine/containers: the daemon plugin that wires the container service to the runtime, cgroups,
 * images, networks and volumes, and registers the container, exec, image and network routes.
 * Building blocks only; no HTTP handling beyond route registration.
 */
import { join } from 'node:path';

import { registerContainerRoutes } from '../api/routes/containers.js';
import { registerImageRoutes } from '../api/routes/images.js';
import { registerNetworkRoutes } from '../api/routes/networks.js';
import { registerDataUsageRoute } from '../api/routes/system-df.js';
import { createCgroupManager } from '../cgroups/index.js';
import type { DaemonCore, DaemonPlugin, DaemonPluginFactory } from '../daemon.js';
import { ImageStore } from '../images/store.js';
import type { ContainerRecord } from './config.js';
import { dataUsage } from './data-usage.js';
import { StoreImageService } from './images-api.js';
import { EngineNetworks } from './networking.js';
import { EngineNetworkService } from './networks-api.js';
import { recoverLeftovers } from './recovery.js';
import { ContainerManager } from './service.js';

export { ContainerManager, resourcesOf, type ContainerServiceDeps } from './service.js';
export { EngineNetworks, DEFAULT_NETWORK } from './networking.js';
export { StoreImageService } from './images-api.js';
export { EngineNetworkService } from './networks-api.js';
export {
  CONTAINER_CGROUP_PARENT,
  isAdoptable,
  recoverLeftovers,
  type RecoveryDeps,
  type RecoveryReport,
} from './recovery.js';
export * from './config.js';

/** Options of {@link containersPlugin}. */
export interface ContainersPluginOptions {
  /** Log sink (default: stderr). */
  readonly log?: (line: string) => void;
}

/** The image store directory under the data root. */
export function imageStoreRoot(dataRoot: string): string {
  return join(dataRoot, 'image');
}

/**
 * The plugin factory: opens the image store and the persisted networks, kills what a crash left
 * of containers that are not re-adopted ({@link recoverLeftovers}), loads container records
 * (re-adopting running containers), and serves the container/exec/image/network routes.
 */
export function containersPlugin(opts: ContainersPluginOptions = {}): DaemonPluginFactory {
  return async (core: DaemonCore): Promise<DaemonPlugin> => {
    const log =
      opts.log ?? ((l: string) => process.stderr.write(`${new Date().toISOString()} ${l}\n`));
    const images = new ImageStore({
      root: imageStoreRoot(core.config.dataRoot),
      registry: {
        config: {
          registryMirrors: core.config.registryMirrors,
          insecureRegistries: core.config.insecureRegistries,
        },
      },
    });
    const networks = await EngineNetworks.open(core.config.dataRoot);
    const cgroups = createCgroupManager();
    // before any record is loaded (and any restart policy fires): kill what a crash left running
    // of containers that are not re-adopted, drop their endpoints (docs/containers.md, recovery)
    await recoverLeftovers({
      records: core.store.collection<ContainerRecord>('containers'),
      cgroups,
      networks,
      log,
    });
    const containers = new ContainerManager({
      store: core.store,
      events: core.events,
      volumes: core.volumes,
      images,
      networks,
      cgroups,
      log,
    });
    core.volumes.setUsage((name) => containers.volumeUsers(name));
    await containers.load();
    // snapshots a crash left between their rename into trash/ and their deletion
    await images.snapshots.sweepTrash();
    // records and snapshots a crash left in the middle of a container removal
    await containers.removeLeftovers();
    const imageService = new StoreImageService({
      store: images,
      events: core.events,
      isInUse: (id) => containers.imageInUse(id),
    });
    const networkService = new EngineNetworkService(networks, containers, core.events);
    return {
      services: { containers, images: imageService, networks: networkService },
      registerRoutes(router) {
        registerContainerRoutes(router, containers, {
          isTty: (id) => containers.isTty(id),
          execTty: (id) => containers.execTty(id),
        });
        registerImageRoutes(router, imageService);
        registerNetworkRoutes(router, networkService);
        registerDataUsageRoute(router, (types, ctx) =>
          dataUsage({ containers, images, volumes: core.volumes }, types, ctx.signal),
        );
      },
      async close() {
        await containers.close();
        await networks.releaseDefaultIfUnused();
        await networks.close();
        await images.snapshots.settled();
      },
    };
  };
}
