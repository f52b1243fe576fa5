/**
 * Parses cgroup v1/v2 stat files into CgroupStats, like the Docker daemon (moby stats_unix.go) and
 * the docker CLI (stats_helpers.go calculateMemUsageUnixNoCache). Pure: takes file contents.
 */
import type { CgroupStats } from './types.js';

/** Contents of the stat files of one cgroup, keyed by file name; undefined when absent. */
export type StatFiles = Readonly<Record<string, string | undefined>>;

/** The v1 files {@link v1StatsFromFiles} reads, with their controller. */
export const V1_STAT_FILES: ReadonlyArray<readonly [controller: string, file: string]> = [
  ['cpuacct', 'cpuacct.usage'],
  ['cpuacct', 'cpuacct.usage_percpu'],
  ['cpuacct', 'cpuacct.stat'],
  ['cpu', 'cpu.stat'],
  ['memory', 'memory.usage_in_bytes'],
  ['memory', 'memory.limit_in_bytes'],
  ['memory', 'memory.stat'],
  ['memory', 'memory.oom_control'],
  ['memory', 'memory.max_usage_in_bytes'],
  ['memory', 'memory.failcnt'],
  ['pids', 'pids.current'],
  ['pids', 'pids.max'],
  ['blkio', 'blkio.throttle.io_service_bytes_recursive'],
];

/** The v2 files {@link v2StatsFromFiles} reads. */
export const V2_STAT_FILES: readonly string[] = [
  'cpu.stat',
  'memory.current',
  'memory.max',
  'memory.stat',
  'memory.events',
  'pids.current',
  'pids.max',
  'memory.peak',
  'io.stat',
];

/**
 * Parses a flat-keyed file (`key value` per line: memory.stat, cpu.stat, memory.events,
 * memory.oom_control). Values that are not numbers are left out.
 */
export function parseFlatKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === undefined || value === undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out.set(key, n);
  }
  return out;
}

/** Parses a single-number file; `max` and absent give undefined. */
export function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** USER_HZ, the unit of v1 `cpuacct.stat` (100 on every Linux architecture tscompose runs on). */
const USER_HZ = 100;

type IoEntry = NonNullable<CgroupStats['ioServiceBytes']>[number];

/** Parses v1 `blkio.throttle.io_service_bytes_recursive` (`8:0 Read 4096`), Read/Write only. */
export function parseBlkioServiceBytes(text: string | undefined): IoEntry[] {
  const out: IoEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (Read|Write) (\d+)$/.exec(line.trim());
    if (m === null) continue;
    out.push({
      major: Number(m[1]),
      minor: Number(m[2]),
      op: m[3] === 'Read' ? 'read' : 'write',
      value: Number(m[4]),
    });
  }
  return out;
}

/** Parses v2 `io.stat` (`8:0 rbytes=4096 wbytes=0 rios=1 ...`) into read/write byte entries. */
export function parseIoStat(text: string | undefined): IoEntry[] {
  const out: IoEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const mm = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (mm === null) continue;
    const kv = new Map(pairs.map((p) => p.split('=') as [string, string]));
    for (const [key, op] of [
      ['rbytes', 'read'],
      ['wbytes', 'write'],
    ] as const) {
      const v = Number(kv.get(key));
      if (Number.isFinite(v))
        out.push({ major: Number(mm[1]), minor: Number(mm[2]), op, value: v });
    }
  }
  return out;
}

/** Sets `stats[key]` when `value` is defined (exactOptionalPropertyTypes-friendly). */
function put<K extends keyof CgroupStats>(
  stats: CgroupStats,
  key: K,
  value: CgroupStats[K] | undefined,
): void {
  if (value !== undefined) stats[key] = value;
}

/** Memory usage without inactive file cache, as `docker stats` shows it (never below zero). */
export function usageWithoutCache(usage: number, inactiveFile: number | undefined): number {
  if (inactiveFile !== undefined && inactiveFile < usage) return usage - inactiveFile;
  return usage;
}

/** A limit clamped to the host's RAM (the daemon does so for unlimited or larger limits). */
export function clampLimit(limit: number | undefined, hostMemoryBytes: number): number {
  if (limit === undefined || limit <= 0 || limit > hostMemoryBytes) return hostMemoryBytes;
  return limit;
}

/**
 * CgroupStats from v1 files: `cpuacct.usage` (ns), `memory.usage_in_bytes` minus
 * `total_inactive_file` of memory.stat, `memory.limit_in_bytes`, `pids.current`, `cpu.stat
 * nr_throttled`, `memory.oom_control oom_kill` (kernel >= 4.13).
 */
