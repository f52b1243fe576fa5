// docker stats helpers: /proc/stat parsing, the Engine API stats shape with precpu_stats, the CPU
// and memory percentages of the docker CLI, and the sample stream (fake cgroup, injected clock).
import {
  ZERO_TIME,
  cpuPercent,
  memoryPercent,
  memoryUsageNoCache,
  parseProcStat,
  streamDockerStats,
  toDockerStats,
} from '../../../../engine/cgroups/index';
import type { Cgroup, CgroupStats, StatsSample } from '../../../../engine/cgroups/index';

const PROC_STAT = `cpu  100 5 50 1000 10 1 2 3 0 0
cpu0 50 2 25 500 5 1 1 2 0 0
cpu1 50 3 25 500 5 0 1 1 0 0
intr 12345
ctxt 999
`;

function sample(at: number, cpuNs: number, systemNs: number, extra: Partial<CgroupStats> = {}) {
  const s: StatsSample = {
    read: new Date(Date.UTC(2026, 0, 1, 0, 0, at)),
    cgroup: {
      cpuUsageNs: cpuNs,
      memoryUsageBytes: 1000,
      memoryLimitBytes: 4000,
      pids: 2,
      ...extra,
    },
    system: { systemCpuUsageNs: systemNs, onlineCpus: 2 },
  };
  return s;
}

describe('parseProcStat', () => {
  it('sums the first seven fields of the cpu line in ns and counts the cpuN lines', () => {
    expect(parseProcStat(PROC_STAT)).toEqual({
      systemCpuUsageNs: (100 + 5 + 50 + 1000 + 10 + 1 + 2) * 10_000_000,
      onlineCpus: 2,
    });
  });

  it('fails without a cpu line', () => {
    expect(() => parseProcStat('intr 1\n')).toThrow('read /proc/stat: no cpu line');
  });
});

describe('toDockerStats', () => {
  it('builds the Engine API object, with an empty precpu_stats for the first sample', () => {
    const cur = sample(1, 5_000, 90_000, {
      cpuUserNs: 3000,
      cpuSystemNs: 2000,
      percpuUsageNs: [4000, 1000],
      cpuPeriods: 9,
      throttledPeriods: 1,
      throttledTimeNs: 77,
      memoryRawUsageBytes: 1500,
      memoryMaxUsageBytes: 2000,
      memoryFailcnt: 0,
      memoryStat: { total_inactive_file: 500 },
      pidsLimit: 10,
      ioServiceBytes: [{ major: 8, minor: 0, op: 'read', value: 4096 }],
    });
    const api = toDockerStats(cur, undefined, { id: 'abc', name: '/web-1' });
    expect(api).toEqual({
      name: '/web-1',
      id: 'abc',
      read: '2026-01-01T00:00:01.000Z',
      preread: ZERO_TIME,
      pids_stats: { current: 2, limit: 10 },
      blkio_stats: {
        io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 4096 }],
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
      cpu_stats: {
        cpu_usage: {
          total_usage: 5000,
          percpu_usage: [4000, 1000],
          usage_in_kernelmode: 2000,
          usage_in_usermode: 3000,
        },
        system_cpu_usage: 90_000,
        online_cpus: 2,
        throttling_data: { periods: 9, throttled_periods: 1, throttled_time: 77 },
      },
      precpu_stats: {
        cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
        throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
      },
      memory_stats: {
        usage: 1500,
        max_usage: 2000,
        failcnt: 0,
        stats: { total_inactive_file: 500 },
        limit: 4000,
      },
    });
    expect(memoryUsageNoCache(api.memory_stats)).toBe(1000);
    expect(memoryPercent(api.memory_stats)).toBe(25);
  });

  it('computes cpu percent from the previous sample like the docker CLI', () => {
    const pre = sample(1, 1_000_000, 10_000_000);
    const cur = sample(2, 1_500_000, 12_000_000);
    const api = toDockerStats(cur, pre, { id: 'abc', name: '/web-1' });
    expect(api.preread).toBe('2026-01-01T00:00:01.000Z');
    expect(api.precpu_stats.cpu_usage.total_usage).toBe(1_000_000);
    // (0.5e6 / 2e6) * 2 CPUs * 100
    expect(cpuPercent(api)).toBe(50);
  });

  it('gives 0 % when idle, and the since-start ratio for a first sample (empty precpu)', () => {
    const idle = toDockerStats(sample(2, 5, 20), sample(1, 5, 10), { id: 'a', name: '/a' });
    expect(cpuPercent(idle)).toBe(0);
    // like the daemon's first streamed object: precpu is empty, so the CLI divides totals
    const first = toDockerStats(sample(1, 5, 10), undefined, { id: 'a', name: '/a' });
    expect(cpuPercent(first)).toBe(100);
  });

  it('subtracts v2 inactive_file and leaves usage alone when the cache is larger', () => {
    expect(memoryUsageNoCache({ usage: 100, stats: { inactive_file: 30 } })).toBe(70);
    expect(memoryUsageNoCache({ usage: 100, stats: { inactive_file: 300 } })).toBe(100);
    expect(memoryPercent({ usage: 100 })).toBe(0);
  });
});

describe('streamDockerStats', () => {
  it('yields one object per sample, each carrying the previous one as precpu_stats', async () => {
    const cpu = [100, 300, 600];
    let i = 0;
    const fake: Pick<Cgroup, 'stats'> = {
      stats: () =>
        Promise.resolve({
          cpuUsageNs: cpu[i] ?? 0,
          memoryUsageBytes: 1,
          memoryLimitBytes: 2,
          pids: 1,
        }),
    };
    const controller = new AbortController();
    const seen: Array<{ total: number; pre: number; percent: number }> = [];
    let tick = 0;
    for await (const s of streamDockerStats(fake as Cgroup, {
      id: 'x',
      name: '/x',
      intervalMs: 0,
      signal: controller.signal,
      readSystem: () => Promise.resolve({ systemCpuUsageNs: 1000 * (i + 1), onlineCpus: 1 }),
      now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)),
    })) {
      seen.push({
        total: s.cpu_stats.cpu_usage.total_usage,
        pre: s.precpu_stats.cpu_usage.total_usage,
        percent: cpuPercent(s),
      });
      i++;
      if (i === 3) controller.abort();
    }
    expect(seen).toEqual([
      { total: 100, pre: 0, percent: 10 },
      { total: 300, pre: 100, percent: 20 },
      { total: 600, pre: 300, percent: 30 },
    ]);
  });
});
