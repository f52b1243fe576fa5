/**
 * The cgroup v2 (unified hierarchy) manager: one directory per cgroup, controllers enabled in each
 * ancestor's cgroup.subtree_control, cgroup.freeze and cgroup.kill. Follows the kernel's
 * Documentation/admin-guide/cgroup-v2.rst and runc fs2. Decides nothing about names or limits.
 */
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
import { V2_STAT_FILES, parseFlatKeyed, v2StatsFromFiles } from './stats.js';
import type { Cgroup, CgroupManager, CgroupStats, Resources } from './types.js';
import { resourceWrites } from './writes.js';

/** Files that a kernel may lack without it being an error (no swap accounting): skipped. */
const OPTIONAL_V2_FILES = new Set(['memory.swap.max']);

/** A cgroup in the unified hierarchy at `root/name`. */
export class V2Cgroup implements Cgroup {
  /** The cgroup's directory. */
  readonly dir: string;

  constructor(
    /** The cgroup2 mount (or a tmpdir laid out like it). */
    readonly root: string,
    readonly name: string,
    /** Bound on waits for freeze and emptiness, in ms. */
    private readonly waitMs: number,
  ) {
    this.dir = join(root, ...cgroupSegments(name));
  }

  directories(): Readonly<Record<string, string>> {
    return { unified: this.dir };
  }

  joinFiles(): string[] {
    return [join(this.dir, 'cgroup.procs')];
  }

  async addProcess(pid: number): Promise<void> {
    await writeControl(this.dir, 'cgroup.procs', String(pid));
  }

  async update(r: Resources): Promise<void> {
    const writes = resourceWrites(2, await resolveDevicePaths(r));
    for (const [, file, value] of writes) {
      if (OPTIONAL_V2_FILES.has(file) && !(await exists(join(this.dir, file)))) continue;
      if (file === 'io.weight' && r.blkioWeight !== undefined) {
        // BFQ takes the v1 range as is (runc fs2/io.go prefers io.bfq.weight when present)
        if (await exists(join(this.dir, 'io.bfq.weight'))) {
          await writeControl(this.dir, 'io.bfq.weight', String(r.blkioWeight));
          continue;
        }
      }
      await writeControl(this.dir, file, value);
    }
  }

  async stats(): Promise<CgroupStats> {
    const files: Record<string, string | undefined> = {};
    for (const f of V2_STAT_FILES) files[f] = await readControlIfExists(this.dir, f);
    return v2StatsFromFiles(files, totalmem());
  }

  async freeze(): Promise<void> {
    await this.setFrozen(true);
  }

  async thaw(): Promise<void> {
    await this.setFrozen(false);
  }

  /** Writes cgroup.freeze and waits for `frozen` in cgroup.events to match (kernel >= 5.2). */
  private async setFrozen(frozen: boolean): Promise<void> {
    const want = frozen ? 1 : 0;
    await writeControl(this.dir, 'cgroup.freeze', String(want));
    const reached = await pollUntil(async () => {
      const events = await readControlIfExists(this.dir, 'cgroup.events');
      if (events === undefined) return true;
      return parseFlatKeyed(events).get('frozen') === want;
    }, this.waitMs);
    if (!reached) {
      throw new TscError(
        'TSC_CGROUP',
        `${frozen ? 'freeze' : 'thaw'} cgroup ${this.dir}: not ${frozen ? 'frozen' : 'thawed'} after ${this.waitMs} ms`,
      );
    }
  }

  async killAll(signal: NodeJS.Signals): Promise<void> {
    if (signal === 'SIGKILL' && (await exists(join(this.dir, 'cgroup.kill')))) {
      await writeControl(this.dir, 'cgroup.kill', '1');
      return;
    }
    // before cgroup.kill (kernel < 5.14), SIGKILL goes to a frozen group so nothing forks meanwhile
    const freeze = signal === 'SIGKILL' && (await exists(join(this.dir, 'cgroup.freeze')));
    if (freeze) await this.freeze();
    try {
      for (const pid of await this.pids()) signalPid(pid, signal);
    } finally {
      if (freeze) await this.thaw();
    }
  }

