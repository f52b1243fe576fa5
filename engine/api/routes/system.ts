/**
 * System routes (API "System" section): `_ping`, `version`, `info` and the streamed `events`.
 * Reports host facts and counts from the services; changes nothing.
 */
import { readFileSync } from 'node:fs';
import { arch, cpus, hostname, release, totalmem } from 'node:os';

import {
  EVENT_FILTER_KEYS,
  parseEventTime,
  parseFilters,
  type EventBus,
  type EventMessage,
} from '../../events.js';
import type { VolumeService } from '../../volumes/index.js';
import type { Router } from '../router.js';
import type { EngineServices } from '../services.js';
import { writeJsonLine } from '../stream.js';
import { API_VERSION, ENGINE_VERSION, MIN_API_VERSION } from '../version.js';

/** Daemon facts `/info` reports. */
export interface SystemFacts {
  /** Stable engine id (uuid-like), kept in the data root. */
  readonly id: string;
  readonly dataRoot: string;
  readonly registryMirrors: readonly string[];
  readonly insecureRegistries: readonly string[];
  readonly logDriver: string;
  readonly debug: boolean;
  /** Cgroup version of the host: '1' or '2'. */
  readonly cgroupVersion: '1' | '2';
}

/** Go's GOARCH for Node's `process.arch`. */
export function goArch(a: string = arch()): string {
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

/** `uname -m` for Node's `process.arch`. */
function machine(a: string = arch()): string {
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a;
}

/** PRETTY_NAME and VERSION_ID from os-release(5). */
function osRelease(): { pretty: string; version: string } {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const get = (k: string): string =>
      /^(\w+)=(.*)$/m
        .exec(text.split('\n').find((l) => l.startsWith(`${k}=`)) ?? '')?.[2]
        ?.replace(/^"|"$/g, '') ?? '';
    return { pretty: get('PRETTY_NAME') || 'Linux', version: get('VERSION_ID') };
  } catch {
    return { pretty: 'Linux', version: '' };
  }
}

/** `GET /version` body (API `SystemVersion`). */
export function versionBody(): Record<string, unknown> {
  const details = {
    ApiVersion: API_VERSION,
    Arch: goArch(),
    BuildTime: '',
    Experimental: 'false',
    GitCommit: '',
    GoVersion: `node${process.versions.node}`,
    KernelVersion: release(),
    MinAPIVersion: MIN_API_VERSION,
    Os: 'linux',
  };
  return {
    Platform: { Name: 'tscompose Engine' },
    Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: details }],
    Version: ENGINE_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: details.GoVersion,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: release(),
    BuildTime: '',
  };
}

