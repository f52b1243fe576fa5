/**
 * `docker stats` support: builds the Docker Engine API stats object (`cpu_stats`/`precpu_stats`,
 * `memory_stats`, ...) from cgroup samples, computes CPU and memory percentages like the docker CLI,
 * and streams samples. Reads only /proc/stat and the cgroup (through Cgroup.stats()).
 */
import { readFile } from 'node:fs/promises';
import { TscError } from '../../base/errors.js';
import { errnoOf, sleep } from './fs.js';
import type { Cgroup, CgroupStats } from './types.js';

/** Host-wide CPU time, as the Docker daemon reads it (moby daemon/stats_unix.go). */
export interface SystemCpu {
  /** Sum of the first 7 fields of the `cpu ` line of /proc/stat, in ns (USER_HZ 100). */
  readonly systemCpuUsageNs: number;
  /** Number of `cpuN` lines in /proc/stat. */
  readonly onlineCpus: number;
}

/** Nanoseconds per USER_HZ tick (USER_HZ is 100 on Linux). */
const NS_PER_TICK = 1e9 / 100;

/**
 * Parses /proc/stat like dockerd's readSystemCPUUsage: user+nice+system+idle+iowait+irq+softirq
 * of the aggregate `cpu` line, ticks converted to ns. Throws TscError TSC_CGROUP when the line is
 * missing.
 */
export function parseProcStat(text: string): SystemCpu {
  let total: number | undefined;
  let online = 0;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'cpu') {
      total = fields.slice(1, 8).reduce((sum, f) => sum + Number(f), 0) * NS_PER_TICK;
    } else if (/^cpu\d+$/.test(fields[0] ?? '')) {
      online++;
    }
  }
  if (total === undefined || !Number.isFinite(total)) {
    throw new TscError('TSC_CGROUP', 'read /proc/stat: no cpu line');
  }
  return { systemCpuUsageNs: total, onlineCpus: online };
}

/** Reads and parses /proc/stat (or `path`). Throws TscError TSC_CGROUP. */
export async function readSystemCpu(path = '/proc/stat'): Promise<SystemCpu> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TscError('TSC_CGROUP', `read ${path}: ${errnoOf(e) ?? String(e)}`, { cause: e });
  }
  return parseProcStat(text);
}

/** One sample: the cgroup's counters and the host's, taken together. */
export interface StatsSample {
  /** When the sample was read. */
  readonly read: Date;
  /** The container's counters. */
  readonly cgroup: CgroupStats;
  /** The host's CPU counters. */
  readonly system: SystemCpu;
}

/** `cpu_stats` / `precpu_stats` of the Engine API (types/container/stats.go CPUStats). */
export interface DockerCpuStats {
  cpu_usage: {
    /** CPU-ns used by the container. */
    total_usage: number;
    /** CPU-ns per CPU (cgroup v1 only). */
    percpu_usage?: number[];
    /** CPU-ns in kernel mode. */
    usage_in_kernelmode: number;
    /** CPU-ns in user mode. */
    usage_in_usermode: number;
  };
  /** Host CPU-ns, all CPUs (absent in an empty precpu_stats). */
  system_cpu_usage?: number;
  /** CPUs online on the host. */
  online_cpus?: number;
  throttling_data: {
    /** CFS periods elapsed. */
    periods: number;
    /** CFS periods in which the container was throttled. */
    throttled_periods: number;
    /** Total time throttled, ns. */
    throttled_time: number;
  };
}

/** `memory_stats` of the Engine API (MemoryStats). */
export interface DockerMemoryStats {
  /** Bytes in use including page cache. */
  usage?: number;
  /** Peak usage, bytes. */
  max_usage?: number;
  /** memory.stat counters. */
  stats?: Record<string, number>;
  /** Times the limit was hit (v1). */
  failcnt?: number;
  /** The limit in bytes (host RAM when unlimited). */
  limit?: number;
}

/** One block IO entry (BlkioStatEntry). */
export interface DockerBlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** The object `GET /containers/{id}/stats` streams (types/container/stats.go StatsResponse). */
export interface DockerStatsResponse {
  /** Container name with the leading slash, as the API gives it. */
  name: string;
  /** Container id. */
  id: string;
  /** RFC 3339 time of this sample. */
  read: string;
  /** RFC 3339 time of the previous sample (`0001-01-01T00:00:00Z` for the first). */
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: DockerBlkioEntry[] | null;
    io_serviced_recursive: null;
    io_queue_recursive: null;
    io_service_time_recursive: null;
    io_wait_time_recursive: null;
    io_merged_recursive: null;
    io_time_recursive: null;
    sectors_recursive: null;
  };
  /** Always 0 on Linux. */
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: DockerCpuStats;
  precpu_stats: DockerCpuStats;
  memory_stats: DockerMemoryStats;
}

