/**
 * Container archive (API `HEAD|GET|PUT /containers/{id}/archive`): container paths resolved inside a
 * filesystem view (symlinks evaluated as if chrooted, bind/volume mounts mapped), path stat in
 * Docker's `ContainerPathStat` shape, tar out, and tar in that never writes outside the view.
 * Knows nothing about container state or HTTP; the container service builds the view.
 */
import { constants as fsc, createReadStream, promises as fsp, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type * as TarStream from 'tar-stream';

import { EngineError } from '../../base/errors.js';
import type { ContainerPathStat } from '../api/services.js';
import { createDecompress, sniffCompression, tarStream } from '../images/unpack.js';
import { parseGroup, parsePasswd, resolveUserFrom } from '../runtime/user.js';

/** A mount seen from inside the container: `destination` (container path) backed by host `source`. */
export interface ViewMount {
  readonly destination: string;
  /** Absent when the kernel already shows the mount under the view's root (running container). */
  readonly source?: string | undefined;
  readonly readOnly: boolean;
}

/**
 * A container filesystem as the archive endpoints see it. A running container's view is
 * `/proc/<init pid>/root` with no mounts (the kernel crosses them); a stopped one's is its rootfs
 * mounted for the call plus its bind and volume mounts mapped here.
 */
export interface FsView {
  /** Host path of the container's `/`. */
  readonly root: string;
  readonly mounts: readonly ViewMount[];
  /** `HostConfig.ReadonlyRootfs`. */
  readonly readonlyRootfs: boolean;
  /** The container reference as the client gave it (error messages). */
  readonly ref: string;
}

/** Options of {@link extractArchive} (the PUT query). */
export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory and vice versa. */
  readonly noOverwriteDirNonDir: boolean;
  /** Own every entry by the container's `Config.User` (when set) instead of the tar's ids. */
  readonly copyUIDGID: boolean;
  /** `Config.User` of the container. */
  readonly user: string;
}

const MAX_SYMLINKS = 255;

function invalid(name: string, message: string): EngineError {
  return new EngineError('TSC_ENGINE_INVALID', { kind: 'archive', name }, message);
}

function missing(view: FsView, path: string): EngineError {
  return new EngineError(
    'TSC_ENGINE_NOT_FOUND',
    { kind: 'archive', name: path },
    `Could not find the file ${path} in container ${view.ref}`,
  );
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** The host path of a clean absolute container path (the deepest mount covering it wins). */
export function hostPathOf(view: FsView, cpath: string): string {
  let best: ViewMount | undefined;
  for (const m of view.mounts) {
    if (m.source === undefined) continue;
    if (cpath === m.destination || cpath.startsWith(`${m.destination}/`)) {
      if (!best || m.destination.length > best.destination.length) best = m;
    }
  }
  if (best?.source !== undefined)
    return posix.join(best.source, cpath.slice(best.destination.length));
  return posix.join(view.root, cpath);
}

/** The mount a container path lies on, or undefined for the rootfs. */
function mountOf(view: FsView, cpath: string): ViewMount | undefined {
  let best: ViewMount | undefined;
  for (const m of view.mounts) {
    if (cpath === m.destination || cpath.startsWith(`${m.destination}/`)) {
      if (!best || m.destination.length > best.destination.length) best = m;
    }
  }
  return best;
}

/**
 * Resolves a container path as if chrooted into the view: `..` never climbs above `/`, symlinks
 * are evaluated inside the view (absolute targets restart at the container's `/`), missing
 * components are kept literally. The last component is followed only with `followFinal`.
 * Returns the clean container path; {@link hostPathOf} maps it to the host.
 * @throws EngineError TSC_ENGINE_INVALID after 255 symlinks (a loop)
 */
export async function resolveInView(
  view: FsView,
  path: string,
  followFinal: boolean,
): Promise<string> {
  const queue = path.split('/').filter((c) => c !== '' && c !== '.');
  const cur: string[] = [];
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      cur.pop();
      continue;
    }
    cur.push(c);
    if (queue.length === 0 && !followFinal) break;
    const host = hostPathOf(view, `/${cur.join('/')}`);
    let st: Stats;
    try {
      st = await fsp.lstat(host);
    } catch {
      continue;
    }
    if (!st.isSymbolicLink()) continue;
    if (++links > MAX_SYMLINKS)
      throw invalid(path, `resolve ${path}: too many levels of symbolic links`);
    const target = await fsp.readlink(host);
    cur.pop();
    if (target.startsWith('/')) cur.length = 0;
    queue.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
  }
  return `/${cur.join('/')}`;
}

