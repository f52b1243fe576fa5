// The v1 manager against a tmpdir laid out like /sys/fs/cgroup with one hierarchy per controller
// (cpu and cpuacct co-mounted through symlinks, as on most distributions): writes, cpuset
// inheritance, swap accounting detection, removal in every hierarchy, stats parsing.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCgroupManager, v1StatsFromFiles } from '../../../../engine/cgroups/index';
import { V1Manager } from '../../../../engine/cgroups/v1';

let root: string;

const HIERARCHIES = ['memory', 'cpuset', 'pids', 'freezer', 'devices', 'blkio', 'cpu,cpuacct'];

function files(rel: string, contents: Record<string, string>) {
  const dir = join(root, rel);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(contents)) writeFileSync(join(dir, f), text);
}

const read = (rel: string, file: string) => readFileSync(join(root, rel, file), 'utf8');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tsc-test-cgv1-'));
  for (const h of HIERARCHIES) mkdirSync(join(root, h));
  symlinkSync('cpu,cpuacct', join(root, 'cpu'));
  symlinkSync('cpu,cpuacct', join(root, 'cpuacct'));
  files('cpuset', { 'cpuset.cpus': '0-3\n', 'cpuset.mems': '0\n' });
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Pre-creates the leaf `name` in every hierarchy with empty control files. */
function fakeLeaf(name: string, withMemsw: boolean) {
  const procs = { 'cgroup.procs': '' };
  files(`memory/${name}`, {
    ...procs,
    'memory.limit_in_bytes': '',
    'memory.soft_limit_in_bytes': '',
    ...(withMemsw ? { 'memory.memsw.limit_in_bytes': '9223372036854771712\n' } : {}),
  });
  files(`cpuset/${name}`, { ...procs, 'cpuset.cpus': '', 'cpuset.mems': '' });
  files(`pids/${name}`, { ...procs, 'pids.max': '' });
  files(`freezer/${name}`, { ...procs, 'freezer.state': 'THAWED\n' });
  files(`devices/${name}`, { ...procs, 'devices.allow': '', 'devices.deny': '' });
  files(`blkio/${name}`, { ...procs, 'blkio.weight': '' });
  files(`cpu,cpuacct/${name}`, {
    ...procs,
    'cpu.shares': '',
    'cpu.cfs_period_us': '',
    'cpu.cfs_quota_us': '',
  });
}

