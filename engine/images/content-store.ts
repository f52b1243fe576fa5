/**
 * The content-addressed blob store (`<root>/blobs/sha256/<hex>`) and image records
 * (`<root>/images/`). Every write is verified against its digest and lands by atomic rename.
 * Knows nothing of registries, layers' contents or snapshots.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { TscError } from '../../base/errors.js';
import { digestHex, isDigest } from './oci.js';

/** The engine state root (architecture.md "State and naming"). */
export const DEFAULT_STATE_ROOT = '/var/lib/tscompose';

/** Bytes buffered before one write(2) of a blob being ingested. */
const WRITE_BATCH = 1 << 20;

/**
 * Writes JSON to `file` atomically: a temp file in the same directory, fsync, rename.
 * @throws the underlying fs error (the temp file is removed)
 */
export async function atomicWriteJson(file: string, value: unknown): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    const fh = await fsp.open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Reads and parses a JSON file, or returns undefined when it does not exist. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** What a blob must be: its digest and, when known, its size in bytes. */
export interface BlobExpectation {
  readonly digest: string;
  /** Size in bytes from the descriptor; checked when given. */
  readonly size?: number | undefined;
}

/**
 * An in-progress write of one blob (a partial file under `<root>/ingest/`). Bytes appended are
 * hashed as they pass; `commit()` verifies and renames into place. A resumable download keeps
 * appending after an interruption; `reset()` starts over.
 */
export class BlobWriter {
  private hash: Hash = createHash('sha256');
  private fh: fsp.FileHandle | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes accepted so far (hashed; written to the file at the latest on commit). */
  written = 0;

  constructor(
    /** Path of the partial file. */
    readonly tempPath: string,
    private readonly expected: BlobExpectation,
    private readonly finalPath: string,
    private readonly maxSize: number | undefined,
  ) {}

  /** Opens (truncating) the partial file. */
  async open(): Promise<void> {
    this.fh = await fsp.open(this.tempPath, 'w', 0o644);
  }

  /**
   * Appends bytes.
   * @throws TscError TSC_IMAGE_DIGEST when the blob grows past its expected or maximum size
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (!this.fh) await this.open();
    const limit = this.expected.size ?? this.maxSize;
    if (limit !== undefined && this.written + chunk.length > limit) {
      await this.abort();
      throw new TscError(
        'TSC_IMAGE_DIGEST',
        `write blob ${this.expected.digest}: larger than ${limit} bytes`,
      );
    }
    this.hash.update(chunk);
    this.written += chunk.length;
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_BATCH) await this.flush();
  }

  /** Writes buffered chunks (one write per ~1 MiB instead of one per network chunk). */
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh!.write(data);
  }

  /** Drops what was written and starts again from byte 0. */
  async reset(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
    this.hash = createHash('sha256');
    this.written = 0;
    this.pending = [];
    this.pendingBytes = 0;
    await this.open();
  }

  /**
   * Verifies size and digest, then renames into the store. On mismatch the partial file is
   * deleted and nothing is stored.
   * @throws TscError TSC_IMAGE_DIGEST on a size or digest mismatch
   */
  async commit(): Promise<void> {
    if (!this.fh) await this.open();
    await this.flush();
    await this.fh!.sync();
    await this.fh!.close();
    this.fh = undefined;
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (this.expected.size !== undefined && this.written !== this.expected.size) {
      await fsp.rm(this.tempPath, { force: true });
      throw new TscError(
        'TSC_IMAGE_DIGEST',
        `verify blob ${this.expected.digest}: size ${this.written} does not match ${this.expected.size}`,
      );
    }
    if (actual !== this.expected.digest) {
      await fsp.rm(this.tempPath, { force: true });
      throw new TscError(
        'TSC_IMAGE_DIGEST',
        `verify blob ${this.expected.digest}: content has digest ${actual}`,
      );
    }
    await fsp.mkdir(path.dirname(this.finalPath), { recursive: true });
    await fsp.rename(this.tempPath, this.finalPath);
  }

  /** Closes and removes the partial file. */
  async abort(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    await fsp.rm(this.tempPath, { force: true });
  }
}

/** Options of {@link ContentStore}. */
export interface ContentStoreOptions {
  /** State root; blobs live in `<root>/blobs`, default {@link DEFAULT_STATE_ROOT}. */
  readonly root?: string | undefined;
}

