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
  ['pids', 'pids.current'],
  ['pids', 'pids.max'],
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
  const throttled = cpuStat.get('nr_throttled');
  if (throttled !== undefined) stats.throttledPeriods = throttled;
  const kills = oom.get('oom_kill');
  if (kills !== undefined) stats.oomKills = kills;
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
  const throttled = cpuStat.get('nr_throttled');
  if (throttled !== undefined) stats.throttledPeriods = throttled;
  const kills = events.get('oom_kill');
  if (kills !== undefined) stats.oomKills = kills;
  return stats;
}