/** Go's `os.FileMode` for a stat mode (moby's stat header carries it). */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & fsc.S_IFMT) {
    case fsc.S_IFDIR:
      m += 2 ** 31;
      break;
    case fsc.S_IFLNK:
      m += 2 ** 27;
      break;
    case fsc.S_IFBLK:
      m += 2 ** 26;
      break;
    case fsc.S_IFCHR:
      m += 2 ** 26 + 2 ** 21;
      break;
    case fsc.S_IFIFO:
      m += 2 ** 25;
      break;
    case fsc.S_IFSOCK:
      m += 2 ** 24;
      break;
    default:
      break;
  }
  if (mode & 0o4000) m += 2 ** 23;
  if (mode & 0o2000) m += 2 ** 22;
  if (mode & 0o1000) m += 2 ** 20;
  return m;
}

/** Go's `time.RFC3339Nano` (UTC) of a nanosecond timestamp. */
export function rfc3339Nano(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${f}Z`;
}

/** `/x/` and `/x/.` follow a final symlink (moby's rule); the kept suffix names the copy `.`. */
function followsFinal(path: string): boolean {
  return path.endsWith('/') || path.endsWith('/.');
}

/** Base name Docker gives a requested path (`.` for `/x/.`, `/` for `/`). */
function requestedBase(path: string): string {
  if (path.endsWith('/.')) return '.';
  const clean = posix.normalize(`/${path}`).replace(/\/+$/, '');
  return clean === '' ? '/' : posix.basename(clean);
}

/**
 * Stats a container path (`HEAD /containers/{id}/archive`): the final symlink is not followed
 * unless the path ends in `/` or `/.`.
 * @throws EngineError TSC_ENGINE_INVALID for an empty path, TSC_ENGINE_NOT_FOUND when missing
 */
export async function statPath(
  view: FsView,
  path: string,
): Promise<{ stat: ContainerPathStat; cpath: string; st: Stats }> {
  if (path === '') throw invalid('path', 'bad parameter: path cannot be empty');
  const cpath = await resolveInView(view, path, followsFinal(path));
  let st: Stats;
  try {
    st = await fsp.lstat(hostPathOf(view, cpath));
  } catch (e) {
    if (errnoOf(e) === 'ENOTDIR') throw invalid(path, `stat ${path}: not a directory`);
    throw missing(view, path);
  }
  if (followsFinal(path) && !st.isDirectory()) throw invalid(path, `stat ${path}: not a directory`);
  const big = await fsp.lstat(hostPathOf(view, cpath), { bigint: true });
  const linkTarget = st.isSymbolicLink() ? await resolveInView(view, cpath, true) : '';
  return {
    cpath,
    st,
    stat: {
      name: requestedBase(path),
      size: st.size,
      mode: goFileMode(st.mode),
      mtime: rfc3339Nano(big.mtimeNs),
      linkTarget,
    },
  };
}

/** Base64 of the stat JSON, for the `X-Docker-Container-Path-Stat` header. */
export function statHeader(stat: ContainerPathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

type PackHeader = Partial<TarStream.Header> & { name: string };

function tarType(st: Stats): TarStream.Header['type'] {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  return 'file';
}

/** Reads exactly `size` bytes of a file (zero padded if it shrank meanwhile). */
async function* fileBytes(host: string, size: number): AsyncGenerator<Buffer> {
  let left = size;
  const stream = createReadStream(host, { end: size > 0 ? size - 1 : 0 });
  if (size > 0) {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      const part = b.length > left ? b.subarray(0, left) : b;
      left -= part.length;
      yield part;
      if (left === 0) break;
    }
  } else stream.destroy();
  while (left > 0) {
    const n = Math.min(left, 65536);
    left -= n;
    yield Buffer.alloc(n);
  }
}

/**
 * Writes the tar of a container path to `out` (`GET /containers/{id}/archive`): entries are
 * named after the requested base name (`passwd`, `dir/`, `dir/a`); symlinks inside are kept as
 * links; hard links inside the copy are kept as links; sockets are skipped (as tar does).
 */
export async function writeArchive(
  view: FsView,
  start: { cpath: string; st: Stats; stat: ContainerPathStat },
  out: Writable,
): Promise<void> {
  const pack = tarStream().pack();
  const done = pipeline(pack as unknown as Readable, out);
  const inodes = new Map<string, string>();
  const entry = (header: PackHeader, body?: AsyncIterable<Buffer>): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const sink = pack.entry(header, (e) => (e ? reject(e) : resolve()));
      if (body) pipeline(Readable.from(body), sink as unknown as Writable).catch(reject);
      else if (header.type === 'file' && (header.size ?? 0) > 0) reject(new TypeError('no body'));
    });
  const walk = async (cpath: string, st: Stats, name: string): Promise<void> => {
    const host = hostPathOf(view, cpath);
    if (st.isSocket()) return;
    const header: PackHeader = {
      name: st.isDirectory() ? `${name}/` : name,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime,
      type: tarType(st),
      size: 0,
    };
    if (st.isSymbolicLink()) header.linkname = await fsp.readlink(host);
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      header.devmajor = Math.floor(st.rdev / 256) & 0xfff;
      header.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        await entry({ ...header, type: 'link', linkname: first, size: 0 });
        return;
      }
      if (st.nlink > 1) inodes.set(key, name);
      await entry({ ...header, size: st.size }, fileBytes(host, st.size));
      return;
    }
    await entry(header);
    if (!st.isDirectory()) return;
    const names = (await fsp.readdir(host)).sort();
    for (const n of names) {
      const child = cpath === '/' ? `/${n}` : `${cpath}/${n}`;
      let cst: Stats;
      try {
        cst = await fsp.lstat(hostPathOf(view, child));
      } catch {
        continue; // removed meanwhile
      }
      await walk(child, cst, name === '.' || name === '/' ? n : `${name}/${n}`);
    }
  };
  try {
    const base = start.stat.name === '/' ? '.' : start.stat.name;
    await walk(start.cpath, start.st, base);
    pack.finalize();
  } catch (e) {
    pack.destroy(e instanceof Error ? e : new TypeError(String(e)));
  }
  await done;
}

/** Peeks the first bytes of a stream and returns a stream that still yields them. */
async function sniffed(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield Buffer.from(n.value);
    }
  }
  return Readable.from(rest()).pipe(createDecompress(sniffCompression(head)));
}

/** True when `p` (clean, absolute) is `dir` or below it. */
function within(dir: string, p: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`);
}

