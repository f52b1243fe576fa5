/**
 * The container service (Docker API "Container" and "Exec" sections): records and their state
 * machine, start through engine/runtime with cgroups, rootfs and networks, exit monitoring with
 * restart policies, healthchecks, logs, stats, exec, and recovery after a daemon restart.
 * Talks to the runtime, cgroups, images, networks and volumes modules; never to the HTTP layer.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, promises as fsp, readFileSync } from 'node:fs';
import { constants as osConstants, hostname as osHostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';

import type Dockerode from 'dockerode';

import { EngineError, NativeError, TscError } from '../../base/errors.js';
import { mount as sysMount, mountAsync, MS, umount2Async, MNT } from '../../native/index.js';
import type {
  ApiFilters,
  AttachStreams,
  ContainerCreateBody,
  ContainerPathStat,
  ContainerLogsQuery,
  ContainerService,
  OperationContext,
} from '../api/services.js';
import { encodeFrame, STDERR, STDOUT, writeJsonLine } from '../api/stream.js';
import type { CgroupManager, Resources } from '../cgroups/index.js';
import { streamDockerStats } from '../cgroups/index.js';
import type { EventBus } from '../events.js';
import type { ImageStore } from '../images/store.js';
import { planNetworkMode } from '../networks/index.js';
import {
  createLaunchSpec,
  kill as runtimeKill,
  launch,
  prespawnShim,
  isAlive,
  readExitRecord,
  SetupError,
  startExec,
  stateFiles,
  StdinPipe,
  type ExitRecord,
  type LaunchedContainer,
  type RuntimeConfig,
} from '../runtime/index.js';
import { KeyedLock } from '../state/lock.js';
import { NameRegistry } from '../state/names.js';
import type { RecordCollection, StateStore } from '../state/store.js';
import { ANONYMOUS_LABEL, type VolumeService } from '../volumes/index.js';
import { copyUp } from '../volumes/copyup.js';
import {
  checkRestartPolicy,
  containerArgv,
  generatedName,
  healthArgv,
  healthTimings,
  mergeImageConfig,
  nextRestartDelay,
  normalizeName,
  parseMounts,
  parseSignal,
  portSpecs,
  restartPolicyOf,
  shouldRestart,
  ZERO_TIME,
  type ContainerRecord,
  type HostConfig,
} from './config.js';
import { extractArchive, statPath, writeArchive, type FsView, type ViewMount } from './archive.js';
import { ChangeWaiter } from './change-waiter.js';
import { streamLogs } from './logs.js';
import { DEFAULT_NETWORK, type EngineNetworks } from './networking.js';
import { inspectView, matchesFilters, summaryView, type ContainerPaths } from './views.js';

/** What the service needs from the daemon. */
export interface ContainerServiceDeps {
  readonly store: StateStore;
  readonly events: EventBus;
  readonly volumes: VolumeService;
  readonly images: ImageStore;
  readonly networks: EngineNetworks;
  readonly cgroups: CgroupManager;
  /** Log line sink. */
  readonly log: (line: string) => void;
  /** Exit poll interval in ms (default 100). */
  readonly pollMs?: number;
}

/** An exec instance (API "ExecInspect"), kept in memory. */
interface ExecInstance {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  Tty: boolean;
  argv: string[];
  env: string[];
  user: string;
  workingDir: string;
  privileged: boolean;
  started: boolean;
  exited?: Promise<number>;
}

/** v1 controllers bound into the container's /sys/fs/cgroup. */
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function notFound(ref: string): EngineError {
  return new EngineError(
    'TSC_ENGINE_NOT_FOUND',
    { kind: 'container', name: ref },
    `No such container: ${ref}`,
  );
}

function conflict(id: string, message: string): EngineError {
  return new EngineError('TSC_ENGINE_CONFLICT', { kind: 'container', name: id }, message);
}

function stateError(id: string, message: string): EngineError {
  return new EngineError('TSC_ENGINE_STATE', { kind: 'container', name: id }, message);
}

function unsupported(what: string): EngineError {
  return new EngineError(
    'TSC_ENGINE_UNSUPPORTED',
    { kind: 'operation', name: what },
    `${what} is not implemented by the tscompose engine yet`,
  );
}

