// resourceWrites and the conversions it uses: exact write lists for v1 and v2 (pure, no I/O).
import { TscError } from '../../../../base/errors';
import {
  blkioWeightToIoWeight,
  formatDeviceRule,
  memorySwapToV2,
  resourceWrites,
  sharesToWeight,
  unsupportedResources,
  withDockerDefaults,
} from '../../../../engine/cgroups/index';
import type { Resources } from '../../../../engine/cgroups/index';

const full: Resources = {
  memory: 256 * 1024 * 1024,
  memoryReservation: 128 * 1024 * 1024,
  memorySwap: 512 * 1024 * 1024,
  nanoCpus: 1_500_000_000,
  cpuShares: 512,
  cpusetCpus: '0-1',
  cpusetMems: '0',
  pidsLimit: 100,
  blkioWeight: 500,
  blkioDeviceReadBps: [{ path: '8:0', rate: 1048576 }],
  blkioDeviceWriteBps: [{ path: '8:0', rate: 2097152 }],
  blkioDeviceReadIOps: [{ path: '8:16', rate: 100 }],
  blkioDeviceWriteIOps: [{ path: '8:0', rate: 200 }],
  devices: [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 136, access: 'rwm' },
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  ],
  hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
};

describe('resourceWrites v1', () => {
  it('maps every field to the v1 files in runc order', () => {
    expect(resourceWrites(1, full)).toEqual([
      ['cpuset', 'cpuset.cpus', '0-1'],
      ['cpuset', 'cpuset.mems', '0'],
      ['devices', 'devices.deny', 'a'],
      ['devices', 'devices.allow', 'c 1:3 rwm'],
      ['devices', 'devices.allow', 'c 136:* rwm'],
      ['devices', 'devices.deny', 'c 10:229 rwm'],
      ['memory', 'memory.limit_in_bytes', '268435456'],
      ['memory', 'memory.memsw.limit_in_bytes', '536870912'],
      ['memory', 'memory.soft_limit_in_bytes', '134217728'],
      ['cpu', 'cpu.shares', '512'],
      ['cpu', 'cpu.cfs_period_us', '100000'],
      ['cpu', 'cpu.cfs_quota_us', '150000'],
      ['pids', 'pids.max', '100'],
      ['blkio', 'blkio.weight', '500'],
      ['blkio', 'blkio.throttle.read_bps_device', '8:0 1048576'],
      ['blkio', 'blkio.throttle.write_bps_device', '8:0 2097152'],
      ['blkio', 'blkio.throttle.read_iops_device', '8:16 100'],
      ['blkio', 'blkio.throttle.write_iops_device', '8:0 200'],
      ['hugetlb', 'hugetlb.2MB.limit_in_bytes', '4194304'],
    ]);
  });

  it('writes nothing for empty resources', () => {
    expect(resourceWrites(1, {})).toEqual([]);
    expect(resourceWrites(2, {})).toEqual([]);
  });

  it('writes unlimited values the way the v1 kernel files take them', () => {
    expect(resourceWrites(1, { memory: -1, memorySwap: -1, cpuQuota: -1, pidsLimit: 0 })).toEqual([
      ['memory', 'memory.limit_in_bytes', '-1'],
      ['memory', 'memory.memsw.limit_in_bytes', '-1'],
      ['cpu', 'cpu.cfs_quota_us', '-1'],
      ['pids', 'pids.max', 'max'],
    ]);
  });

  it('writes quota and period as given', () => {
    expect(resourceWrites(1, { cpuQuota: 50000, cpuPeriod: 200000 })).toEqual([
      ['cpu', 'cpu.cfs_period_us', '200000'],
      ['cpu', 'cpu.cfs_quota_us', '50000'],
    ]);
  });

  it('denies everything before an empty allow list', () => {
    expect(resourceWrites(1, { devices: [] })).toEqual([['devices', 'devices.deny', 'a']]);
  });
});

