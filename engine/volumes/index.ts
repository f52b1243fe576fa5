/**
 * Named volumes with the `local` driver (moby `volume/local/local.go`, `volume/service`): records
 * under `<data-root>/volumes/<name>/volume.json`, data in `<name>/_data`, driver options
 * `type`/`device`/`o` mounted on first use, labels, list/inspect/remove/prune with Docker's
 * filters and messages. Knows no containers: usage comes through a callback.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fsp, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { EngineError } from '../../base/errors.js';
import type { EventBus } from '../events.js';
import { NameRegistry } from '../state/names.js';
import type { RecordCollection, StateStore } from '../state/store.js';

const run = promisify(execFile);

/** Volume names the local driver accepts (moby `volume/local/local_unix.go`). */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Label Docker puts on anonymous volumes (API >= 1.42 prune removes only these by default). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
/** Driver options the local driver knows. */
export const LOCAL_OPTS = ['type', 'device', 'o', 'size'] as const;

/** The stored record of a volume. */
export interface VolumeRecord {
  readonly Name: string;
  readonly Driver: 'local';
  readonly Labels: Record<string, string>;
  readonly Options: Record<string, string>;
  /** RFC 3339, seconds precision (`2024-05-01T10:20:30Z`). */
  readonly CreatedAt: string;
}

/** `GET /volumes/{name}` body (API `Volume`). */
export interface VolumeInfo {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string>;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** `POST /volumes/create` body (API `VolumeCreateOptions`). */
export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** Mounts and unmounts a local volume with driver options (default: mount(8), umount(8)). */
export interface VolumeMounter {
  mount(type: string, device: string, options: string, target: string): Promise<void>;
  unmount(target: string): Promise<void>;
}

/** The default mounter, through util-linux mount(8) (the native addon can replace it). */
export const commandMounter: VolumeMounter = {
  async mount(type, device, options, target) {
    const args = type ? ['-t', type] : [];
    if (options) args.push('-o', options);
    await run('mount', [...args, device, target]);
  },
  async unmount(target) {
    await run('umount', [target]);
  },
};

/** Options of {@link VolumeService}. */
export interface VolumeServiceOptions {
  /** Where events go (create, destroy, mount, unmount). */
  readonly events?: EventBus;
  /** Ids of containers using a volume (remove refuses, dangling filter, RefCount). Default: none. */
  readonly usage?: (name: string) => readonly string[];
  readonly mounter?: VolumeMounter;
}

function invalid(name: string, message: string): EngineError {
  return new EngineError('TSC_ENGINE_INVALID', { kind: 'volume', name }, message);
}

function notFound(name: string): EngineError {
  return new EngineError(
    'TSC_ENGINE_NOT_FOUND',
    { kind: 'volume', name },
    `get ${name}: no such volume`,
  );
}

/** Validates local driver options (moby `local_unix.go#validateOpts`); throws TSC_ENGINE_INVALID. */
export function validateLocalOpts(name: string, opts: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(opts)) {
    if (!(LOCAL_OPTS as readonly string[]).includes(key))
      throw invalid(name, `invalid option: "${key}"`);
  }
  if (opts.size !== undefined) throw invalid(name, 'quota size requested but no quota support');
  if (
    opts.device !== undefined &&
    opts.type === undefined &&
    !/(^|,)bind(,|$)/.test(opts.o ?? '')
  ) {
    throw invalid(name, 'missing required option: "type"');
  }
  if (opts.type !== undefined && opts.device === undefined)
    throw invalid(name, 'missing required option: "device"');
}

/** RFC 3339 at seconds precision, UTC. */
function rfc3339Now(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

/** Label filter matching (`key`, `key=value`). */
function matchLabels(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf('=');
    const k = i < 0 ? w : w.slice(0, i);
    return k in labels && (i < 0 || labels[k] === w.slice(i + 1));
  });
}

/** The volume service: one per daemon, over the state store. */
export class VolumeService {
  private readonly records: RecordCollection<VolumeRecord>;
  private readonly names = new NameRegistry('volume');
  private readonly mounts = new Map<string, number>();
  private usage: (name: string) => readonly string[];

  constructor(
    private readonly store: StateStore,
    private readonly opts: VolumeServiceOptions = {},
  ) {
    this.records = store.collection<VolumeRecord>('volumes', 'volume.json');
    this.usage = opts.usage ?? (() => []);
  }

  /** Sets the usage callback once the container service exists. */
  setUsage(usage: (name: string) => readonly string[]): void {
    this.usage = usage;
  }

