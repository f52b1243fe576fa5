/**
 * What an engine crash leaves running is killed, never leaked: a container's cgroup is the ground
 * truth. The crash between launching a shim and recording it is simulated deterministically (a
 * process put into a created container's cgroup; a running container's record rewritten as never
 * started while the engine is dead), then the engine is SIGKILLed and restarted; also a removal
 * of a created container whose cgroup holds a process; a cgroup of no record here is left alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type Docker from 'dockerode';

import { createCgroupManager, type Cgroup } from '../../../engine/cgroups/index';
import { isAlive } from '../../../engine/runtime/exit';
import { useEngine } from '../../helpers/engine-fixture';
import { requireHost } from '../../helpers/host';
import { shimPids, until, type Engine, type EngineHome } from './harness';

const ok = requireHost({ root: true });
const d = ok ? describe : describe.skip;

jest.setTimeout(120_000);

/** The engine's cgroup module, as the engine uses it (host root, detected version). */
const cgroups = createCgroupManager();

/** The cgroup directories of a container (one per distinct v1 hierarchy, or the v2 one). */
const dirsOf = (cg: Cgroup): string[] => [...new Set(Object.values(cg.directories()))];

const spawned: ChildProcess[] = [];

/**
 * Creates cgroup `name` with the engine's cgroup module (as a start would) and puts a new
 * `sleep 300` into it, writing its pid into the `cgroup.procs` of every hierarchy.
 */
async function sleeperIn(name: string): Promise<{ child: ChildProcess; cg: Cgroup }> {
  const cg = await cgroups.create(name, {});
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  spawned.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn sleep failed');
  for (const dir of dirsOf(cg)) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  expect(await cg.pids()).toEqual([pid]);
  return { child, cg };
}

/** Resolves with the signal that ended `child`. */
function ended(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.signalCode);
  return new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
}

d('engine recovery of what a crash left running', () => {
  const fx = useEngine();
  let home: EngineHome;
  let engine: Engine;
  let docker: Docker;
  beforeAll(() => {
    ({ home, engine, docker } = fx);
  });
  afterAll(() => {
    for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('kills the processes in the cgroup of a container that is not running at start; a cgroup of no container here is left alone', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-crash-created',
      Cmd: ['sleep', '300'],
      HostConfig: { NetworkMode: 'none' },
    });
    const leaked = await sleeperIn(`tscompose/${c.id}`);
    const stray = await sleeperIn(`tscompose/${randomBytes(32).toString('hex')}`);
    await engine.kill();
    engine = await fx.restart();
    docker = engine.docker;
    expect(await ended(leaked.child)).toBe('SIGKILL');
    for (const dir of dirsOf(leaked.cg)) expect(existsSync(dir)).toBe(false);
    expect(engine.log()).toContain(`container ${c.id} is not running: killed`);
    // no record in this data root: maybe another engine's container, so it keeps running
    expect(stray.child.exitCode === null && stray.child.signalCode === null).toBe(true);
    expect(await stray.cg.pids()).toEqual([stray.child.pid]);
    expect(engine.log()).toContain('belongs to no container of this engine: left alone');
    stray.child.kill('SIGKILL');
    await ended(stray.child);
    expect(await stray.cg.destroy()).toBe(false);
    for (const dir of dirsOf(stray.cg)) expect(existsSync(dir)).toBe(false);
    // the record itself is untouched
    expect((await c.inspect()).State).toMatchObject({ Status: 'created', Running: false });
    await c.remove();
  });

  it('kills the processes in the cgroup of a created container it removes', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-crash-remove',
      Cmd: ['sleep', '300'],
      HostConfig: { NetworkMode: 'none' },
    });
    const leaked = await sleeperIn(`tscompose/${c.id}`);
    await c.remove();
    expect(await ended(leaked.child)).toBe('SIGKILL');
    for (const dir of dirsOf(leaked.cg)) expect(existsSync(dir)).toBe(false);
  });

  it('recovers a container whose start was never recorded: kills it, drops its endpoint, starts it again', async () => {
    const net = await docker.createNetwork({ Name: 'tsc-crash-net' });
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-crash-started',
      Cmd: ['sleep', '300'],
      HostConfig: { NetworkMode: 'tsc-crash-net' },
    });
    const shimsBefore = shimPids();
    await c.start();
    const pid = (await c.inspect()).State.Pid;
    const shims = [...shimPids()].filter((p) => !shimsBefore.has(p));
    expect(shims.length).toBe(1);
    await engine.kill();
    // the crash came between launching the shim and recording it: the record says created
    const file = join(home.dataRoot, 'containers', c.id, 'record.json');
    const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & {
      State: Record<string, unknown>;
    };
    delete rec.Runtime;
    rec.State = { ...rec.State, Status: 'created', Running: false, Pid: 0 };
    writeFileSync(file, JSON.stringify(rec));
    engine = await fx.restart();
    docker = engine.docker;
    await until(() => Promise.resolve(isAlive(pid) ? undefined : true), 10_000);
    await until(() => Promise.resolve(shims.some(isAlive) ? undefined : true), 10_000);
    expect(existsSync(dirsOf(cgroups.open(`tscompose/${c.id}`))[0] ?? '')).toBe(false);
    expect((await docker.getNetwork(net.id).inspect()).Containers).toEqual({});
    // the next start connects it again (it was refused as "already connected")
    await c.start();
    const info = await c.inspect();
    expect(info.State.Running).toBe(true);
    expect(info.NetworkSettings.Networks['tsc-crash-net']?.IPAddress).toMatch(/^\d+\./);
    await c.remove({ force: true });
    await docker.getNetwork(net.id).remove();
  });
});