describe('resourceWrites v2', () => {
  it('maps every field to the unified files', () => {
    expect(resourceWrites(2, full)).toEqual([
      ['cpuset', 'cpuset.cpus', '0-1'],
      ['cpuset', 'cpuset.mems', '0'],
      ['memory', 'memory.max', '268435456'],
      ['memory', 'memory.swap.max', '268435456'],
      ['memory', 'memory.low', '134217728'],
      ['cpu', 'cpu.weight', '59'],
      ['cpu', 'cpu.max', '150000 100000'],
      ['pids', 'pids.max', '100'],
      ['io', 'io.weight', 'default 4950'],
      ['io', 'io.max', '8:0 rbps=1048576 wbps=2097152 wiops=200'],
      ['io', 'io.max', '8:16 riops=100'],
      ['hugetlb', 'hugetlb.2MB.max', '4194304'],
    ]);
  });

  it('writes max for unlimited memory, swap, quota and pids', () => {
    expect(resourceWrites(2, { memory: -1, memorySwap: -1, cpuQuota: -1, pidsLimit: -1 })).toEqual([
      ['memory', 'memory.max', 'max'],
      ['memory', 'memory.swap.max', 'max'],
      ['cpu', 'cpu.max', 'max'],
      ['pids', 'pids.max', 'max'],
    ]);
  });

  it('writes cpu.max without a period when only the quota is set (period kept)', () => {
    expect(resourceWrites(2, { cpuQuota: 25000 })).toEqual([['cpu', 'cpu.max', '25000']]);
    expect(resourceWrites(2, { cpuPeriod: 50000 })).toEqual([['cpu', 'cpu.max', 'max 50000']]);
  });

  it('leaves device rules out and reports them as unsupported', () => {
    const r: Resources = { devices: [{ allow: true, type: 'a', access: 'rwm' }] };
    expect(resourceWrites(2, r)).toEqual([]);
    expect(unsupportedResources(2, r)).toEqual(['devices']);
    expect(unsupportedResources(1, r)).toEqual([]);
  });
});

describe('validation', () => {
  it('rejects nanoCpus together with cpuQuota', () => {
    expect(() => resourceWrites(1, { nanoCpus: 1e9, cpuQuota: 1000 })).toThrow(
      'set cpu limit: nanoCpus conflicts with cpuQuota/cpuPeriod',
    );
  });

  it('rejects swap below memory on both versions', () => {
    const r: Resources = { memory: 2000000, memorySwap: 1000000 };
    expect(() => resourceWrites(1, r)).toThrow(
      'set memory swap limit 1000000: below the memory limit 2000000',
    );
    expect(() => resourceWrites(2, r)).toThrow(TscError);
  });

  it('rejects a v2 swap limit without a memory limit', () => {
    expect(() => resourceWrites(2, { memorySwap: 1000000 })).toThrow(
      'set memory swap limit: a memory limit is required too',
    );
  });

  it('rejects device paths that were not resolved', () => {
    const r: Resources = { blkioDeviceReadBps: [{ path: '/dev/sda', rate: 1 }] };
    try {
      resourceWrites(1, r);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(TscError);
      expect((e as TscError).code).toBe('TSC_CGROUP');
      expect((e as TscError).message).toBe(
        'set blkioDeviceReadBps: device /dev/sda is not resolved to major:minor',
      );
    }
  });
});

describe('conversions', () => {
  it('converts shares to weight like runc >= 1.4', () => {
    expect([0, 2, 256, 512, 1024, 2048, 4096, 262144].map(sharesToWeight)).toEqual([
      0, 1, 35, 59, 100, 174, 303, 10000,
    ]);
  });

  it('converts blkio weight to io weight', () => {
    expect([10, 500, 1000].map(blkioWeightToIoWeight)).toEqual([1, 4950, 10000]);
  });

  it('computes swap.max as swap minus memory', () => {
    expect(memorySwapToV2(undefined, 100)).toBeUndefined();
    expect(memorySwapToV2(0, 100)).toBeUndefined();
    expect(memorySwapToV2(-1, 100)).toBe('max');
    expect(memorySwapToV2(100, 100)).toBe('0');
    expect(memorySwapToV2(300, 100)).toBe('200');
  });

  it('formats device rules with * for any number', () => {
    expect(formatDeviceRule({ allow: true, type: 'a', access: 'rwm' })).toBe('a *:* rwm');
    expect(formatDeviceRule({ allow: true, type: 'b', major: 8, minor: -1, access: 'm' })).toBe(
      'b 8:* m',
    );
  });

  it('applies dockerd defaults: swap twice the memory, negative pids unlimited', () => {
    expect(withDockerDefaults({ memory: 100 })).toEqual({ memory: 100, memorySwap: 200 });
    expect(withDockerDefaults({ memory: 100, memorySwap: -1 })).toEqual({
      memory: 100,
      memorySwap: -1,
    });
    expect(withDockerDefaults({ pidsLimit: -1 })).toEqual({ pidsLimit: 0 });
  });
});
