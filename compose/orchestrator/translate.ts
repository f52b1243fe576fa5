/**
 * Service -> Docker Engine API `ContainerCreate` body (Config + HostConfig + NetworkingConfig), the
 * way docker compose v2 builds it (pkg/compose/create.go). Pure: no API calls, no file system;
 * resolving images or creating host paths is the engine's job.
 */
import type {
  ContainerCreateOptions,
  EndpointSettings,
  HostConfig,
  MountSettings,
} from 'dockerode';

import { ComposeError } from '../../base/errors.js';
import { serviceConfigHash } from '../hash.js';
import type { FileReference, Project, Service, ServiceNetwork, ServiceVolume } from '../model.js';
import { parseDuration } from '../units.js';

import {
  CONFIG_FILES_LABEL,
  CONFIG_HASH_LABEL,
  CONTAINER_NUMBER_LABEL,
  DEPENDENCIES_LABEL,
  ENV_FILE_LABEL,
  IMAGE_LABEL,
  ONEOFF_LABEL,
  PROJECT_LABEL,
  SERVICE_LABEL,
  TOOL_VERSION,
  VERSION_LABEL,
  WORKING_DIR_LABEL,
} from './labels.js';

/** What translation needs beyond the service itself. */
export interface TranslateContext {
  /** The loaded project (networks, volumes, secrets, configs resolve through it). */
  readonly project: Project;
  /** Absolute project directory, for {@link WORKING_DIR_LABEL}. */
  readonly workingDir?: string | undefined;
  /** Compose files loaded, for {@link CONFIG_FILES_LABEL}. */
  readonly configFiles?: readonly string[] | undefined;
  /** Env files used, for {@link ENV_FILE_LABEL}. */
  readonly envFiles?: readonly string[] | undefined;
  /**
   * The container (name or id) that `service:<x>` in network_mode / volumes_from / ipc / pid
   * refers to. Defaults to replica 1's name (`<project>-<x>-1`).
   */
  readonly containerOf?: ((service: string) => string) | undefined;
}

/** A network to connect after create (every network but the first, in priority order). */
export interface NetworkConnect {
  /** Engine network name (`<project>_<key>` or its `name`). */
  readonly network: string;
  /** The endpoint config sent to `POST /networks/{id}/connect`. */
  readonly endpoint: EndpointSettings;
}

/** The result of translation: the create body, and the networks to connect afterwards. */
export interface ContainerSpec {
  /** Container name (`<project>-<service>-<n>` or container_name). */
  readonly name: string;
  /** The `POST /containers/create` body, `name` included (dockerode puts it in the query). */
  readonly body: ContainerCreateOptions;
  /** Networks to connect after create, in order. */
  readonly connect: readonly NetworkConnect[];
}

/** docker compose's container name: `container_name`, or `<project>-<service>-<n>`. */
export function containerName(
  project: string,
  serviceName: string,
  service: Service,
  n: number,
): string {
  return service.container_name ?? `${project}-${serviceName}-${n}`;
}

/** Engine name of a top-level network key: its `name`, or `<project>_<key>`. */
export function networkName(project: Project, key: string): string {
  return project.networks?.[key]?.name ?? `${project.name}_${key}`;
}

/** Engine name of a top-level volume key: its `name`, or `<project>_<key>`. */
export function volumeName(project: Project, key: string): string {
  return project.volumes?.[key]?.name ?? `${project.name}_${key}`;
}

/**
 * Normalises an image reference the way Docker displays it fully qualified:
 * `nginx` -> `docker.io/library/nginx:latest`; digests and explicit tags are kept.
 */
export function normalizeImageRef(ref: string): string {
  let name = ref;
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) {
    suffix = name.slice(colon) + suffix;
    name = name.slice(0, colon);
  } else if (suffix === '') suffix = ':latest';
  const first = name.split('/')[0] ?? '';
  const hasRegistry =
    name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return name + suffix;
}

/** The image a service's containers run: `image`, or `<project>-<service>` for build-only ones. */
export function serviceImage(project: string, serviceName: string, service: Service): string {
  return service.image ?? `${project}-${serviceName}`;
}