/** Registers `_ping`, `version`, `info`, `events`. */
export function registerSystemRoutes(
  router: Router,
  deps: { facts: SystemFacts; events: EventBus; volumes: VolumeService; services: EngineServices },
): void {
  const ping = {
    text: 'OK',
    headers: { 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache' },
  };
  router.add('GET', '/_ping', () => ping);
  router.add('HEAD', '/_ping', () => ping);
  router.add('GET', '/version', () => ({ json: versionBody() }));

  router.add('GET', '/info', async () => {
    const { facts, services } = deps;
    const counts = (await services.containers?.counts()) ?? {
      total: 0,
      running: 0,
      paused: 0,
      stopped: 0,
    };
    const images = (await services.images?.count()) ?? 0;
    const os = osRelease();
    return {
      json: {
        ID: facts.id,
        Containers: counts.total,
        ContainersRunning: counts.running,
        ContainersPaused: counts.paused,
        ContainersStopped: counts.stopped,
        Images: images,
        Driver: 'overlay2',
        DriverStatus: [['Backing Filesystem', 'extfs']],
        Plugins: {
          Volume: ['local'],
          Network: ['bridge', 'host', 'null'],
          Authorization: null,
          Log: ['json-file'],
        },
        MemoryLimit: true,
        SwapLimit: true,
        CpuCfsPeriod: true,
        CpuCfsQuota: true,
        CPUShares: true,
        CPUSet: true,
        PidsLimit: true,
        OomKillDisable: facts.cgroupVersion === '1',
        IPv4Forwarding: true,
        Debug: facts.debug,
        NFd: 0,
        NGoroutines: 0,
        SystemTime: new Date().toISOString(),
        LoggingDriver: facts.logDriver,
        CgroupDriver: 'cgroupfs',
        CgroupVersion: facts.cgroupVersion,
        NEventsListener: deps.events.listeners,
        KernelVersion: release(),
        OperatingSystem: os.pretty,
        OSVersion: os.version,
        OSType: 'linux',
        Architecture: machine(),
        IndexServerAddress: 'https://index.docker.io/v1/',
        RegistryConfig: {
          InsecureRegistryCIDRs: [
            '127.0.0.0/8',
            ...facts.insecureRegistries.filter((r) => r.includes('/')),
          ],
          IndexConfigs: Object.fromEntries(
            facts.insecureRegistries
              .filter((r) => !r.includes('/'))
              .map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }]),
          ),
          Mirrors: facts.registryMirrors,
        },
        NCPU: cpus().length,
        MemTotal: totalmem(),
        GenericResources: null,
        DockerRootDir: facts.dataRoot,
        HttpProxy: process.env.HTTP_PROXY ?? '',
        HttpsProxy: process.env.HTTPS_PROXY ?? '',
        NoProxy: process.env.NO_PROXY ?? '',
        Name: hostname(),
        Labels: [],
        ExperimentalBuild: false,
        ServerVersion: ENGINE_VERSION,
        Runtimes: { tscompose: { path: 'tscompose-shim' } },
        DefaultRuntime: 'tscompose',
        Swarm: {
          NodeID: '',
          NodeAddr: '',
          LocalNodeState: 'inactive',
          ControlAvailable: false,
          Error: '',
          RemoteManagers: null,
        },
        LiveRestoreEnabled: true,
        Isolation: '',
        InitBinary: '',
        ContainerdCommit: { ID: '' },
        RuncCommit: { ID: '' },
        InitCommit: { ID: '' },
        SecurityOptions: ['name=seccomp,profile=builtin'],
        Warnings: [],
      },
    };
  });

  router.add('GET', '/events', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'), EVENT_FILTER_KEYS);
    const sinceRaw = ctx.query.get('since');
    const untilRaw = ctx.query.get('until');
    const since = sinceRaw ? parseEventTime(sinceRaw) : undefined;
    const until = untilRaw ? parseEventTime(untilRaw) : undefined;
    const out = ctx.stream(200, 'application/json');
    // Subscribe before replaying history so nothing published in between is lost.
    const queue: EventMessage[] = [];
    let wake: (() => void) | undefined;
    const sub = deps.events.subscribe(filters, (m) => {
      queue.push(m);
      wake?.();
    });
    try {
      const replayed = since !== undefined ? deps.events.past(filters, since, until) : [];
      const seen = new Set(replayed);
      for (const m of replayed) await writeJsonLine(out, m);
      const nowNano = BigInt(Date.now()) * 1_000_000n;
      let timer: NodeJS.Timeout | undefined;
      const ended = new Promise<void>((resolve) => {
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        if (until !== undefined) {
          const ms = Number((until - nowNano) / 1_000_000n);
          timer = setTimeout(resolve, Math.max(0, ms));
        }
      });
      let done = false;
      void ended.then(() => {
        done = true;
        wake?.();
      });
      for (;;) {
        while (queue.length > 0) {
          const m = queue.shift();
          if (!m || seen.has(m)) continue;
          if (until !== undefined && BigInt(m.timeNano) > until) continue;
          await writeJsonLine(out, m);
        }
        if (done) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (timer) clearTimeout(timer);
    } finally {
      sub.close();
      if (!out.writableEnded && !out.destroyed) out.end();
    }
    return undefined;
  });
}
