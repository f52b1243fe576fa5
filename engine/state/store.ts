/**
 * The engine's records on disk under the data root (`/var/lib/tscompose` by default): one JSON file
 * per resource, `<root>/<kind>/<key>/<file>`, written atomically (temp + fsync + rename + dir fsync).
 * Owns only the file format and its crash safety; what a record means belongs to its service.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fsp } from 'node:fs';
import { join } from 'node:path';

import { EngineError } from '../../base/errors.js';
import { KeyedLock } from './lock.js';

/** Default data root, as dockerd's `/var/lib/docker`. */
export const DEFAULT_DATA_ROOT = '/var/lib/tscompose';

/** Marker in the names of temp files; {@link writeFileAtomic} leftovers carry it. */
export const TEMP_MARKER = '.tmp-';

/** Name prefix of discarded resource directories ({@link RecordCollection.discard}); never a key. */
const TRASH_PREFIX = '.trash-';

/** Resource keys are path components: no separators, no dot-names, no temp marker. */
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Writes `data` to `path` so that a reader sees either the old or the new content, never a part:
 * write `<path>.tmp-<random>`, fsync it, rename over `path`, fsync the directory (rename(2),
 * fsync(2)). `mode` defaults to 0600. Throws the fs error (the temp file is removed on failure).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  const dir = join(path, '..');
  const tmp = `${path}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
  const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** fsync(2) of a directory (makes a rename or unlink in it durable). Throws the fs error. */
async function fsyncDir(dir: string): Promise<void> {
  const dh = await fsp.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Directory trees deleted off the request path, for resources whose removal was committed by a
 * rename into a trash location first. The deletions wait until no new one has been asked for
 * {@link BackgroundDeletions.quietMs} and then run one tree at a time: `rm -rf` is many small
 * calls on the libuv pool (four threads), and started at once during a burst of removals
 * (`down` of ten containers) they queued ahead of every request's file I/O (bench/compose-up:
 * `down` of 10 went 388 -> 333 ms with them out of the way). A deletion waits at most
 * {@link BackgroundDeletions.maxDelayMs}, quiet or not. Failures are ignored: the trash is swept
 * again at the next engine start. The waits never keep the process alive; {@link settled} ends a
 * wait and runs what is left at once.
 */
export class BackgroundDeletions {
  readonly #pending: { readonly dir: string; readonly at: number }[] = [];
  #lastStart = 0;
  #running: Promise<void> | undefined;
  /** Ends the current pause early ({@link settled}). */
  #wake: (() => void) | undefined;
  #urgent = false;

  /**
   * @param quietMs how long no deletion may have been asked for before one runs (ms)
   * @param maxDelayMs how long a queued deletion waits at most, quiet or not (ms): a steady
   *   stream of removals (a loop of `run --rm`) must not keep the trash growing
   */
  constructor(
    readonly quietMs = 250,
    readonly maxDelayMs = 2000,
  ) {}

  /** Queues the deletion of `dir` (absolute) and everything under it. */
  start(dir: string): void {
    const now = performance.now();
    this.#pending.push({ dir, at: now });
    this.#lastStart = now;
    this.#kick();
  }

  #kick(): void {
    if (this.#running !== undefined) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      // queued after the loop's last look
      if (this.#pending.length > 0) this.#kick();
    });
  }

  /** ms to wait before the next deletion: 0 when urgent, quiet long enough, or waited too long. */
  #waitMs(): number {
    const first = this.#pending[0];
    if (this.#urgent || first === undefined) return 0;
    const now = performance.now();
    if (now - first.at >= this.maxDelayMs) return 0;
    return Math.max(0, this.quietMs - (now - this.#lastStart));
  }

  /** Deletes the queued trees one after another, pausing while deletions are being asked for. */
  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const wait = this.#waitMs();
      if (wait > 0) {
        // the timer never keeps the process alive; settled() ends the pause at once
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, wait).unref();
        });
        this.#wake = undefined;
        continue;
      }
      const next = this.#pending.shift();
      if (next) await fsp.rm(next.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Runs every queued deletion now and resolves when none is left (also those queued meanwhile). */
  async settled(): Promise<void> {
    this.#urgent = true;
    try {
      this.#wake?.();
      while (this.#running !== undefined) await this.#running;
    } finally {
      this.#urgent = false;
    }
  }
}

/** One collection of records, `<root>/<kind>/<key>/<file>`; see {@link StateStore.collection}. */
export class RecordCollection<T> {
  private readonly lock = new KeyedLock();
  /** Keys whose directory this process made or wrote (put skips their mkdir). */
  private readonly made = new Set<string>();
  /** Background deletions of discarded resources. */
  private readonly deletions = new BackgroundDeletions();

  constructor(
    /** `<root>/<kind>`. */
    readonly dir: string,
    /** The record's file name inside each key's directory (`record.json`). */
    readonly file: string,
  ) {}

  /** The directory of one resource (`<root>/<kind>/<key>`); throws TSC_ENGINE_INVALID on a bad key. */
  pathOf(key: string): string {
    if (!KEY_RE.test(key) || key.includes(TEMP_MARKER)) {
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'record', name: key },
        `invalid record key ${JSON.stringify(key)}`,
      );
    }
    return join(this.dir, key);
  }

  /** Runs `fn` holding this key's lock (operations on one resource are serialised). */
  withLock<R>(key: string, fn: () => Promise<R> | R): Promise<R> {
    return this.lock.run(key, fn);
  }

  /** Writes the record atomically, creating its directory (mode 0700) on the first write. */
  async put(key: string, value: T): Promise<void> {
    const dir = this.pathOf(key);
    const text = `${JSON.stringify(value, null, 2)}\n`;
    if (this.made.has(key)) {
      try {
        await writeFileAtomic(join(dir, this.file), text);
        return;
      } catch (err) {
        // the directory went behind our back: make it again below
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.made.delete(key);
      }
    }
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    this.made.add(key);
    await writeFileAtomic(join(dir, this.file), text);
  }

  /**
   * Reads a record, or undefined when it does not exist. A record file that does not parse (which
   * atomic writes never produce) throws TSC_ENGINE_STATE naming the file.
   */
  async get(key: string): Promise<T | undefined> {
    const path = join(this.pathOf(key), this.file);
    let text: string;
    try {
      text = await fsp.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new EngineError(
        'TSC_ENGINE_STATE',
        { kind: 'record', name: key },
        `read record ${path}: invalid JSON`,
        {
          cause: err,
        },
      );
    }
  }

  /** Removes the resource's whole directory (record and anything beside it). Missing is fine. */
  async remove(key: string): Promise<void> {
    this.made.delete(key);
    await fsp.rm(this.pathOf(key), { recursive: true, force: true });
  }

  /**
   * Removes a resource at once and durably, its files later: its directory is renamed to
   * `<root>/<kind>/.trash-<key>-<random>` (rename(2) is atomic: {@link keys} no longer lists it
   * when this resolves), the parent directory is fsync'd, and the tree is deleted in the
   * background ({@link settled} waits; {@link sweepTrash} deletes what a crash left). Missing is
   * fine. Throws the fs error of the rename or the fsync.
   */
  async discard(key: string): Promise<void> {
    const from = this.pathOf(key);
    this.made.delete(key);
    const to = join(this.dir, `${TRASH_PREFIX}${key}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.rename(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fsyncDir(this.dir);
    this.deletions.start(to);
  }

  /** Starts the background deletion of `.trash-*` directories an earlier run left (see {@link discard}). */
  async sweepTrash(): Promise<void> {
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    for (const n of names) if (n.startsWith(TRASH_PREFIX)) this.deletions.start(join(this.dir, n));
  }

  /** Resolves when every background deletion of {@link discard}/{@link sweepTrash} has finished. */
  settled(): Promise<void> {
    return this.deletions.settled();
  }

  /**
   * Every key with a record, sorted. Leftover temp files of interrupted writes are deleted on the
   * way; directories without a record file (a create that crashed before its first write) are skipped.
   */
  async keys(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const keys: string[] = [];
    for (const name of names.sort()) {
      if (!KEY_RE.test(name)) continue;
      const dir = join(this.dir, name);
      let entries: string[];
      try {
        entries = await fsp.readdir(dir);
      } catch {
        continue;
      }
      for (const e of entries) {
        if (e.startsWith(`${this.file}${TEMP_MARKER}`)) await fsp.rm(join(dir, e), { force: true });
      }
      if (entries.includes(this.file)) keys.push(name);
    }
    return keys;
  }

  /** Every record, in key order. */
  async list(): Promise<Array<{ key: string; value: T }>> {
    const out: Array<{ key: string; value: T }> = [];
    for (const key of await this.keys()) {
      const value = await this.get(key);
      if (value !== undefined) out.push({ key, value });
    }
    return out;
  }
}

/** The data root and its record collections. */
export class StateStore {
  constructor(
    /** The data root (absolute). */
    readonly root: string,
  ) {}

  /** Creates the data root (mode 0711, like dockerd's) if missing. */
  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o711 });
  }

  /** A typed collection `<root>/<kind>`, records in `<key>/<file>` (default `record.json`). */
  collection<T>(kind: string, file = 'record.json'): RecordCollection<T> {
    return new RecordCollection<T>(join(this.root, kind), file);
  }
}
