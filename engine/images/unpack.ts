/**
 * Layer application: decompress (gzip, zstd, plain), verify the DiffID, and write a layer's
 * entries into one empty directory in overlayfs form (whiteouts as char 0/0 devices, opaque dirs
 * as `trusted.overlay.opaque=y`). Never writes outside that directory. Knows nothing of registries.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type * as Fzstd from 'fzstd';
import type * as TarStream from 'tar-stream';
import { TscError } from '../../base/errors.js';
import { lazyModule } from '../../base/lazy.js';
import type { HostOps } from './host-ops.js';

/**
 * tar-stream, loaded on first use: an idle daemon never needs it (~6 MB RSS with its deps). Shared
 * by every tar reader and writer of the engine (layers, image archives, container archives).
 */
export const tarStream = lazyModule<typeof TarStream>('tar-stream');

/** fzstd, loaded on first use: only zstd layers need it. */
const fzstd = lazyModule<typeof Fzstd>('fzstd');

/** Whiteout file prefix (image-spec `layer.md#whiteouts`). */
export const WHITEOUT_PREFIX = '.wh.';
/** Opaque-directory marker name. */
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** The xattr overlayfs reads to make a directory opaque (`Documentation/filesystems/overlayfs`). */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Options of {@link applyLayer}. */
export interface ApplyOptions {
  /** mknod/setxattr provider. */
  readonly hostOps: HostOps;
  /** Create device nodes from the layer (root outside a user namespace); skipped otherwise. */
  readonly allowDevices?: boolean | undefined;
  /** Apply tar uid/gid with lchown (default: when running as root). */
  readonly chown?: boolean | undefined;
}

/** What an applied layer contained. */
export interface ApplyResult {
  /** Entries written (files, dirs, links, devices, whiteouts). */
  readonly entries: number;
  /** Bytes of regular file content written. */
  readonly bytes: number;
  /** Entries skipped, with the reason (`dev/sda: device nodes not allowed`). */
  readonly skipped: readonly string[];
  /** Directories made opaque (relative to the root, '' for the root itself), sorted. */
  readonly opaqueDirs: readonly string[];
}