  /** `<data-root>/volumes/<name>/_data`. */
  mountpoint(name: string): string {
    return join(this.records.pathOf(name), '_data');
  }

  private info(r: VolumeRecord, withUsage = false): VolumeInfo {
    const out: VolumeInfo = {
      CreatedAt: r.CreatedAt,
      Driver: r.Driver,
      Labels: r.Labels,
      Mountpoint: this.mountpoint(r.Name),
      Name: r.Name,
      Options: r.Options,
      Scope: 'local',
    };
    if (withUsage) out.UsageData = { Size: -1, RefCount: this.usage(r.Name).length };
    return out;
  }

  /**
   * Creates a volume, or returns the existing one of that name (Docker's idempotent create; labels
   * and options of the existing one are kept). No name = anonymous: 64 hex chars and the
   * {@link ANONYMOUS_LABEL}. Throws TSC_ENGINE_INVALID on a bad name, driver or option.
   */
  async create(req: VolumeCreateRequest): Promise<VolumeInfo> {
    const anonymous = req.Name === undefined || req.Name === '';
    const name = anonymous ? randomBytes(32).toString('hex') : (req.Name ?? '');
    if (name.length < 2)
      throw invalid(
        name,
        'volume name is too short, names should be at least two alphanumeric characters',
      );
    if (!VOLUME_NAME_RE.test(name)) {
      throw invalid(
        name,
        `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
    const driver = req.Driver === undefined || req.Driver === '' ? 'local' : req.Driver;
    if (driver !== 'local') {
      throw new EngineError(
        'TSC_ENGINE_NOT_FOUND',
        { kind: 'volume driver', name: driver },
        `error looking up volume plugin ${driver}: plugin "${driver}" not found`,
      );
    }
    const options = { ...(req.DriverOpts ?? {}) };
    validateLocalOpts(name, options);
    return this.records.withLock(name, async () => {
      const existing = await this.records.get(name);
      if (existing) return this.info(existing);
      const labels = { ...(req.Labels ?? {}) };
      if (anonymous) labels[ANONYMOUS_LABEL] = '';
      const record: VolumeRecord = {
        Name: name,
        Driver: 'local',
        Labels: labels,
        Options: options,
        CreatedAt: rfc3339Now(),
      };
      await this.names.withReservation(name, name, async () => {
        await fsp.mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
        await this.records.put(name, record);
      });
      this.opts.events?.publish({
        Type: 'volume',
        Action: 'create',
        ID: name,
        Attributes: { driver: 'local' },
      });
      return this.info(record);
    });
  }

  /** The volume, or TSC_ENGINE_NOT_FOUND (`get <name>: no such volume`). */
  async inspect(name: string): Promise<VolumeInfo> {
    const r = VOLUME_NAME_RE.test(name) ? await this.records.get(name) : undefined;
    if (!r) throw notFound(name);
    return this.info(r);
  }

  /** True when the volume exists. */
  async exists(name: string): Promise<boolean> {
    return VOLUME_NAME_RE.test(name) && (await this.records.get(name)) !== undefined;
  }

  /**
   * Volumes passing `filters` (moby `volume/service/convert.go#filtersToBy`): `name` (substring),
   * `label` (`key` / `key=value`, all must match), `label!`, `driver`, `dangling` (`true`/`1`: no
   * container uses it; `false`/`0`: in use). Sorted by name. Throws TSC_ENGINE_INVALID on other keys.
   */
  async list(filters: Readonly<Record<string, readonly string[]>> = {}): Promise<VolumeInfo[]> {
    for (const key of Object.keys(filters)) {
      if (!['name', 'label', 'label!', 'driver', 'dangling'].includes(key))
        throw invalid(key, `invalid filter '${key}'`);
    }
    const dangling = filters.dangling?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) {
      throw invalid('dangling', `invalid filter 'dangling=${dangling}'`);
    }
    const out: VolumeInfo[] = [];
    for (const { value: r } of await this.records.list()) {
      if (filters.name?.length && !filters.name.some((n) => r.Name.includes(n))) continue;
      if (filters.driver?.length && !filters.driver.includes(r.Driver)) continue;
      if (filters.label?.length && !matchLabels(r.Labels, filters.label)) continue;
      if (filters['label!']?.length && filters['label!'].some((l) => matchLabels(r.Labels, [l])))
        continue;
      if (dangling !== undefined) {
        const isDangling = this.usage(r.Name).length === 0;
        if (isDangling !== (dangling === 'true' || dangling === '1')) continue;
      }
      out.push(this.info(r));
    }
    return out;
  }

  /**
   * Removes a volume and its data. In use: TSC_ENGINE_CONFLICT (`remove <name>: volume is in use -
   * [ids]`), also with `force`. Missing: TSC_ENGINE_NOT_FOUND unless `force`.
   */
  async remove(name: string, force = false): Promise<void> {
    if (!VOLUME_NAME_RE.test(name)) {
      if (force) return;
      throw notFound(name);
    }
    await this.records.withLock(name, async () => {
      const r = await this.records.get(name);
      if (!r) {
        if (force) return;
        throw notFound(name);
      }
      const users = this.usage(name);
      if (users.length > 0 || (this.mounts.get(name) ?? 0) > 0) {
        throw new EngineError(
          'TSC_ENGINE_CONFLICT',
          { kind: 'volume', name },
          `remove ${name}: volume is in use - [${users.join(', ')}]`,
        );
      }
      await this.records.remove(name);
      this.names.release(name);
      this.opts.events?.publish({
        Type: 'volume',
        Action: 'destroy',
        ID: name,
        Attributes: { driver: 'local' },
      });
    });
  }

  /**
   * Removes unused volumes (API >= 1.42: only anonymous ones unless `all=true`; older API versions:
   * all unused), filtered by `label`/`label!`. Returns Docker's prune report; SpaceReclaimed in bytes.
   */
  async prune(
    filters: Readonly<Record<string, readonly string[]>> = {},
    allByDefault = false,
  ): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    for (const key of Object.keys(filters)) {
      if (!['label', 'label!', 'all'].includes(key)) throw invalid(key, `invalid filter '${key}'`);
    }
    const allRaw = filters.all?.[0];
    const all = allRaw === undefined ? allByDefault : ['true', '1'].includes(allRaw);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const { value: r } of await this.records.list()) {
      if (!all && !(ANONYMOUS_LABEL in r.Labels)) continue;
      if (filters.label?.length && !matchLabels(r.Labels, filters.label)) continue;
      if (filters['label!']?.length && filters['label!'].some((l) => matchLabels(r.Labels, [l])))
        continue;
      if (this.usage(r.Name).length > 0 || (this.mounts.get(r.Name) ?? 0) > 0) continue;
      const size = await dirSize(this.mountpoint(r.Name));
      try {
        await this.remove(r.Name);
      } catch (err) {
        if (err instanceof EngineError && err.code === 'TSC_ENGINE_CONFLICT') continue;
        throw err;
      }
      deleted.push(r.Name);
      reclaimed += size;
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /**
   * Makes the volume's data available and returns the host path to bind into a container. With
   * `type`/`device` options the device is mounted on `_data` by the first user and stays until the
   * last {@link release}. Emits `mount`-free bookkeeping only (containers emit their mount events).
   */
  async acquire(name: string): Promise<string> {
    return this.records.withLock(name, async () => {
      const r = await this.records.get(name);
      if (!r) throw notFound(name);
      const target = this.mountpoint(name);
      const count = this.mounts.get(name) ?? 0;
      if (count === 0 && r.Options.device !== undefined) {
        await fsp.mkdir(target, { recursive: true });
        try {
          await (this.opts.mounter ?? commandMounter).mount(
            r.Options.type ?? '',
            r.Options.device,
            r.Options.o ?? '',
            target,
          );
        } catch (err) {
          throw new EngineError(
            'TSC_ENGINE_STATE',
            { kind: 'volume', name },
            `mount ${r.Options.device} on ${target}: ${(err as Error).message.trim()}`,
            {
              cause: err,
            },
          );
        }
      }
      this.mounts.set(name, count + 1);
      return target;
    });
  }

  /** Undoes one {@link acquire}; the last one unmounts a device-backed volume. */
  async release(name: string): Promise<void> {
    await this.records.withLock(name, async () => {
      const count = this.mounts.get(name) ?? 0;
      if (count <= 0) return;
      if (count > 1) {
        this.mounts.set(name, count - 1);
        return;
      }
      this.mounts.delete(name);
      const r = await this.records.get(name);
      if (r?.Options.device !== undefined)
        await (this.opts.mounter ?? commandMounter).unmount(this.mountpoint(name));
    });
  }

  /** Rebuilds the name registry from the records (daemon start). */
  async load(): Promise<void> {
    await this.store.init();
    for (const key of await this.records.keys()) this.names.reserve(key, key);
  }
}

/** Total bytes of regular files under `dir` (0 when missing). */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await fsp.lstat(p)).size;
  }
  return total;
}
