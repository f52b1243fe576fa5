/**
 * Pure container-config rules of the Docker daemon: the container record type, image config merged
 * into the create request (moby daemon/commit.go merge), argv from Entrypoint + Cmd, binds/mounts/
 * tmpfs/port parsing, restart policy decisions with Docker's backoff. No I/O here.
 */
import { EngineError } from '../../base/errors.js';
import type { ImageRuntimeConfig, HealthConfig } from '../images/oci.js';
import type { EndpointSettings, PortSpec } from '../networks/index.js';
import type { LaunchedContainer } from '../runtime/index.js';
import type { Mount } from '../images/snapshot.js';

/** Docker `Config` of a container (API "ContainerConfig"); only the fields we use are typed. */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object> | undefined;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig | undefined;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string | undefined;
  StopTimeout?: number | undefined;
  [k: string]: unknown;
}

/** Docker `HostConfig` (API "HostConfig"); loosely typed, read through helpers. */
export type HostConfig = Record<string, unknown> & {
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  AutoRemove?: boolean;
  Mounts?: Array<Record<string, unknown>> | null;
  Tmpfs?: Record<string, string> | null;
};

/** Docker's `State` of a container (API "ContainerState"). */
export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState | undefined;
}

/** Docker's `Health` (API "Health"). */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy' | 'none';
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

/** A mount of a container as inspect shows it (API "MountPoint"), plus how we resolve it. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string | undefined;
  Source: string;
  Destination: string;
  Driver?: string | undefined;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Volume copy-up disabled (`nocopy`). */
  NoCopy?: boolean | undefined;
  /** tmpfs size in bytes and mode. */
  TmpfsSize?: number | undefined;
  TmpfsMode?: number | undefined;
  /** Anonymous volume (removed with `rm -v`). */
  Anonymous?: boolean | undefined;
  /**
   * A missing bind source is created as a directory at start (`HostConfig.Binds`, as dockerd
   * does for `-v`); a `HostConfig.Mounts` bind source must exist.
   */
  CreateHostPath?: boolean | undefined;
}

/** The persisted container record (`<data-root>/containers/<id>/record.json`). */
export interface ContainerRecord {
  Id: string;
  /** With the leading '/'. */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** Image id (`sha256:...`). */
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkingConfig: { EndpointsConfig: Record<string, Record<string, unknown>> };
  State: ContainerState;
  RestartCount: number;
  /** Stopped by the user (unless-stopped/always do not restart it; moby HasBeenManuallyStopped). */
  ManuallyStopped: boolean;
  Mounts: MountPoint[];
  /** How to mount the rootfs (from the image store's snapshot). */
  RootfsMounts: Mount[];
  /** The running container as the runtime knows it (kept across daemon restarts). */
  Runtime?: LaunchedContainer | undefined;
  /** Networks the container is on while running. */
  Networks: Record<string, EndpointSettings>;
  /** Published ports while running (`80/tcp` -> bindings). */
  Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  /** Container that owns the network namespace (`container:<id>` mode). */
  NetnsOwner?: string | undefined;
}

/** Docker's zero time. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

function invalid(what: string, message: string): EngineError {
  return new EngineError('TSC_ENGINE_INVALID', { kind: 'container', name: what }, message);
}

/** `KEY` of `KEY=value`. */
function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/**
 * Merges the image config into the request's Config (moby daemon/commit.go `merge`): User,
 * WorkingDir, StopSignal from the image when unset; Env: the container's, then image entries
 * whose key it lacks; ExposedPorts/Volumes/Labels unioned (container wins); Entrypoint/Cmd: an
 * explicit Entrypoint drops the image Cmd; without one, the image Entrypoint is used and the image
 * Cmd when no Cmd was given; Healthcheck: the image's, with the container's non-zero fields over it.
 */