function unpackError(detail: string, cause?: unknown): TscError {
  return new TscError(
    'TSC_IMAGE_UNPACK',
    `unpack layer: ${detail}`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Cleans a tar entry name into path components relative to the root: leading `/` and `./` are
 * dropped (absolute names are neutralised to the root); `..` that would climb above the root is
 * rejected.
 * @throws TscError TSC_IMAGE_UNPACK for names escaping the root or empty names
 */
export function cleanEntryPath(name: string): string[] {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw unpackError(`entry ${JSON.stringify(name)} escapes the root`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

/**
 * Resolves components inside `root` as if `root` were `/` (chroot semantics): symlinks met on the
 * way are followed, absolute targets restart at `root`, `..` stops at `root`
 * (containerd `fs.RootPath`). Missing components are kept as they are.
 * @throws TscError TSC_IMAGE_UNPACK after 255 symlinks (a loop)
 */
export async function resolveInRoot(root: string, parts: readonly string[]): Promise<string> {
  const pending = [...parts];
  let resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = (await fsp.lstat(candidate)).isSymbolicLink();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > 255) throw unpackError(`resolve ${parts.join('/')}: too many symlinks`);
    const target = await fsp.readlink(candidate);
    if (target.startsWith('/')) resolved = [];
    pending.unshift(...target.split('/'));
  }
  return path.join(root, ...resolved);
}

async function removeExisting(p: string): Promise<void> {
  await fsp.rm(p, { recursive: true, force: true });
}

/** Makes every missing directory of `dir` (already resolved inside root) with mode 0755. */
async function ensureDir(root: string, dir: string): Promise<void> {
  const rel = path.relative(root, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw unpackError(`${dir} escapes the root`);
  let cur = root;
  for (const part of rel.split('/').filter((p) => p !== '')) {
    cur = path.join(cur, part);
    try {
      const st = await fsp.lstat(cur);
      if (!st.isDirectory()) throw unpackError(`${path.relative(root, cur)} is not a directory`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await fsp.mkdir(cur, 0o755);
    }
  }
}

function paxXattrs(header: TarStream.Header): Array<[string, Buffer]> {
  const pax = (header as { pax?: Record<string, string> }).pax ?? {};
  return Object.keys(pax)
    .filter((k) => k.startsWith('SCHILY.xattr.'))
    .sort()
    .map((k) => [k.slice('SCHILY.xattr.'.length), Buffer.from(pax[k] ?? '', 'latin1')]);
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // content of an entry that is not written (device, skipped entry)
  }
}

/**
 * Applies one uncompressed layer tar to an (empty) directory in overlayfs form.
 * Safety: names are cleaned ({@link cleanEntryPath}); parents resolved inside `root`
 * ({@link resolveInRoot}); hardlinks must name an already-extracted non-directory inside `root`;
 * files are opened with `O_NOFOLLOW|O_EXCL` after removing what was there; device nodes only with
 * `allowDevices`.
 * @throws TscError TSC_IMAGE_UNPACK for a malformed or hostile entry
 */
export async function applyLayer(
  tar: Readable,
  root: string,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const chown = options.chown ?? process.getuid?.() === 0;
  const allowDevices = options.allowDevices ?? process.getuid?.() === 0;
  const skipped: string[] = [];
  const dirTimes: Array<[string, Date]> = [];
  const opaqueDirs: string[] = [];
  let entries = 0;
  let bytes = 0;
  await fsp.mkdir(root, { recursive: true });

  const handle = async (header: TarStream.Header, body: AsyncIterable<Buffer>): Promise<void> => {
    const parts = cleanEntryPath(header.name);
    if (parts.length === 0) {
      await drain(body);
      if (header.type === 'directory') {
        await fsp.chmod(root, (header.mode ?? 0o755) & 0o7777);
        if (chown) await fsp.lchown(root, header.uid ?? 0, header.gid ?? 0);
      }
      return;
    }
    const base = parts[parts.length - 1]!;
    const parent = await resolveInRoot(root, parts.slice(0, -1));
    await ensureDir(root, parent);
    const target = path.join(parent, base);
    const mode = (header.mode ?? 0o644) & 0o7777;
    const mtime = header.mtime ?? new Date(0);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      await drain(body);
      if (base === WHITEOUT_OPAQUE) {
        await options.hostOps.setxattr(parent, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
        opaqueDirs.push(path.relative(root, parent));
      } else if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
        skipped.push(`${parts.join('/')}: aufs metadata`);
        return;
      } else {
        const name = base.slice(WHITEOUT_PREFIX.length);
        if (name === '' || name === '.' || name === '..') {
          throw unpackError(`invalid whiteout ${JSON.stringify(header.name)}`);
        }
        const hidden = path.join(parent, name);
        await removeExisting(hidden);
        await options.hostOps.mknod(hidden, 'c', 0, 0);
        if (chown) await fsp.lchown(hidden, header.uid ?? 0, header.gid ?? 0);
      }
      entries++;
      return;
    }

    switch (header.type) {
      case 'directory': {
        await drain(body);
        const isDir = await fsp.lstat(target).then(
          (st) => st.isDirectory(),
          () => false,
        );
        if (!isDir) {
          await removeExisting(target);
          await fsp.mkdir(target, mode);
        }
        await fsp.chmod(target, mode);
        if (chown) await fsp.lchown(target, header.uid ?? 0, header.gid ?? 0);
        dirTimes.push([target, mtime]);
        break;
      }
      case 'file':
      case 'contiguous-file': {
        await removeExisting(target);
        const fh = await fsp.open(
          target,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        );
        try {
          for await (const chunk of body) {
            await fh.write(chunk);
            bytes += chunk.length;
          }
          if (chown) await fh.chown(header.uid ?? 0, header.gid ?? 0);
          await fh.chmod(mode);
          await fh.utimes(mtime, mtime);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'symlink': {
        await drain(body);
        await removeExisting(target);
        await fsp.symlink(header.linkname ?? '', target);
        if (chown) await fsp.lchown(target, header.uid ?? 0, header.gid ?? 0);
        await fsp.lutimes(target, mtime, mtime);
        break;
      }
      case 'link': {
        await drain(body);
        const linkParts = cleanEntryPath(header.linkname ?? '');
        if (linkParts.length === 0) throw unpackError(`hardlink ${header.name} to the root`);
        const linkParent = await resolveInRoot(root, linkParts.slice(0, -1));
        const source = path.join(linkParent, linkParts[linkParts.length - 1]!);
        const rel = path.relative(root, source);
        if (rel.startsWith('..') || path.isAbsolute(rel)) {
          throw unpackError(`hardlink ${header.name} escapes the root`);
        }
        let st;
        try {
          st = await fsp.lstat(source);
        } catch (e) {
          throw unpackError(
            `hardlink ${header.name} to ${header.linkname ?? ''}: target not in this layer`,
            e,
          );
        }
        if (st.isDirectory()) throw unpackError(`hardlink ${header.name} to a directory`);
        await removeExisting(target);
        await fsp.link(source, target);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await drain(body);
        if (header.type !== 'fifo' && !allowDevices) {
          skipped.push(`${parts.join('/')}: device nodes not allowed`);
          return;
        }
        await removeExisting(target);
        const kind = header.type === 'fifo' ? 'p' : header.type === 'block-device' ? 'b' : 'c';
        await options.hostOps.mknod(target, kind, header.devmajor ?? 0, header.devminor ?? 0);
        if (chown) await fsp.lchown(target, header.uid ?? 0, header.gid ?? 0);
        await fsp.chmod(target, mode);
        break;
      }
      default: {
        await drain(body);
        skipped.push(`${parts.join('/')}: unsupported entry type ${String(header.type)}`);
        return;
      }
    }
    for (const [name, value] of paxXattrs(header)) {
      try {
        await options.hostOps.setxattr(target, name, value);
      } catch (e) {
        skipped.push(`${parts.join('/')}: xattr ${name}: ${(e as Error).message}`);
      }
    }
    entries++;
  };

  const extract = tarStream().extract();
  extract.on('entry', (header, body, next) => {
    handle(header, body as unknown as AsyncIterable<Buffer>).then(
      () => next(),
      (e: unknown) => {
        body.resume();
        next(e instanceof Error ? e : unpackError(String(e)));
      },
    );
  });
  try {
    await pipeline(tar, extract);
  } catch (e) {
    if (e instanceof TscError) throw e;
    throw unpackError('read tar', e);
  }
  for (const [dir, time] of dirTimes.reverse()) await fsp.utimes(dir, time, time);
  return { entries, bytes, skipped, opaqueDirs: opaqueDirs.sort() };
}

/** A pass-through that hashes (sha256) and counts what flows. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  /** Bytes seen. */
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  private result: string | undefined;

  /** `sha256:<hex>` of everything seen; call after the stream ended (repeatable). */
  digest(): string {
    this.result ??= `sha256:${this.hash.digest('hex')}`;
    return this.result;
  }
}

/** A zstd decompressing Transform over fzstd's streaming decoder. */
export function createZstdDecompress(): Transform {
  let decoder: Fzstd.Decompress | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        decoder ??= new (fzstd().Decompress)((data) => this.push(Buffer.from(data)));
        decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        cb();
      } catch (e) {
        cb(unpackError('zstd decompress', e));
      }
    },
    flush(cb) {
      try {
        decoder?.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(unpackError('zstd decompress', e));
      }
    },
  });
}

