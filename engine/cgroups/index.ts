/**
 * engine/cgroups: one interface over cgroup v1 and v2 (see docs/cgroups.md). Picks the manager for
 * the host; the engine calls create/open and never touches control files itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupManager, CgroupManagerOptions } from './types.js';
import { V1Manager } from './v1.js';
import { V2Manager } from './v2.js';

export type {
  Cgroup,
  CgroupManager,
  CgroupManagerOptions,
  CgroupStats,
  DeviceRate,
  DeviceRule,
  Resources,
} from './types.js';
export type { ControlWrite } from './writes.js';
export {
  blkioWeightToIoWeight,
  formatDeviceRule,
  memorySwapToV2,
  resourceWrites,
  sharesToWeight,
  unsupportedResources,
  withDockerDefaults,
} from './writes.js';
export { resolveDevicePaths } from './fs.js';
export { parseFlatKeyed, v1StatsFromFiles, v2StatsFromFiles } from './stats.js';
export {
  ZERO_TIME,
  cpuPercent,
  memoryPercent,
  memoryUsageNoCache,
  parseProcStat,
  readSystemCpu,
  streamDockerStats,
  toDockerCpuStats,
  toDockerStats,
} from './docker-stats.js';
export type {
  DockerBlkioEntry,
  DockerCpuStats,
  DockerMemoryStats,
  DockerStatsResponse,
  StatsSample,
  StreamStatsOptions,
  SystemCpu,
} from './docker-stats.js';
export { V1Cgroup, V1Manager } from './v1.js';
export { V2Cgroup, V2Manager } from './v2.js';

/** The default cgroupfs root. */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Default bound on freeze and remove waits, in ms. */
export const DEFAULT_WAIT_MS = 5000;

/**
 * The cgroup version of a root: 2 when it is a unified hierarchy (has `cgroup.controllers`), else
 * 1 (legacy or hybrid layout, where `<root>/unified` holds no controllers).
 */
export function detectCgroupVersion(root: string = CGROUP_ROOT): 1 | 2 {
  return existsSync(join(root, 'cgroup.controllers')) ? 2 : 1;
}

/**
 * A manager for the host's cgroups (or for `opts.root`, a tmpdir laid out like cgroupfs in tests),
 * of the version detected by {@link detectCgroupVersion} unless `opts.version` says. Does a few
 * stat calls; never writes.
 */
export function createCgroupManager(opts: CgroupManagerOptions = {}): CgroupManager {
  const root = opts.root ?? CGROUP_ROOT;
  const version = opts.version ?? detectCgroupVersion(root);
  const waitMs = opts.waitMs ?? DEFAULT_WAIT_MS;
  return version === 2 ? new V2Manager(root, waitMs) : new V1Manager(root, waitMs);
}