export function v1StatsFromFiles(files: StatFiles, hostMemoryBytes: number): CgroupStats {
  const memStat = parseFlatKeyed(files['memory.stat']);
  const cpuStat = parseFlatKeyed(files['cpu.stat']);
  const oom = parseFlatKeyed(files['memory.oom_control']);
  const usage = parseNumber(files['memory.usage_in_bytes']) ?? 0;
  const stats: CgroupStats = {
    cpuUsageNs: parseNumber(files['cpuacct.usage']) ?? 0,
    memoryUsageBytes: usageWithoutCache(usage, memStat.get('total_inactive_file')),
    memoryLimitBytes: clampLimit(parseNumber(files['memory.limit_in_bytes']), hostMemoryBytes),
    pids: parseNumber(files['pids.current']) ?? 0,
  };
  put(stats, 'throttledPeriods', cpuStat.get('nr_throttled'));
  put(stats, 'oomKills', oom.get('oom_kill'));
  const acct = parseFlatKeyed(files['cpuacct.stat']);
  const ticks = (k: string) => {
    const v = acct.get(k);
    return v === undefined ? undefined : (v * 1e9) / USER_HZ;
  };
  put(stats, 'cpuUserNs', ticks('user'));
  put(stats, 'cpuSystemNs', ticks('system'));
  const percpu = files['cpuacct.usage_percpu'];
  if (percpu !== undefined) {
    stats.percpuUsageNs = percpu
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  }
  put(stats, 'cpuPeriods', cpuStat.get('nr_periods'));
  put(stats, 'throttledTimeNs', cpuStat.get('throttled_time'));
  if (files['memory.usage_in_bytes'] !== undefined) stats.memoryRawUsageBytes = usage;
  put(stats, 'memoryMaxUsageBytes', parseNumber(files['memory.max_usage_in_bytes']));
  put(stats, 'memoryFailcnt', parseNumber(files['memory.failcnt']));
  if (files['memory.stat'] !== undefined) stats.memoryStat = Object.fromEntries(memStat);
  put(stats, 'pidsLimit', parseNumber(files['pids.max']));
  const io = files['blkio.throttle.io_service_bytes_recursive'];
  if (io !== undefined) stats.ioServiceBytes = parseBlkioServiceBytes(io);
  return stats;
}

/**
 * CgroupStats from v2 files: `cpu.stat usage_usec` × 1000, `memory.current` minus `inactive_file`
 * of memory.stat, `memory.max`, `pids.current`, `cpu.stat nr_throttled`, `memory.events oom_kill`.
 */
export function v2StatsFromFiles(files: StatFiles, hostMemoryBytes: number): CgroupStats {
  const memStat = parseFlatKeyed(files['memory.stat']);
  const cpuStat = parseFlatKeyed(files['cpu.stat']);
  const events = parseFlatKeyed(files['memory.events']);
  const usage = parseNumber(files['memory.current']) ?? 0;
  const stats: CgroupStats = {
    cpuUsageNs: (cpuStat.get('usage_usec') ?? 0) * 1000,
    memoryUsageBytes: usageWithoutCache(usage, memStat.get('inactive_file')),
    memoryLimitBytes: clampLimit(parseNumber(files['memory.max']), hostMemoryBytes),
    pids: parseNumber(files['pids.current']) ?? 0,
  };
  put(stats, 'throttledPeriods', cpuStat.get('nr_throttled'));
  put(stats, 'oomKills', events.get('oom_kill'));
  const us = (k: string) => {
    const v = cpuStat.get(k);
    return v === undefined ? undefined : v * 1000;
  };
  put(stats, 'cpuUserNs', us('user_usec'));
  put(stats, 'cpuSystemNs', us('system_usec'));
  put(stats, 'cpuPeriods', cpuStat.get('nr_periods'));
  put(stats, 'throttledTimeNs', us('throttled_usec'));
  if (files['memory.current'] !== undefined) stats.memoryRawUsageBytes = usage;
  put(stats, 'memoryMaxUsageBytes', parseNumber(files['memory.peak']));
  if (files['memory.stat'] !== undefined) stats.memoryStat = Object.fromEntries(memStat);
  put(stats, 'pidsLimit', parseNumber(files['pids.max']));
  if (files['io.stat'] !== undefined) stats.ioServiceBytes = parseIoStat(files['io.stat']);
  return stats;
}
