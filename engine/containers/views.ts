/**
 * Docker Engine API views of a container record: `ContainerInspect` and the `ContainerList`
 * summary (API reference "Container"), and the list filters (label, name, status, id, ...).
 * Pure: the caller passes the record and paths; nothing is read or written here.
 */
import { humanDuration } from '../../base/human-duration.js';
import type { EndpointSettings } from '../networks/index.js';
import type { ContainerRecord } from './config.js';

/** Host paths of a container's files that inspect reports. */
export interface ContainerPaths {
  readonly logPath: string;
  readonly hostsPath: string;
  readonly hostnamePath: string;
  readonly resolvConfPath: string;
  readonly rootfs: string;
}

/** HostConfig fields Docker always reports, with its defaults. */
function hostConfigView(r: ContainerRecord): Record<string, unknown> {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: 'bridge',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: 'host',
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'runc',
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    MemoryReservation: 0,
    MemorySwap: 0,
    OomKillDisable: null,
    PidsLimit: null,
    Ulimits: null,
    ...r.HostConfig,
  };
}

/** Docker's `NetworkSettings.Ports`: exposed ports with null, published ones with bindings. */
function portsView(r: ContainerRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!r.State.Running) return out;
  for (const p of Object.keys(r.Config.ExposedPorts ?? {})) out[p] = null;
  for (const [p, b] of Object.entries(r.Ports)) out[p] = b;
  return out;
}

function endpointView(e: EndpointSettings): Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: e.Aliases,
    MacAddress: e.MacAddress,
    NetworkID: e.NetworkID,
    EndpointID: e.EndpointID,
    Gateway: e.Gateway,
    IPAddress: e.IPAddress,
    IPPrefixLen: e.IPPrefixLen,
    IPv6Gateway: e.IPv6Gateway,
    GlobalIPv6Address: e.GlobalIPv6Address,
    GlobalIPv6PrefixLen: e.GlobalIPv6PrefixLen,
    DriverOpts: null,
    DNSNames: e.DNSNames,
  };
}

/** Networks of a container as inspect shows them (configured ones with empty settings when stopped). */
function networksView(r: ContainerRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, cfg] of Object.entries(r.NetworkingConfig.EndpointsConfig)) {
    out[name] = {
      IPAMConfig: null,
      Links: null,
      Aliases: (cfg.Aliases as string[] | undefined) ?? null,
      MacAddress: '',
      NetworkID: '',
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DriverOpts: null,
      DNSNames: null,
    };
  }
  for (const [name, e] of Object.entries(r.Networks)) out[name] = endpointView(e);
  return out;
}

/** `GET /containers/{id}/json` body. */
export function inspectView(r: ContainerRecord, paths: ContainerPaths): Record<string, unknown> {
  const primary = Object.values(r.Networks)[0];
  return {
    Id: r.Id,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    State: {
      ...r.State,
      ...(r.State.Health ? { Health: r.State.Health } : {}),
    },
    Image: r.Image,
    ResolvConfPath: paths.resolvConfPath,
    HostnamePath: paths.hostnamePath,
    HostsPath: paths.hostsPath,
    LogPath: paths.logPath,
    Name: r.Name,
    RestartCount: r.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfigView(r),
    GraphDriver: {
      Name: 'overlay2',
      Data: { MergedDir: paths.rootfs },
    },
    Mounts: r.Mounts.map((m) => ({
      Type: m.Type,
      ...(m.Name ? { Name: m.Name } : {}),
      Source: m.Source,
      Destination: m.Destination,
      ...(m.Type === 'volume' ? { Driver: m.Driver ?? 'local' } : {}),
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Propagation,
    })),
    Config: r.Config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: r.State.Running ? r.Id : '',
      SandboxKey: r.State.Running && r.State.Pid > 0 ? `/proc/${r.State.Pid}/ns/net` : '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: portsView(r),
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: primary?.EndpointID ?? '',
      Gateway: primary?.Gateway ?? '',
      GlobalIPv6Address: primary?.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: primary?.GlobalIPv6PrefixLen ?? 0,
      IPAddress: primary?.IPAddress ?? '',
      IPPrefixLen: primary?.IPPrefixLen ?? 0,
      IPv6Gateway: primary?.IPv6Gateway ?? '',
      MacAddress: primary?.MacAddress ?? '',
      Networks: networksView(r),
    },
  };
}

/**
 * Human status of `docker ps` ("Up 5 seconds", "Exited (0) About a minute ago"), as moby's
 * `State.String()`: paused wins over health, durations by go-units `HumanDuration`.
 */
