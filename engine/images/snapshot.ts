/**
 * Snapshots: unpacked layers keyed by ChainID (shared between images) and per-container root
 * filesystems described as `Mount[]` data (overlay, or a copied tree where overlay is missing).
 * Never mounts anything itself; the runtime performs the mounts it is given.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { TscError } from '../../base/errors.js';
import { BackgroundDeletions } from '../state/store.js';
import { atomicWriteJson, DEFAULT_STATE_ROOT, readJsonIfExists } from './content-store.js';
import type { HostOps } from './host-ops.js';
import { digestHex } from './oci.js';

/** A mount as data (containerd `mount.Mount`): what the runtime passes to mount(2). */
export interface Mount {
  /** Filesystem type: `overlay`, or `bind` for the copying fallback and single layers. */
  readonly type: 'overlay' | 'bind';
  /** Source (`overlay`, or a directory for binds). */
  readonly source: string;
  /** mount(8)-style options; overlay data is the comma-joined non-flag options. */
  readonly options: readonly string[];
  /**
   * Directory to chdir to before mounting, when lowerdirs are relative to it (long layer lists;
   * moby overlay2 does the same so the data fits in one page).
   */
  readonly cwd?: string | undefined;
}

/** Largest overlay mount data, bytes (one page minus the NUL). */
export const MAX_MOUNT_DATA = 4095;
/** Most lower layers overlayfs stacks (kernel `OVL_MAX_STACK`). */
export const OVL_MAX_STACK = 500;

/** How container root filesystems are built. */
export type SnapshotDriver = 'overlay' | 'copy';

