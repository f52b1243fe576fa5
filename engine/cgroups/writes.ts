/**
 * Maps Resources to cgroup control-file writes for v1 and v2, following runc/crun and dockerd.
 * Pure: no I/O, no clock. Device paths must already be `major:minor` (see resolveDevicePaths).
 */
import { TscError } from '../../base/errors.js';
import type { DeviceRate, DeviceRule, Resources } from './types.js';

/** One control-file write: the controller (v1 hierarchy / v2 controller), the file, the value. */
export type ControlWrite = readonly [controller: string, file: string, value: string];

/** The CFS period dockerd uses for `NanoCpus` (µs; moby daemon_unix.go). */
export const NANO_CPUS_PERIOD_US = 100_000;

/**
 * Converts v1 `cpu.shares` to v2 `cpu.weight` with the formula of runc >= 1.4 / crun >= 1.23
 * (opencontainers/cgroups utils.go ConvertCPUSharesToCgroupV2Value): 0 stays 0 (unset), <= 2
 * gives 1, >= 262144 gives 10000, else ceil(10^((l² + 125l)/612 − 7/34)) with l = log2(shares).
 * 1024 → 100, 512 → 59, 2048 → 174.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262_144) return 10_000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(Number(Math.pow(10, exponent).toFixed(9)));
}

/**
 * Converts a v1 `blkio.weight` (10..1000) to a v2 `io.weight` (1..10000) like runc
 * (cgroups utils.go ConvertBlkIOToIOWeightValue): 1 + (w − 10) × 9999 / 990, integer division.
 */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * The v2 `memory.swap.max` value for Docker's `MemorySwap` (memory + swap): swap − memory, `max`
 * for -1, undefined when unset (0). Follows opencontainers/cgroups ConvertMemorySwapToCgroupV2Value.
 * Throws TscError TSC_CGROUP when swap is set without a memory limit or is below the memory limit.
 */
export function memorySwapToV2(
  memorySwap: number | undefined,
  memory: number | undefined,
): string | undefined {
  if (memorySwap === undefined || memorySwap === 0) return undefined;
  if (memorySwap === -1) return 'max';
  if (memory === undefined || memory <= 0) {
    throw new TscError('TSC_CGROUP', 'set memory swap limit: a memory limit is required too', {
      hint: 'set memory (mem_limit) together with memorySwap (memswap_limit)',
    });
  }
  if (memorySwap < memory) {
    throw new TscError(
      'TSC_CGROUP',
      `set memory swap limit ${memorySwap}: below the memory limit ${memory}`,
      { hint: 'memorySwap counts memory plus swap, like docker --memory-swap' },
    );
  }
  return String(memorySwap - memory);
}

/** The CFS quota and period (µs) of a Resources, with NanoCpus converted like dockerd. */
export function cfsQuota(r: Resources): { quota?: number; period?: number } {
  if (r.nanoCpus !== undefined && r.nanoCpus !== 0) {
    if ((r.cpuQuota ?? 0) !== 0 || (r.cpuPeriod ?? 0) !== 0) {
      throw new TscError(
        'TSC_CGROUP',
        'set cpu limit: nanoCpus conflicts with cpuQuota/cpuPeriod',
        { hint: 'use either cpus or cpu_quota/cpu_period' },
      );
    }
    return {
      quota: Math.floor((r.nanoCpus * NANO_CPUS_PERIOD_US) / 1e9),
      period: NANO_CPUS_PERIOD_US,
    };
  }
  const out: { quota?: number; period?: number } = {};
  if (r.cpuQuota !== undefined && r.cpuQuota !== 0) out.quota = r.cpuQuota;
  if (r.cpuPeriod !== undefined && r.cpuPeriod !== 0) out.period = r.cpuPeriod;
  return out;
}

const MAJOR_MINOR = /^\d+:\d+$/;

