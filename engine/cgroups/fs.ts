/**
 * Control-file I/O shared by the v1 and v2 managers: writes that name path and value in their
 * errors, reads, directory creation/removal with cgroupfs semantics, bounded polling, and the
 * resolution of block device paths to `major:minor`. Makes no policy decisions.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TscError } from '../../base/errors.js';
import type { DeviceRate, Resources } from './types.js';

/** The errno name of a Node system error (`ENOENT`), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') {
    return e.code;
  }
  return undefined;
}

/**
 * Writes `value` to `dir/file` as one write(2), without creating the file (cgroupfs files exist
 * or the controller is missing). Throws TscError TSC_CGROUP
 * `write memory.max=100 to /sys/fs/cgroup/x: EINVAL`.
 */
export async function writeControl(dir: string, file: string, value: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(join(dir, file), constants.O_WRONLY | constants.O_TRUNC);
    await fh.write(value);
  } catch (e) {
    throw new TscError(
      'TSC_CGROUP',
      `write ${file}=${value} to ${dir}: ${errnoOf(e) ?? String(e)}`,
      { cause: e },
    );
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Reads `dir/file`, trimmed. Throws TscError TSC_CGROUP naming the path. */
export async function readControl(dir: string, file: string): Promise<string> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch (e) {
    throw new TscError('TSC_CGROUP', `read ${file} in ${dir}: ${errnoOf(e) ?? String(e)}`, {
      cause: e,
    });
  }
}

/** Reads `dir/file`, trimmed, or undefined when it does not exist. */
export async function readControlIfExists(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EOPNOTSUPP') return undefined;
    throw new TscError('TSC_CGROUP', `read ${file} in ${dir}: ${code ?? String(e)}`, { cause: e });
  }
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Parses the pid list of `cgroup.procs` (one decimal per line), sorted ascending. */
export function parsePidList(text: string): number[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
}

/**
 * Splits a cgroup name into its path segments. Throws TSC_CGROUP for absolute, empty or `..`
 * segments, so a name can never leave the hierarchy root.
 */
export function cgroupSegments(name: string): string[] {
  const segs = name.split('/');
  if (name === '' || segs.some((s) => s === '' || s === '.' || s === '..')) {
    throw new TscError('TSC_CGROUP', `create cgroup ${JSON.stringify(name)}: invalid name`, {
      hint: 'use a relative path like tscompose/<container id>',
    });
  }
  return segs;
}

/** Creates one cgroup directory; returns true when it was created, false when it existed. */
export async function mkdirCgroup(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw new TscError('TSC_CGROUP', `create cgroup ${dir}: ${errnoOf(e) ?? String(e)}`, {
      cause: e,
    });
  }
}

/**
 * Removes one cgroup directory. cgroupfs removes a cgroup with rmdir(2) although it lists control
 * files; EBUSY (tasks still exiting) is retried a few times like runc. ENOTEMPTY never comes from
 * cgroupfs: it means a plain directory standing in for one (tests), whose files are unlinked.
 * Returns false when the directory did not exist. Throws TSC_CGROUP.
 */
export async function rmdirCgroup(dir: string, opts: { retries?: number } = {}): Promise<boolean> {
  const retries = opts.retries ?? 10;
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return true;
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT') return false;
      if (code === 'ENOTEMPTY' && (await unlinkPlainFiles(dir))) continue;
      if (code === 'EBUSY' && attempt < retries) {
        await sleep(10 * (attempt + 1));
        continue;
      }
      throw new TscError('TSC_CGROUP', `remove cgroup ${dir}: ${code ?? String(e)}`, { cause: e });
    }
  }
}

/**
 * Removes a cgroup and every cgroup nested in it, children first (a container with its own
 * cgroup namespace may have made some; rmdir of a cgroup with children fails with EBUSY).
 */
export async function rmdirCgroupTree(dir: string): Promise<boolean> {
  // the usual case, a cgroup without children: one rmdir(2), no listing
  try {
    await rmdir(dir);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    // EBUSY (children, or tasks still exiting), ENOTEMPTY (a plain directory): the long way
  }
  for (const sub of await subdirectories(dir)) await rmdirCgroupTree(join(dir, sub));
  return rmdirCgroup(dir);
}

/** The names of the subdirectories (nested cgroups) of `dir`, sorted; none when it does not exist. */
export async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return [];
    throw new TscError('TSC_CGROUP', `list cgroup ${dir}: ${errnoOf(e) ?? String(e)}`, {
      cause: e,
    });
  }
}

/**
 * The processes of a cgroup and of every cgroup nested in it (`cgroup.procs` lists only a
 * cgroup's own), sorted ascending, without duplicates. Empty when the cgroup does not exist.
 */