describe('v1 manager on a fake cgroupfs', () => {
  it('finds the hierarchies and merges co-mounted ones', () => {
    const m = new V1Manager(root, 100);
    expect(m.hierarchies.map((h) => h.controller)).toEqual([
      'cpuset',
      'devices',
      'memory',
      'cpu',
      'cpuacct',
      'pids',
      'blkio',
      'freezer',
    ]);
    expect(m.open('tsc-test-x').distinctDirs()).toHaveLength(7);
    expect(m.open('tsc-test-x').joinFiles()).toEqual(
      m
        .open('tsc-test-x')
        .distinctDirs()
        .map((d) => join(d, 'tasks')),
    );
    expect(m.open('tsc-test-x/y').directories()).toEqual({
      cpuset: join(root, 'cpuset/tsc-test-x/y'),
      devices: join(root, 'devices/tsc-test-x/y'),
      memory: join(root, 'memory/tsc-test-x/y'),
      cpu: join(root, 'cpu/tsc-test-x/y'),
      cpuacct: join(root, 'cpuacct/tsc-test-x/y'),
      pids: join(root, 'pids/tsc-test-x/y'),
      blkio: join(root, 'blkio/tsc-test-x/y'),
      freezer: join(root, 'freezer/tsc-test-x/y'),
    });
  });

  it('writes limits in each hierarchy and inherits the parent cpuset', async () => {
    fakeLeaf('tsc-test-web', true);
    const m = createCgroupManager({ root, version: 1 });
    expect(m.version).toBe(1);
    await m.create('tsc-test-web', {
      memory: 64 << 20,
      memorySwap: 128 << 20,
      cpuShares: 512,
      cpuQuota: 20000,
      pidsLimit: 10,
      blkioWeight: 300,
      devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    });
    expect(read('cpuset/tsc-test-web', 'cpuset.cpus')).toBe('0-3');
    expect(read('cpuset/tsc-test-web', 'cpuset.mems')).toBe('0');
    expect(read('memory/tsc-test-web', 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(read('memory/tsc-test-web', 'memory.memsw.limit_in_bytes')).toBe(String(128 << 20));
    expect(read('cpu/tsc-test-web', 'cpu.shares')).toBe('512');
    expect(read('cpu/tsc-test-web', 'cpu.cfs_quota_us')).toBe('20000');
    expect(read('pids/tsc-test-web', 'pids.max')).toBe('10');
    expect(read('blkio/tsc-test-web', 'blkio.weight')).toBe('300');
    expect(read('devices/tsc-test-web', 'devices.deny')).toBe('a');
    expect(read('devices/tsc-test-web', 'devices.allow')).toBe('c 1:3 rwm');
  });

  it('keeps a cpuset that is given explicitly', async () => {
    fakeLeaf('tsc-test-pin', false);
    await createCgroupManager({ root, version: 1 }).create('tsc-test-pin', { cpusetCpus: '1' });
    expect(read('cpuset/tsc-test-pin', 'cpuset.cpus')).toBe('1');
  });

  it('writes blkio.bfq.weight when the kernel has no blkio.weight (blk-mq)', async () => {
    fakeLeaf('tsc-test-bfq', false);
    rmSync(join(root, 'blkio/tsc-test-bfq/blkio.weight'));
    writeFileSync(join(root, 'blkio/tsc-test-bfq/blkio.bfq.weight'), '');
    await createCgroupManager({ root, version: 1 }).create('tsc-test-bfq', { blkioWeight: 700 });
    expect(read('blkio/tsc-test-bfq', 'blkio.bfq.weight')).toBe('700');
  });

  it('skips memsw without swap accounting', async () => {
    fakeLeaf('tsc-test-noswap', false);
    await createCgroupManager({ root, version: 1 }).create('tsc-test-noswap', {
      memory: 10 << 20,
      memorySwap: 20 << 20,
    });
    expect(existsSync(join(root, 'memory/tsc-test-noswap/memory.memsw.limit_in_bytes'))).toBe(
      false,
    );
  });

  it('writes the pid into every hierarchy, once per co-mount', async () => {
    fakeLeaf('tsc-test-procs', false);
    const cg = createCgroupManager({ root, version: 1 }).open('tsc-test-procs');
    await cg.addProcess(77);
    for (const h of HIERARCHIES) expect(read(`${h}/tsc-test-procs`, 'cgroup.procs')).toBe('77');
    expect(await cg.pids()).toEqual([77]);
  });

  it('reports a missing controller by name', async () => {
    fakeLeaf('tsc-test-huge', false);
    const m = createCgroupManager({ root, version: 1, waitMs: 20 });
    await expect(
      m.create('tsc-test-huge', { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }),
    ).rejects.toThrow(
      `write hugetlb.2MB.limit_in_bytes=1: the hugetlb controller is not mounted under ${root}`,
    );
  });

  it('freezes through freezer.state and removes every directory', async () => {
    const m = createCgroupManager({ root, version: 1, waitMs: 50 });
    files('cpuset/tsc-test-p', { 'cpuset.cpus': '', 'cpuset.mems': '' });
    files('cpuset/tsc-test-p/c', { 'cpuset.cpus': '', 'cpuset.mems': '' });
    const cg = await m.create('tsc-test-p/c', {});
    expect(read('cpuset/tsc-test-p/c', 'cpuset.cpus')).toBe('0-3');
    files('freezer/tsc-test-p/c', { 'freezer.state': 'THAWED' });
    await cg.freeze();
    expect(read('freezer/tsc-test-p/c', 'freezer.state')).toBe('FROZEN');
    await cg.thaw();
    expect(read('freezer/tsc-test-p/c', 'freezer.state')).toBe('THAWED');
    await cg.remove();
    for (const h of HIERARCHIES) expect(existsSync(join(root, h, 'tsc-test-p/c'))).toBe(false);
    // the parent in hierarchies without files is empty again and goes too
    expect(existsSync(join(root, 'pids', 'tsc-test-p'))).toBe(false);
  });
});

describe('v1 stats parsing', () => {
  it('subtracts total_inactive_file and clamps an unlimited limit to host memory', () => {
    const stats = v1StatsFromFiles(
      {
        'cpuacct.usage': '123456789\n',
        'cpu.stat': 'nr_periods 50\nnr_throttled 7\nthrottled_time 999\n',
        'memory.usage_in_bytes': '8388608\n',
        'memory.limit_in_bytes': '9223372036854771712\n',
        'memory.stat': 'cache 1000\nrss 2000\ninactive_file 5\ntotal_inactive_file 2097152\n',
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
        'pids.current': '3\n',
        'pids.max': 'max\n',
        'cpuacct.stat': 'user 250\nsystem 50\n',
        'cpuacct.usage_percpu': '100000000 23456789 \n',
        'memory.max_usage_in_bytes': '9000000\n',
        'memory.failcnt': '4\n',
        'blkio.throttle.io_service_bytes_recursive':
          '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n',
      },
      4 << 30,
    );
    expect(stats).toEqual({
      cpuUsageNs: 123456789,
      memoryUsageBytes: 8388608 - 2097152,
      memoryLimitBytes: 4 << 30,
      pids: 3,
      throttledPeriods: 7,
      oomKills: 2,
      cpuUserNs: 2_500_000_000,
      cpuSystemNs: 500_000_000,
      percpuUsageNs: [100000000, 23456789],
      cpuPeriods: 50,
      throttledTimeNs: 999,
      memoryRawUsageBytes: 8388608,
      memoryMaxUsageBytes: 9000000,
      memoryFailcnt: 4,
      memoryStat: { cache: 1000, rss: 2000, inactive_file: 5, total_inactive_file: 2097152 },
      ioServiceBytes: [
        { major: 8, minor: 0, op: 'read', value: 4096 },
        { major: 8, minor: 0, op: 'write', value: 8192 },
      ],
    });
  });

  it('gives zeros when controllers are missing', () => {
    expect(v1StatsFromFiles({}, 1000)).toEqual({
      cpuUsageNs: 0,
      memoryUsageBytes: 0,
      memoryLimitBytes: 1000,
      pids: 0,
    });
  });
});