function deviceKey(d: DeviceRate, field: string): string {
  if (!MAJOR_MINOR.test(d.path)) {
    throw new TscError(
      'TSC_CGROUP',
      `set ${field}: device ${d.path} is not resolved to major:minor`,
      { hint: 'call resolveDevicePaths() before resourceWrites()' },
    );
  }
  return d.path;
}

/** A device rule in the v1 `devices.allow` syntax: `c 1:3 rwm`, `a *:* rwm`. */
export function formatDeviceRule(rule: DeviceRule): string {
  const num = (n: number | undefined): string => (n === undefined || n < 0 ? '*' : String(n));
  return `${rule.type} ${num(rule.major)}:${num(rule.minor)} ${rule.access}`;
}

/** Names of the Resources fields that `version` cannot apply (the caller warns, like dockerd). */
export function unsupportedResources(version: 1 | 2, r: Resources): string[] {
  const out: string[] = [];
  if (version === 2 && r.devices !== undefined) out.push('devices');
  return out;
}

/**
 * Applies dockerd's HostConfig defaults (moby daemon_unix.go adaptContainerSettings /
 * getMemoryResources): MemorySwap unset with Memory set ⇒ 2 × Memory; PidsLimit <= 0 ⇒ unlimited.
 */
export function withDockerDefaults(r: Resources): Resources {
  let out: Resources = r;
  if (
    (r.memorySwap === undefined || r.memorySwap === 0) &&
    r.memory !== undefined &&
    r.memory > 0
  ) {
    out = { ...out, memorySwap: 2 * r.memory };
  }
  if (r.pidsLimit !== undefined && r.pidsLimit < 0) out = { ...out, pidsLimit: 0 };
  return out;
}