export function mergeImageConfig(
  req: Partial<ContainerConfig>,
  image: ImageRuntimeConfig,
): ContainerConfig {
  const env = [...(req.Env ?? [])];
  const keys = new Set(env.map(envKey));
  for (const e of image.Env ?? []) if (!keys.has(envKey(e))) env.push(e);
  let entrypoint = req.Entrypoint ?? null;
  let cmd = req.Cmd ?? null;
  if (typeof entrypoint === 'string') entrypoint = [entrypoint];
  if (typeof cmd === 'string') cmd = [cmd];
  if (entrypoint === null || entrypoint.length === 0) {
    if (cmd === null || cmd.length === 0) cmd = image.Cmd ? [...image.Cmd] : null;
    if (entrypoint === null) entrypoint = image.Entrypoint ? [...image.Entrypoint] : null;
  }
  let health: HealthConfig | undefined = image.Healthcheck;
  if (req.Healthcheck) {
    const r = req.Healthcheck;
    const base = image.Healthcheck ?? {};
    health = {
      Test: r.Test && r.Test.length > 0 ? r.Test : base.Test,
      Interval: r.Interval || base.Interval,
      Timeout: r.Timeout || base.Timeout,
      StartPeriod: r.StartPeriod || base.StartPeriod,
      StartInterval: r.StartInterval || base.StartInterval,
      Retries: r.Retries || base.Retries,
    };
  }
  const volumes = { ...(image.Volumes ?? {}), ...(req.Volumes ?? {}) };
  const exposed = { ...(image.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) };
  const out: ContainerConfig = {
    ...req,
    Hostname: req.Hostname ?? '',
    Domainname: req.Domainname ?? '',
    User: req.User || image.User || '',
    AttachStdin: req.AttachStdin ?? false,
    AttachStdout: req.AttachStdout ?? false,
    AttachStderr: req.AttachStderr ?? false,
    Tty: req.Tty ?? false,
    OpenStdin: req.OpenStdin ?? false,
    StdinOnce: req.StdinOnce ?? false,
    Env: env,
    Cmd: cmd,
    Image: req.Image ?? '',
    Volumes: Object.keys(volumes).length > 0 ? volumes : null,
    WorkingDir: req.WorkingDir || image.WorkingDir || '',
    Entrypoint: entrypoint,
    Labels: { ...(image.Labels ?? {}), ...(req.Labels ?? {}) },
  };
  if (Object.keys(exposed).length > 0) out.ExposedPorts = exposed;
  else delete out.ExposedPorts;
  if (health) out.Healthcheck = health;
  else delete out.Healthcheck;
  const stop = req.StopSignal || image.StopSignal;
  if (stop) out.StopSignal = stop;
  else delete out.StopSignal;
  return out;
}

/** Entrypoint + Cmd; throws TSC_ENGINE_INVALID "no command specified" when empty (moby). */
export function containerArgv(c: ContainerConfig): string[] {
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (argv.length === 0) throw invalid('Cmd', 'no command specified');
  return argv;
}