export async function subtreePids(dir: string): Promise<number[]> {
  const own = await readControlIfExists(dir, 'cgroup.procs');
  const all = new Set(own === undefined ? [] : parsePidList(own));
  for (const sub of await subdirectories(dir)) {
    for (const pid of await subtreePids(join(dir, sub))) all.add(pid);
  }
  return [...all].sort((a, b) => a - b);
}

/** Unlinks the regular files of a directory that has no subdirectories; false if it has any. */
async function unlinkPlainFiles(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.length === 0 || entries.some((e) => e.isDirectory())) return false;
  for (const e of entries) await unlink(join(dir, e.name));
  return true;
}

/**
 * Runs `create` again (up to `attempts` times) when it failed because a directory vanished: a
 * concurrent remove() of a sibling may rmdir a shared empty parent between our mkdir of the
 * parent and of the child (ENOENT), or while we write the parent's control files (ENODEV: the
 * kernel refuses writes to a removed cgroup through a file opened before the rmdir).
 */
export async function retryIfParentVanished<T>(create: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await create();
    } catch (e) {
      const errno = e instanceof TscError ? errnoOf(e.cause) : undefined;
      const vanished = errno === 'ENOENT' || errno === 'ENODEV';
      if (!vanished || i >= attempts) throw e;
    }
  }
}

/**
 * Removes empty ancestor cgroups of a removed one, bottom-up, stopping below `root`. Resolves to
 * false when the parent is still in use (rmdir(2) EBUSY/ENOTEMPTY: a sibling lives), else true.
 */
export async function rmdirEmptyAncestors(
  root: string,
  segments: readonly string[],
): Promise<boolean> {
  for (let n = segments.length - 1; n > 0; n--) {
    const dir = join(root, ...segments.slice(0, n));
    try {
      await rmdir(dir);
    } catch (e) {
      // still in use by a sibling, or gone: either way, stop here
      return n < segments.length - 1 || errnoOf(e) === 'ENOENT';
    }
  }
  return true;
}

/**
 * SIGKILLs the processes `list` reports until it reports none (bounded by `waitMs`): each round
 * runs `killRound(pids)` (which may freeze around the signals), then re-lists with the
 * {@link pollUntil} back-off. A process forked between listing and killing is caught by the next
 * round. Resolves when the list is empty; throws TSC_CGROUP naming `name` and the survivors.
 */
export async function killUntilEmpty(
  name: string,
  list: () => Promise<number[]>,
  killRound: (pids: readonly number[]) => Promise<void>,
  waitMs: number,
): Promise<void> {
  const empty = await pollUntil(async () => {
    const pids = await list();
    if (pids.length === 0) return true;
    await killRound(pids);
    return false;
  }, waitMs);
  if (!empty) {
    throw new TscError(
      'TSC_CGROUP',
      `kill the processes of cgroup ${name}: ${(await list()).join(',')} still running after ${waitMs} ms`,
    );
  }
}

/** Sends a signal, ignoring a process that already exited. Throws TSC_CGROUP otherwise. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if (errnoOf(e) === 'ESRCH') return;
    throw new TscError('TSC_CGROUP', `kill ${pid} with ${signal}: ${errnoOf(e) ?? String(e)}`, {
      cause: e,
    });
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` with a growing interval (5 ms up to 100 ms) until it returns true or `timeoutMs`
 * has passed. Returns the last result.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/** Linux `major(dev)` / `minor(dev)` of a 64-bit dev_t (glibc sysmacros.h encoding). */
export function splitDevT(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

async function resolveRate(d: DeviceRate): Promise<DeviceRate> {
  if (/^\d+:\d+$/.test(d.path)) return d;
  try {
    const st = await stat(d.path, { bigint: true });
    if (!st.isBlockDevice()) {
      throw new TscError('TSC_CGROUP', `resolve block device ${d.path}: not a block device`);
    }
    const { major, minor } = splitDevT(st.rdev);
    return { path: `${major}:${minor}`, rate: d.rate };
  } catch (e) {
    if (e instanceof TscError) throw e;
    throw new TscError('TSC_CGROUP', `resolve block device ${d.path}: ${errnoOf(e) ?? String(e)}`, {
      cause: e,
    });
  }
}

/**
 * Replaces block device paths in the blkio throttle lists with `major:minor` by stat(2), as
 * dockerd does (moby daemon_unix.go getBlkioThrottleDevices). Throws TSC_CGROUP.
 */
export async function resolveDevicePaths(r: Resources): Promise<Resources> {
  const fields = [
    'blkioDeviceReadBps',
    'blkioDeviceWriteBps',
    'blkioDeviceReadIOps',
    'blkioDeviceWriteIOps',
  ] as const;
  let out: Resources = r;
  for (const f of fields) {
    const list = r[f];
    if (list === undefined) continue;
    out = { ...out, [f]: await Promise.all(list.map(resolveRate)) };
  }
  return out;
}