function v1Writes(r: Resources): ControlWrite[] {
  const out: ControlWrite[] = [];
  if (r.cpusetCpus !== undefined) out.push(['cpuset', 'cpuset.cpus', r.cpusetCpus]);
  if (r.cpusetMems !== undefined) out.push(['cpuset', 'cpuset.mems', r.cpusetMems]);
  if (r.devices !== undefined) {
    out.push(['devices', 'devices.deny', 'a']);
    for (const rule of r.devices) {
      out.push(['devices', rule.allow ? 'devices.allow' : 'devices.deny', formatDeviceRule(rule)]);
    }
  }
  if (r.memory !== undefined && r.memory !== 0) {
    out.push(['memory', 'memory.limit_in_bytes', String(r.memory)]);
  }
  if (r.memorySwap !== undefined && r.memorySwap !== 0) {
    if (r.memorySwap > 0 && r.memory !== undefined && r.memory > 0 && r.memorySwap < r.memory) {
      throw new TscError(
        'TSC_CGROUP',
        `set memory swap limit ${r.memorySwap}: below the memory limit ${r.memory}`,
        { hint: 'memorySwap counts memory plus swap, like docker --memory-swap' },
      );
    }
    out.push(['memory', 'memory.memsw.limit_in_bytes', String(r.memorySwap)]);
  }
  if (r.memoryReservation !== undefined && r.memoryReservation !== 0) {
    out.push(['memory', 'memory.soft_limit_in_bytes', String(r.memoryReservation)]);
  }
  if (r.cpuShares !== undefined && r.cpuShares !== 0) {
    out.push(['cpu', 'cpu.shares', String(r.cpuShares)]);
  }
  const { quota, period } = cfsQuota(r);
  if (period !== undefined) out.push(['cpu', 'cpu.cfs_period_us', String(period)]);
  if (quota !== undefined) out.push(['cpu', 'cpu.cfs_quota_us', String(quota > 0 ? quota : -1)]);
  if (r.pidsLimit !== undefined) {
    out.push(['pids', 'pids.max', r.pidsLimit > 0 ? String(r.pidsLimit) : 'max']);
  }
  if (r.blkioWeight !== undefined && r.blkioWeight !== 0) {
    out.push(['blkio', 'blkio.weight', String(r.blkioWeight)]);
  }
  const throttles: Array<[keyof Resources, string]> = [
    ['blkioDeviceReadBps', 'blkio.throttle.read_bps_device'],
    ['blkioDeviceWriteBps', 'blkio.throttle.write_bps_device'],
    ['blkioDeviceReadIOps', 'blkio.throttle.read_iops_device'],
    ['blkioDeviceWriteIOps', 'blkio.throttle.write_iops_device'],
  ];
  for (const [field, file] of throttles) {
    for (const d of (r[field] as ReadonlyArray<DeviceRate> | undefined) ?? []) {
      out.push(['blkio', file, `${deviceKey(d, field)} ${d.rate}`]);
    }
  }
  for (const h of r.hugepageLimits ?? []) {
    out.push(['hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit)]);
  }
  return out;
}

function v2Writes(r: Resources): ControlWrite[] {
  const out: ControlWrite[] = [];
  if (r.cpusetCpus !== undefined) out.push(['cpuset', 'cpuset.cpus', r.cpusetCpus]);
  if (r.cpusetMems !== undefined) out.push(['cpuset', 'cpuset.mems', r.cpusetMems]);
  if (r.memory !== undefined && r.memory !== 0) {
    out.push(['memory', 'memory.max', r.memory > 0 ? String(r.memory) : 'max']);
  }
  const swap = memorySwapToV2(r.memorySwap, r.memory);
  if (swap !== undefined) out.push(['memory', 'memory.swap.max', swap]);
  if (r.memoryReservation !== undefined && r.memoryReservation !== 0) {
    out.push(['memory', 'memory.low', String(r.memoryReservation)]);
  }
  if (r.cpuShares !== undefined && r.cpuShares !== 0) {
    out.push(['cpu', 'cpu.weight', String(sharesToWeight(r.cpuShares))]);
  }
  const { quota, period } = cfsQuota(r);
  if (quota !== undefined || period !== undefined) {
    const max = quota !== undefined && quota > 0 ? String(quota) : 'max';
    out.push(['cpu', 'cpu.max', period !== undefined ? `${max} ${period}` : max]);
  }
  if (r.pidsLimit !== undefined) {
    out.push(['pids', 'pids.max', r.pidsLimit > 0 ? String(r.pidsLimit) : 'max']);
  }
  if (r.blkioWeight !== undefined && r.blkioWeight !== 0) {
    out.push(['io', 'io.weight', `default ${blkioWeightToIoWeight(r.blkioWeight)}`]);
  }
  const limits: Array<[keyof Resources, string]> = [
    ['blkioDeviceReadBps', 'rbps'],
    ['blkioDeviceWriteBps', 'wbps'],
    ['blkioDeviceReadIOps', 'riops'],
    ['blkioDeviceWriteIOps', 'wiops'],
  ];
  const perDevice = new Map<string, string[]>();
  for (const [field, key] of limits) {
    for (const d of (r[field] as ReadonlyArray<DeviceRate> | undefined) ?? []) {
      const dev = deviceKey(d, field);
      const list = perDevice.get(dev) ?? [];
      list.push(`${key}=${d.rate}`);
      perDevice.set(dev, list);
    }
  }
  for (const [dev, list] of perDevice) out.push(['io', 'io.max', `${dev} ${list.join(' ')}`]);
  for (const h of r.hugepageLimits ?? []) {
    out.push(['hugetlb', `hugetlb.${h.pageSize}.max`, String(h.limit)]);
  }
  return out;
}

/**
 * The control-file writes that apply `r`, in write order (runc's subsystem order: cpuset,
 * devices, memory, cpu, pids, blkio/io, hugetlb). v1 writes `memory.memsw.limit_in_bytes`
 * unconditionally; the manager skips it when the kernel has no swap accounting. v2 leaves out
 * `devices` (see {@link unsupportedResources}). Block device paths must be `major:minor`.
 * Throws TscError TSC_CGROUP on conflicting or invalid values (nanoCpus with cpuQuota, swap below
 * memory, unresolved device paths).
 */
export function resourceWrites(version: 1 | 2, r: Resources): ControlWrite[] {
  return version === 1 ? v1Writes(r) : v2Writes(r);
}
