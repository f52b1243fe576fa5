/**
 * Copy-up: a new, empty volume mounted at a path where the image has content gets a copy of that
 * content first (Docker's behaviour, moby `daemon/volumes_unix.go#CopyImagePathContent`; skipped
 * with `nocopy`). Pure filesystem work on host paths; never follows a link out of the image root.
 */
import { promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';

import { EngineError } from '../../base/errors.js';

/** Symlink hops before giving up (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * Resolves `path` (absolute, container view) inside `root` the way the kernel would after a chroot:
 * symlinks (absolute or relative) are followed but `..` and absolute targets never leave `root`.
 * Returns the host path; the last component need not exist. Throws TSC_ENGINE_INVALID on a link loop.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const pending = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? '';
    if (part === '.' || part === '') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let target: string | undefined;
    try {
      const st = await fsp.lstat(host);
      if (st.isSymbolicLink()) target = await fsp.readlink(host);
    } catch {
      target = undefined;
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > MAX_LINKS) {
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'path', name: path },
        `resolve ${path} in ${root}: too many levels of symbolic links`,
      );
    }
    const parts = target.split('/').filter(Boolean);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...parts);
  }
  return join(root, ...done);
}

/** True when `dir` has no entries (a missing directory counts as empty). */
async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await fsp.readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Copies `src` into `dst` recursively, keeping modes, owners (lchown), times and symlinks as links.
 * Sockets, fifos and device nodes are skipped (images rarely hold them at volume paths).
 */
async function copyTree(src: string, dst: string): Promise<void> {
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    const from = join(src, e.name);
    const to = join(dst, e.name);
    const st = await fsp.lstat(from);
    if (st.isDirectory()) {
      await fsp.mkdir(to, { mode: st.mode & 0o7777 });
      await copyTree(from, to);
      await fsp.chmod(to, st.mode & 0o7777);
    } else if (st.isFile()) {
      await fsp.copyFile(from, to);
      await fsp.chmod(to, st.mode & 0o7777);
    } else if (st.isSymbolicLink()) {
      await fsp.symlink(await fsp.readlink(from), to);
    } else {
      continue;
    }
    await fsp.lchown(to, st.uid, st.gid);
    await fsp.lutimes(to, st.atime, st.mtime);
  }
}

/**
 * Fills the empty volume directory `volumeData` with the content at `containerPath` in the image
 * rootfs `imageRootfs`, and gives the volume root that directory's mode and owner. Does nothing when
 * the volume already has content, or the image has nothing (or a non-directory) there. Returns true
 * when it copied.
 */
export async function copyUp(
  imageRootfs: string,
  containerPath: string,
  volumeData: string,
): Promise<boolean> {
  if (!(await isEmptyDir(volumeData))) return false;
  const src = await resolveInRoot(imageRootfs, containerPath);
  let st;
  try {
    st = await fsp.stat(src);
  } catch {
    return false;
  }
  if (!st.isDirectory()) return false;
  await fsp.mkdir(volumeData, { recursive: true });
  await copyTree(src, volumeData);
  await fsp.chown(volumeData, st.uid, st.gid);
  await fsp.chmod(volumeData, st.mode & 0o7777);
  return true;
}