export function statusText(r: ContainerRecord, now = Date.now()): string {
  const ago = (iso: string): string => humanDuration(now - Date.parse(iso));
  const st = r.State;
  if (st.Restarting) return `Restarting (${st.ExitCode}) ${ago(st.FinishedAt)} ago`;
  if (st.Running) {
    if (st.Paused) return `Up ${ago(st.StartedAt)} (Paused)`;
    const health = st.Health
      ? ` (${st.Health.Status === 'starting' ? 'health: starting' : st.Health.Status})`
      : '';
    return `Up ${ago(st.StartedAt)}${health}`;
  }
  if (st.Status === 'created') return 'Created';
  if (st.Status === 'removing') return 'Removal In Progress';
  if (st.Status === 'dead') return 'Dead';
  return `Exited (${st.ExitCode}) ${ago(st.FinishedAt)} ago`;
}

/** `GET /containers/json` entry. `imageName` is what the user asked for (Config.Image). */
export function summaryView(r: ContainerRecord): Record<string, unknown> {
  const ports: Array<Record<string, unknown>> = [];
  if (r.State.Running) {
    for (const p of Object.keys(r.Config.ExposedPorts ?? {})) {
      const [num = '0', type = 'tcp'] = p.split('/');
      const bound = r.Ports[p];
      if (bound && bound.length > 0) {
        for (const b of bound)
          ports.push({
            IP: b.HostIp,
            PrivatePort: Number(num),
            PublicPort: Number(b.HostPort),
            Type: type,
          });
      } else ports.push({ PrivatePort: Number(num), Type: type });
    }
    for (const [p, bound] of Object.entries(r.Ports)) {
      if (r.Config.ExposedPorts?.[p]) continue;
      const [num = '0', type = 'tcp'] = p.split('/');
      for (const b of bound ?? [])
        ports.push({
          IP: b.HostIp,
          PrivatePort: Number(num),
          PublicPort: Number(b.HostPort),
          Type: type,
        });
    }
  }
  const networks: Record<string, unknown> = {};
  for (const [name, e] of Object.entries(r.Networks)) networks[name] = endpointView(e);
  return {
    Id: r.Id,
    Names: [r.Name],
    Image: r.Config.Image,
    ImageID: r.Image,
    Command: [...r.Path.split(' '), ...r.Args].filter((s) => s !== '').join(' '),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: ports,
    Labels: r.Config.Labels,
    State: r.State.Status,
    Status: statusText(r),
    HostConfig: { NetworkMode: String(r.HostConfig.NetworkMode ?? 'bridge') },
    NetworkSettings: { Networks: networks },
    Mounts: r.Mounts.map((m) => ({
      Type: m.Type,
      ...(m.Name ? { Name: m.Name } : {}),
      Source: m.Source,
      Destination: m.Destination,
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Propagation,
    })),
  };
}

/** Filter keys `ContainerList` accepts (moby daemon/list.go acceptedPsFilterTags, the ones served). */
export const LIST_FILTER_KEYS = [
  'id',
  'name',
  'label',
  'status',
  'exited',
  'ancestor',
  'network',
  'health',
  'volume',
];

/** True when `r` passes every filter (values of one key OR, keys AND), like `docker ps --filter`. */
export function matchesFilters(
  r: ContainerRecord,
  filters: Readonly<Record<string, readonly string[]>>,
): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const any = (pred: (v: string) => boolean): boolean => values.some(pred);
    switch (key) {
      case 'id':
        if (!any((v) => r.Id.startsWith(v))) return false;
        break;
      case 'name':
        if (!any((v) => new RegExp(v).test(r.Name.slice(1)) || new RegExp(v).test(r.Name)))
          return false;
        break;
      case 'label':
        if (
          !values.every((v) => {
            const i = v.indexOf('=');
            if (i < 0) return v in r.Config.Labels;
            return r.Config.Labels[v.slice(0, i)] === v.slice(i + 1);
          })
        )
          return false;
        break;
      case 'status':
        if (!any((v) => v === r.State.Status)) return false;
        break;
      case 'exited':
        if (r.State.Status !== 'exited' || !any((v) => Number(v) === r.State.ExitCode))
          return false;
        break;
      case 'ancestor':
        if (!any((v) => v === r.Config.Image || r.Image.includes(v))) return false;
        break;
      case 'network':
        if (!any((v) => v in r.NetworkingConfig.EndpointsConfig || v in r.Networks)) return false;
        break;
      case 'health':
        if (!any((v) => (r.State.Health?.Status ?? 'none') === v)) return false;
        break;
      case 'volume':
        if (!any((v) => r.Mounts.some((m) => m.Name === v || m.Destination === v))) return false;
        break;
      default:
        break;
    }
  }
  return true;
}