/**
 * Extracts a tar (plain, gzip or zstd) into a directory of the container (`PUT
 * /containers/{id}/archive`), as moby's chrooted untar does: entry names are taken relative to
 * `path` (a leading `/` dropped), missing parent directories are created, every path is resolved
 * inside the view so symlinks (also absolute ones) never lead outside it.
 * @throws EngineError TSC_ENGINE_NOT_FOUND when `path` is missing; TSC_ENGINE_INVALID when it is
 *   not a directory, lies on a read-only rootfs or mount, an entry climbs out of `path` with `..`,
 *   a symlink or hard link entry points outside `path`, or an overwrite is refused
 */
export async function extractArchive(
  view: FsView,
  path: string,
  input: Readable,
  opts: ExtractOptions,
): Promise<void> {
  if (path === '') throw invalid('path', 'bad parameter: path cannot be empty');
  const dest = await resolveInView(view, path, true);
  let destSt: Stats;
  try {
    destSt = await fsp.stat(hostPathOf(view, dest));
  } catch {
    throw missing(view, path);
  }
  if (!destSt.isDirectory()) throw invalid(path, 'extraction point is not a directory');
  const mount = mountOf(view, dest);
  if (mount ? mount.readOnly : view.readonlyRootfs) {
    throw invalid(
      path,
      mount ? 'mounted volume is marked read-only' : 'container rootfs is marked read-only',
    );
  }
  let owner: { uid: number; gid: number } | undefined;
  if (opts.copyUIDGID && opts.user !== '') {
    const read = async (p: string): Promise<string> =>
      fsp.readFile(hostPathOf(view, await resolveInView(view, p, true)), 'utf8').catch(() => '');
    const u = resolveUserFrom(
      opts.user,
      [],
      parsePasswd(await read('/etc/passwd')),
      parseGroup(await read('/etc/group')),
    );
    owner = { uid: u.uid, gid: u.gid };
  }

  const dirTimes: Array<{ host: string; mtime: Date }> = [];
  const extract = tarStream().extract();
  const source = await sniffed(input);
  source.on('error', (e) => extract.destroy(e));
  source.pipe(extract);
  try {
    for await (const e of extract) {
      const entryStream = e as unknown as Readable & { header: TarStream.Header };
      try {
        await extractEntry(view, dest, entryStream.header, entryStream, opts, owner, dirTimes);
      } finally {
        entryStream.resume();
      }
    }
  } catch (e) {
    // drain the rest of the request so the error answer reaches the client
    source.unpipe(extract);
    input.resume();
    throw e;
  }
  for (const d of dirTimes.reverse()) await fsp.utimes(d.host, d.mtime, d.mtime).catch(() => {});
}