/** Cgroup resources from HostConfig (only fields set, zero = unset as in Docker). */
export function resourcesOf(h: HostConfig): Resources {
  const num = (k: string): number | undefined => {
    const v = h[k];
    return typeof v === 'number' && v !== 0 ? v : undefined;
  };
  const str = (k: string): string | undefined => {
    const v = h[k];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const r: Record<string, unknown> = {
    memory: num('Memory'),
    memoryReservation: num('MemoryReservation'),
    memorySwap: num('MemorySwap'),
    nanoCpus: num('NanoCpus'),
    cpuQuota: num('CpuQuota'),
    cpuPeriod: num('CpuPeriod'),
    cpuShares: num('CpuShares'),
    cpusetCpus: str('CpusetCpus'),
    cpusetMems: str('CpusetMems'),
    pidsLimit: num('PidsLimit'),
    blkioWeight: num('BlkioWeight'),
  };
  for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
  return r;
}

/** How long a SIGKILL `kill` waits for the exit before answering anyway, ms (moby: 2 s + 2 s). */
const KILL_EXIT_WAIT_MS = 4000;

/**
 * The container service. One per daemon; call {@link load} once before serving (restores records,
 * re-adopts running containers) and {@link close} at shutdown (containers keep running).
 */
export class ContainerManager implements ContainerService {
  private readonly records = new Map<string, ContainerRecord>();
  private readonly collection: RecordCollection<ContainerRecord>;
  // dockerd's exact wording (moby daemon/names.go), which clients match on
  private readonly names = new NameRegistry(
    'container',
    (name, owner) =>
      `Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
  private readonly lock = new KeyedLock();
  private readonly bus = new EventEmitter();
  private readonly monitors = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly health = new Map<string, NodeJS.Timeout>();
  private readonly restartDelays = new Map<string, number>();
  private readonly execs = new Map<string, ExecInstance>();
  private readonly probes = new Set<Promise<void>>();
  private closed = false;
  private nameCounter = 0;

  constructor(private readonly deps: ContainerServiceDeps) {
    this.collection = deps.store.collection<ContainerRecord>('containers');
    this.bus.setMaxListeners(0);
  }

  // ---------------------------------------------------------------- records

  /** Runs a synchronous operation as a promise (its throw becomes the rejection). */
  private settle<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new TypeError(String(e)));
    }
  }

  private dir(id: string): string {
    return this.collection.pathOf(id);
  }

  private paths(id: string): ContainerPaths {
    const d = this.dir(id);
    return {
      logPath: stateFiles(d, id).logPath,
      hostsPath: join(d, 'hosts'),
      hostnamePath: join(d, 'hostname'),
      resolvConfPath: join(d, 'resolv.conf'),
      rootfs: join(d, 'rootfs'),
    };
  }

  /**
   * Writes a record. Writes of one id run one after another (two atomic writes racing could
   * leave the older one on disk); a container removed or being removed is never written again
   * (a late write would bring its record back).
   */
  private async save(r: ContainerRecord): Promise<void> {
    if (this.removed.has(r.Id)) return;
    this.records.set(r.Id, r);
    await this.serialWrite(r.Id, () => this.collection.put(r.Id, r));
  }

  /** Runs `fn` after the record writes of `id` already queued (see {@link save}). */
  private serialWrite(id: string, fn: () => Promise<void>): Promise<void> {
    const next = (this.writes.get(id) ?? Promise.resolve()).then(fn);
    const tail = next.catch(() => undefined);
    this.writes.set(id, tail);
    void tail.then(() => {
      if (this.writes.get(id) === tail) this.writes.delete(id);
    });
    return next;
  }

  /** Queued record writes per id (see {@link serialWrite}). */
  private readonly writes = new Map<string, Promise<void>>();
  /**
   * Ids being removed or removed in the last minute: {@link save} skips them. Kept a while
   * after the removal for writers that were still running (an exit handled meanwhile).
   */
  private readonly removed = new Set<string>();

  /** Full id of a container by id, unique id prefix or name. Throws 404 `No such container`. */
  resolve(ref: string): string {
    if (this.records.has(ref)) return ref;
    const byName = this.names.get(ref.startsWith('/') ? ref.slice(1) : ref);
    if (byName !== undefined && this.records.has(byName)) return byName;
    if (/^[a-f0-9]+$/.test(ref)) {
      const hits = [...this.records.keys()].filter((id) => id.startsWith(ref));
      if (hits.length === 1 && hits[0]) return hits[0];
      if (hits.length > 1)
        throw new EngineError(
          'TSC_ENGINE_INVALID',
          { kind: 'container', name: ref },
          `multiple IDs found with provided prefix: ${ref}`,
        );
    }
    throw notFound(ref);
  }

  private get(ref: string): ContainerRecord {
    const r = this.records.get(this.resolve(ref));
    if (!r) throw notFound(ref);
    return r;
  }

  /** Names of containers using a volume (VolumeService usage). */
  volumeUsers(name: string): string[] {
    return [...this.records.values()]
      .filter((r) => r.Mounts.some((m) => m.Type === 'volume' && m.Name === name))
      .map((r) => r.Id);
  }

  /** True when some container uses the image id (ImageStore isInUse). */
  imageInUse(imageId: string): boolean {
    return [...this.records.values()].some((r) => r.Image === imageId);
  }

  private emit(r: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.publish({
      Type: 'container',
      Action: action,
      ID: r.Id,
      Attributes: { ...r.Config.Labels, image: r.Config.Image, name: r.Name.slice(1), ...extra },
    });
  }

  // ---------------------------------------------------------------- load / close

  /** Restores records from the data root and re-adopts or settles running containers. */
  async load(): Promise<void> {
    for (const { key, value } of await this.collection.list()) {
      this.records.set(key, value);
      this.names.reserve(value.Name.slice(1), key);
    }
    for (const r of [...this.records.values()]) {
      try {
        await this.recover(r);
      } catch (e) {
        this.deps.log(`recover container ${r.Id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private async recover(r: ContainerRecord): Promise<void> {
    if (r.State.Status === 'removing') {
      await this.removeNow(r, false);
      return;
    }
    const rt = r.Runtime;
    if (rt && r.State.Running) {
      const rec = readExitRecord(rt.exitPath);
      if (rec || !isAlive(rt.shimPid)) {
        await this.handleExit(r.Id, rec ?? this.lostRecord(rt));
        return;
      }
      this.monitor(r.Id);
      const ports = portSpecs(r.HostConfig);
      if (ports.length > 0 && Object.keys(r.Networks).length > 0) {
        await this.deps.networks.manager.unpublish(r.Id);
        const published = await this.deps.networks.manager.publish(r.Id, ports);
        r.Ports = this.portsView(published);
        await this.save(r);
      }
      this.startHealth(r.Id);
      return;
    }
    if (r.State.Restarting) {
      r.State.Restarting = false;
      r.State.Status = 'exited';
      await this.save(r);
      this.scheduleRestart(r.Id);
    }
  }

  private lostRecord(rt: LaunchedContainer): ExitRecord {
    return {
      exitCode: 255,
      signal: 0,
      oomKilled: false,
      finishedAt: new Date().toISOString(),
      pid: rt.initPid,
    };
  }

  /** Stops monitors, timers and healthchecks; containers keep running. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    for (const t of this.health.values()) clearTimeout(t);
    this.timers.clear();
    this.health.clear();
    // running inits of OpenStdin containers read EOF from here on (docs/containers.md)
    for (const id of [...this.stdins.keys()]) this.dropStdin(id);
    await Promise.allSettled([...this.monitors.values(), ...this.probes]);
    // record writes not waited for (an exit's)
    await Promise.allSettled([...this.writes.values()]);
    await this.collection.settled();
  }

  /**
   * Removes what a crash left of removed containers: their record directories in the
   * collection's trash, and container snapshots without a record (a removal commits by
   * discarding the record first, then removes the snapshot). Call once after {@link load},
   * before the API serves. Failures are logged.
   */
  async removeLeftovers(): Promise<void> {
    await this.collection.sweepTrash();
    for (const id of await this.deps.images.snapshots.containerIds()) {
      if (this.records.has(id)) continue;
      await this.deps.images
        .removeSnapshot(id)
        .catch((e: unknown) =>
          this.deps.log(`remove snapshot ${id}: ${e instanceof Error ? e.message : String(e)}`),
        );
    }
  }

  // ---------------------------------------------------------------- create

  async ContainerCreate(
    name: string | undefined,
    _platform: string | undefined,
    body: ContainerCreateBody,
    _ctx: OperationContext,
  ): Promise<{ Id: string; Warnings: string[] }> {
    const raw = body as unknown as Record<string, unknown>;
    const host = { ...((raw.HostConfig as HostConfig | undefined) ?? {}) } as HostConfig;
    const netConfig = (raw.NetworkingConfig as
      { EndpointsConfig?: Record<string, Record<string, unknown>> } | undefined) ?? {
      EndpointsConfig: {},
    };
    const req: Record<string, unknown> = { ...raw };
    delete req.HostConfig;
    delete req.NetworkingConfig;
    const imageRef = typeof req.Image === 'string' ? req.Image : '';
    if (imageRef === '')
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'container', name: '' },
        'config cannot be empty in order to create a container',
      );
    const wanted = name === undefined || name === '' ? undefined : normalizeName(name);
    const imageId = await this.deps.images.resolveImage(imageRef);
    const imageConfig = (await this.deps.images.imageConfig(imageId)).config ?? {};
    const config = mergeImageConfig(req, imageConfig);
    const argv = containerArgv(config);
    checkRestartPolicy(host);
    const id = randomBytes(32).toString('hex');
    if (config.Hostname === '') config.Hostname = id.slice(0, 12);
    let mode = String(host.NetworkMode ?? '');
    if (mode === '' || mode === 'default') mode = DEFAULT_NETWORK;
    host.NetworkMode = mode;
    const endpoints: Record<string, Record<string, unknown>> = {
      ...(netConfig.EndpointsConfig ?? {}),
    };
    if ('default' in endpoints) {
      // the docker CLI names the default network "default"
      endpoints[DEFAULT_NETWORK] = { ...endpoints.default, ...(endpoints[DEFAULT_NETWORK] ?? {}) };
      delete endpoints.default;
    }
    const special = mode === 'host' || mode === 'none' || mode.startsWith('container:');
    if (special) for (const k of Object.keys(endpoints)) if (k !== mode) delete endpoints[k];
    if (!special && !(mode in endpoints)) endpoints[mode] = {};
    if (mode === 'host' || mode === 'none') endpoints[mode] = endpoints[mode] ?? {};
    if (!special) {
      for (const n of Object.keys(endpoints)) {
        if (n === DEFAULT_NETWORK) await this.deps.networks.ensureDefault();
        else if (!this.deps.networks.has(n))
          throw new EngineError(
            'TSC_ENGINE_NOT_FOUND',
            { kind: 'network', name: n },
            `network ${n} not found`,
          );
      }
    }
    if (mode.startsWith('container:')) this.resolve(mode.slice('container:'.length));
    const mounts = parseMounts(config, host);
    let finalName = wanted;
    if (finalName === undefined) {
      do finalName = generatedName(this.nameCounter++);
      while (this.names.get(finalName.slice(1)) !== undefined);
    }
    const nameKey = finalName.slice(1);
    await this.names.withReservation(nameKey, id, async () => {
      for (const m of mounts) {
        if (m.Type !== 'volume') continue;
        if (m.Name === undefined || m.Name === '') {
          const v = await this.deps.volumes.create({ Labels: { [ANONYMOUS_LABEL]: '' } });
          m.Name = v.Name;
          m.Anonymous = true;
        } else if (!(await this.deps.volumes.exists(m.Name))) {
          await this.deps.volumes.create({ Name: m.Name });
        }
        m.Source = this.deps.volumes.mountpoint(m.Name);
      }
      const rootfsMounts = await this.deps.images.prepare(id, imageId);
      const record: ContainerRecord = {
        Id: id,
        Name: finalName,
        Created: new Date().toISOString(),
        Path: argv[0] ?? '',
        Args: argv.slice(1),
        Image: imageId,
        Config: config,
        HostConfig: host,
        NetworkingConfig: { EndpointsConfig: endpoints },
        State: {
          Status: 'created',
          Running: false,
          Paused: false,
          Restarting: false,
          OOMKilled: false,
          Dead: false,
          Pid: 0,
          ExitCode: 0,
          Error: '',
          StartedAt: ZERO_TIME,
          FinishedAt: ZERO_TIME,
        },
        RestartCount: 0,
        ManuallyStopped: false,
        Mounts: mounts,
        RootfsMounts: rootfsMounts,
        Networks: {},
        Ports: {},
      };
      await this.save(record);
    });
    const r = this.records.get(id);
    if (r) this.emit(r, 'create');
    return { Id: id, Warnings: [] };
  }

  // ---------------------------------------------------------------- inspect / list

  ContainerInspect(
    id: string,
    _size: boolean,
    _ctx: OperationContext,
  ): Promise<Dockerode.ContainerInspectInfo> {
    return this.settle(() => {
      const r = this.get(id);
      const view = inspectView(r, this.paths(r.Id));
      view.ExecIDs = this.execIds(r.Id);
      return view as unknown as Dockerode.ContainerInspectInfo;
    });
  }

  private execIds(id: string): string[] | null {
    const ids = [...this.execs.values()].filter((e) => e.ContainerID === id).map((e) => e.ID);
    return ids.length > 0 ? ids : null;
  }

  ContainerList(
    q: { all: boolean; limit?: number; size: boolean; filters: ApiFilters },
    _ctx: OperationContext,
  ): Promise<Dockerode.ContainerInfo[]> {
    return this.settle(() => {
      let rows = [...this.records.values()]
        .filter((r) => q.all || r.State.Running || q.filters.status !== undefined)
        .filter((r) => matchesFilters(r, q.filters))
        .sort((a, b) => b.Created.localeCompare(a.Created));
      if (q.limit !== undefined && q.limit > 0) rows = rows.slice(0, q.limit);
      return rows.map((r) => summaryView(r)) as unknown as Dockerode.ContainerInfo[];
    });
  }

  counts(): Promise<{ total: number; running: number; paused: number; stopped: number }> {
    return this.settle(() => {
      const all = [...this.records.values()];
      const paused = all.filter((r) => r.State.Paused).length;
      const running = all.filter((r) => r.State.Running && !r.State.Paused).length;
      return { total: all.length, running, paused, stopped: all.length - running - paused };
    });
  }

  // ---------------------------------------------------------------- start

  async ContainerStart(
    ref: string,
    _ctx: OperationContext,
  ): Promise<'started' | 'already-started'> {
    const id = this.resolve(ref);
    let failed: ContainerRecord | undefined;
    try {
      return await this.lock.run(id, async () => {
        const r = this.records.get(id);
        if (!r) throw notFound(ref);
        if (r.State.Running) return 'already-started';
        if (r.State.Status === 'removing')
          throw conflict(id, `container ${id} is marked for removal and cannot be started`);
        this.cancelRestart(id);
        r.ManuallyStopped = false;
        failed = r;
        await this.startLocked(r);
        failed = undefined;
        return 'started' as const;
      });
    } catch (e) {
      // dockerd removes an auto-remove container whose start failed (the CLI waits for "removed")
      const r = failed;
      if (r?.HostConfig.AutoRemove === true) {
        await this.lock.run(id, () => this.removeNow(r, true)).catch(() => undefined);
      }
      throw e;
    }
  }

  /** Everything `docker start` does; the caller holds the container lock. */
  private async startLocked(r: ContainerRecord): Promise<void> {
    const id = r.Id;
    this.cleaned.delete(id);
    const dir = this.dir(id);
    const paths = this.paths(id);
    const { exitPath, stdinPath } = stateFiles(dir, id);
    await fsp.rm(exitPath, { force: true });
    const mode = String(r.HostConfig.NetworkMode ?? DEFAULT_NETWORK);
    const plan = planNetworkMode(mode, (ref) => {
      try {
        const o = this.get(ref);
        return o.State.Running ? { containerId: o.Id, pid: o.State.Pid } : undefined;
      } catch {
        return undefined;
      }
    });
    const cgroupName = `tscompose/${id}`;
    const undo: Array<() => Promise<void>> = [];
    const runUndo = async (): Promise<void> => {
      for (const u of undo.reverse()) {
        try {
          await u();
        } catch (e) {
          this.deps.log(`clean up ${id}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    };
    try {
      // the shim's process start overlaps the rootfs mount and the spec building below; it
      // waits for its spec (closing its channel instead makes it exit)
      const shim = prespawnShim(id);
      undo.push(() => {
        shim.channel.close();
        return Promise.resolve();
      });
      // the cgroup's directories are made while the rootfs is mounted and the shim starts; they
      // exist before "go" (awaited in `outside`), when the init joins them itself
      const cgroupReady = this.deps.cgroups.create(cgroupName, resourcesOf(r.HostConfig));
      cgroupReady.catch(() => undefined); // awaited below; create removes its own partial levels
      undo.push(async () => {
        const made = await cgroupReady.catch(() => undefined);
        await made?.remove();
      });
      await this.mountRootfs(r, paths.rootfs);
      undo.push(() => this.unmountRootfs(paths.rootfs));
      const binds: Array<{
        source: string;
        target: string;
        readOnly: boolean;
        propagation?: never;
      }> = [];
      const tmpfs: Array<{ target: string; size?: number; mode?: number }> = [];
      for (const m of r.Mounts) {
        if (m.Type === 'tmpfs') {
          const t: { target: string; size?: number; mode?: number } = { target: m.Destination };
          if (m.TmpfsSize !== undefined) t.size = m.TmpfsSize;
          if (m.TmpfsMode !== undefined) t.mode = m.TmpfsMode;
          tmpfs.push(t);
          continue;
        }
        let source = m.Source;
        if (m.Type === 'volume' && m.Name) {
          source = await this.deps.volumes.acquire(m.Name);
          const vol = m.Name;
          undo.push(() => this.deps.volumes.release(vol));
          if (!m.NoCopy) await copyUp(paths.rootfs, m.Destination, source);
        } else if (!existsSync(source) && m.CreateHostPath) {
          mkdirSync(source, { recursive: true, mode: 0o755 });
        } else if (!existsSync(source)) {
          throw new EngineError(
            'TSC_ENGINE_INVALID',
            { kind: 'mount', name: source },
            `invalid mount config for type "bind": bind source path does not exist: ${source}`,
          );
        }
        binds.push({ source, target: m.Destination, readOnly: !m.RW });
      }
      // network files: written in `outside`, once the endpoints exist and before "go"
      let files = {
        hosts: paths.hostsPath,
        hostname: paths.hostnamePath,
        resolvConf: paths.resolvConfPath,
      };
      let netnsOwner: string | undefined;
      if (plan.kind === 'container') {
        const owner = this.records.get(plan.containerId);
        if (owner) {
          const op = this.paths(owner.Id);
          files = { hosts: op.hostsPath, hostname: op.hostnamePath, resolvConf: op.resolvConfPath };
          netnsOwner = owner.Id;
        }
      }
      const h = r.HostConfig;
      const hostMode = plan.kind === 'host';
      const runtimeConfig: RuntimeConfig = {
        id,
        rootfs: paths.rootfs,
        stateDir: dir,
        argv: [r.Path, ...r.Args],
        env: r.Config.Env,
        hostname: hostMode ? osHostname() : r.Config.Hostname,
        domainname: r.Config.Domainname || undefined,
        user: r.Config.User || undefined,
        groupAdd: (h.GroupAdd as string[] | undefined) ?? undefined,
        workingDir: r.Config.WorkingDir || undefined,
        privileged: h.Privileged === true,
        capAdd: (h.CapAdd as string[] | undefined) ?? undefined,
        capDrop: (h.CapDrop as string[] | undefined) ?? undefined,
        readOnlyRootfs: h.ReadonlyRootfs === true,
        init: h.Init === true,
        shmSize: typeof h.ShmSize === 'number' && h.ShmSize > 0 ? h.ShmSize : undefined,
        binds,
        tmpfs,
        networkFiles: files,
        sysctls: (h.Sysctls as Record<string, string> | undefined) ?? undefined,
        ulimits: (
          (h.Ulimits as Array<{ Name: string; Soft: number; Hard: number }> | null) ?? []
        ).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
        oomScoreAdj: typeof h.OomScoreAdj === 'number' ? h.OomScoreAdj : undefined,
        namespaces: {
          network:
            plan.kind === 'host' ? 'host' : plan.kind === 'container' ? { path: plan.path } : 'new',
          pid: h.PidMode === 'host' ? 'host' : 'new',
          ipc: h.IpcMode === 'host' ? 'host' : 'new',
          uts: h.UTSMode === 'host' || hostMode ? 'host' : 'new',
        },
        cgroup: {
          version: this.deps.cgroups.version,
          root: '/sys/fs/cgroup',
          name: cgroupName,
          controllers: this.deps.cgroups.version === 1 ? V1_CONTROLLERS : [],
          procs: this.deps.cgroups.open(cgroupName).joinFiles(),
        },
        log: this.logOptions(h),
        openStdin: r.Config.OpenStdin === true,
      };
      const spec = createLaunchSpec(runtimeConfig);
      if (r.Config.OpenStdin === true) {
        // a fresh write end per run, open before the shim opens the read end (never blocks)
        this.dropStdin(id);
        const pipe = StdinPipe.open(stdinPath);
        this.stdins.set(id, pipe);
        undo.push(() => {
          if (this.stdins.get(id) === pipe) this.dropStdin(id);
          return Promise.resolve();
        });
      }
      const endpoints = r.NetworkingConfig.EndpointsConfig;
      const networks = this.deps.networks;
      let connected = false;
      undo.push(async () => {
        if (connected) {
          await networks.manager.releaseContainer(id);
          await networks.persist();
        }
      });
      const launched = await launch(spec, {
        shim,
        outside: async (pid) => {
          // the init joins its cgroup itself after "go" (spec.cgroupProcs); the directories must
          // exist by then. In a user namespace it cannot, and the engine moves it from here.
          const cgroup = await cgroupReady;
          if (spec.cgroupProcs.length === 0) await cgroup.addProcess(pid);
          if (plan.kind === 'bridge') {
            connected = true;
            for (const [net, cfg] of Object.entries(endpoints)) {
              const ipam = (cfg.IPAMConfig ?? {}) as Record<string, unknown>;
              await networks.manager.connect(net, {
                containerId: id,
                containerName: r.Name.slice(1),
                hostname: r.Config.Hostname,
                pid,
                aliases: (cfg.Aliases as string[] | undefined) ?? [],
                ipv4Address: (ipam.IPv4Address as string | undefined) || undefined,
                ipv6Address: (ipam.IPv6Address as string | undefined) || undefined,
                forwarders: (h.Dns as string[] | undefined) ?? [],
              });
            }
            await networks.persist();
          }
          if (plan.kind !== 'container') await this.writeNetworkFiles(r, plan.kind, files);
        },
      });
      undo.push(() => {
        try {
          runtimeKill(launched, 'SIGKILL');
        } catch {
          // gone already
        }
        return Promise.resolve();
      });
      r.Networks = networks.manager.containerNetworks(id);
      r.Ports = {};
      const ports = portSpecs(h);
      if (ports.length > 0 && plan.kind === 'bridge') {
        undo.push(() => networks.manager.unpublish(id));
        r.Ports = this.portsView(await networks.manager.publish(id, ports));
        await networks.persist();
      }
      r.Runtime = launched;
      r.NetnsOwner = netnsOwner;
      r.State = {
        ...r.State,
        Status: 'running',
        Running: true,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: launched.initPid,
        ExitCode: 0,
        Error: '',
        StartedAt: new Date().toISOString(),
        FinishedAt: r.State.FinishedAt,
      };
      if (healthArgv(r.Config.Healthcheck?.Test))
        r.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
      else delete r.State.Health;
      await this.save(r);
    } catch (e) {
      await runUndo();
      const { exitCode, err } = this.startFailure(r, e);
      r.State = {
        ...r.State,
        Status: r.State.StartedAt === ZERO_TIME ? 'created' : 'exited',
        Running: false,
        Restarting: false,
        Pid: 0,
        ExitCode: exitCode,
        Error: err.message,
      };
      r.Runtime = undefined;
      r.Networks = {};
      r.Ports = {};
      await this.save(r).catch(() => undefined);
      throw err;
    }
    this.emit(r, 'start');
    if (this.stdins.has(id)) this.bus.emit(`stdin:${id}`);
    this.monitor(id);
    this.startHealth(id);
  }

  /** The write ends of running OpenStdin containers' stdin FIFOs, per container id. */
  private readonly stdins = new Map<string, StdinPipe>();

  /** Closes `id`'s stdin write end at once (exit, removal, failed start, engine shutdown). */
  private dropStdin(id: string): void {
    this.stdins.get(id)?.destroy();
    this.stdins.delete(id);
  }

  /**
   * The stdin pipe of `id`'s current run; before a start, waits for it. Undefined when the
   * container is removed or `conn` closes first.
   */
  private async stdinOf(id: string, conn: Duplex): Promise<StdinPipe | undefined> {
    const now = this.stdins.get(id);
    if (now || conn.destroyed || !this.records.has(id)) return now;
    return new Promise((resolve) => {
      const done = (): void => {
        this.bus.off(`stdin:${id}`, done);
        this.bus.off(`removed:${id}`, done);
        conn.off('close', done);
        resolve(this.stdins.get(id));
      };
      this.bus.on(`stdin:${id}`, done);
      this.bus.on(`removed:${id}`, done);
      conn.on('close', done);
    });
  }

  /**
   * Forwards an attach client's bytes to the init's stdin (FIFO, docs/containers.md) until the
   * client half-closes or `stop` aborts. On the client's end (EOF or a dropped connection) with
   * `StdinOnce`, closes the write end: the init reads EOF. Without it, stdin stays open for a
   * later attach (as dockerd's `OpenStdin` without `StdinOnce`). Reads nothing before
   * `outputFollowed` resolves.
   */
  private async forwardStdin(
    r: ContainerRecord,
    conn: Duplex,
    stop: AbortSignal,
    outputFollowed: Promise<void>,
  ): Promise<void> {
    const id = r.Id;
    let pipe: StdinPipe | undefined;
    try {
      await outputFollowed;
      // destroyOnReturn false: the loop ending must not close the output side of `conn`
      for await (const chunk of conn.iterator({ destroyOnReturn: false }) as AsyncIterable<
        Buffer | string
      >) {
        if (stop.aborted) return;
        pipe = await this.stdinOf(id, conn);
        if (stop.aborted) return;
        if (pipe) await pipe.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      }
    } catch {
      // a reset connection ends the client's input as its EOF does
    }
    if (stop.aborted || r.Config.StdinOnce !== true) return;
    // the run the client wrote to (or the current one when it wrote nothing)
    const current = this.stdins.get(id);
    if (current && (pipe === undefined || pipe === current)) current.close();
  }

  /** Docker's error and exit code for a failed start (OCI runtime messages, 125/126/127). */
  private startFailure(r: ContainerRecord, e: unknown): { exitCode: number; err: TscError } {
    if (e instanceof SetupError) {
      const prefix = 'failed to create task for container: OCI runtime create failed: ';
      let detail = e.message;
      if (e.exitCode === 127)
        detail = `exec: "${r.Path}": executable file not found in $PATH: ${e.message}`;
      else if (e.exitCode === 126) detail = `exec: "${r.Path}": permission denied: ${e.message}`;
      // 126/127 are the user's mistake (400, as dockerd); other setup failures are 500s
      return {
        exitCode: e.exitCode,
        err:
          e.exitCode === 125
            ? new TscError('TSC_CHILD_SETUP', `${prefix}${detail}`, { cause: e })
            : new EngineError(
                'TSC_ENGINE_INVALID',
                { kind: 'container', name: r.Id },
                `${prefix}${detail}`,
                { cause: e },
              ),
      };
    }
    if (e instanceof TscError) return { exitCode: 128, err: e };
    return {
      exitCode: 128,
      err: stateError(
        r.Id,
        `start container ${r.Id}: ${e instanceof Error ? e.message : String(e)}`,
      ),
    };
  }

  private logOptions(h: HostConfig): { maxSize?: number; maxFile?: number } {
    const cfg = (h.LogConfig as { Config?: Record<string, string> } | undefined)?.Config ?? {};
    const out: { maxSize?: number; maxFile?: number } = {};
    if (cfg['max-size']) {
      const m = /^(\d+)([kmg]?)$/i.exec(cfg['max-size']);
      if (m) {
        const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase()] ?? 1;
        out.maxSize = Number(m[1]) * mult;
      }
    }
    if (cfg['max-file']) out.maxFile = Number(cfg['max-file']);
    return out;
  }

  private portsView(
    published: ReadonlyArray<{
      protocol: string;
      hostIp: string;
      hostPort: number;
      containerPort: number;
    }>,
  ): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
    const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const p of published) {
      const key = `${p.containerPort}/${p.protocol}`;
      (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
    }
    return out;
  }

  private async writeNetworkFiles(
    r: ContainerRecord,
    kind: 'bridge' | 'host' | 'none',
    files: { hosts: string; hostname: string; resolvConf: string },
  ): Promise<void> {
    const h = r.HostConfig;
    const write = (file: string, text: string): Promise<void> =>
      fsp.writeFile(file, text, { mode: 0o644 });
    // host mode: the host's files plus extra_hosts and dns settings (NetworkManager decides)
    const hostNetwork = kind === 'host';
    const out = this.deps.networks.manager.containerFiles({
      containerId: r.Id,
      hostNetwork,
      hostname: hostNetwork ? osHostname() : r.Config.Hostname,
      domainname: r.Config.Domainname,
      extraHosts: (h.ExtraHosts as string[] | null | undefined) ?? undefined,
      dns: (h.Dns as string[] | undefined) ?? undefined,
      dnsSearch: (h.DnsSearch as string[] | undefined) ?? undefined,
      dnsOptions: (h.DnsOptions as string[] | undefined) ?? undefined,
    });
    await Promise.all([
      write(files.hosts, out.hosts),
      write(files.hostname, out.hostname),
      write(files.resolvConf, out.resolvConf),
    ]);
  }

  private async mountRootfs(r: ContainerRecord, target: string): Promise<void> {
    await fsp.mkdir(target, { recursive: true, mode: 0o755 });
    if (this.isMounted(target)) return;
    // on the libuv pool, except with relative lowerdirs: those need our cwd for the mount
    for (const m of r.RootfsMounts) {
      if (m.type === 'bind') {
        await mountAsync(m.source, target, '', MS.BIND | MS.REC);
      } else {
        const data = m.options.join(',');
        if (m.cwd) {
          const prev = process.cwd();
          process.chdir(m.cwd);
          try {
            sysMount('overlay', target, 'overlay', 0, data);
          } finally {
            process.chdir(prev);
          }
        } else await mountAsync('overlay', target, 'overlay', 0, data);
      }
    }
  }

  private isMounted(target: string): boolean {
    try {
      return readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .some((l) => l.split(' ')[4] === target);
    } catch {
      return false;
    }
  }

  /**
   * Unmounts everything stacked on `target` (at most 3 mounts): umount2(2) until it says EINVAL
   * (not a mount point) or ENOENT, without reading /proc/self/mountinfo; a busy mount is
   * detached (MNT_DETACH). On the libuv pool: an overlay unmount syncs the upper filesystem.
   */
  private async unmountRootfs(target: string): Promise<void> {
    const gone = (e: unknown): boolean =>
      e instanceof NativeError && (e.errno === 'EINVAL' || e.errno === 'ENOENT');
    for (let i = 0; i < 3; i++) {
      try {
        await umount2Async(target, 0);
      } catch (e) {
        if (gone(e)) return;
        try {
          await umount2Async(target, MNT.DETACH);
        } catch (e2) {
          if (gone(e2)) return;
          throw e2;
        }
      }
    }
  }

  // ---------------------------------------------------------------- exit monitoring

  private monitor(id: string): void {
    if (this.monitors.has(id)) return;
    const pollMs = this.deps.pollMs ?? 100;
    const rtNow = this.records.get(id)?.Runtime;
    // the shim's exit record wakes the loop at once (inotify); the poll stays as the fallback
    const waiter = rtNow
      ? new ChangeWaiter(dirname(rtNow.exitPath), [basename(rtNow.exitPath)])
      : undefined;
    const job = (async () => {
      for (;;) {
        if (this.closed) return;
        const r = this.records.get(id);
        const rt = r?.Runtime;
        if (!r || !rt || !r.State.Running) return;
        const rec = readExitRecord(rt.exitPath);
        if (rec) {
          // the shim exits right after writing the record
          for (let i = 0; i < 500 && isAlive(rt.shimPid); i++) await sleep(2);
          this.monitors.delete(id);
          await this.handleExit(id, rec);
          return;
        }
        if (!isAlive(rt.shimPid)) {
          const last = readExitRecord(rt.exitPath);
          this.monitors.delete(id);
          await this.handleExit(id, last ?? this.lostRecord(rt));
          return;
        }
        await (waiter ? waiter.wait(pollMs) : sleep(pollMs));
      }
    })()
      .catch((e: unknown) => {
        this.deps.log(`monitor ${id}: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => {
        waiter?.close();
        this.monitors.delete(id);
      });
    this.monitors.set(id, job);
  }

  /** Records an exit: cleanup of the run, state, events, then restart policy or auto-remove. */
  private async handleExit(id: string, rec: ExitRecord): Promise<void> {
    const r = this.records.get(id);
    if (!r) return;
    this.dropStdin(id);
    this.stopHealth(id);
    await this.cleanupRun(r);
    const ranMs = Date.now() - Date.parse(r.State.StartedAt);
    r.Runtime = undefined;
    r.Networks = {};
    r.Ports = {};
    r.NetnsOwner = undefined;
    r.State = {
      ...r.State,
      Status: 'exited',
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: rec.oomKilled,
      Pid: 0,
      ExitCode: rec.exitCode,
      FinishedAt: rec.finishedAt,
    };
    const restart = shouldRestart(r.HostConfig, rec.exitCode, r.RestartCount, r.ManuallyStopped);
    if (restart) {
      r.State.Restarting = true;
      r.State.Status = 'restarting';
      this.restartDelays.set(id, nextRestartDelay(this.restartDelays.get(id) ?? 0, ranMs));
    }
    const autoRemove = !restart && r.HostConfig.AutoRemove === true && !this.closed;
    // An auto-removed container's next durable state is `removing` (removeNow writes it): the
    // record on disk still says running until then, and a crash in between is recovered as an
    // exit (recover -> handleExit), which removes it again. So no write here for it.
    this.records.set(id, r);
    // The exit is reported without waiting for this fsync'd write (an auto-removed container's is
    // the removal's own): should the engine die before it lands, the record on disk still says
    // running, and the next start recovers the exit from the shim's exit record (recover ->
    // handleExit; every cleanup step is idempotent). Later writes of the container queue after
    // it, and close waits for it.
    if (!autoRemove) {
      void this.save(r).catch((e: unknown) =>
        this.deps.log(`record the exit of ${id}: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    if (rec.oomKilled) this.emit(r, 'oom');
    this.emit(r, 'die', { exitCode: String(rec.exitCode) });
    this.bus.emit(`exit:${id}`, { code: rec.exitCode, restarting: restart });
    if (restart) this.scheduleRestart(id);
    else if (autoRemove) {
      // Let attached clients read the last output before the log goes with the container
      // (`docker run --rm` attaches, then waits; dockerd removes after the streams are done).
      void this.attachesDone(id)
        .then(() =>
          this.ContainerDelete(
            id,
            { force: true, v: true, link: false },
            {
              apiVersion: '',
              signal: new AbortController().signal,
            },
          ),
        )
        .catch((e: unknown) => {
          this.deps.log(`auto-remove ${id}: ${e instanceof Error ? e.message : String(e)}`);
          // the exit was not written above: record it now that the removal failed
          const cur = this.records.get(id);
          if (cur && !cur.State.Running && cur.State.Status !== 'removing')
            void this.save(cur).catch(() => undefined);
        });
    }
  }

  /** Attach streams in progress per container id (auto-remove waits for them). */
  private readonly attaches = new Map<string, Set<Promise<void>>>();

  /** Resolves when every attach stream of `id` has ended, or after 10 s. */
  private async attachesDone(id: string): Promise<void> {
    const active = [...(this.attaches.get(id) ?? [])];
    if (active.length === 0) return;
    await Promise.race([
      Promise.allSettled(active),
      new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref()),
    ]);
  }

  /**
   * Ids whose run has been cleaned up completely since their last start (in memory only): their
   * removal skips {@link cleanupRun}. After an engine restart the set is empty and removal cleans
   * up again (every step is idempotent).
   */
  private readonly cleaned = new Set<string>();

  /**
   * Undoes what start set up (networks, ports, cgroup, rootfs mount, volume refs). Networks,
   * cgroup and rootfs are independent and undone concurrently; volume refs go after the unmount.
   * Failures are logged, not thrown; the id is marked {@link cleaned} only when every step worked.
   */
  private async cleanupRun(r: ContainerRecord): Promise<void> {
    const id = r.Id;
    let ok = true;
    const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        ok = false;
        this.deps.log(`clean up ${what} of ${id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    await Promise.all([
      attempt('networks', async () => {
        const manager = this.deps.networks.manager;
        const before = JSON.stringify(manager.state());
        // every process of the container is gone: its veths go with its netns, in the background
        await manager.releaseContainer(id, { deferLinks: true });
        // A container on no network (or released already) changes nothing worth an fsync'd write.
        // The write is not waited for: should the engine die before it lands, the network's resume
        // at the next start drops every endpoint whose host veth is gone, which is what this
        // write records (the netns took the veth); EngineNetworks.close waits for it.
        if (JSON.stringify(manager.state()) !== before) {
          void this.deps.networks
            .persist()
            .catch((e: unknown) =>
              this.deps.log(
                `persist networks after ${id}: ${e instanceof Error ? e.message : String(e)}`,
              ),
            );
        }
      }),
      // destroy, not remove: whatever still runs in it dies first (a crash left it, pid: host)
      attempt('cgroup', async () => {
        await this.deps.cgroups.open(`tscompose/${id}`).destroy();
      }),
      attempt('rootfs', () => this.unmountRootfs(this.paths(id).rootfs)),
    ]);
    for (const m of r.Mounts) {
      if (m.Type === 'volume' && m.Name) {
        const name = m.Name;
        await attempt(`volume ${name}`, () => this.deps.volumes.release(name));
      }
    }
    if (ok) this.cleaned.add(id);
  }

  private scheduleRestart(id: string): void {
    if (this.closed) return;
    const delay = this.restartDelays.get(id) ?? 100;
    this.cancelRestart(id);
    const t = setTimeout(() => {
      this.timers.delete(id);
      void this.lock
        .run(id, async () => {
          const r = this.records.get(id);
          if (!r || r.State.Running || r.ManuallyStopped || this.closed) return;
          r.RestartCount += 1;
          await this.startLocked(r);
        })
        .catch((e: unknown) => {
          this.deps.log(`restart ${id}: ${e instanceof Error ? e.message : String(e)}`);
          const r = this.records.get(id);
          if (r) {
            r.State.Restarting = false;
            r.State.Status = 'exited';
            void this.save(r).catch(() => undefined);
            this.bus.emit(`exit:${id}`, { code: r.State.ExitCode, restarting: false });
          }
        });
    }, delay);
    this.timers.set(id, t);
  }

  private cancelRestart(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  /** Resolves with the next exit of `id` (after its state is recorded). */
  private nextExit(id: string): Promise<{ code: number; restarting: boolean }> {
    return new Promise((resolve) => this.bus.once(`exit:${id}`, resolve));
  }

  // ---------------------------------------------------------------- healthchecks

  private startHealth(id: string): void {
    const r = this.records.get(id);
    const argv = healthArgv(r?.Config.Healthcheck?.Test);
    if (!r || !argv || !r.Config.Healthcheck || this.closed) return;
    const t = healthTimings(r.Config.Healthcheck);
    const started = Date.parse(r.State.StartedAt);
    const schedule = (): void => {
      const cur = this.records.get(id);
      if (!cur?.State.Running || this.closed) return;
      const inStart = Date.now() - started < t.startPeriodMs;
      const delay =
        inStart && cur.State.Health?.Status === 'starting' ? t.startIntervalMs : t.intervalMs;
      this.health.set(
        id,
        setTimeout(() => {
          const p = this.probe(id, argv, t.timeoutMs, t.retries, started + t.startPeriodMs);
          this.probes.add(p);
          void p.finally(() => {
            this.probes.delete(p);
            schedule();
          });
        }, delay),
      );
    };
    schedule();
  }

  private stopHealth(id: string): void {
    const t = this.health.get(id);
    if (t) clearTimeout(t);
    this.health.delete(id);
  }

  private async probe(
    id: string,
    argv: string[],
    timeoutMs: number,
    retries: number,
    startPeriodEnds: number,
  ): Promise<void> {
    const r = this.records.get(id);
    if (!r?.Runtime || !r.State.Running || r.State.Paused) return;
    const start = new Date().toISOString();
    let exitCode: number;
    let output = '';
    try {
      const p = startExec(r.Runtime, { argv });
      p.child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
      p.child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
      p.child.stdin?.end();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<number>((resolve) => {
        timer = setTimeout(() => {
          p.child.kill('SIGKILL');
          output = `Health check exceeded timeout (${timeoutMs / 1000}s)`;
          resolve(-1);
        }, timeoutMs);
      });
      exitCode = await Promise.race([p.started.then(() => p.exitCode), timeout]);
      clearTimeout(timer);
    } catch (e) {
      exitCode = e instanceof SetupError ? e.exitCode : -1;
      output = e instanceof Error ? e.message : String(e);
    }
    const cur = this.records.get(id);
    if (!cur?.State.Running || !cur.State.Health) return;
    const h = cur.State.Health;
    const before = h.Status;
    h.Log = [
      ...h.Log,
      {
        Start: start,
        End: new Date().toISOString(),
        ExitCode: exitCode,
        Output: output.slice(0, 4096),
      },
    ].slice(-5);
    if (exitCode === 0) {
      h.Status = 'healthy';
      h.FailingStreak = 0;
    } else if (Date.now() >= startPeriodEnds || h.Status !== 'starting') {
      h.FailingStreak += 1;
      if (h.FailingStreak >= retries) h.Status = 'unhealthy';
    }
    await this.save(cur);
    this.emit(cur, 'exec_die', { execID: '', exitCode: String(exitCode) });
    if (h.Status !== before) this.emit(cur, `health_status: ${h.Status}`);
  }

  // ---------------------------------------------------------------- stop / kill / wait / restart

  async ContainerStop(
    ref: string,
    q: { signal?: string; t?: number },
    _ctx: OperationContext,
  ): Promise<'stopped' | 'already-stopped'> {
    const r = this.get(ref);
    r.ManuallyStopped = true;
    if (r.State.Restarting || this.timers.has(r.Id)) {
      this.cancelRestart(r.Id);
      r.State.Restarting = false;
      r.State.Status = 'exited';
      await this.save(r);
      this.bus.emit(`exit:${r.Id}`, { code: r.State.ExitCode, restarting: false });
      return 'stopped';
    }
    if (!r.State.Running || !r.Runtime) return 'already-stopped';
    // ManuallyStopped only matters to a restart policy; without one the exit record (written
    // when the exit is handled) carries it, and a crash before that changes nothing
    if (restartPolicyOf(r.HostConfig) !== 'no') await this.save(r);
    const signal = parseSignal(q.signal ?? r.Config.StopSignal, 'SIGTERM');
    const secs = q.t ?? (typeof r.Config.StopTimeout === 'number' ? r.Config.StopTimeout : 10);
    const exited = this.nextExit(r.Id);
    if (r.State.Paused)
      await this.deps.cgroups
        .open(`tscompose/${r.Id}`)
        .thaw()
        .catch(() => undefined);
    // the exit monitor (inotify on the shim's exit record) reports the exit: no polling here
    await this.signalAndWait(r.Runtime, signal, secs < 0 ? -1 : secs * 1000, exited);
    await exited;
    this.emit(r, 'stop');
    return 'stopped';
  }

  /**
   * docker stop's signalling (moby daemon/stop.go): the stop signal, then SIGKILL when `exited`
   * has not resolved within `graceMs` (negative: wait forever). A container that is no longer
   * running when signalled is left to its exit monitor. Resolves once `exited` has.
   */
  private async signalAndWait(
    rt: LaunchedContainer,
    signal: NodeJS.Signals | number,
    graceMs: number,
    exited: Promise<unknown>,
  ): Promise<void> {
    const send = (sig: NodeJS.Signals | number): boolean => {
      try {
        runtimeKill(rt, sig);
        return true;
      } catch (e) {
        if (e instanceof EngineError) return false; // not running: the monitor records the exit
        throw e;
      }
    };
    if (send(signal) && graceMs >= 0) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (graceOver) send('SIGKILL');
    }
    await exited;
  }

  async ContainerKill(ref: string, signal: string, _ctx: OperationContext): Promise<void> {
    const r = this.get(ref);
    const sig = parseSignal(signal, 'SIGKILL');
    if (!r.State.Running || !r.Runtime)
      throw conflict(r.Id, `Cannot kill container: ${ref}: container ${r.Id} is not running`);
    const sigkill = sig === 'SIGKILL' || sig === 9;
    if (sigkill) {
      r.ManuallyStopped = true;
      await this.save(r);
    }
    // dockerd's SIGKILL kill answers once the container has exited (moby daemon/kill.go)
    const exited = sigkill ? this.exitWithin(r.Id, KILL_EXIT_WAIT_MS) : undefined;
    runtimeKill(r.Runtime, sig);
    this.emit(r, 'kill', {
      signal: String(typeof sig === 'number' ? sig : osConstants.signals[sig]),
    });
    // a frozen process dies only once thawed (as moby resumes a paused container it kills)
    if (sigkill && r.State.Paused)
      await this.deps.cgroups
        .open(`tscompose/${r.Id}`)
        .thaw()
        .catch(() => undefined);
    await exited;
  }

  /** Resolves at `id`'s next exit, or after `ms` (true when it exited); never rejects. */
  private exitWithin(id: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.bus.off(`exit:${id}`, done);
        resolve(false);
      }, ms);
      timer.unref();
      this.bus.once(`exit:${id}`, done);
    });
  }

  async ContainerWait(
    ref: string,
    condition: 'not-running' | 'next-exit' | 'removed',
    ctx: OperationContext,
  ): Promise<{ StatusCode: number; Error?: { Message: string } }> {
    const r = this.get(ref);
    const id = r.Id;
    if (condition === 'not-running' && !r.State.Running && !r.State.Restarting)
      return { StatusCode: r.State.ExitCode };
    return new Promise((resolve) => {
      const onAbort = (): void => {
        cleanup();
        resolve({ StatusCode: -1 });
      };
      const onExit = (e: { code: number; restarting: boolean }): void => {
        if (condition === 'removed') return;
        if (condition === 'not-running' && e.restarting) return;
        cleanup();
        resolve({ StatusCode: e.code });
      };
      const onRemoved = (code: number): void => {
        cleanup();
        resolve({ StatusCode: code });
      };
      const cleanup = (): void => {
        this.bus.off(`exit:${id}`, onExit);
        this.bus.off(`removed:${id}`, onRemoved);
        ctx.signal.removeEventListener('abort', onAbort);
      };
      this.bus.on(`exit:${id}`, onExit);
      this.bus.on(`removed:${id}`, onRemoved);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async ContainerRestart(
    ref: string,
    q: { signal?: string; t?: number },
    ctx: OperationContext,
  ): Promise<void> {
    const r = this.get(ref);
    if (r.State.Running) await this.ContainerStop(ref, q, ctx);
    await this.lock.run(r.Id, async () => {
      const cur = this.records.get(r.Id);
      if (!cur) throw notFound(ref);
      this.cancelRestart(cur.Id);
      cur.ManuallyStopped = false;
      if (!cur.State.Running) await this.startLocked(cur);
    });
    this.emit(r, 'restart');
  }

  // ---------------------------------------------------------------- remove

  async ContainerDelete(
    ref: string,
    q: { force: boolean; v: boolean; link: boolean },
    _ctx: OperationContext,
  ): Promise<void> {
    const r = this.get(ref);
    if (q.link) throw unsupported('removing legacy links');
    if ((r.State.Running || r.State.Restarting) && !q.force) {
      const what = r.State.Paused ? 'paused' : r.State.Restarting ? 'restarting' : 'running';
      throw conflict(
        r.Id,
        `cannot remove container "${r.Name}": container is ${what}: stop the container before removing or force remove`,
      );
    }
    r.ManuallyStopped = true;
    this.cancelRestart(r.Id);
    if (r.State.Running && r.Runtime) {
      const exited = this.nextExit(r.Id);
      if (r.State.Paused)
        await this.deps.cgroups
          .open(`tscompose/${r.Id}`)
          .thaw()
          .catch(() => undefined);
      try {
        runtimeKill(r.Runtime, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
      await exited;
    }
    await this.lock.run(r.Id, () => this.removeNow(r, q.v));
  }

  private async removeNow(r: ContainerRecord, volumes: boolean): Promise<void> {
    if (!this.records.has(r.Id)) return;
    r.State.Status = 'removing';
    if (!this.cleaned.has(r.Id)) {
      // something of the run may be left (a crash, a failed cleanup): say so durably first, so
      // a crash during the cleanup resumes the removal (recover)
      await this.save(r);
      await this.cleanupRun(r);
    }
    this.cleaned.delete(r.Id);
    // the commit point: one rename(2) takes the record (and the log, exit record, network
    // files) out of the collection, after any write still queued; the snapshot follows, and one
    // a crash leaves behind is swept at the next start (removeLeftovers)
    this.removed.add(r.Id);
    setTimeout(() => this.removed.delete(r.Id), 60_000).unref();
    try {
      await this.serialWrite(r.Id, () => this.collection.discard(r.Id));
    } catch (e) {
      this.removed.delete(r.Id);
      throw e;
    }
    await this.deps.images.removeSnapshot(r.Id);
    for (const [eid, e] of this.execs) if (e.ContainerID === r.Id) this.execs.delete(eid);
    this.records.delete(r.Id);
    this.dropStdin(r.Id);
    this.names.release(r.Name.slice(1), r.Id);
    if (volumes) {
      for (const m of r.Mounts) {
        if (m.Type === 'volume' && m.Anonymous && m.Name) {
          await this.deps.volumes
            .remove(m.Name)
            .catch((e: unknown) =>
              this.deps.log(
                `remove volume ${m.Name ?? ''}: ${e instanceof Error ? e.message : String(e)}`,
              ),
            );
        }
      }
    }
    this.emit(r, 'destroy');
    this.bus.emit(`removed:${r.Id}`, r.State.ExitCode);
  }

  async ContainerPrune(
    filters: ApiFilters,
    ctx: OperationContext,
  ): Promise<Dockerode.PruneContainersInfo> {
    const deleted: string[] = [];
    for (const r of [...this.records.values()]) {
      if (r.State.Running || r.State.Restarting) continue;
      if (!matchesFilters(r, filters.label ? { label: filters.label } : {})) continue;
      await this.ContainerDelete(r.Id, { force: false, v: false, link: false }, ctx);
      deleted.push(r.Id);
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }

  // ---------------------------------------------------------------- pause / rename / update

  async ContainerPause(ref: string, _ctx: OperationContext): Promise<void> {
    const r = this.get(ref);
    await this.lock.run(r.Id, async () => {
      if (!r.State.Running) throw conflict(r.Id, `container ${r.Id} is not running`);
      if (r.State.Paused) throw conflict(r.Id, `container ${r.Id} is already paused`);
      await this.deps.cgroups.open(`tscompose/${r.Id}`).freeze();
      r.State.Paused = true;
      r.State.Status = 'paused';
      await this.save(r);
    });
    this.emit(r, 'pause');
  }

  async ContainerUnpause(ref: string, _ctx: OperationContext): Promise<void> {
    const r = this.get(ref);
    await this.lock.run(r.Id, async () => {
      if (!r.State.Paused) throw conflict(r.Id, `container ${r.Id} is not paused`);
      await this.deps.cgroups.open(`tscompose/${r.Id}`).thaw();
      r.State.Paused = false;
      r.State.Status = 'running';
      await this.save(r);
    });
    this.emit(r, 'unpause');
  }

  async ContainerRename(ref: string, name: string, _ctx: OperationContext): Promise<void> {
    const r = this.get(ref);
    const next = normalizeName(name);
    const old = r.Name;
    if (next === old)
      throw conflict(r.Id, 'Renaming a container with the same name as its current name');
    await this.lock.run(r.Id, async () => {
      this.names.reserve(next.slice(1), r.Id);
      r.Name = next;
      try {
        await this.save(r);
      } catch (e) {
        this.names.release(next.slice(1), r.Id);
        r.Name = old;
        throw e;
      }
      this.names.release(old.slice(1), r.Id);
    });
    this.emit(r, 'rename', { oldName: old });
  }

  async ContainerUpdate(
    ref: string,
    resources: Record<string, unknown>,
    _ctx: OperationContext,
  ): Promise<{ Warnings: string[] }> {
    const r = this.get(ref);
    await this.lock.run(r.Id, async () => {
      const rp = resources.RestartPolicy as HostConfig['RestartPolicy'] | undefined;
      const next: HostConfig = { ...r.HostConfig, ...resources };
      if (rp) checkRestartPolicy(next);
      if (r.State.Running)
        await this.deps.cgroups.open(`tscompose/${r.Id}`).update(resourcesOf(next));
      r.HostConfig = next;
      await this.save(r);
    });
    this.emit(r, 'update');
    return { Warnings: [] };
  }

  ContainerResize(ref: string, _h: number, _w: number, _ctx: OperationContext): Promise<void> {
    return this.settle(() => {
      const r = this.get(ref);
      if (!r.State.Running) throw conflict(r.Id, `container ${r.Id} is not running`);
      // containers have no TTY of their own here (the shim gives them pipes): nothing to resize
    });
  }

  /**
   * Runs `fn` over the container's filesystem (engine/containers/archive.ts): a running container
   * through `/proc/<init>/root` (its mounts included); any other with its rootfs mounted for the
   * call under the container's lock, bind and volume mounts mapped by path.
   */
  private async withView<T>(ref: string, fn: (view: FsView) => Promise<T>): Promise<T> {
    const r = this.get(ref);
    const mounts = (proc: boolean): ViewMount[] =>
      r.Mounts.filter((m) => m.Type !== 'tmpfs' || proc).map((m) => ({
        destination: m.Destination,
        source: proc || m.Source === '' ? undefined : m.Source,
        readOnly: !m.RW,
      }));
    const base = { ref, readonlyRootfs: r.HostConfig.ReadonlyRootfs === true };
    const live = (): number | undefined => {
      const pid = r.State.Running ? r.Runtime?.initPid : undefined;
      return pid !== undefined && isAlive(pid) ? pid : undefined;
    };
    const pid = live();
    if (pid !== undefined) return fn({ ...base, root: `/proc/${pid}/root`, mounts: mounts(true) });
    let viaProc: number | undefined;
    const out = await this.lock.run(r.Id, async () => {
      viaProc = live();
      if (viaProc !== undefined) return undefined;
      const target = this.paths(r.Id).rootfs;
      const wasMounted = this.isMounted(target);
      if (!wasMounted) await this.mountRootfs(r, target);
      try {
        return { v: await fn({ ...base, root: target, mounts: mounts(false) }) };
      } finally {
        if (!wasMounted) await this.unmountRootfs(target);
      }
    });
    if (out) return out.v;
    return fn({ ...base, root: `/proc/${viaProc}/root`, mounts: mounts(true) });
  }

  ContainerArchiveInfo(
    ref: string,
    path: string,
    _ctx: OperationContext,
  ): Promise<ContainerPathStat> {
    return this.withView(ref, async (view) => (await statPath(view, path)).stat);
  }

  ContainerArchive(
    ref: string,
    path: string,
    open: (stat: ContainerPathStat) => Writable,
    _ctx: OperationContext,
  ): Promise<void> {
    return this.withView(ref, async (view) => {
      const found = await statPath(view, path);
      await writeArchive(view, found, open(found.stat));
    });
  }

  PutContainerArchive(
    ref: string,
    path: string,
    q: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean },
    tar: Readable,
    _ctx: OperationContext,
  ): Promise<void> {
    const user = this.get(ref).Config.User ?? '';
    return this.withView(ref, (view) => extractArchive(view, path, tar, { ...q, user }));
  }

  // ---------------------------------------------------------------- logs / attach / top / stats

  async ContainerLogs(
    ref: string,
    q: ContainerLogsQuery,
    out: Writable,
    ctx: OperationContext,
  ): Promise<void> {
    const r = this.get(ref);
    const id = r.Id;
    await streamLogs(
      this.paths(id).logPath,
      q,
      r.Config.Tty,
      out,
      () => this.records.get(id)?.State.Running === true || this.timers.has(id),
      ctx.signal,
    );
  }

  /** Whether `ref`'s output is raw (TTY) rather than multiplexed. */
  isTty(ref: string): boolean {
    return this.get(ref).Config.Tty;
  }

  async ContainerAttach(
    ref: string,
    q: { logs: boolean; stream: boolean; detachKeys?: string },
    streams: AttachStreams,
    ctx: OperationContext,
  ): Promise<void> {
    const r = this.get(ref);
    const id = r.Id;
    let done = false;
    let poke: (() => void) | undefined;
    const onExit = (): void => {
      done = true;
      poke?.(); // end the follow now, not at its next poll
    };
    this.bus.on(`exit:${id}`, onExit);
    this.bus.on(`removed:${id}`, onExit);
    // a client that goes while output still flows (EPIPE, ECONNRESET) only ends its attach: the
    // socket is destroyed, which ends the log follow and the stdin forward
    streams.conn.on('error', () => undefined);
    const stopStdin = new AbortController();
    // input goes to the init once the log follow has taken its start offset, so the output of
    // what the client sends right after the upgrade is not skipped as old
    let following: () => void = () => undefined;
    const followed = new Promise<void>((resolve) => (following = resolve));
    // stdin of a container without OpenStdin is not read (dockerd ignores it too)
    if (streams.stdin && q.stream && r.Config.OpenStdin === true)
      void this.forwardStdin(r, streams.conn, stopStdin.signal, followed);
    try {
      const query: ContainerLogsQuery = {
        follow: q.stream,
        stdout: streams.stdout,
        stderr: streams.stderr,
        since: 0,
        until: 0,
        timestamps: false,
        tail: q.logs ? 'all' : 0,
      };
      // an attach before start waits for the start, then follows until the exit
      const streaming = streamLogs(
        this.paths(id).logPath,
        query,
        !streams.multiplexed,
        streams.conn,
        () => !done,
        ctx.signal,
        (p) => {
          poke = p;
          following();
        },
      );
      const set = this.attaches.get(id) ?? new Set<Promise<void>>();
      this.attaches.set(id, set);
      set.add(streaming);
      try {
        await streaming;
      } finally {
        set.delete(streaming);
        if (set.size === 0) this.attaches.delete(id);
      }
    } finally {
      stopStdin.abort();
      following();
      this.bus.off(`exit:${id}`, onExit);
      this.bus.off(`removed:${id}`, onExit);
      if (!streams.conn.destroyed) streams.conn.end();
    }
  }

  async ContainerTop(
    ref: string,
    psArgs: string,
    _ctx: OperationContext,
  ): Promise<{ Titles: string[]; Processes: string[][] }> {
    const r = this.get(ref);
    if (!r.State.Running) throw conflict(r.Id, `container ${r.Id} is not running`);
    const pids = new Set(await this.deps.cgroups.open(`tscompose/${r.Id}`).pids());
    const args = (psArgs || '-ef').split(/\s+/).filter((a) => a !== '');
    const text = await new Promise<string>((resolve, reject) =>
      execFile('ps', args, { encoding: 'utf8' }, (err, stdout) =>
        err ? reject(stateError(r.Id, `ps ${args.join(' ')}: ${err.message}`)) : resolve(stdout),
      ),
    );
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const titles = (lines[0] ?? '').trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol < 0) throw stateError(r.Id, `ps ${args.join(' ')}: no PID column`);
    const processes: string[][] = [];
    for (const line of lines.slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (!pids.has(Number(cols[pidCol]))) continue;
      processes.push([
        ...cols.slice(0, titles.length - 1),
        cols.slice(titles.length - 1).join(' '),
      ]);
    }
    return { Titles: titles, Processes: processes };
  }

  async ContainerStats(
    ref: string,
    q: { stream: boolean; oneShot: boolean },
    out: Writable,
    ctx: OperationContext,
  ): Promise<void> {
    const r = this.get(ref);
    const cgroup = this.deps.cgroups.open(`tscompose/${r.Id}`);
    const abort = new AbortController();
    ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
    let n = 0;
    const want = q.stream ? Infinity : q.oneShot ? 1 : 2;
    try {
      for await (const s of streamDockerStats(cgroup, {
        id: r.Id,
        name: r.Name,
        signal: abort.signal,
      })) {
        n++;
        if (q.stream || n >= want) await writeJsonLine(out, s);
        if (n >= want || !this.records.get(r.Id)?.State.Running) break;
      }
    } catch (e) {
      if (n === 0) throw e;
    } finally {
      abort.abort();
    }
  }

  // ---------------------------------------------------------------- networks of a container

  /**
   * `NetworkConnect`: a running container gets the NIC live; a created one has it recorded for its
   * start. Throws 404 for unknown containers/networks, 409 when already connected.
   */
  async networkConnect(ref: string, network: string, cfg: Record<string, unknown>): Promise<void> {
    const r = this.get(ref);
    const net = this.deps.networks.manager.inspect(network);
    await this.lock.run(r.Id, async () => {
      if (net.Name in r.NetworkingConfig.EndpointsConfig && !r.State.Running)
        throw conflict(
          r.Id,
          `endpoint with name ${r.Name.slice(1)} already exists in network ${net.Name}`,
        );
      const mode = String(r.HostConfig.NetworkMode ?? '');
      if (mode === 'host' || mode === 'none' || mode.startsWith('container:'))
        throw conflict(
          r.Id,
          `container cannot be disconnected from host network or connected to host network`,
        );
      if (r.State.Running) {
        const ipam = (cfg.IPAMConfig ?? {}) as Record<string, unknown>;
        await this.deps.networks.manager.connect(net.Id, {
          containerId: r.Id,
          containerName: r.Name.slice(1),
          hostname: r.Config.Hostname,
          pid: r.State.Pid,
          aliases: (cfg.Aliases as string[] | undefined) ?? [],
          ipv4Address: (ipam.IPv4Address as string | undefined) || undefined,
          ipv6Address: (ipam.IPv6Address as string | undefined) || undefined,
        });
        await this.deps.networks.persist();
        r.Networks = this.deps.networks.manager.containerNetworks(r.Id);
        await this.writeNetworkFiles(r, 'bridge', {
          hosts: this.paths(r.Id).hostsPath,
          hostname: this.paths(r.Id).hostnamePath,
          resolvConf: this.paths(r.Id).resolvConfPath,
        });
      }
      r.NetworkingConfig.EndpointsConfig[net.Name] = cfg;
      await this.save(r);
    });
    this.deps.events.publish({
      Type: 'network',
      Action: 'connect',
      ID: net.Id,
      Attributes: { container: r.Id, name: net.Name, type: 'bridge' },
    });
  }

  /** `NetworkDisconnect`. Throws 404 when the container is not on the network. */
  async networkDisconnect(ref: string, network: string): Promise<void> {
    const r = this.get(ref);
    const net = this.deps.networks.manager.inspect(network);
    await this.lock.run(r.Id, async () => {
      if (!(net.Name in r.NetworkingConfig.EndpointsConfig) && !(net.Name in r.Networks))
        throw new EngineError(
          'TSC_ENGINE_NOT_FOUND',
          { kind: 'container', name: r.Id },
          `container ${r.Id} is not connected to network ${net.Name}`,
        );
      if (r.State.Running && net.Name in r.Networks) {
        await this.deps.networks.manager.disconnect(net.Id, r.Id);
        await this.deps.networks.persist();
        r.Networks = this.deps.networks.manager.containerNetworks(r.Id);
      }
      delete r.NetworkingConfig.EndpointsConfig[net.Name];
      await this.save(r);
    });
    this.deps.events.publish({
      Type: 'network',
      Action: 'disconnect',
      ID: net.Id,
      Attributes: { container: r.Id, name: net.Name, type: 'bridge' },
    });
  }

  // ---------------------------------------------------------------- exec

  ExecCreate(
    ref: string,
    body: Omit<Dockerode.ExecCreateOptions, 'abortSignal'>,
    _ctx: OperationContext,
  ): Promise<{ Id: string }> {
    return this.settle(() => {
      const r = this.get(ref);
      if (!r.State.Running) throw conflict(r.Id, `container ${r.Id} is not running`);
      if (r.State.Paused)
        throw conflict(r.Id, `container ${r.Id} is paused, unpause the container before exec`);
      const cmd = body.Cmd ?? [];
      if (cmd.length === 0)
        throw new EngineError(
          'TSC_ENGINE_INVALID',
          { kind: 'exec', name: r.Id },
          'No exec command specified',
        );
      const e: ExecInstance = {
        ID: randomBytes(32).toString('hex'),
        ContainerID: r.Id,
        Running: false,
        ExitCode: null,
        Pid: 0,
        OpenStdin: body.AttachStdin === true,
        OpenStdout: body.AttachStdout === true,
        OpenStderr: body.AttachStderr === true,
        Tty: body.Tty === true,
        argv: [...cmd],
        env: [...(body.Env ?? [])],
        user: body.User ?? '',
        workingDir: body.WorkingDir ?? '',
        privileged: body.Privileged === true,
        started: false,
      };
      this.execs.set(e.ID, e);
      this.emit(r, `exec_create: ${e.argv.join(' ')}`, { execID: e.ID });
      return { Id: e.ID };
    });
  }

  private getExec(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e)
      throw new EngineError(
        'TSC_ENGINE_NOT_FOUND',
        { kind: 'exec', name: id },
        `No such exec instance: ${id}`,
      );
    return e;
  }

  /** Whether an exec's output is raw (TTY). */
  execTty(id: string): boolean {
    return this.getExec(id).Tty;
  }

  async ExecStart(
    execId: string,
    body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] },
    streams: AttachStreams | undefined,
    _ctx: OperationContext,
  ): Promise<void> {
    const e = this.getExec(execId);
    if (e.started) throw conflict(execId, `Error: Exec command ${execId} has already run`);
    const r = this.records.get(e.ContainerID);
    if (!r?.Runtime || !r.State.Running)
      throw conflict(e.ContainerID, `container ${e.ContainerID} is not running`);
    e.started = true;
    e.Running = true;
    const tty = body.Tty ?? e.Tty;
    const p = startExec(r.Runtime, {
      argv: e.argv,
      env: e.env,
      user: e.user || undefined,
      workingDir: e.workingDir || undefined,
      tty,
      privileged: e.privileged,
    });
    e.Pid = p.child.pid ?? 0;
    this.emit(r, `exec_start: ${e.argv.join(' ')}`, { execID: e.ID });
    p.child.stdin?.on('error', () => undefined);
    const conn = streams?.conn;
    const framed = streams?.multiplexed === true;
    const send = (stream: typeof STDOUT | typeof STDERR, d: Buffer): void => {
      if (!conn || conn.destroyed) return;
      conn.write(framed ? encodeFrame(stream, d) : d);
    };
    const outDone = new Promise<void>((resolve) => {
      let open = 0;
      const end = (): void => {
        if (--open <= 0) resolve();
      };
      for (const [s, id] of [
        [p.child.stdout, STDOUT],
        [p.child.stderr, STDERR],
      ] as const) {
        if (!s) continue;
        open++;
        s.on('data', (d: Buffer) => send(id, d));
        s.on('end', end);
        s.on('error', end);
      }
      if (open === 0) resolve();
    });
    if (conn && streams?.stdin && e.OpenStdin && p.child.stdin) {
      conn.pipe(p.child.stdin);
    } else p.child.stdin?.end();
    const finish = async (): Promise<number> => {
      let code: number;
      try {
        await p.started;
        code = await p.exitCode;
      } catch (err) {
        code = err instanceof SetupError ? err.exitCode : 126;
        const msg = `OCI runtime exec failed: exec failed: ${
          err instanceof SetupError && err.exitCode === 127
            ? `exec: "${e.argv[0] ?? ''}": executable file not found in $PATH`
            : err instanceof Error
              ? err.message
              : String(err)
        }: unknown\r\n`;
        send(STDOUT, Buffer.from(msg));
      }
      await Promise.race([outDone, sleep(2000)]);
      e.Running = false;
      e.ExitCode = code;
      const cur = this.records.get(e.ContainerID);
      if (cur) this.emit(cur, 'exec_die', { execID: e.ID, exitCode: String(code) });
      if (conn && !conn.destroyed) conn.end();
      return code;
    };
    e.exited = finish();
    if (body.Detach || !streams) return;
    await e.exited;
  }

  ExecInspect(execId: string, _ctx: OperationContext): Promise<Dockerode.ExecInspectInfo> {
    return this.settle(() => {
      const e = this.getExec(execId);
      const [entrypoint = '', ...args] = e.argv;
      return {
        CanRemove: false,
        ContainerID: e.ContainerID,
        DetachKeys: '',
        ExitCode: e.ExitCode,
        ID: e.ID,
        OpenStderr: e.OpenStderr,
        OpenStdin: e.OpenStdin,
        OpenStdout: e.OpenStdout,
        ProcessConfig: {
          arguments: args,
          entrypoint,
          privileged: e.privileged,
          tty: e.Tty,
          user: e.user,
        },
        Running: e.Running,
        Pid: e.Pid,
      };
    });
  }

  ExecResize(execId: string, _h: number, _w: number, _ctx: OperationContext): Promise<void> {
    return this.settle(() => {
      this.getExec(execId);
      throw unsupported('ExecResize (POST /exec/{id}/resize)');
    });
  }
}