/** Compression detected from the first bytes (gzip `1f 8b`, zstd `28 b5 2f fd`). */
export function sniffCompression(head: Uint8Array): 'gzip' | 'zstd' | 'none' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** A decompressing Transform for a compression kind (or a pass-through for `none`). */
export function createDecompress(kind: 'gzip' | 'zstd' | 'none'): Transform {
  if (kind === 'gzip') return createGunzip();
  if (kind === 'zstd') return createZstdDecompress();
  return new Transform({ transform: (c: Buffer, _e, cb) => cb(null, c) });
}

/** Options of {@link unpackLayerFile}. */
export interface UnpackLayerOptions extends ApplyOptions {
  /** The expected DiffID (digest of the uncompressed tar), from the image config. */
  readonly diffId: string;
}

/**
 * Unpacks a stored layer blob (compression sniffed from its magic bytes) into `root` and checks
 * the uncompressed digest against the DiffID.
 * @throws TscError TSC_IMAGE_DIGEST when the DiffID differs, TSC_IMAGE_UNPACK on bad content
 */
export async function unpackLayerFile(
  blobPath: string,
  root: string,
  options: UnpackLayerOptions,
): Promise<ApplyResult & { diffId: string; size: number }> {
  const fh = await fsp.open(blobPath, 'r');
  const head = Buffer.alloc(4);
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const hasher = new HashingStream();
  const file = createReadStream(blobPath, { highWaterMark: 1 << 20 });
  const decompress = createDecompress(sniffCompression(head));
  file.on('error', (e) => hasher.destroy(e));
  decompress.on('error', (e) => hasher.destroy(unpackError('decompress', e)));
  const result = await applyLayer(file.pipe(decompress).pipe(hasher), root, options);
  // tar-stream stops at the end-of-archive marker; hash any trailing padding too
  await drain(hasher);
  const diffId = hasher.digest();
  if (diffId !== options.diffId) {
    throw new TscError(
      'TSC_IMAGE_DIGEST',
      `unpack layer ${path.basename(blobPath)}: uncompressed digest ${diffId} does not match diff_id ${options.diffId}`,
    );
  }
  return { ...result, diffId, size: hasher.size };
}
