// engine/cgroups Cgroup.destroy and CgroupManager.children against the host's real cgroups, as
// root: destroy kills whatever runs in the group (forking shells, nested groups, on v1 a process
// in some hierarchies only) and removes it; an empty group is just removed.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_ROOT, createCgroupManager } from '../../../engine/cgroups/index';
import type { Cgroup, CgroupManager } from '../../../engine/cgroups/index';
import { isAlive } from '../../../engine/runtime/exit';
import { requireHost } from '../../helpers/host';

const canRun = requireHost({ root: true });
jest.setTimeout(30_000);
const d = canRun ? describe : describe.skip;

let seq = 0;
const parent = `tsc-test-destroy-${process.pid}`;
const uniqueName = (tag: string) => `${parent}/${tag}-${++seq}`;

/** The cgroup's directory in every hierarchy (v1) or its one directory (v2). */
const dirsOf = (cg: Cgroup): string[] => [...new Set(Object.values(cg.directories()))];

const children: ChildProcess[] = [];
const made: Cgroup[] = [];

/** Spawns `sh -c script` held until it is in the cgroup files `procs` (each gets its pid). */
function spawnInto(procs: readonly string[], script: string): ChildProcess {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  children.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn sh failed');
  for (const f of procs) writeFileSync(f, String(pid));
  child.stdin?.write('go\n');
  return child;
}

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => c.once('exit', () => r()));

d('Cgroup.destroy on the live host', () => {
  const m: CgroupManager = createCgroupManager();

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const cg of made) await cg.destroy().catch(() => undefined);
    await m
      .open(parent)
      .remove()
      .catch(() => undefined);
  });

  it('removes an empty group and reports that nothing was killed', async () => {
    const cg = await m.create(uniqueName('empty'), {});
    made.push(cg);
    expect(await cg.destroy()).toBe(false);
    for (const dir of dirsOf(cg)) expect(existsSync(dir)).toBe(false);
    // a second destroy of a missing group is fine
    expect(await cg.destroy()).toBe(false);
  });

  it('kills a forking process tree and a nested group, then removes the group', async () => {
    const name = uniqueName('busy');
    const cg = await m.create(name, {});
    made.push(cg);
    const sh = spawnInto(
      dirsOf(cg).map((dir) => join(dir, 'cgroup.procs')),
      'sleep 300 & sleep 300 & while true; do sleep 1; done',
    );
    // a nested group (a container with its own cgroup namespace may make one) with a process
    const nested = dirsOf(cg).map((dir) => join(dir, 'inner'));
    for (const dir of nested) mkdirSync(dir);
    if (m.version === 1) {
      for (const dir of nested)
        for (const f of ['cpuset.cpus', 'cpuset.mems'])
          if (existsSync(join(dir, f)))
            writeFileSync(join(dir, f), readFileSync(join(dir, '..', f)));
    }
    const inner = spawnInto(
      nested.map((dir) => join(dir, 'cgroup.procs')),
      'exec sleep 300',
    );
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length < 4; i++) {
      pids = await cg.pids();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(await cg.destroy()).toBe(true);
    await Promise.all([exited(sh), exited(inner)]);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    for (const dir of dirsOf(cg)) expect(existsSync(dir)).toBe(false);
  });

  it('v1: kills a process that is in some hierarchies only', async () => {
    if (m.version !== 1) return expect(m.version).toBe(2);
    const cg = await m.create(uniqueName('partial'), {});
    made.push(cg);
    const memory = cg.directories().memory;
    expect(memory).toBeDefined();
    const child = spawnInto([join(memory ?? '', 'cgroup.procs')], 'exec sleep 300');
    const pid = child.pid ?? 0;
    expect(await cg.pids()).toEqual([]); // the pids hierarchy does not see it
    expect(await cg.destroy()).toBe(true);
    await exited(child);
    expect(isAlive(pid)).toBe(false);
    for (const dir of dirsOf(cg)) expect(existsSync(dir)).toBe(false);
  });

  it('lists the groups below a parent (children)', async () => {
    const a = await m.create(`${parent}/list/a`, {});
    const b = await m.create(`${parent}/list/b`, {});
    made.push(a, b);
    expect(await m.children(`${parent}/list`)).toEqual([`${parent}/list/a`, `${parent}/list/b`]);
    expect(await m.children(`${parent}/none`)).toEqual([]);
    await a.destroy();
    await b.destroy();
    expect(existsSync(join(CGROUP_ROOT, m.version === 1 ? 'memory' : '', parent, 'list'))).toBe(
      false,
    );
  });
});