/**
 * Blobs by sha256 under `<root>/blobs/sha256/<hex>`, shared by every image. Writes are verified
 * (stream hash) and atomic (temp under `<root>/ingest`, then rename).
 */
export class ContentStore {
  /** The state root. */
  readonly root: string;

  constructor(options: ContentStoreOptions = {}) {
    this.root = options.root ?? DEFAULT_STATE_ROOT;
  }

  /**
   * Path of a blob (whether or not it exists).
   * @throws TscError TSC_IMAGE_DIGEST for a digest that is not `sha256:<64 hex>`
   */
  blobPath(digest: string): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  /** True when the blob is stored. */
  async has(digest: string): Promise<boolean> {
    if (!isDigest(digest)) return false;
    try {
      await fsp.access(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Size of a stored blob in bytes, or undefined when missing. */
  async size(digest: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.blobPath(digest))).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Reads a whole blob.
   * @param maxSize refuse blobs larger than this many bytes (manifests: {@link MAX_MANIFEST_SIZE})
   * @throws TscError TSC_IMAGE_NOT_FOUND when missing, TSC_IMAGE_DIGEST when too large
   */
  async read(digest: string, maxSize?: number): Promise<Buffer> {
    const file = this.blobPath(digest);
    let st;
    try {
      st = await fsp.stat(file);
    } catch (e) {
      throw new TscError('TSC_IMAGE_NOT_FOUND', `read blob ${digest}: not in the content store`, {
        cause: e,
      });
    }
    if (maxSize !== undefined && st.size > maxSize) {
      throw new TscError('TSC_IMAGE_DIGEST', `read blob ${digest}: larger than ${maxSize} bytes`);
    }
    return fsp.readFile(file);
  }

  /** Reads and parses a JSON blob (manifest, index, config). */
  async readJson<T>(digest: string, maxSize?: number): Promise<T> {
    return JSON.parse((await this.read(digest, maxSize)).toString('utf8')) as T;
  }

  /** A read stream over a stored blob. */
  createReadStream(digest: string): ReadStream {
    return createReadStream(this.blobPath(digest));
  }

  /**
   * Starts a verified write. The caller appends, then commits (or aborts).
   * @param maxSize refuse to store more than this many bytes
   */
  async writer(expected: BlobExpectation, maxSize?: number): Promise<BlobWriter> {
    const dir = path.join(this.root, 'ingest');
    await fsp.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `${digestHex(expected.digest)}-${randomBytes(6).toString('hex')}`);
    const w = new BlobWriter(tmp, expected, this.blobPath(expected.digest), maxSize);
    await w.open();
    return w;
  }

  /**
   * Stores a blob from bytes or a stream, verified. A blob already stored is not rewritten.
   * @throws TscError TSC_IMAGE_DIGEST on mismatch (nothing stored)
   */
  async write(
    expected: BlobExpectation,
    source: Uint8Array | AsyncIterable<Uint8Array>,
    maxSize?: number,
  ): Promise<void> {
    if (await this.has(expected.digest)) {
      if (source instanceof Uint8Array) return;
      for await (const _ of source) {
        // drain the source so the producer is not left hanging
      }
      return;
    }
    const w = await this.writer(expected, maxSize);
    try {
      if (source instanceof Uint8Array) await w.write(source);
      else for await (const chunk of source) await w.write(chunk);
      await w.commit();
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  /** Stores bytes under their own digest and returns it. */
  async put(data: Uint8Array): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    await this.write({ digest, size: data.length }, data);
    return digest;
  }

  /** Removes a blob (no error when missing). */
  async delete(digest: string): Promise<void> {
    await fsp.rm(this.blobPath(digest), { force: true });
  }

  /** Every stored blob digest, sorted. */
  async list(): Promise<string[]> {
    try {
      const names = await fsp.readdir(path.join(this.root, 'blobs', 'sha256'));
      return names
        .filter((n) => /^[a-f0-9]{64}$/.test(n))
        .sort()
        .map((n) => `sha256:${n}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  /** Removes partial files left by interrupted writes. */
  async cleanIngest(): Promise<void> {
    await fsp.rm(path.join(this.root, 'ingest'), { recursive: true, force: true });
  }
}