  async pids(): Promise<number[]> {
    return subtreePids(this.dir);
  }

  async destroy(): Promise<boolean> {
    // the usual case, an empty group without nested ones: one rmdir(2)
    try {
      await rmdir(this.dir);
      await rmdirEmptyAncestors(this.root, cgroupSegments(this.name));
      return false;
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return false;
      // EBUSY: processes or nested groups; ENOTEMPTY: a plain directory (tests)
    }
    let killed = false;
    await killUntilEmpty(
      this.name,
      () => this.pids(),
      async () => {
        killed = true;
        await this.killAll('SIGKILL');
      },
      this.waitMs,
    );
    await this.remove();
    return killed;
  }

  async remove(): Promise<void> {
    const empty = await pollUntil(async () => (await this.pids()).length === 0, this.waitMs);
    if (!empty) {
      const left = await this.pids();
      throw new TscError(
        'TSC_CGROUP',
        `remove cgroup ${this.name}: processes ${left.join(',')} still running after ${this.waitMs} ms`,
        { hint: 'kill the processes first (killAll)' },
      );
    }
    await rmdirCgroupTree(this.dir);
    await rmdirEmptyAncestors(this.root, cgroupSegments(this.name));
  }
}

/** Manages cgroups below a cgroup2 root. */
export class V2Manager implements CgroupManager {
  readonly version = 2 as const;

  constructor(
    readonly root: string,
    private readonly waitMs: number,
  ) {}

  open(name: string): V2Cgroup {
    return new V2Cgroup(this.root, name, this.waitMs);
  }

  async children(parent: string): Promise<string[]> {
    const subs = await subdirectories(join(this.root, ...cgroupSegments(parent)));
    return subs.map((c) => `${parent}/${c}`);
  }

  /**
   * Creates each level of `name`, enabling in every ancestor's cgroup.subtree_control all the
   * controllers it has in cgroup.controllers (all at once, then one by one ignoring refusals,
   * like runc fs2 CreateCgroupPath), then applies `r`. On failure the new levels are removed.
   */
  async create(name: string, r: Resources): Promise<V2Cgroup> {
    const segments = cgroupSegments(name);
    const cgroup = this.open(name);
    let created = false;
    try {
      await retryIfParentVanished(async () => {
        let parent = this.root;
        for (const seg of segments) {
          await this.enableControllers(parent);
          const dir = join(parent, seg);
          created = (await mkdirCgroup(dir)) || created;
          parent = dir;
        }
      });
      await cgroup.update(r);
    } catch (e) {
      if (created && e instanceof TscError) {
        await cgroup.remove().catch((c: unknown) => e.cleanupErrors.push(c));
      }
      throw e;
    }
    return cgroup;
  }

  /** Enables every available controller of `dir` for its children. */
  private async enableControllers(dir: string): Promise<void> {
    const available = (await readControlIfExists(dir, 'cgroup.controllers')) ?? '';
    const controllers = available.split(/\s+/).filter((c) => c !== '');
    if (controllers.length === 0) return;
    const enabled = new Set(
      ((await readControlIfExists(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/),
    );
    const missing = controllers.filter((c) => !enabled.has(c));
    if (missing.length === 0) return;
    try {
      await writeControl(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    } catch {
      for (const c of missing)
        await writeControl(dir, 'cgroup.subtree_control', `+${c}`).catch(() => undefined);
    }
  }
}

/** Reads the controllers a v2 cgroup directory offers (`cgroup.controllers`). */
export async function v2Controllers(dir: string): Promise<string[]> {
  return (await readControl(dir, 'cgroup.controllers')).split(/\s+/).filter((c) => c !== '');
}
