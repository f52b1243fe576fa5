// The v2 manager live, on the cgroup2 mount of a hybrid host (/sys/fs/cgroup/unified). Only core
// cgroup2 files and the controllers that hierarchy has (hugetlb here) are available, which is
// enough for membership, cgroup.freeze, cgroup.kill, nested groups, cpu.stat and removal.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroupManager } from '../../../engine/cgroups/index';
import type { Cgroup } from '../../../engine/cgroups/index';
import { requireHost } from '../../helpers/host';

const UNIFIED = '/sys/fs/cgroup/unified';

/** True when `path` is a cgroup2 mount point (from /proc/self/mountinfo). */
function isCgroup2Mount(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => {
      const [pre, post] = l.split(' - ');
      return pre?.split(' ')[4] === path && post?.startsWith('cgroup2 ');
    });
}

const hybrid = process.platform === 'linux' && existsSync(UNIFIED) && isCgroup2Mount(UNIFIED);
if (!hybrid) console.warn(`skipping v2-unified suite: ${UNIFIED} is not a cgroup2 mount here`);
const canRun = requireHost({ root: true }) && hybrid;
const d = canRun ? describe : describe.skip;
jest.setTimeout(30_000);

async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function procState(pid: number): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('State:'));
  return (line ?? '').replace('State:', '').trim().charAt(0);
}

let seq = 0;
const uniqueName = (tag: string) => `tsc-test-${process.pid}-v2-${tag}-${++seq}`;
const children: ChildProcess[] = [];
const cgroups: Cgroup[] = [];

function startHeld(script: string) {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  if (child.pid === undefined) throw new Error('spawn sh failed');
  return { child, pid: child.pid, go: () => child.stdin.write('go\n'), exited };
}

d('engine/cgroups v2 on the live unified hierarchy', () => {
  const m = createCgroupManager({ root: UNIFIED, version: 2 });
  let subtreeBefore = '';

  beforeAll(() => {
    subtreeBefore = readFileSync(join(UNIFIED, 'cgroup.subtree_control'), 'utf8').trim();
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    for (const cg of cgroups.splice(0)) {
      await cg.killAll('SIGKILL').catch(() => undefined);
      await cg.remove();
    }
  });

  afterAll(() => {
    // creation enabled the hierarchy's controllers in the root, as on a real v2 host; undo that
    const before = new Set(subtreeBefore.split(/\s+/).filter((c) => c !== ''));
    const now = readFileSync(join(UNIFIED, 'cgroup.subtree_control'), 'utf8').trim();
    const added = now.split(/\s+/).filter((c) => c !== '' && !before.has(c));
    if (added.length > 0) {
      writeFileSync(join(UNIFIED, 'cgroup.subtree_control'), added.map((c) => `-${c}`).join(' '));
    }
  });

  it('enables the root controllers, applies hugetlb limits and moves a process in', async () => {
    const name = uniqueName('member');
    const offered = readFileSync(join(UNIFIED, 'cgroup.controllers'), 'utf8').trim();
    const huge = offered.split(/\s+/).includes('hugetlb');
    const cg = await m.create(
      name,
      huge ? { hugepageLimits: [{ pageSize: '2MB', limit: 8 << 20 }] } : {},
    );
    cgroups.push(cg);
    if (huge) {
      expect(readFileSync(join(UNIFIED, 'cgroup.subtree_control'), 'utf8')).toContain('hugetlb');
      expect(readFileSync(join(UNIFIED, name, 'hugetlb.2MB.max'), 'utf8').trim()).toBe(
        String(8 << 20),
      );
    }
    const p = startHeld('exec sleep 1000');
    await cg.addProcess(p.pid);
    p.go();
    expect(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8')).toContain(`0::/${name}\n`);
    expect(await cg.pids()).toEqual([p.pid]);
  });

  it('freezes and thaws through cgroup.freeze', async () => {
    const cg = await m.create(uniqueName('freeze'), {});
    cgroups.push(cg);
    // a busy task: the v2 freezer parks tasks in an interruptible sleep, so a running task
    // turns from R to S when frozen (a sleeping one would stay S)
    const p = startHeld("exec sh -c 'while :; do :; done'");
    await cg.addProcess(p.pid);
    p.go();
    await eventually('the loop runs', () => procState(p.pid) === 'R');
    await cg.freeze();
    expect(readFileSync(join(UNIFIED, cg.name, 'cgroup.events'), 'utf8')).toContain('frozen 1');
    expect(procState(p.pid)).toBe('S');
    await cg.thaw();
    await eventually('the loop runs again', () => procState(p.pid) === 'R');
  });

  it('kills a nested tree through cgroup.kill and removes it', async () => {
    const name = uniqueName('kill');
    const cg = await m.create(name, {});
    const p = startHeld('sleep 1000 & sleep 1000 & wait');
    await cg.addProcess(p.pid);
    p.go();
    await eventually('three processes', async () => (await cg.pids()).length === 3);
    await cg.killAll('SIGKILL');
    expect(await p.exited).toBe('SIGKILL');
    await cg.remove();
    expect(existsSync(join(UNIFIED, name))).toBe(false);
  });

  it('reports cpu usage from cpu.stat', async () => {
    const cg = await m.create(uniqueName('cpu'), {});
    cgroups.push(cg);
    const p = startHeld("exec sh -c 'while :; do :; done'");
    await cg.addProcess(p.pid);
    p.go();
    await eventually('cpu usage passes 50 ms', async () => (await cg.stats()).cpuUsageNs > 5e7);
    expect((await cg.stats()).cpuUserNs).toBeGreaterThan(0);
  });
});