/** The zero time Go prints for an unset `preread`. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The empty `precpu_stats` of a first sample. */
function emptyCpuStats(): DockerCpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** `cpu_stats` of one sample. */
export function toDockerCpuStats(s: StatsSample): DockerCpuStats {
  const c = s.cgroup;
  const out: DockerCpuStats = {
    cpu_usage: {
      total_usage: c.cpuUsageNs,
      usage_in_kernelmode: c.cpuSystemNs ?? 0,
      usage_in_usermode: c.cpuUserNs ?? 0,
    },
    system_cpu_usage: s.system.systemCpuUsageNs,
    online_cpus: s.system.onlineCpus,
    throttling_data: {
      periods: c.cpuPeriods ?? 0,
      throttled_periods: c.throttledPeriods ?? 0,
      throttled_time: c.throttledTimeNs ?? 0,
    },
  };
  if (c.percpuUsageNs !== undefined) out.cpu_usage.percpu_usage = c.percpuUsageNs;
  return out;
}

/**
 * The Engine API stats object for `cur`, with `pre` (the previous sample of the stream, or
 * undefined for the first) as `precpu_stats`. `name` is given as the API shows it (`/web-1`).
 */
export function toDockerStats(
  cur: StatsSample,
  pre: StatsSample | undefined,
  ident: { readonly id: string; readonly name: string },
): DockerStatsResponse {
  const c = cur.cgroup;
  const memory: DockerMemoryStats = { limit: c.memoryLimitBytes };
  memory.usage = c.memoryRawUsageBytes ?? c.memoryUsageBytes;
  if (c.memoryMaxUsageBytes !== undefined) memory.max_usage = c.memoryMaxUsageBytes;
  if (c.memoryFailcnt !== undefined) memory.failcnt = c.memoryFailcnt;
  if (c.memoryStat !== undefined) memory.stats = c.memoryStat;
  const pids: DockerStatsResponse['pids_stats'] = { current: c.pids };
  if (c.pidsLimit !== undefined) pids.limit = c.pidsLimit;
  return {
    name: ident.name,
    id: ident.id,
    read: cur.read.toISOString(),
    preread: pre === undefined ? ZERO_TIME : pre.read.toISOString(),
    pids_stats: pids,
    blkio_stats: {
      io_service_bytes_recursive: c.ioServiceBytes?.map((e) => ({ ...e })) ?? null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: toDockerCpuStats(cur),
    precpu_stats: pre === undefined ? emptyCpuStats() : toDockerCpuStats(pre),
    memory_stats: memory,
  };
}

/**
 * CPU % as `docker stats` shows it (docker/cli stats_helpers.go calculateCPUPercentUnix):
 * (Δcontainer / Δsystem) × online CPUs × 100, 0 unless both deltas are positive. Online CPUs
 * fall back to the length of percpu_usage.
 */
export function cpuPercent(s: DockerStatsResponse): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  let online = s.cpu_stats.online_cpus ?? 0;
  if (online === 0) online = s.cpu_stats.cpu_usage.percpu_usage?.length ?? 0;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * online * 100;
  return 0;
}

/**
 * Memory in use without inactive file cache (docker/cli calculateMemUsageUnixNoCache): usage −
 * `total_inactive_file` (v1) or − `inactive_file` (v2) when smaller than usage.
 */
export function memoryUsageNoCache(m: DockerMemoryStats): number {
  const usage = m.usage ?? 0;
  const inactive = m.stats?.['total_inactive_file'] ?? m.stats?.['inactive_file'];
  if (inactive !== undefined && inactive < usage) return usage - inactive;
  return usage;
}

/** MEM % as `docker stats` shows it: usage without cache / limit × 100 (0 without a limit). */
export function memoryPercent(m: DockerMemoryStats): number {
  const limit = m.limit ?? 0;
  return limit === 0 ? 0 : (memoryUsageNoCache(m) / limit) * 100;
}

/** Options for {@link streamDockerStats}. */
export interface StreamStatsOptions {
  /** Container id for the `id` field. */
  readonly id: string;
  /** Container name as the API shows it (`/web-1`). */
  readonly name: string;
  /** Time between samples in ms; the Docker daemon collects every 1000 ms. */
  readonly intervalMs?: number;
  /** Ends the stream (after the current sample). */
  readonly signal?: AbortSignal;
  /** Source of host CPU counters (default: /proc/stat). */
  readonly readSystem?: () => Promise<SystemCpu>;
  /** Clock (default: `new Date()`). */
  readonly now?: () => Date;
}

/**
 * Streams Engine API stats objects for `cgroup`, one per interval, each with the previous sample
 * as `precpu_stats` (the first has an empty one, like the daemon's first streamed object).
 * Ends when `signal` aborts; errors from the cgroup (removed meanwhile) end it with a TscError.
 */
export async function* streamDockerStats(
  cgroup: Cgroup,
  opts: StreamStatsOptions,
): AsyncGenerator<DockerStatsResponse, void, undefined> {
  const readSystem = opts.readSystem ?? (() => readSystemCpu());
  const now = opts.now ?? (() => new Date());
  const interval = opts.intervalMs ?? 1000;
  let pre: StatsSample | undefined;
  while (!isAborted(opts.signal)) {
    const cur: StatsSample = {
      read: now(),
      cgroup: await cgroup.stats(),
      system: await readSystem(),
    };
    yield toDockerStats(cur, pre, opts);
    pre = cur;
    if (isAborted(opts.signal)) return;
    await sleepUnlessAborted(interval, opts.signal);
  }
}

/** True once `signal` has aborted (a function, so the check is not narrowed away after a yield). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return sleep(ms);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