/** The service's network attachments sorted like compose: priority desc, then key asc. */
export function sortedNetworks(service: Service): [string, ServiceNetwork | null][] {
  const entries = Object.entries(service.networks ?? { default: null });
  return entries.sort(([a, x], [b, y]) => {
    const d = (y?.priority ?? 0) - (x?.priority ?? 0);
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The file errors name: the first compose file, or `compose.yaml`. */
function composeFile(ctx: TranslateContext): string {
  return ctx.configFiles?.[0] ?? 'compose.yaml';
}

/** Go duration -> ns, or undefined when absent. @throws ComposeError on an invalid duration */
function durationNs(
  ctx: TranslateContext,
  where: string,
  v: string | undefined,
): number | undefined {
  if (v === undefined) return undefined;
  const ns = parseDuration(v);
  if (ns === undefined) {
    throw ComposeError.at(
      'TSC_COMPOSE_INVALID',
      { file: composeFile(ctx), path: where },
      `invalid duration "${v}"`,
    );
  }
  return ns;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Drops keys whose value is undefined (API bodies stay exact and comparable). */
function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** `environment` map -> `Env` (`K=V`, or `K` for null), sorted by key. */
export function toEnv(
  env: Readonly<Record<string, string | null>> | undefined,
): string[] | undefined {
  if (env === undefined) return undefined;
  return Object.keys(env)
    .sort()
    .map((k) => {
      const v = env[k];
      return v === null || v === undefined ? k : `${k}=${v}`;
    });
}

/** `8000-8002` -> [8000, 8001, 8002]; `53` -> [53]. */
function expandRange(text: string): number[] {
  const [a, b] = text.split('-');
  const lo = Number(a);
  const hi = b === undefined ? lo : Number(b);
  const out: number[] = [];
  for (let p = lo; p <= hi; p++) out.push(p);
  return out;
}

/** ExposedPorts + PortBindings from `ports` and `expose` (keys `<port>/<proto>`). */
function translatePorts(service: Service): {
  ExposedPorts?: Record<string, Record<string, never>>;
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
} {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of service.ports ?? []) {
    const key = `${p.target}/${p.protocol ?? 'tcp'}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  }
  for (const e of service.expose ?? []) {
    const [range = '', proto = 'tcp'] = e.split('/');
    for (const port of expandRange(range)) exposed[`${port}/${proto}`] = {};
  }
  const out: ReturnType<typeof translatePorts> = {};
  if (Object.keys(exposed).length > 0) out.ExposedPorts = exposed;
  if (Object.keys(bindings).length > 0) out.PortBindings = bindings;
  return out;
}

/** Binds (bind with create_host_path) and Mounts (the rest) from `volumes`. */
function translateVolumes(
  ctx: TranslateContext,
  service: Service,
): { Binds: string[]; Mounts: MountSettings[] } {
  const Binds: string[] = [];
  const Mounts: MountSettings[] = [];
  for (const v of service.volumes ?? []) {
    const target = v.target ?? '';
    switch (v.type) {
      case 'bind': {
        if (v.bind?.create_host_path === true) {
          const opts = [v.read_only === true ? 'ro' : 'rw'];
          if (v.bind.selinux !== undefined) opts.push(v.bind.selinux);
          if (v.bind.propagation !== undefined) opts.push(v.bind.propagation);
          Binds.push(`${v.source ?? ''}:${target}:${opts.join(',')}`);
        } else {
          Mounts.push(
            compact({
              Type: 'bind' as const,
              Source: v.source ?? '',
              Target: target,
              ReadOnly: v.read_only === true ? true : undefined,
              BindOptions:
                v.bind?.propagation !== undefined
                  ? { Propagation: v.bind.propagation as 'rprivate' }
                  : undefined,
            }),
          );
        }
        break;
      }
      case 'volume':
        Mounts.push(volumeMount(ctx, v, target));
        break;
      case 'tmpfs': {
        const opts = compact({ SizeBytes: v.tmpfs?.size, Mode: v.tmpfs?.mode });
        Mounts.push(
          compact({
            Type: 'tmpfs' as const,
            Target: target,
            ReadOnly: v.read_only === true ? true : undefined,
            TmpfsOptions: Object.keys(opts).length > 0 ? opts : undefined,
          }) as MountSettings,
        );
        break;
      }
      case 'cluster':
      case 'npipe':
      case 'image':
        Mounts.push(compact({ Type: v.type, Source: v.source, Target: target }) as MountSettings);
        break;
    }
  }
  return { Binds, Mounts };
}

function volumeMount(ctx: TranslateContext, v: ServiceVolume, target: string): MountSettings {
  const source =
    v.source === undefined || v.source === '' ? undefined : volumeName(ctx.project, v.source);
  const vopts = compact({
    NoCopy: v.volume?.nocopy === true ? true : undefined,
    Subpath: v.volume?.subpath,
    Labels: v.volume?.labels,
  });
  return compact({
    Type: 'volume' as const,
    Source: source,
    Target: target,
    ReadOnly: v.read_only === true ? true : undefined,
    VolumeOptions: Object.keys(vopts).length > 0 ? vopts : undefined,
  }) as MountSettings;
}

/** Secrets (at /run/secrets/<target>) and configs (at /<target>) with a file: read-only binds. */
function translateFileRefs(ctx: TranslateContext, service: Service): MountSettings[] {
  const out: MountSettings[] = [];
  const add = (refs: readonly FileReference[] | undefined, kind: 'secrets' | 'configs'): void => {
    for (const r of refs ?? []) {
      const file = ctx.project[kind]?.[r.source]?.file;
      if (file === undefined) continue;
      const t = r.target ?? r.source;
      const target = t.startsWith('/') ? t : kind === 'secrets' ? `/run/secrets/${t}` : `/${t}`;
      out.push({ Type: 'bind', Source: file, Target: target, ReadOnly: true });
    }
  };
  add(service.secrets, 'secrets');
  add(service.configs, 'configs');
  return out;
}

/** `restart` (preferred) or `deploy.restart_policy` -> RestartPolicy. */
function restartPolicy(service: Service): HostConfig['RestartPolicy'] {
  if (service.restart !== undefined) {
    const [name = 'no', max] = service.restart.split(':');
    return { Name: name, MaximumRetryCount: max === undefined ? 0 : Number(max) };
  }
  const rp = service.deploy?.restart_policy;
  if (rp === undefined) return undefined;
  const cond = rp.condition ?? 'any';
  const name = cond === 'none' ? 'no' : cond === 'any' ? 'always' : cond;
  return { Name: name, MaximumRetryCount: rp.max_attempts ?? 0 };
}

/** `service:<x>` -> `container:<that container>`; other modes unchanged. */
function resolveMode(ctx: TranslateContext, mode: string | undefined | null): string | undefined {
  if (mode === undefined || mode === null) return undefined;
  if (!mode.startsWith('service:')) return mode;
  const svc = mode.slice('service:'.length);
  return `container:${containerOfService(ctx, svc)}`;
}

function containerOfService(ctx: TranslateContext, svc: string): string {
  if (ctx.containerOf) return ctx.containerOf(svc);
  const s = ctx.project.services[svc];
  return s ? containerName(ctx.project.name, svc, s, 1) : `${ctx.project.name}-${svc}-1`;
}

/** `depends_on` -> the `svc:condition:restart` list compose writes in its label. */
function dependsOnLabel(service: Service): string {
  return Object.entries(service.depends_on ?? {})
    .map(([name, d]) => `${name}:${d.condition}:${d.restart === true ? 'true' : 'false'}`)
    .sort()
    .join(',');
}

/** Blkio settings from `blkio_config` (weight, weight_device, device_{read,write}_{bps,iops}). */
function blkio(service: Service): Partial<HostConfig> {
  const b = service.blkio_config as Record<string, unknown> | undefined;
  if (b === undefined) return {};
  const list = (
    key: string,
    field: 'rate' | 'weight',
  ): { Path: string; Rate?: number; Weight?: number }[] | undefined => {
    const v = b[key];
    if (!Array.isArray(v)) return undefined;
    return (v as Record<string, unknown>[]).map((d) =>
      field === 'rate'
        ? { Path: str(d.path) ?? '', Rate: num(d.rate) ?? 0 }
        : { Path: str(d.path) ?? '', Weight: num(d.weight) ?? 0 },
    );
  };
  return compact({
    BlkioWeight: num(b.weight),
    BlkioWeightDevice: list('weight_device', 'weight'),
    BlkioDeviceReadBps: list('device_read_bps', 'rate'),
    BlkioDeviceWriteBps: list('device_write_bps', 'rate'),
    BlkioDeviceReadIOps: list('device_read_iops', 'rate'),
    BlkioDeviceWriteIOps: list('device_write_iops', 'rate'),
  });
}

/** Entrypoint/Cmd per compose: an entrypoint without a command resets the image CMD (omitted). */
function commandLine(service: Service): { Entrypoint?: string[]; Cmd?: string[] } {
  const out: { Entrypoint?: string[]; Cmd?: string[] } = {};
  if (service.entrypoint !== undefined && service.entrypoint !== null) {
    out.Entrypoint = service.entrypoint.length === 0 ? [''] : [...service.entrypoint];
  }
  if (service.command !== undefined && service.command !== null) out.Cmd = [...service.command];
  return out;
}

/** Networking: NetworkMode, the first endpoint in EndpointsConfig, the rest to connect later. */
function networking(
  ctx: TranslateContext,
  serviceName: string,
  service: Service,
): {
  NetworkMode: string;
  EndpointsConfig?: Record<string, EndpointSettings>;
  connect: NetworkConnect[];
} {
  const mode = resolveMode(ctx, service.network_mode);
  if (mode !== undefined) return { NetworkMode: mode, connect: [] };
  const endpoints = sortedNetworks(service).map(([key, n]) => {
    const aliases = [serviceName];
    if (service.container_name !== undefined) aliases.push(service.container_name);
    for (const a of n?.aliases ?? []) if (!aliases.includes(a)) aliases.push(a);
    const ipam = compact({ IPv4Address: n?.ipv4_address, IPv6Address: n?.ipv6_address });
    const endpoint: EndpointSettings = compact({
      Aliases: aliases,
      IPAMConfig: Object.keys(ipam).length > 0 ? ipam : undefined,
      MacAddress: n?.mac_address,
      DriverOpts: n?.driver_opts,
    });
    return { network: networkName(ctx.project, key), endpoint };
  });
  const [first, ...rest] = endpoints;
  if (!first) return { NetworkMode: 'none', connect: [] };
  return {
    NetworkMode: first.network,
    EndpointsConfig: { [first.network]: first.endpoint },
    connect: rest,
  };
}

/**
 * Translates one replica of a service into the `POST /containers/create` body (Docker Engine API
 * v1.43 ContainerCreate: Config fields at the top, HostConfig, NetworkingConfig) and the networks to
 * connect after create. Follows docker compose v2 `getCreateConfigs`.
 * @param replica 1-based replica number (label `container-number`)
 * @throws ComposeError TSC_COMPOSE_INVALID for an invalid duration or an unknown service
 */
export function translateService(
  ctx: TranslateContext,
  serviceName: string,
  replica: number,
): ContainerSpec {
  const project = ctx.project;
  const service = project.services[serviceName];
  if (service === undefined) {
    throw ComposeError.at(
      'TSC_COMPOSE_REFERENCE',
      { file: composeFile(ctx), path: `services.${serviceName}` },
      'no such service',
    );
  }
  const name = containerName(project.name, serviceName, service, replica);
  const image = serviceImage(project.name, serviceName, service);
  const labels: Record<string, string> = { ...(service.labels ?? {}) };
  Object.assign(labels, {
    [PROJECT_LABEL]: project.name,
    [SERVICE_LABEL]: serviceName,
    [CONTAINER_NUMBER_LABEL]: String(replica),
    [ONEOFF_LABEL]: 'False',
    [CONFIG_HASH_LABEL]: serviceConfigHash(service),
    [VERSION_LABEL]: TOOL_VERSION,
    [IMAGE_LABEL]: image,
    [DEPENDENCIES_LABEL]: dependsOnLabel(service),
  });
  if (ctx.workingDir !== undefined) labels[WORKING_DIR_LABEL] = ctx.workingDir;
  if (ctx.configFiles !== undefined) labels[CONFIG_FILES_LABEL] = ctx.configFiles.join(',');
  if (ctx.envFiles !== undefined && ctx.envFiles.length > 0)
    labels[ENV_FILE_LABEL] = ctx.envFiles.join(',');

  const where = `services.${serviceName}`;
  const hc = service.healthcheck;
  const Healthcheck =
    hc === undefined
      ? undefined
      : hc.disable === true
        ? { Test: ['NONE'] }
        : compact({
            Test: hc.test ? [...hc.test] : undefined,
            Interval: durationNs(ctx, `${where}.healthcheck.interval`, hc.interval),
            Timeout: durationNs(ctx, `${where}.healthcheck.timeout`, hc.timeout),
            Retries: hc.retries,
            StartPeriod: durationNs(ctx, `${where}.healthcheck.start_period`, hc.start_period),
            StartInterval: durationNs(
              ctx,
              `${where}.healthcheck.start_interval`,
              hc.start_interval,
            ),
          });
  const grace = durationNs(ctx, `${where}.stop_grace_period`, service.stop_grace_period);

  const limits = service.deploy?.resources?.limits;
  const reservations = service.deploy?.resources?.reservations;
  const cpus = service.cpus ?? limits?.cpus;
  const { Binds, Mounts } = translateVolumes(ctx, service);
  Mounts.push(...translateFileRefs(ctx, service));
  const net = networking(ctx, serviceName, service);
  const ports = translatePorts(service);

  const tmpfs: Record<string, string> = {};
  for (const t of service.tmpfs ?? []) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }
  const ulimits = Object.entries(service.ulimits ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([Name, u]) =>
      typeof u === 'number' ? { Name, Soft: u, Hard: u } : { Name, Soft: u.soft, Hard: u.hard },
    );
  const logging = service.logging;

  const HostConfig: HostConfig = compact({
    Binds: Binds.length > 0 ? Binds : undefined,
    Mounts: Mounts.length > 0 ? Mounts : undefined,
    NetworkMode: net.NetworkMode,
    PortBindings: ports.PortBindings,
    RestartPolicy: restartPolicy(service),
    VolumesFrom: service.volumes_from?.map((v) =>
      v.startsWith('container:') ? v.slice('container:'.length) : volumesFromService(ctx, v),
    ),
    CapAdd: service.cap_add ? [...service.cap_add] : undefined,
    CapDrop: service.cap_drop ? [...service.cap_drop] : undefined,
    Dns: service.dns ? [...service.dns] : undefined,
    DnsOptions: service.dns_opt ? [...service.dns_opt] : undefined,
    DnsSearch: service.dns_search ? [...service.dns_search] : undefined,
    ExtraHosts: service.extra_hosts?.map(toExtraHost),
    GroupAdd: service.group_add ? [...service.group_add] : undefined,
    IpcMode: resolveMode(ctx, service.ipc),
    PidMode: resolveMode(ctx, service.pid),
    UTSMode: service.uts,
    UsernsMode: service.userns_mode,
    Cgroup: service.cgroup,
    CgroupParent: service.cgroup_parent,
    OomScoreAdj: service.oom_score_adj,
    OomKillDisable: service.oom_kill_disable,
    Privileged: service.privileged,
    ReadonlyRootfs: service.read_only,
    SecurityOpt: service.security_opt ? [...service.security_opt] : undefined,
    Tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : undefined,
    ShmSize: service.shm_size,
    Sysctls: service.sysctls ? { ...service.sysctls } : undefined,
    Runtime: service.runtime,
    Init: service.init,
    Ulimits: ulimits.length > 0 ? ulimits : undefined,
    Devices: service.devices?.map((d) => ({
      PathOnHost: d.source,
      PathInContainer: d.target ?? d.source,
      CgroupPermissions: d.permissions ?? 'rwm',
    })),
    LogConfig:
      logging?.driver !== undefined || logging?.options !== undefined
        ? { Type: logging.driver ?? '', Config: definedValues(logging.options ?? {}) }
        : undefined,
    Memory: service.mem_limit ?? limits?.memory,
    MemoryReservation: service.mem_reservation ?? reservations?.memory,
    MemorySwap: service.memswap_limit,
    MemorySwappiness: service.mem_swappiness,
    NanoCpus: cpus === undefined ? undefined : Math.round(cpus * 1e9),
    CpuShares: service.cpu_shares,
    CpuQuota: num(service.cpu_quota),
    CpuPeriod: num(service.cpu_period),
    CpusetCpus: str(service.cpuset),
    CpuRealtimePeriod: num(service.cpu_rt_period),
    CpuRealtimeRuntime: num(service.cpu_rt_runtime),
    PidsLimit: service.pids_limit ?? limits?.pids,
    ...blkio(service),
  });

  const body: ContainerCreateOptions = compact({
    name,
    platform: service.platform,
    Hostname: service.hostname,
    Domainname: service.domainname,
    User: service.user,
    Tty: service.tty === true,
    OpenStdin: service.stdin_open === true,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Env: toEnv(service.environment),
    ...commandLine(service),
    Image: image,
    Labels: labels,
    WorkingDir: service.working_dir,
    ExposedPorts: ports.ExposedPorts,
    StopSignal: service.stop_signal,
    StopTimeout: grace === undefined ? undefined : Math.floor(grace / 1e9),
    Healthcheck,
    HostConfig,
    NetworkingConfig: net.EndpointsConfig ? { EndpointsConfig: net.EndpointsConfig } : undefined,
  });
  return { name, body, connect: net.connect };
}

/**
 * `extra_hosts` entry as the API wants it: compose prints `host=ip`, the Engine API takes `host:ip`
 * (compose sends `ExtraHosts.AsList(":")`); an entry already in `host:ip` form is kept.
 */
export function toExtraHost(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : `${entry.slice(0, eq)}:${entry.slice(eq + 1)}`;
}

/** Drops null values of a string map (unset logging options). */
function definedValues(m: Readonly<Record<string, string | null>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (v !== null) out[k] = v;
  return out;
}

/** `volumes_from: [svc]` or `[svc:ro]` -> `<container>[:ro]`. */
function volumesFromService(ctx: TranslateContext, entry: string): string {
  const [svc = '', mode] = entry.split(':');
  const c = containerOfService(ctx, svc);
  return mode === undefined ? c : `${c}:${mode}`;
}
