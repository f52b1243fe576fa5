/**
 * The cgroup v1 manager: one hierarchy per controller under the root (`<root>/memory`, ...,
 * co-mounted ones reached through their symlinks), the same cgroup name in each. Follows the
 * kernel's Documentation/admin-guide/cgroup-v1/ and runc fs. Decides nothing about names or limits.
 */
import { existsSync, realpathSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { TscError } from '../../base/errors.js';
import {
  cgroupSegments,
  errnoOf,
  exists,
  killUntilEmpty,
  mkdirCgroup,
  pollUntil,
  readControl,
  readControlIfExists,
  resolveDevicePaths,
  retryIfParentVanished,
  rmdirCgroupTree,
  signalPid,
  subdirectories,
  subtreePids,
  rmdirEmptyAncestors,
  writeControl,
} from './fs.js';
import { V1_STAT_FILES, parseNumber, v1StatsFromFiles } from './stats.js';
import type { Cgroup, CgroupManager, CgroupStats, Resources } from './types.js';
import type { ControlWrite } from './writes.js';
import { resourceWrites } from './writes.js';

/** The v1 controllers tscompose uses, in runc's apply order. */
export const V1_CONTROLLERS = [
  'cpuset',
  'devices',
  'memory',
  'cpu',
  'cpuacct',
  'pids',
  'blkio',
  'hugetlb',
  'freezer',
] as const;

/** Files the kernel may lack without it being an error (no swap accounting): skipped. */
const OPTIONAL_V1_FILES = new Set(['memory.memsw.limit_in_bytes']);

/**
 * Files written instead when the kernel lacks the usual one: with blk-mq only BFQ offers a
 * proportional weight (runc fs/blkio.go picks `blkio.bfq.weight` when `blkio.weight` is absent).
 */
const V1_FALLBACK_FILES: Readonly<Record<string, string>> = {
  'blkio.weight': 'blkio.bfq.weight',
};

/** A controller's hierarchy: where it is mounted, resolved through co-mount symlinks. */
export interface V1Hierarchy {
  /** The controller name (`memory`). */
  readonly controller: string;
  /** The mount point as reached from the root (`/sys/fs/cgroup/cpu`). */
  readonly mount: string;
  /** The real path, equal for co-mounted controllers (`/sys/fs/cgroup/cpu,cpuacct`). */
  readonly real: string;
}

/**
 * Finds the mounted hierarchies of {@link V1_CONTROLLERS} below `root` (synchronous: a few stat
 * calls, done once per manager).
 */
export function findV1Hierarchies(root: string): V1Hierarchy[] {
  const out: V1Hierarchy[] = [];
  for (const controller of V1_CONTROLLERS) {
    const mount = join(root, controller);
    if (!existsSync(mount)) continue;
    out.push({ controller, mount, real: realpathSync(mount) });
  }
  return out;
}

/** The hierarchies with co-mounted duplicates dropped (first controller of each mount wins). */
function distinct(hierarchies: readonly V1Hierarchy[]): V1Hierarchy[] {
  const seen = new Set<string>();
  const out: V1Hierarchy[] = [];
  for (const h of hierarchies) {
    if (seen.has(h.real)) continue;
    seen.add(h.real);
    out.push(h);
  }
  return out;
}

/** A cgroup present in every v1 hierarchy at `<mount>/<name>`. */
export class V1Cgroup implements Cgroup {
  private readonly segments: string[];

  constructor(
    readonly root: string,
    readonly name: string,
    /** The mounted hierarchies (see {@link findV1Hierarchies}). */
    private readonly hierarchies: readonly V1Hierarchy[],
    /** Bound on waits for freeze and emptiness, in ms. */
    private readonly waitMs: number,
  ) {
    this.segments = cgroupSegments(name);
  }

  /** The cgroup's directory in `controller`'s hierarchy, or undefined when not mounted. */
  dirOf(controller: string): string | undefined {
    const h = this.hierarchies.find((x) => x.controller === controller);
    return h === undefined ? undefined : join(h.mount, ...this.segments);
  }

  /** One directory per distinct hierarchy (co-mounted controllers share one). */
  distinctDirs(): string[] {
    return distinct(this.hierarchies).map((h) => join(h.mount, ...this.segments));
  }

  private requireDir(controller: string, what: string): string {
    const dir = this.dirOf(controller);
    if (dir === undefined) {
      throw new TscError(
        'TSC_CGROUP',
        `${what}: the ${controller} controller is not mounted under ${this.root}`,
      );
    }
    return dir;
  }

  directories(): Readonly<Record<string, string>> {
    return Object.fromEntries(
      this.hierarchies.map((h) => [h.controller, join(h.mount, ...this.segments)]),
    );
  }

  /** The `tasks` file of each distinct hierarchy (co-mounted controllers once); no I/O. */
  joinFiles(): string[] {
    return this.distinctDirs().map((dir) => join(dir, 'tasks'));
  }

  /**
   * Writes the pid to cgroup.procs in every hierarchy at once: the hierarchies are independent,
   * and the first migration waits out an RCU grace period that the others then share.
   */
  async addProcess(pid: number): Promise<void> {
    await allOrFirstError(
      this.distinctDirs().map((dir) => writeControl(dir, 'cgroup.procs', String(pid))),
    );
  }

  async update(r: Resources): Promise<void> {
    const writes = await this.orderMemoryWrites(resourceWrites(1, await resolveDevicePaths(r)));
    const dirs = writes.map(([controller, file, value]) =>
      this.requireDir(controller, `write ${file}=${value}`),
    );
    for (const [i, [, file, value]] of writes.entries()) {
      const dir = dirs[i] as string;
      let target = file;
      if (OPTIONAL_V1_FILES.has(file) || V1_FALLBACK_FILES[file] !== undefined) {
        if (!(await exists(join(dir, file)))) {
          const fallback = V1_FALLBACK_FILES[file];
          if (fallback === undefined) continue;
          target = fallback;
        }
      }
      await writeControl(dir, target, value);
    }
  }

  /**
   * The kernel refuses memory.limit_in_bytes above the current memory.memsw.limit_in_bytes and
   * memsw below the limit, so when raising both, memsw must go first (runc fs/memory.go).
   */
  private async orderMemoryWrites(writes: ControlWrite[]): Promise<ControlWrite[]> {
    const limit = writes.find((w) => w[1] === 'memory.limit_in_bytes');
    const memsw = writes.find((w) => w[1] === 'memory.memsw.limit_in_bytes');
    const dir = this.dirOf('memory');
    if (limit === undefined || memsw === undefined || dir === undefined) return writes;
    const current = parseNumber(await readControlIfExists(dir, 'memory.memsw.limit_in_bytes'));
    const newLimit = Number(limit[2]);
    if (current === undefined || newLimit === -1 || newLimit <= current) return writes;
    const rest = writes.filter((w) => w !== limit && w !== memsw);
    const at = writes.indexOf(limit);
    return [...rest.slice(0, at), memsw, limit, ...rest.slice(at)];
  }

  async stats(): Promise<CgroupStats> {
    const files: Record<string, string | undefined> = {};
    for (const [controller, file] of V1_STAT_FILES) {
      const dir = this.dirOf(controller);
      files[file] = dir === undefined ? undefined : await readControlIfExists(dir, file);
    }
    return v1StatsFromFiles(files, totalmem());
  }

  async freeze(): Promise<void> {
    await this.setFreezer('FROZEN');
  }

  async thaw(): Promise<void> {
    await this.setFreezer('THAWED');
  }

  /**
   * Writes freezer.state and waits until it reads back the same (it reads FREEZING while tasks
   * are still being stopped); the state is rewritten on every poll, like runc fs/freezer.go.
   */
  private async setFreezer(state: 'FROZEN' | 'THAWED'): Promise<void> {
    const dir = this.requireDir('freezer', state === 'FROZEN' ? 'freeze' : 'thaw');
    await writeControl(dir, 'freezer.state', state);
    const reached = await pollUntil(async () => {
      if ((await readControl(dir, 'freezer.state')) === state) return true;
      await writeControl(dir, 'freezer.state', state);
      return false;
    }, this.waitMs);
    if (!reached) {
      throw new TscError(
        'TSC_CGROUP',
        `write freezer.state=${state} to ${dir}: still ${await readControl(dir, 'freezer.state')} after ${this.waitMs} ms`,
      );
    }
  }

  /**
   * Signals every process. SIGKILL is sent with the group frozen so no process can fork a new one
   * meanwhile (runc signalAllProcesses); the group is thawed afterwards so the kill takes effect.
   */
  async killAll(signal: NodeJS.Signals): Promise<void> {
    const freezer = signal === 'SIGKILL' && this.dirOf('freezer') !== undefined;
    if (freezer) await this.freeze();
    try {
      for (const pid of await this.pids()) signalPid(pid, signal);
    } finally {
      if (freezer) await this.thaw();
    }
  }

  async pids(): Promise<number[]> {
    const dir = this.dirOf('pids') ?? this.dirOf('freezer') ?? this.distinctDirs()[0];
    return dir === undefined ? [] : subtreePids(dir);
  }

  /**
   * The usual case of a removal (every process gone, no nested cgroups): one rmdir(2) per
   * hierarchy, all at once, then the empty ancestors. False when some hierarchy refused (EBUSY:
   * processes or nested groups; ENOTEMPTY: a plain directory), which the caller handles.
   */
  private async removeIfIdle(): Promise<boolean> {
    const direct = await Promise.allSettled(
      distinct(this.hierarchies).map((h) => rmdir(join(h.mount, ...this.segments))),
    );
    const fast = direct.every(
      (d) => d.status === 'fulfilled' || errnoOf(d.reason as unknown) === 'ENOENT',
    );
    if (!fast) return false;
    // Every container has its cgroup in every hierarchy, so while the first hierarchy's parent
    // is in use (another container lives) so are the others': one rmdir(2) instead of one per
    // hierarchy for each container but the last.
    const [first, ...rest] = distinct(this.hierarchies);
    if (first !== undefined && (await rmdirEmptyAncestors(first.mount, this.segments)))
      await Promise.all(rest.map((h) => rmdirEmptyAncestors(h.mount, this.segments)));
    return true;
  }

  /**
   * The processes of the group in every distinct hierarchy (nested groups included), sorted: a
   * process may sit in some hierarchies only (its joins were cut short), and {@link pids} reads
   * one.
   */
  private async everyPid(): Promise<number[]> {
    const lists = await Promise.all(this.distinctDirs().map((dir) => subtreePids(dir)));
    return [...new Set(lists.flat())].sort((a, b) => a - b);
  }

  async destroy(): Promise<boolean> {
    if (await this.removeIfIdle()) return false;
    let killed = false;
    await killUntilEmpty(
      this.name,
      () => this.everyPid(),
      async (pids) => {
        killed = true;
        // frozen, nothing forks between the listing and the signals; a freezer that cannot
        // freeze (its directory already removed, a task stuck in D state) is skipped: the
        // next round catches what forked meanwhile
        const frozen =
          this.dirOf('freezer') !== undefined &&
          (await this.freeze().then(
            () => true,
            () => false,
          ));
        try {
          for (const pid of pids) signalPid(pid, 'SIGKILL');
        } finally {
          if (frozen) await this.thaw().catch(() => undefined);
        }
      },
      this.waitMs,
    );
    await this.remove();
    return killed;
  }

  async remove(): Promise<void> {
    // anything but the usual case (EBUSY, a plain directory) takes the checked way below
    if (await this.removeIfIdle()) return;
    const empty = await pollUntil(async () => (await this.pids()).length === 0, this.waitMs);
    if (!empty) {
      throw new TscError(
        'TSC_CGROUP',
        `remove cgroup ${this.name}: processes ${(await this.pids()).join(',')} still running after ${this.waitMs} ms`,
        { hint: 'kill the processes first (killAll)' },
      );
    }
    // the hierarchies are independent: remove them concurrently, collect every failure
    const settled = await Promise.allSettled(
      distinct(this.hierarchies).map(async (h) => {
        await rmdirCgroupTree(join(h.mount, ...this.segments));
        await rmdirEmptyAncestors(h.mount, this.segments);
      }),
    );
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    const [first, ...rest] = errors;
    if (first instanceof TscError) {
      first.cleanupErrors.push(...rest);
      throw first;
    }
    if (first !== undefined) {
      throw new TscError(
        'TSC_CGROUP',
        `remove cgroup ${this.name}: ${first instanceof Error ? first.message : 'unknown error'}`,
        {
          cause: first,
        },
      );
    }
  }
}

/** Manages cgroups in the v1 hierarchies below a root (`/sys/fs/cgroup`). */
export class V1Manager implements CgroupManager {
  readonly version = 1 as const;
  /** The hierarchies found under the root when the manager was made. */
  readonly hierarchies: readonly V1Hierarchy[];

  constructor(
    readonly root: string,
    private readonly waitMs: number,
  ) {
    this.hierarchies = findV1Hierarchies(root);
  }

  /** A handle on an existing cgroup `name`; does no I/O. */
  open(name: string): V1Cgroup {
    return new V1Cgroup(this.root, name, this.hierarchies, this.waitMs);
  }

  async children(parent: string): Promise<string[]> {
    const segments = cgroupSegments(parent);
    const lists = await Promise.all(
      distinct(this.hierarchies).map((h) => subdirectories(join(h.mount, ...segments))),
    );
    return [...new Set(lists.flat())].sort().map((c) => `${parent}/${c}`);
  }

  /**
   * Creates `name` in every mounted hierarchy, then applies `r`. New cpuset levels inherit their
   * parent's cpuset.cpus and cpuset.mems: a v1 cpuset starts empty, and no task can join an
   * empty cpuset (ENOSPC). On failure the new directories are removed.
   */
  async create(name: string, r: Resources): Promise<V1Cgroup> {
    const segments = cgroupSegments(name);
    if (this.hierarchies.length === 0) {
      throw new TscError(
        'TSC_CGROUP',
        `create cgroup ${name}: no cgroup v1 controller under ${this.root}`,
      );
    }
    const cgroup = new V1Cgroup(this.root, name, this.hierarchies, this.waitMs);
    let created = false;
    try {
      // each hierarchy is its own tree: create the levels in all of them concurrently
      await allOrFirstError(
        distinct(this.hierarchies).map((h) =>
          retryIfParentVanished(async () => {
            let parent = h.mount;
            for (const seg of segments) {
              const dir = join(parent, seg);
              created = (await mkdirCgroup(dir)) || created;
              await inheritCpuset(parent, dir);
              parent = dir;
            }
          }),
        ),
      );
      await cgroup.update(r);
    } catch (e) {
      if (created && e instanceof TscError) {
        await cgroup.remove().catch((c: unknown) => e.cleanupErrors.push(c));
      }
      throw e;
    }
    return cgroup;
  }
}

/**
 * Waits for every promise (so none is left running on failure), then throws the first rejection.
 */
async function allOrFirstError(work: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Copies cpuset.cpus and cpuset.mems from `parent` into `dir` where `dir`'s are empty; does
 * nothing in hierarchies without the cpuset files.
 */
async function inheritCpuset(parent: string, dir: string): Promise<void> {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = await readControlIfExists(dir, file);
    if (own === undefined || own !== '') continue;
    const inherited = await readControl(parent, file);
    if (inherited !== '') await writeControl(dir, file, inherited);
  }
}
