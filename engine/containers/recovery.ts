/**
 * Engine-start recovery of what a crash left running: kills and removes container cgroups (and
 * drops network endpoints) that no re-adopted container owns. Runs before the container service
 * loads its records; never changes a record.
 */
import { readFileSync } from 'node:fs';

import type { CgroupManager } from '../cgroups/index.js';
import { isAlive, shimRuns } from '../runtime/exit.js';
import type { RecordCollection } from '../state/store.js';
import type { ContainerRecord } from './config.js';
import type { EngineNetworks } from './networking.js';

/** The cgroup parent of every container (`tscompose/<id>`, see docs/cgroups.md). */
export const CONTAINER_CGROUP_PARENT = 'tscompose';

/** A container id as the engine makes them (64 hex): the only cgroup names the sweep touches. */
const CONTAINER_ID = /^[a-f0-9]{64}$/;

/** What {@link recoverLeftovers} works on. */
export interface RecoveryDeps {
  /** The container records (read only). */
  readonly records: RecordCollection<ContainerRecord>;
  readonly cgroups: CgroupManager;
  readonly networks: EngineNetworks;
  readonly log: (line: string) => void;
}

/** What {@link recoverLeftovers} did: container ids whose cgroup or endpoints it removed. */
export interface RecoveryReport {
  /** Ids whose cgroup held processes that were killed. */
  readonly killed: string[];
  /** Ids whose cgroup was removed (with or without processes). */
  readonly cgroups: string[];
  /** Ids whose network endpoints and published ports were released. */
  readonly endpoints: string[];
}

/** How long the sweep waits for the shims of killed processes to exit, in ms. */
const SHIM_EXIT_MS = 2000;

/** The `comm` a shim gives itself (native/src/shim.c, `PR_SET_NAME`). */
const SHIM_COMM = 'tsc:[shim]';

/** The stat fields of a process after its `(comm)`: state, then ppid; undefined when gone. */
function statOf(pid: number): { comm: string; state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const [state = '', ppid = '0'] = text.slice(close + 2).split(' ');
    return { comm: text.slice(text.indexOf('(') + 1, close), state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** The distinct parents of `pids` that are shims (proc(5) `stat`). */
function shimParents(pids: readonly number[]): number[] {
  const out = new Set<number>();
  for (const pid of pids) {
    const ppid = statOf(pid)?.ppid ?? 0;
    if (ppid > 1 && statOf(ppid)?.comm === SHIM_COMM) out.add(ppid);
  }
  return [...out];
}

/**
 * True when the engine start re-adopts the record as running, by the test
 * `ContainerManager.recover` applies: running, not being removed, launched (`Runtime`), and its
 * shim alive without an exit record ({@link shimRuns}).
 */
export function isAdoptable(r: ContainerRecord | undefined): boolean {
  const rt = r?.Runtime;
  return (
    r !== undefined &&
    rt !== undefined &&
    r.State.Running &&
    r.State.Status !== 'removing' &&
    shimRuns(rt)
  );
}

/**
 * Makes "no process of a container outlives its record" and "a container not running has no
 * endpoint" true again after an engine crash (an engine SIGKILLed between launching a shim and
 * recording it leaves a running init whose record says created). Call once at engine start,
 * before `ContainerManager.load` (so no restart policy has started anything yet) and after
 * `EngineNetworks.open`.
 *
 * 1. Every cgroup `tscompose/<id>` whose record here is not adoptable ({@link isAdoptable}) is
 *    destroyed: its processes are SIGKILLed and it is removed (`Cgroup.destroy`); their shims
 *    (outside the cgroup) are waited for, 2 s at most. Only the few cgroups that exist are looked
 *    at (one readdir per hierarchy; an adopted container's cgroup is never read).
 * 2. Every network endpoint of a container without an adoptable record is released with its
 *    published ports (a start cut short left it connected, which the next start refused with
 *    `already connected`); the network state is persisted when it changed.
 *
 * A cgroup under `tscompose/` with no record in this data root is left alone (a second engine
 * on another data root keeps its containers; ours never leave one: a removal destroys the cgroup
 * before the record goes). Failures are logged per container, never thrown.
 */
export async function recoverLeftovers(deps: RecoveryDeps): Promise<RecoveryReport> {
  const report: RecoveryReport = { killed: [], cgroups: [], endpoints: [] };
  /** id -> its record's state here: adoptable, ours but not adoptable, or no record at all. */
  const known = new Map<string, 'adoptable' | 'stopped' | 'none'>();
  const stateOf = async (id: string): Promise<'adoptable' | 'stopped' | 'none'> => {
    let st = known.get(id);
    if (st === undefined) {
      const rec = await deps.records.get(id).catch(() => undefined);
      st = rec === undefined ? 'none' : isAdoptable(rec) ? 'adoptable' : 'stopped';
      known.set(id, st);
    }
    return st;
  };
  const adopted = async (id: string): Promise<boolean> => (await stateOf(id)) === 'adoptable';
  const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

  let names: string[] = [];
  try {
    names = await deps.cgroups.children(CONTAINER_CGROUP_PARENT);
  } catch (e) {
    deps.log(`list container cgroups: ${describe(e)}`);
  }
  await Promise.all(
    names.map(async (name) => {
      const id = name.slice(CONTAINER_CGROUP_PARENT.length + 1);
      if (!CONTAINER_ID.test(id)) return;
      const st = await stateOf(id);
      if (st === 'adoptable') return;
      if (st === 'none') {
        // no record in this data root: another engine's container, never touched (a removal
        // destroys the cgroup before the record goes, so a crash leaves no such group of ours)
        deps.log(`cgroup ${name} belongs to no container of this engine: left alone`);
        return;
      }
      try {
        const cg = deps.cgroups.open(name);
        // the shims of its processes live outside the cgroup: wait for them too, so none writes
        // an exit record after the container's next start cleared it
        const shims = shimParents(await cg.pids().catch(() => []));
        if (await cg.destroy()) {
          report.killed.push(id);
          deps.log(`container ${id} is not running: killed what was left in cgroup ${name}`);
          const deadline = Date.now() + SHIM_EXIT_MS;
          while (shims.some(isAlive) && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 10));
        }
        report.cgroups.push(id);
      } catch (e) {
        deps.log(`remove the cgroup of container ${id}: ${describe(e)}`);
      }
    }),
  );

  const manager = deps.networks.manager;
  const connected = new Set<string>();
  for (const n of Object.values(manager.state().networks))
    for (const ep of Object.values(n.endpoints)) connected.add(ep.containerId);
  for (const id of connected) {
    if (await adopted(id)) continue;
    try {
      // its processes are gone (killed above): the veths go with the netns, in the background
      await manager.releaseContainer(id, { deferLinks: true });
      report.endpoints.push(id);
    } catch (e) {
      deps.log(`release the endpoints of container ${id}: ${describe(e)}`);
    }
  }
  if (report.endpoints.length > 0) {
    await deps.networks
      .persist()
      .catch((e: unknown) => deps.log(`persist networks: ${describe(e)}`));
  }
  report.killed.sort();
  report.cgroups.sort();
  return report;
}
