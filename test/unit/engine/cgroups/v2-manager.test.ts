// The v2 manager against a tmpdir laid out like a cgroup2 mount: pre-created control files are
// written and read back; subtree_control, freeze, kill, remove and stats parsing.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TscError } from '../../../../base/errors';
import { createCgroupManager, detectCgroupVersion } from '../../../../engine/cgroups/index';

const LEAF_FILES = [
  'cgroup.procs',
  'cgroup.freeze',
  'cgroup.kill',
  'memory.max',
  'memory.swap.max',
  'memory.low',
  'cpu.max',
  'cpu.weight',
  'cpuset.cpus',
  'cpuset.mems',
  'pids.max',
  'io.weight',
  'io.max',
];

let root: string;

/** Creates `dir` under the fake root with empty control files (plus the given contents). */
function fakeCgroup(rel: string, files: readonly string[], contents: Record<string, string> = {}) {
  const dir = join(root, rel);
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), '');
  for (const [f, text] of Object.entries(contents)) writeFileSync(join(dir, f), text);
  return dir;
}

const read = (rel: string, file: string) => readFileSync(join(root, rel, file), 'utf8');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tsc-test-cgv2-'));
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma\n');
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('v2 manager on a fake cgroupfs', () => {
  it('is detected from cgroup.controllers in the root', () => {
    expect(detectCgroupVersion(root)).toBe(2);
    expect(createCgroupManager({ root }).version).toBe(2);
    const legacy = mkdtempSync(join(tmpdir(), 'tsc-test-cgv1-'));
    try {
      expect(detectCgroupVersion(legacy)).toBe(1);
    } finally {
      rmSync(legacy, { recursive: true });
    }
  });

  it('enables the controllers in every ancestor and writes the limits', async () => {
    fakeCgroup('tsc-test-app', ['cgroup.subtree_control'], {
      'cgroup.controllers': 'cpu memory pids\n',
    });
    fakeCgroup('tsc-test-app/web', LEAF_FILES);
    const m = createCgroupManager({ root, version: 2 });
    const cg = await m.create('tsc-test-app/web', {
      memory: 64 << 20,
      memorySwap: 128 << 20,
      memoryReservation: 32 << 20,
      nanoCpus: 500_000_000,
      cpuShares: 2048,
      cpusetCpus: '0',
      cpusetMems: '0',
      pidsLimit: 20,
      blkioWeight: 10,
      blkioDeviceWriteBps: [{ path: '8:0', rate: 1000 }],
    });
    expect(cg.name).toBe('tsc-test-app/web');
    expect(cg.directories()).toEqual({ unified: join(root, 'tsc-test-app/web') });
    expect(read('', 'cgroup.subtree_control')).toBe(
      '+cpuset +cpu +io +memory +hugetlb +pids +rdma',
    );
    expect(read('tsc-test-app', 'cgroup.subtree_control')).toBe('+cpu +memory +pids');
    const leaf = 'tsc-test-app/web';
    expect(read(leaf, 'memory.max')).toBe(String(64 << 20));
    expect(read(leaf, 'memory.swap.max')).toBe(String(64 << 20));
    expect(read(leaf, 'memory.low')).toBe(String(32 << 20));
    expect(read(leaf, 'cpu.max')).toBe('50000 100000');
    expect(read(leaf, 'cpu.weight')).toBe('174');
    expect(read(leaf, 'cpuset.cpus')).toBe('0');
    expect(read(leaf, 'pids.max')).toBe('20');
    expect(read(leaf, 'io.weight')).toBe('default 1');
    expect(read(leaf, 'io.max')).toBe('8:0 wbps=1000');
  });

  it('does not rewrite controllers that subtree_control already has', async () => {
    writeFileSync(join(root, 'cgroup.subtree_control'), 'cpuset cpu io memory hugetlb pids\n');
    fakeCgroup('tsc-test-one', LEAF_FILES);
    await createCgroupManager({ root, version: 2 }).create('tsc-test-one', {});
    expect(read('', 'cgroup.subtree_control')).toBe('+rdma');
  });

  it('prefers io.bfq.weight with the raw weight when present', async () => {
    fakeCgroup('tsc-test-bfq', [...LEAF_FILES, 'io.bfq.weight']);
    await createCgroupManager({ root, version: 2 }).create('tsc-test-bfq', { blkioWeight: 700 });
    expect(read('tsc-test-bfq', 'io.bfq.weight')).toBe('700');
    expect(read('tsc-test-bfq', 'io.weight')).toBe('');
  });

  it('skips memory.swap.max when the kernel has no swap accounting', async () => {
    fakeCgroup(
      'tsc-test-noswap',
      LEAF_FILES.filter((f) => f !== 'memory.swap.max'),
    );
    await createCgroupManager({ root, version: 2 }).create('tsc-test-noswap', {
      memory: 10 << 20,
      memorySwap: 20 << 20,
    });
    expect(read('tsc-test-noswap', 'memory.max')).toBe(String(10 << 20));
    expect(existsSync(join(root, 'tsc-test-noswap', 'memory.swap.max'))).toBe(false);
  });

  it('names the file, value and directory when a write fails, and removes what it created', async () => {
    const m = createCgroupManager({ root, version: 2, waitMs: 50 });
    const err = await m.create('tsc-test-bad', { pidsLimit: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TscError);
    expect((err as TscError).code).toBe('TSC_CGROUP');
    expect((err as TscError).message).toBe(
      `write pids.max=5 to ${join(root, 'tsc-test-bad')}: ENOENT`,
    );
    expect(existsSync(join(root, 'tsc-test-bad'))).toBe(false);
  });

  it('rejects names that would leave the root', async () => {
    const m = createCgroupManager({ root, version: 2 });
    await expect(m.create('../escape', {})).rejects.toThrow('invalid name');
    expect(() => m.open('/abs')).toThrow(TscError);
  });

  it('adds processes, lists pids, kills through cgroup.kill', async () => {
    fakeCgroup('tsc-test-procs', LEAF_FILES);
    const cg = createCgroupManager({ root, version: 2 }).open('tsc-test-procs');
    await cg.addProcess(4242);
    expect(read('tsc-test-procs', 'cgroup.procs')).toBe('4242');
    writeFileSync(join(root, 'tsc-test-procs', 'cgroup.procs'), '30\n7\n100\n');
    expect(await cg.pids()).toEqual([7, 30, 100]);
    await cg.killAll('SIGKILL');
    expect(read('tsc-test-procs', 'cgroup.kill')).toBe('1');
  });

  it('kills with the group frozen when the kernel has no cgroup.kill', async () => {
    fakeCgroup(
      'tsc-test-oldkill',
      LEAF_FILES.filter((f) => f !== 'cgroup.kill'),
      { 'cgroup.events': 'populated 0\nfrozen 0\n' },
    );
    // cgroup.events never reports frozen: the bounded wait fails before any signal is sent
    const cg = createCgroupManager({ root, version: 2, waitMs: 20 }).open('tsc-test-oldkill');
    await expect(cg.killAll('SIGKILL')).rejects.toThrow('not frozen after 20 ms');
    expect(read('tsc-test-oldkill', 'cgroup.freeze')).toBe('1');
  });

  it('freezes and waits for cgroup.events, bounded', async () => {
    fakeCgroup('tsc-test-freeze', LEAF_FILES, { 'cgroup.events': 'populated 1\nfrozen 1\n' });
    const cg = createCgroupManager({ root, version: 2, waitMs: 30 }).open('tsc-test-freeze');
    await cg.freeze();
    expect(read('tsc-test-freeze', 'cgroup.freeze')).toBe('1');
    await expect(cg.thaw()).rejects.toThrow(
      `thaw cgroup ${join(root, 'tsc-test-freeze')}: not thawed after 30 ms`,
    );
    expect(read('tsc-test-freeze', 'cgroup.freeze')).toBe('0');
  });

  it('refuses to remove a group with processes, removes an empty one', async () => {
    fakeCgroup('tsc-test-rm', LEAF_FILES, { 'cgroup.procs': '99\n' });
    const cg = createCgroupManager({ root, version: 2, waitMs: 20 }).open('tsc-test-rm');
    await expect(cg.remove()).rejects.toThrow('processes 99 still running after 20 ms');
    writeFileSync(join(root, 'tsc-test-rm', 'cgroup.procs'), '');
    await cg.remove();
    expect(existsSync(join(root, 'tsc-test-rm'))).toBe(false);
    await cg.remove(); // already gone: no error
  });

  it('counts processes of nested groups and removes them children first', async () => {
    fakeCgroup('tsc-test-tree', LEAF_FILES, { 'cgroup.procs': '10\n' });
    fakeCgroup('tsc-test-tree/a', ['cgroup.procs'], { 'cgroup.procs': '12\n10\n' });
    fakeCgroup('tsc-test-tree/a/b', ['cgroup.procs'], { 'cgroup.procs': '11\n' });
    const cg = createCgroupManager({ root, version: 2, waitMs: 20 }).open('tsc-test-tree');
    expect(await cg.pids()).toEqual([10, 11, 12]);
    for (const rel of ['tsc-test-tree', 'tsc-test-tree/a', 'tsc-test-tree/a/b']) {
      writeFileSync(join(root, rel, 'cgroup.procs'), '');
    }
    await cg.remove();
    expect(existsSync(join(root, 'tsc-test-tree'))).toBe(false);
  });

  it('reads stats from the v2 files', async () => {
    fakeCgroup('tsc-test-stats', [], {
      'cpu.stat':
        'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\nthrottled_usec 20\n',
      'memory.current': '10485760\n',
      'memory.max': '20971520\n',
      'memory.stat': 'anon 4194304\nfile 6291456\nactive_file 2097152\ninactive_file 4194304\n',
      'memory.events': 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n',
      'pids.current': '4\n',
      'pids.max': '64\n',
      'memory.peak': '12000000\n',
      'io.stat': '8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n',
    });
    const stats = await createCgroupManager({ root, version: 2 }).open('tsc-test-stats').stats();
    expect(stats).toEqual({
      cpuUsageNs: 1_500_000,
      memoryUsageBytes: 10485760 - 4194304,
      memoryLimitBytes: 20971520,
      pids: 4,
      throttledPeriods: 3,
      oomKills: 1,
      cpuUserNs: 1_000_000,
      cpuSystemNs: 500_000,
      cpuPeriods: 10,
      throttledTimeNs: 20_000,
      memoryRawUsageBytes: 10485760,
      memoryMaxUsageBytes: 12000000,
      memoryStat: { anon: 4194304, file: 6291456, active_file: 2097152, inactive_file: 4194304 },
      pidsLimit: 64,
      ioServiceBytes: [
        { major: 8, minor: 0, op: 'read', value: 1024 },
        { major: 8, minor: 0, op: 'write', value: 2048 },
      ],
    });
  });
});