async function extractEntry(
  view: FsView,
  dest: string,
  h: TarStream.Header,
  body: Readable,
  opts: ExtractOptions,
  owner: { uid: number; gid: number } | undefined,
  dirTimes: Array<{ host: string; mtime: Date }>,
): Promise<void> {
  const rel = posix.normalize(h.name.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) {
    throw invalid(h.name, `${JSON.stringify(h.name)} is outside of ${JSON.stringify(dest)}`);
  }
  if (rel === '.' || rel === '') return; // the extraction point itself
  const target = posix.join(dest, rel);
  // parents: resolved inside the view (symlinks included), created when missing
  const parent = await resolveInView(view, posix.dirname(target), true);
  const parentHost = hostPathOf(view, parent);
  await fsp.mkdir(parentHost, { recursive: true, mode: 0o755 });
  const cpath = posix.join(parent, posix.basename(target));
  const host = hostPathOf(view, cpath);
  const isDir = h.type === 'directory';
  let existing: Stats | undefined;
  try {
    existing = await fsp.lstat(host);
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir) {
      throw invalid(
        h.name,
        `cannot overwrite directory ${JSON.stringify(cpath)} with non-directory ${JSON.stringify(dest)}`,
      );
    }
    if (opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir) {
      throw invalid(
        h.name,
        `cannot overwrite non-directory ${JSON.stringify(cpath)} with directory ${JSON.stringify(dest)}`,
      );
    }
    if (!(existing.isDirectory() && isDir)) await fsp.rm(host, { recursive: true, force: true });
  }
  const mode = (h.mode ?? (isDir ? 0o755 : 0o644)) & 0o7777;
  const uid = owner?.uid ?? h.uid ?? 0;
  const gid = owner?.gid ?? h.gid ?? 0;
  const mtime = h.mtime ?? new Date();
  switch (h.type) {
    case 'directory':
      if (!existing?.isDirectory()) await fsp.mkdir(host, { mode });
      await fsp.chmod(host, mode);
      await fsp.lchown(host, uid, gid);
      dirTimes.push({ host, mtime });
      return;
    case 'file':
    case 'contiguous-file':
    case null:
    case undefined: {
      const fh = await fsp.open(
        host,
        fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW,
        mode,
      );
      try {
        for await (const chunk of body) await fh.write(chunk as Buffer);
        await fh.chmod(mode);
        await fh.chown(uid, gid);
        await fh.utimes(mtime, mtime);
      } finally {
        await fh.close();
      }
      return;
    }
    case 'symlink': {
      const link = h.linkname ?? '';
      if (!within(dest, posix.join(posix.dirname(target), link))) {
        throw invalid(
          h.name,
          `invalid symlink ${JSON.stringify(target)} -> ${JSON.stringify(link)}`,
        );
      }
      await fsp.symlink(link, host);
      await fsp.lchown(host, uid, gid);
      await fsp.lutimes(host, mtime, mtime).catch(() => {});
      return;
    }
    case 'link': {
      const link = h.linkname ?? '';
      const linkTarget = posix.join(dest, posix.normalize(link.replace(/^\/+/, '')));
      if (!within(dest, linkTarget)) {
        throw invalid(
          h.name,
          `invalid hardlink ${JSON.stringify(linkTarget)} -> ${JSON.stringify(link)}`,
        );
      }
      const from = hostPathOf(view, await resolveInView(view, linkTarget, false));
      await fsp.link(from, host);
      return;
    }
    case 'block-device':
    case 'character-device':
    case 'fifo':
      throw new EngineError(
        'TSC_ENGINE_UNSUPPORTED',
        { kind: 'archive', name: h.name },
        `extract ${h.name}: ${h.type} entries are not supported by the tscompose engine`,
      );
  }
}