/** Docker's container name rule (moby `restrictedNamePattern`). */
export const CONTAINER_NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Checks a requested name and returns it with the leading '/'. Throws TSC_ENGINE_INVALID. */
export function normalizeName(name: string): string {
  if (!CONTAINER_NAME_RE.test(name)) {
    throw invalid(
      name,
      `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  return name.startsWith('/') ? name : `/${name}`;
}

const ADJECTIVES = ['admiring', 'brave', 'calm', 'eager', 'happy', 'jolly', 'keen', 'quirky'];
const NOUNS = ['turing', 'hopper', 'lovelace', 'curie', 'noether', 'ritchie', 'thompson', 'knuth'];

/** A generated `adjective_surname` name (moby namesgenerator style), `n` picks one. */
export function generatedName(n: number): string {
  const a = ADJECTIVES[n % ADJECTIVES.length] ?? 'brave';
  const b = NOUNS[Math.floor(n / ADJECTIVES.length) % NOUNS.length] ?? 'turing';
  const suffix = n >= ADJECTIVES.length * NOUNS.length ? String(n) : '';
  return `/${a}_${b}${suffix}`;
}

/** Bytes of a size like `64m`, `1g`, `512k`, `100` (docker/go-units RAMInBytes). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(text.trim());
  if (!m) throw invalid('size', `invalid size: '${text}'`);
  const mult: Record<string, number> = {
    '': 1,
    k: 1024,
    m: 1024 ** 2,
    g: 1024 ** 3,
    t: 1024 ** 4,
    p: 1024 ** 5,
  };
  return Math.round(Number(m[1]) * (mult[(m[2] ?? '').toLowerCase()] ?? 1));
}

/**
 * Mount points of a create request: `HostConfig.Binds` (`src:dst[:opts]`, a non-absolute src is a
 * named volume), `HostConfig.Mounts` (bind/volume/tmpfs), `HostConfig.Tmpfs`, and anonymous
 * volumes for `Config.Volumes` paths nothing else mounts. Volume sources are volume names here.
 */
export function parseMounts(config: ContainerConfig, host: HostConfig): MountPoint[] {
  const out: MountPoint[] = [];
  const taken = (dst: string): boolean => out.some((m) => m.Destination === dst);
  for (const bind of host.Binds ?? []) {
    const parts = bind.split(':');
    if (parts.length < 2 || parts.length > 3)
      throw invalid('Binds', `invalid volume specification: '${bind}'`);
    const [src = '', dst = '', opts = ''] = parts;
    if (!dst.startsWith('/'))
      throw invalid('Binds', `invalid mount config: mount path must be absolute: '${bind}'`);
    const flags = opts.split(',').filter((o) => o !== '');
    const ro = flags.includes('ro');
    const prop = flags.find((f) => /^r?(shared|slave|private)$/.test(f)) ?? 'rprivate';
    if (taken(dst)) throw invalid('Binds', `Duplicate mount point: ${dst}`);
    if (src.startsWith('/')) {
      out.push({
        Type: 'bind',
        Source: src,
        Destination: dst,
        Mode: opts,
        RW: !ro,
        Propagation: prop,
        CreateHostPath: true,
      });
    } else {
      out.push({
        Type: 'volume',
        Name: src,
        Source: '',
        Destination: dst,
        Driver: 'local',
        Mode: opts === '' ? 'z' : opts,
        RW: !ro,
        Propagation: '',
        NoCopy: flags.includes('nocopy'),
      });
    }
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  for (const m of host.Mounts ?? []) {
    const type = str(m.Type);
    const dst = str(m.Target) || str(m.Destination);
    const src = str(m.Source);
    const ro = m.ReadOnly === true;
    if (!dst.startsWith('/'))
      throw invalid('Mounts', `invalid mount config: mount path must be absolute: '${dst}'`);
    if (taken(dst)) throw invalid('Mounts', `Duplicate mount point: ${dst}`);
    if (type === 'bind') {
      const bo = (m.BindOptions ?? {}) as Record<string, unknown>;
      out.push({
        Type: 'bind',
        Source: src,
        Destination: dst,
        Mode: '',
        RW: !ro,
        Propagation: str(bo.Propagation) || 'rprivate',
      });
    } else if (type === 'volume') {
      const vo = (m.VolumeOptions ?? {}) as Record<string, unknown>;
      out.push({
        Type: 'volume',
        Name: src,
        Source: '',
        Destination: dst,
        Driver: 'local',
        Mode: 'z',
        RW: !ro,
        Propagation: '',
        NoCopy: vo.NoCopy === true,
        Anonymous: src === '',
      });
    } else if (type === 'tmpfs') {
      const to = (m.TmpfsOptions ?? {}) as Record<string, unknown>;
      out.push({
        Type: 'tmpfs',
        Source: '',
        Destination: dst,
        Mode: '',
        RW: !ro,
        Propagation: '',
        TmpfsSize: typeof to.SizeBytes === 'number' ? to.SizeBytes : undefined,
        TmpfsMode: typeof to.Mode === 'number' ? to.Mode : undefined,
      });
    } else {
      throw invalid('Mounts', `invalid mount config: mount type unknown: '${type}'`);
    }
  }
  for (const [dst, opts] of Object.entries(host.Tmpfs ?? {})) {
    if (taken(dst)) throw invalid('Tmpfs', `Duplicate mount point: ${dst}`);
    let size: number | undefined;
    let mode: number | undefined;
    for (const o of opts.split(',')) {
      if (o.startsWith('size=')) size = parseBytes(o.slice(5));
      else if (o.startsWith('mode=')) mode = Number.parseInt(o.slice(5), 8);
    }
    out.push({
      Type: 'tmpfs',
      Source: '',
      Destination: dst,
      Mode: opts,
      RW: !opts.split(',').includes('ro'),
      Propagation: '',
      TmpfsSize: size,
      TmpfsMode: mode,
    });
  }
  for (const dst of Object.keys(config.Volumes ?? {})) {
    if (taken(dst)) continue;
    out.push({
      Type: 'volume',
      Name: '',
      Source: '',
      Destination: dst,
      Driver: 'local',
      Mode: '',
      RW: true,
      Propagation: '',
      Anonymous: true,
    });
  }
  return out;
}

/** `HostConfig.PortBindings` as network port specs (`80/tcp` -> each binding). */
export function portSpecs(host: HostConfig): PortSpec[] {
  const out: PortSpec[] = [];
  for (const [key, bindings] of Object.entries(host.PortBindings ?? {})) {
    const [port = '', proto = 'tcp'] = key.split('/');
    if (proto !== 'tcp' && proto !== 'udp')
      throw invalid('PortBindings', `invalid port protocol: ${key}`);
    for (const b of bindings ?? [{}]) {
      out.push({
        protocol: proto,
        hostIp: b.HostIp ?? '',
        published: b.HostPort ?? '',
        target: port,
      });
    }
  }
  return out;
}

/** Restart policy names Docker accepts. */
export type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

/** Validates `HostConfig.RestartPolicy` (moby validateRestartPolicy). Throws TSC_ENGINE_INVALID. */
export function checkRestartPolicy(host: HostConfig): void {
  const p = host.RestartPolicy ?? {};
  const name = p.Name ?? '';
  const max = p.MaximumRetryCount ?? 0;
  if (!['', 'no', 'always', 'on-failure', 'unless-stopped'].includes(name))
    throw invalid('RestartPolicy', `invalid restart policy: unknown policy '${name}'`);
  if (max < 0)
    throw invalid(
      'RestartPolicy',
      'invalid restart policy: maximum retry count cannot be negative',
    );
  if (max > 0 && name !== 'on-failure')
    throw invalid(
      'RestartPolicy',
      `invalid restart policy: maximum retry count can only be used with 'on-failure'`,
    );
  if (host.AutoRemove && name !== '' && name !== 'no')
    throw invalid('AutoRemove', `conflicting options: cannot specify both --restart and --rm`);
}

/** The restart policy's name, `no` when none is set (moby `RestartPolicy.IsNone`). */
export function restartPolicyOf(host: HostConfig): string {
  const name = host.RestartPolicy?.Name;
  return name === undefined || name === '' ? 'no' : name;
}

/**
 * Whether the restart manager restarts a container that exited with `exitCode` (moby
 * restartmanager.ShouldRestart): never after a manual stop; `always` and `unless-stopped` always;
 * `on-failure` on a non-zero code while RestartCount < MaximumRetryCount (0 = unlimited).
 */
export function shouldRestart(
  host: HostConfig,
  exitCode: number,
  restartCount: number,
  manuallyStopped: boolean,
): boolean {
  if (manuallyStopped) return false;
  const p = host.RestartPolicy ?? {};
  switch (p.Name ?? 'no') {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure': {
      const max = p.MaximumRetryCount ?? 0;
      return exitCode !== 0 && (max === 0 || restartCount < max);
    }
    default:
      return false;
  }
}

/** First restart delay, ms (moby restartmanager backoffMultiplier base). */
export const RESTART_BASE_MS = 100;
/** Longest restart delay, ms. */
export const RESTART_MAX_MS = 60_000;

/**
 * The delay before the next restart (moby restartmanager): 100 ms, doubled after each restart,
 * capped at 1 minute; back to 100 ms when the last run lasted at least 10 s. `previousMs` is the
 * delay used last time (0 for none).
 */
export function nextRestartDelay(previousMs: number, ranForMs: number): number {
  if (previousMs === 0 || ranForMs >= 10_000) return RESTART_BASE_MS;
  return Math.min(previousMs * 2, RESTART_MAX_MS);
}

/** Healthcheck durations with Docker's defaults, in ms (API gives nanoseconds). */
export function healthTimings(h: HealthConfig): {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
} {
  const ms = (ns: number | undefined, dflt: number): number =>
    ns && ns > 0 ? Math.max(1, Math.round(ns / 1e6)) : dflt;
  return {
    intervalMs: ms(h.Interval, 30_000),
    timeoutMs: ms(h.Timeout, 30_000),
    startPeriodMs: ms(h.StartPeriod, 0),
    startIntervalMs: ms(h.StartInterval, 5_000),
    retries: h.Retries && h.Retries > 0 ? h.Retries : 3,
  };
}

/** The exec argv of a healthcheck test, or undefined for none/NONE (moby health.go). */
export function healthArgv(test: readonly string[] | undefined): string[] | undefined {
  if (!test || test.length === 0) return undefined;
  const [kind, ...rest] = test;
  if (kind === 'NONE') return undefined;
  if (kind === 'CMD') return rest.length > 0 ? rest : undefined;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  return undefined;
}

/** Parses a signal name or number (`SIGTERM`, `TERM`, `15`). Throws TSC_ENGINE_INVALID. */
export function parseSignal(
  text: string | undefined,
  dflt: NodeJS.Signals,
): NodeJS.Signals | number {
  if (text === undefined || text === '') return dflt;
  if (/^\d+$/.test(text)) return Number(text);
  const name = (
    text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`
  ) as NodeJS.Signals;
  const known = [
    'SIGHUP',
    'SIGINT',
    'SIGQUIT',
    'SIGILL',
    'SIGTRAP',
    'SIGABRT',
    'SIGBUS',
    'SIGFPE',
    'SIGKILL',
    'SIGUSR1',
    'SIGSEGV',
    'SIGUSR2',
    'SIGPIPE',
    'SIGALRM',
    'SIGTERM',
    'SIGCHLD',
    'SIGCONT',
    'SIGSTOP',
    'SIGTSTP',
    'SIGTTIN',
    'SIGTTOU',
    'SIGURG',
    'SIGXCPU',
    'SIGXFSZ',
    'SIGVTALRM',
    'SIGPROF',
    'SIGWINCH',
    'SIGIO',
    'SIGPWR',
    'SIGSYS',
  ];
  if (!known.includes(name)) throw invalid('signal', `Invalid signal: ${text}`);
  return name;
}