/** True when the running kernel offers overlayfs (`/proc/filesystems`). */
export function hasOverlay(): boolean {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

/** Options of {@link SnapshotStore}. */
export interface SnapshotStoreOptions {
  /** State root (default {@link DEFAULT_STATE_ROOT}); snapshots live in `<root>/snapshots`. */
  readonly root?: string | undefined;
  /** mknod/setxattr provider (used by the copying fallback for devices). */
  readonly hostOps: HostOps;
  /** `overlay` or `copy`; default overlay when the kernel has it. */
  readonly driver?: SnapshotDriver | undefined;
}

/** Sidecar record of a layer snapshot (`<layer>/meta.json`). */
interface LayerMeta {
  /** The snapshot's ChainID. */
  readonly chainId: string;
  /** Short link name under `snapshots/l/`. */
  readonly link: string;
  /** Opaque directories of this layer, relative to its `fs`, for the copying fallback. */
  readonly opaqueDirs: readonly string[];
}

/** Files and dirs the init layer provides (`moby:daemon/initlayer/setup_unix.go#Setup`). */
const INIT_DIRS = ['dev', 'dev/pts', 'dev/shm', 'etc', 'proc', 'sys'];
const INIT_FILES = ['.dockerenv', 'etc/resolv.conf', 'etc/hosts', 'etc/hostname', 'dev/console'];

/**
 * Layer snapshots under `<root>/snapshots/layers/<chain hex>/{fs,meta.json}` with short links
 * `<root>/snapshots/l/<26 chars>` -> `../layers/<hex>/fs`; container snapshots under
 * `<root>/snapshots/active/<container id>/{fs,work}` over one shared init layer `<root>/snapshots/init-v1`.
 */
export class SnapshotStore {
  /** `<root>/snapshots`. */
  readonly dir: string;
  /** The driver in use. */
  readonly driver: SnapshotDriver;
  private readonly hostOps: HostOps;
  private readonly inflight = new Map<string, Promise<void>>();
  /** Background deletions of removed container snapshots (see {@link remove}). */
  private readonly deletions = new BackgroundDeletions();
  /** True once `trash/` has been swept of leftovers from an earlier run. */
  private trashSwept = false;
  /** The shared init layer once it is known to exist (see {@link sharedInit}). */
  private initReady: Promise<string> | undefined;
  /** Whether the kernel's overlay has the `index` parameter (checked once). */
  private overlayIndexParam: boolean | undefined;

  constructor(options: SnapshotStoreOptions) {
    this.dir = path.join(options.root ?? DEFAULT_STATE_ROOT, 'snapshots');
    this.hostOps = options.hostOps;
    this.driver = options.driver ?? (hasOverlay() ? 'overlay' : 'copy');
  }

  /** Directory of a layer snapshot. */
  layerDir(chainId: string): string {
    return path.join(this.dir, 'layers', digestHex(chainId));
  }

  /** Contents (`fs`) directory of a layer snapshot. */
  layerFs(chainId: string): string {
    return path.join(this.layerDir(chainId), 'fs');
  }

  /** True when the layer snapshot exists (complete: it is renamed into place when done). */
  async hasLayer(chainId: string): Promise<boolean> {
    return fsp.access(this.layerFs(chainId)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Creates the layer snapshot for `chainId` unless present: `apply` fills a fresh directory,
   * which is renamed into place only when it succeeded. Concurrent calls for one ChainID share
   * one unpack.
   * @returns opaque directories reported by `apply` are recorded for the copying fallback
   */
  async ensureLayer(
    chainId: string,
    apply: (dir: string) => Promise<{ readonly opaqueDirs?: readonly string[] }>,
  ): Promise<void> {
    const running = this.inflight.get(chainId);
    if (running) return running;
    const job = this.createLayer(chainId, apply).finally(() => this.inflight.delete(chainId));
    this.inflight.set(chainId, job);
    return job;
  }

  private async createLayer(
    chainId: string,
    apply: (dir: string) => Promise<{ readonly opaqueDirs?: readonly string[] }>,
  ): Promise<void> {
    if (await this.hasLayer(chainId)) return;
    const tmp = path.join(
      this.dir,
      'tmp',
      `${digestHex(chainId)}-${randomBytes(4).toString('hex')}`,
    );
    await fsp.mkdir(path.join(tmp, 'fs'), { recursive: true, mode: 0o755 });
    try {
      const result = await apply(path.join(tmp, 'fs'));
      const link = shortLinkName(chainId);
      const meta: LayerMeta = { chainId, link, opaqueDirs: [...(result.opaqueDirs ?? [])].sort() };
      await atomicWriteJson(path.join(tmp, 'meta.json'), meta);
      await fsp.mkdir(path.join(this.dir, 'layers'), { recursive: true });
      await fsp.rename(tmp, this.layerDir(chainId));
      await fsp.mkdir(path.join(this.dir, 'l'), { recursive: true });
      const linkPath = path.join(this.dir, 'l', link);
      await fsp.rm(linkPath, { force: true });
      await fsp.symlink(path.join('..', 'layers', digestHex(chainId), 'fs'), linkPath);
    } catch (e) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Removes a layer snapshot and its short link (no error when missing). */
  async removeLayer(chainId: string): Promise<void> {
    await fsp.rm(path.join(this.dir, 'l', shortLinkName(chainId)), { force: true });
    await fsp.rm(this.layerDir(chainId), { recursive: true, force: true });
  }

  /** ChainIDs of every layer snapshot, sorted. */
  async listLayers(): Promise<string[]> {
    const names = await fsp.readdir(path.join(this.dir, 'layers')).catch(() => [] as string[]);
    return names
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .sort()
      .map((n) => `sha256:${n}`);
  }

  /** Directory of a container snapshot. */
  containerDir(containerId: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) {
      throw new TscError(
        'TSC_ENGINE_STATE',
        `prepare snapshot ${containerId}: invalid container id`,
      );
    }
    return path.join(this.dir, 'active', containerId);
  }

  /** Ids of every container snapshot (`active/`), sorted; none when there is no `active/`. */
  async containerIds(): Promise<string[]> {
    const names = await fsp.readdir(path.join(this.dir, 'active')).catch(() => [] as string[]);
    return names.filter((n) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n)).sort();
  }

  /**
   * Prepares a container's root filesystem over the image layers (bottom to top `chainIds`) and
   * returns how to mount it: overlay with lowerdirs top first (the init layer, then the image
   * layers), its own upper and work dirs; `index=off` where the kernel has the parameter; long
   * layer lists use short links and, if still too long, paths relative to `cwd`. With the copy
   * driver (or more than {@link OVL_MAX_STACK} layers) the layers are merged into one directory
   * and bound.
   * @throws TscError TSC_IMAGE_NOT_FOUND when a layer snapshot is missing
   */
  async prepare(containerId: string, chainIds: readonly string[]): Promise<Mount[]> {
    const cdir = this.containerDir(containerId);
    for (const c of chainIds) {
      if (!(await this.hasLayer(c))) {
        throw new TscError(
          'TSC_IMAGE_NOT_FOUND',
          `prepare snapshot ${containerId}: layer ${c} is not unpacked`,
        );
      }
    }
    await fsp.rm(cdir, { recursive: true, force: true });
    await fsp.mkdir(cdir, { recursive: true, mode: 0o700 });
    const init = await this.sharedInit();
    if (this.driver === 'copy' || chainIds.length + 1 > OVL_MAX_STACK) {
      const fsDir = path.join(cdir, 'fs');
      await fsp.mkdir(fsDir, { mode: 0o755 });
      for (const c of chainIds) {
        const meta = await readJsonIfExists<LayerMeta>(path.join(this.layerDir(c), 'meta.json'));
        await mergeLayer(this.layerFs(c), fsDir, new Set(meta?.opaqueDirs ?? []), this.hostOps);
      }
      await mergeLayer(init, fsDir, new Set(), this.hostOps);
      return [{ type: 'bind', source: fsDir, options: ['rbind', 'rw'] }];
    }
    await fsp.mkdir(path.join(cdir, 'fs'), { mode: 0o755 });
    await fsp.mkdir(path.join(cdir, 'work'), { mode: 0o700 });
    // the short link name is a pure function of the ChainID (meta.json records the same)
    const topFirst = chainIds.map((c) => shortLinkName(c)).reverse();
    this.overlayIndexParam ??= existsSync('/sys/module/overlay/parameters/index');
    const base = this.overlayIndexParam ? ['index=off'] : [];
    const upper = [`upperdir=${path.join(cdir, 'fs')}`, `workdir=${path.join(cdir, 'work')}`];
    const absolute = [init, ...topFirst.map((l) => path.join(this.dir, 'l', l))];
    const absOptions = [...base, `lowerdir=${absolute.join(':')}`, ...upper];
    if (absOptions.join(',').length <= MAX_MOUNT_DATA) {
      return [{ type: 'overlay', source: 'overlay', options: absOptions }];
    }
    const relative = [path.relative(this.dir, init), ...topFirst.map((l) => `l/${l}`)];
    const relOptions = [...base, `lowerdir=${relative.join(':')}`, ...upper];
    if (relOptions.join(',').length > MAX_MOUNT_DATA) {
      throw new TscError(
        'TSC_HOST_UNSUPPORTED',
        `prepare snapshot ${containerId}: ${chainIds.length} layers do not fit in overlay mount data`,
        { hint: 'use the copy snapshot driver for images with this many layers' },
      );
    }
    return [{ type: 'overlay', source: 'overlay', options: relOptions, cwd: this.dir }];
  }

  /**
   * The init layer every container snapshot shares as its top lower layer,
   * `<root>/snapshots/init-v1` (docker makes one `<id>-init` per container; ours holds only empty
   * mount targets, identical for all, and a lower layer is never written). Made once, in a temp
   * dir renamed into place, so a crash never leaves a partial one; checked once per process.
   */
  private sharedInit(): Promise<string> {
    this.initReady ??= (async () => {
      const dir = path.join(this.dir, 'init-v1');
      if (existsSync(dir)) return dir;
      const tmp = path.join(this.dir, 'tmp', `init-${randomBytes(4).toString('hex')}`);
      await fsp.mkdir(path.dirname(tmp), { recursive: true });
      try {
        await createInitLayer(tmp);
        await fsp.rename(tmp, dir);
      } catch (e) {
        await fsp.rm(tmp, { recursive: true, force: true });
        // another process (a test store on the same root) may have made it meanwhile
        if (!existsSync(dir)) throw e;
      }
      return dir;
    })().catch((e: unknown) => {
      this.initReady = undefined;
      throw e;
    });
    return this.initReady;
  }

  /**
   * Removes a container snapshot (its upper and work dirs). Unmount first. The directory is
   * renamed into `<root>/snapshots/trash/` at once (rename(2) is atomic: the snapshot is gone
   * from `active/` when this resolves) and deleted in the background; trash left by a crash is
   * deleted by {@link sweepTrash} (the engine calls it at start). {@link settled} waits for the
   * background deletions.
   */
  async remove(containerId: string): Promise<void> {
    const dir = this.containerDir(containerId);
    const trash = path.join(this.dir, 'trash');
    const to = path.join(trash, `${containerId}-${randomBytes(4).toString('hex')}`);
    await fsp.mkdir(trash, { recursive: true, mode: 0o700 });
    try {
      await fsp.rename(dir, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      // not renameable (e.g. a mount point left behind): delete in place as before
      await fsp.rm(dir, { recursive: true, force: true });
      return;
    }
    if (this.trashSwept) this.deletions.start(to);
    else await this.sweepTrash();
  }

  /**
   * Starts the background deletion of everything in `<root>/snapshots/trash/` (snapshots a crash
   * left there between their rename and their deletion). Resolves once the deletions are started;
   * {@link settled} waits for them. Never throws: a missing trash dir is nothing to do.
   */
  async sweepTrash(): Promise<void> {
    this.trashSwept = true;
    const trash = path.join(this.dir, 'trash');
    const names = await fsp.readdir(trash).catch(() => [] as string[]);
    for (const n of names) this.deletions.start(path.join(trash, n));
  }

  /** Resolves when every background deletion started by {@link remove} has finished. */
  settled(): Promise<void> {
    return this.deletions.settled();
  }
}

/** The 26-character short link name of a layer (base32 of its ChainID, like moby's `l/`). */
export function shortLinkName(chainId: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = Buffer.from(digestHex(chainId), 'hex');
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** Populates an init layer (docker's `<id>-init`): mount targets that must exist in any image. */
export async function createInitLayer(dir: string): Promise<void> {
  // independent entries: made concurrently (recursive mkdir tolerates a parent made meanwhile)
  await Promise.all(
    INIT_DIRS.map((d) => fsp.mkdir(path.join(dir, d), { recursive: true, mode: 0o755 })),
  );
  await Promise.all([
    ...INIT_FILES.map((f) => fsp.writeFile(path.join(dir, f), '', { mode: 0o755 })),
    fsp.symlink('/proc/mounts', path.join(dir, 'etc', 'mtab')),
  ]);
}

/**
 * Copies an overlay-form layer onto a merged tree: char 0/0 devices delete, opaque dirs are
 * emptied before their own children are copied, directories merge, anything else replaces.
 */
async function mergeLayer(
  src: string,
  dst: string,
  opaque: ReadonlySet<string>,
  hostOps: HostOps,
  rel = '',
): Promise<void> {
  const names = (await fsp.readdir(path.join(src, rel))).sort();
  for (const name of names) {
    const r = path.join(rel, name);
    const from = path.join(src, r);
    const to = path.join(dst, r);
    const st = await fsp.lstat(from);
    if (st.isCharacterDevice() && st.rdev === 0) {
      await fsp.rm(to, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      const existing = await fsp.lstat(to).catch(() => undefined);
      if (existing && !existing.isDirectory()) await fsp.rm(to, { recursive: true, force: true });
      if (!existing || !existing.isDirectory()) await fsp.mkdir(to, st.mode & 0o7777);
      else if (opaque.has(r)) {
        for (const child of await fsp.readdir(to)) {
          await fsp.rm(path.join(to, child), { recursive: true, force: true });
        }
      }
      await mergeLayer(src, dst, opaque, hostOps, r);
      await copyMeta(to, st);
      continue;
    }
    await fsp.rm(to, { recursive: true, force: true });
    if (st.isSymbolicLink()) {
      await fsp.symlink(await fsp.readlink(from), to);
    } else if (st.isFile()) {
      await fsp.copyFile(from, to);
    } else if (st.isFIFO()) {
      await hostOps.mknod(to, 'p', 0, 0);
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const major = Math.floor(st.rdev / 256) & 0xfff;
      const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      await hostOps.mknod(to, st.isCharacterDevice() ? 'c' : 'b', major, minor);
    } else {
      continue;
    }
    await copyMeta(to, st);
  }
}

async function copyMeta(to: string, st: Stats): Promise<void> {
  if (process.getuid?.() === 0) await fsp.lchown(to, st.uid, st.gid);
  if (!st.isSymbolicLink()) await fsp.chmod(to, st.mode & 0o7777);
  await fsp.lutimes(to, st.atime, st.mtime);
}
