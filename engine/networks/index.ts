/**
 * The engine's network service: bridge networks (create/remove/inspect/list in Docker Engine API
 * shapes), container endpoints (connect/disconnect by netns path or pid), embedded DNS records,
 * published ports, rules, and network modes described as data for the runtime.
 * State is plain JSON returned to the caller, who persists it; nothing here writes state files.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';

import { EngineError } from '../../base/errors.js';
import {
  attachChildLink,
  attachEndpoint,
  bridgeName,
  createBridge,
  IpSession,
  type IpTools,
  randomMac,
  readHostRoutes,
  removeBridge,
  removeLink,
  vethName,
} from './bridge.js';
import { type DnsRecord, EmbeddedDns } from './dns.js';
import {
  parseExtraHosts,
  parseResolvConf,
  readHostResolvConf,
  renderHostname,
  renderHosts,
  renderResolvConf,
  type ResolvMode,
} from './hosts.js';
import {
  addressWithPrefix,
  allocateAddress,
  allocateSubnets,
  type IpamConfigRequest,
  releaseAddress,
  type SubnetState,
} from './ipam.js';
import {
  enableIpForward,
  hasIptables,
  type NetworkRules,
  restoreIpForward,
  syncRules,
  type RulesState,
} from './iptables.js';
import { expandPortSpec, PortProxy, type PortSpec, type PublishedPort } from './ports.js';

export type { PortSpec, PublishedPort } from './ports.js';
export type { IpamConfigRequest, SubnetState } from './ipam.js';

/** Docker Engine API `NetworkCreate` body (the fields tscompose honours). */
export interface NetworkCreateRequest {
  /** Network name (compose `<project>_<key>`). */
  readonly Name: string;
  /** `bridge` (the default), `macvlan` or `ipvlan` (driver_opts `parent`, `macvlan_mode`, `ipvlan_mode`, `ipvlan_flag`). */
  readonly Driver?: string | undefined;
  /** compose `internal`: no route out, no NAT, no forwarding of DNS. */
  readonly Internal?: boolean | undefined;
  /** compose `enable_ipv6`. */
  readonly EnableIPv6?: boolean | undefined;
  /** compose `ipam`. */
  readonly IPAM?:
    { readonly Driver?: string; readonly Config?: readonly IpamConfigRequest[] } | undefined;
  /** compose `driver_opts` (`com.docker.network.driver.mtu`, `com.docker.network.bridge.*`). */
  readonly Options?: Readonly<Record<string, string>> | undefined;
  /** compose `labels`. */
  readonly Labels?: Readonly<Record<string, string>> | undefined;
}

/** A container as `NetworkInspect.Containers[id]` shows it. */
export interface NetworkContainer {
  /** Container name. */
  readonly Name: string;
  /** Endpoint id. */
  readonly EndpointID: string;
  /** MAC address. */
  readonly MacAddress: string;
  /** `addr/len`, or ''. */
  readonly IPv4Address: string;
  /** `addr/len`, or ''. */
  readonly IPv6Address: string;
}

/** Docker Engine API `NetworkInspect` response. */
export interface NetworkInspect {
  /** Name. */
  readonly Name: string;
  /** 64 hex id. */
  readonly Id: string;
  /** RFC 3339 creation time. */
  readonly Created: string;
  /** Always `local`. */
  readonly Scope: 'local';
  /** Always `bridge`. */
  readonly Driver: string;
  /** IPv6 enabled. */
  readonly EnableIPv6: boolean;
  /** IPAM as configured and allocated. */
  readonly IPAM: {
    readonly Driver: 'default';
    readonly Options: Readonly<Record<string, string>>;
    readonly Config: readonly {
      readonly Subnet: string;
      readonly Gateway: string;
      readonly IPRange?: string;
      readonly AuxiliaryAddresses?: Readonly<Record<string, string>>;
    }[];
  };
  /** `internal`. */
  readonly Internal: boolean;
  /** Always false. */
  readonly Attachable: boolean;
  /** Always false. */
  readonly Ingress: boolean;
  /** Connected containers by id. */
  readonly Containers: Readonly<Record<string, NetworkContainer>>;
  /** driver_opts. */
  readonly Options: Readonly<Record<string, string>>;
  /** Labels. */
  readonly Labels: Readonly<Record<string, string>>;
}

/** One container endpoint on a network (persisted record). */
export interface EndpointState {
  /** 64 hex. */
  readonly endpointId: string;
  /** Container id. */
  readonly containerId: string;
  /** Container name (without leading slash). */
  readonly containerName: string;
  /** Host-side veth. */
  readonly hostIfName: string;
  /** Interface inside the netns (`eth0`...). */
  readonly ifName: string;
  /** netns path used when attaching. */
  readonly netnsPath: string;
  /** Container-side MAC. */
  readonly macAddress: string;
  /** IPv4 address, or ''. */
  readonly ipv4: string;
  /** IPv6 address, or ''. */
  readonly ipv6: string;
  /** Network-scoped aliases. */
  readonly aliases: readonly string[];
  /** Names the embedded DNS answers for (`[name, ...aliases, shortId, hostname]`). */
  readonly dnsNames: readonly string[];
  /** This network carries the container's default route. */
  readonly defaultRoute: boolean;
  /** Upstreams for this container's queries (`dns` overrides); empty = the engine's. */
  readonly forwarders: readonly string[];
  /** Legacy link aliases (alias -> target name). */
  readonly links: Readonly<Record<string, string>>;
  /** `ndots` option (0 = unset). */
  readonly ndots: number;
  /**
   * macvlan/ipvlan: `<dev>:<ino>` of the netns at connect. The link lives in the container's
   * netns, so a detach deletes it there only while that same netns is still behind the path (a
   * `/proc/<pid>` path may name another process once the container died).
   */
  readonly netnsId?: string | undefined;
}

/** Network drivers this engine implements (Docker's local ones with a kernel device). */
export type NetworkDriver = 'bridge' | 'macvlan' | 'ipvlan';

/** A macvlan/ipvlan network's kernel settings (driver_opts, Docker's names). */
export interface ChildLinkOptions {
  /** `parent`: the link in the engine netns the containers' links hang off. */
  readonly parent: string;
  /** `macvlan_mode` (bridge, private, vepa, passthru) or `ipvlan_mode` (l2, l3, l3s). */
  readonly mode: string;
  /** `ipvlan_flag` (bridge, private, vepa); '' for macvlan. */
  readonly flag: string;
}

/** One network (persisted record). */
export interface NetworkState {
  /** What inspect returns (without Containers, computed from endpoints). */
  readonly inspect: Omit<NetworkInspect, 'Containers'>;
  /** The driver; absent in states written before macvlan/ipvlan existed (= bridge). */
  readonly driver?: NetworkDriver | undefined;
  /** macvlan/ipvlan settings; absent for bridge networks. */
  readonly child?: ChildLinkOptions | undefined;
  /** Bridge device ('' for macvlan/ipvlan networks). */
  readonly bridge: string;
  /** MTU in bytes (0 = default). */
  readonly mtu: number;
  /** The bridge's fixed MAC (kept across recreation, so gateway neighbour entries stay valid). */
  readonly macAddress: string;
  /** Allocation state, one per subnet. */
  readonly subnets: readonly SubnetState[];
  /** Endpoints by id. */
  readonly endpoints: Readonly<Record<string, EndpointState>>;
}

/** Everything the manager knows; plain JSON, for the caller to persist. */
export interface NetworkManagerState {
  /** Networks by id. */
  readonly networks: Readonly<Record<string, NetworkState>>;
  /** ip_forward before we set it ('0' / '1'), or undefined when untouched. */
  readonly savedIpForward?: string | undefined;
}

/** `connect` arguments (Docker `NetworkConnect` + `EndpointSettings` request fields). */
export interface ConnectOptions {
  /** Container id (64 hex). */
  readonly containerId: string;
  /** Container name (DNS name). */
  readonly containerName: string;
  /** `Config.Hostname` (also a DNS name). */
  readonly hostname?: string | undefined;
  /** Pid of a process in the container netns (the init between clone and go). */
  readonly pid?: number | undefined;
  /** Or the netns file itself. */
  readonly netnsPath?: string | undefined;
  /** Network-scoped aliases (compose service name + `aliases`). */
  readonly aliases?: readonly string[] | undefined;
  /** Static `ipv4_address`. */
  readonly ipv4Address?: string | undefined;
  /** Static `ipv6_address`. */
  readonly ipv6Address?: string | undefined;
  /** Interface name inside (`eth<N>` by default, N = number of the container's endpoints). */
  readonly interfaceName?: string | undefined;
  /** Install the default route through this network (default: when it is the first one). */
  readonly defaultRoute?: boolean | undefined;
  /** `dns` overrides: the embedded DNS forwards this container's queries there. */
  readonly forwarders?: readonly string[] | undefined;
  /** Legacy `links` (alias -> target container name), answered for this container only. */
  readonly links?: Readonly<Record<string, string>> | undefined;
  /** `ndots` from `dns_opt` (> 0: single-label misses are not forwarded). */
  readonly ndots?: number | undefined;
}

/** Docker Engine API `EndpointSettings` as connect returns and container inspect shows. */
export interface EndpointSettings {
  /** Network id. */
  readonly NetworkID: string;
  /** Endpoint id. */
  readonly EndpointID: string;
  /** IPv4 gateway, or ''. */
  readonly Gateway: string;
  /** IPv4 address, or ''. */
  readonly IPAddress: string;
  /** IPv4 prefix length (0 without IPv4). */
  readonly IPPrefixLen: number;
  /** IPv6 gateway, or ''. */
  readonly IPv6Gateway: string;
  /** IPv6 address, or ''. */
  readonly GlobalIPv6Address: string;
  /** IPv6 prefix length. */
  readonly GlobalIPv6PrefixLen: number;
  /** Container MAC. */
  readonly MacAddress: string;
  /** Aliases. */
  readonly Aliases: readonly string[];
  /** Names the embedded DNS answers with this endpoint's address. */
  readonly DNSNames: readonly string[];
  /** Interface inside the container (tscompose extension). */
  readonly InterfaceName: string;
}

/** Options of {@link NetworkManager}. */
export interface NetworkManagerOptions {
  /** Previously persisted state. */
  readonly state?: NetworkManagerState | undefined;
  /** Use iptables (NAT, isolation, ip_forward); default: when iptables is installed. */
  readonly iptables?: boolean | undefined;
  /** Embedded DNS port (53). */
  readonly dnsPort?: number | undefined;
  /** Upstreams for the embedded DNS; default: the host resolv.conf nameservers. */
  readonly dnsForwarders?: readonly string[] | undefined;
  /** Extra prefixes IPAM must avoid (besides host routes, nameservers and our networks). */
  readonly reservedPrefixes?: readonly string[] | undefined;
  /** iproute2/util-linux executables. */
  readonly ipTools?: IpTools | undefined;
}

/** How the runtime sets up a container's network namespace (data, reference §3.6). */
export type NetworkModePlan =
  /** A new netns; the engine connects it to `networks` once the init exists. */
  | { readonly kind: 'bridge'; readonly netns: 'new' }
  /** Share the host's netns: no CLONE_NEWNET, host hostname, hosts and resolv.conf. */
  | { readonly kind: 'host'; readonly netns: 'host' }
  /** A new netns with only `lo` (also `disabled`). */
  | { readonly kind: 'none'; readonly netns: 'new' }
  /** Join another container's netns (and reuse its hosts/resolv.conf). */
  | {
      readonly kind: 'container';
      readonly netns: 'join';
      readonly path: string;
      readonly containerId: string;
    };

/**
 * Maps `HostConfig.NetworkMode` to a plan: `bridge`/`default`/a network name, `host`, `none`,
 * `disabled`, `container:<id|name|pid>` (compose rewrites `service:x` to `container:<id>`).
 * `lookup` gives the pid of a running container. Throws TSC_ENGINE_NOT_FOUND when the target of
 * `container:` is not running.
 */
export function planNetworkMode(
  mode: string,
  lookup: (ref: string) => { containerId: string; pid: number } | undefined,
): NetworkModePlan {
  if (mode === 'host') return { kind: 'host', netns: 'host' };
  if (mode === 'none' || mode === 'disabled') return { kind: 'none', netns: 'new' };
  if (mode.startsWith('container:')) {
    const ref = mode.slice('container:'.length);
    const found =
      lookup(ref) ?? (/^\d+$/.test(ref) ? { containerId: '', pid: Number(ref) } : undefined);
    if (!found) {
      throw new EngineError(
        'TSC_ENGINE_NOT_FOUND',
        { kind: 'container', name: ref },
        `join network of container ${ref}: not running`,
      );
    }
    return {
      kind: 'container',
      netns: 'join',
      path: `/proc/${found.pid}/ns/net`,
      containerId: found.containerId,
    };
  }
  return { kind: 'bridge', netns: 'new' };
}

/** What {@link NetworkManager.containerFiles} needs besides the container's endpoints. */
export interface ContainerFilesInput {
  /** Container id. */
  readonly containerId: string;
  /** `Config.Hostname`. */
  readonly hostname: string;
  /** `Config.Domainname`. */
  readonly domainname?: string | undefined;
  /** compose `extra_hosts` entries (`name:ip`, `host-gateway`). */
  readonly extraHosts?: readonly string[] | undefined;
  /** compose `dns`. */
  readonly dns?: readonly string[] | undefined;
  /** compose `dns_search`. */
  readonly dnsSearch?: readonly string[] | undefined;
  /** compose `dns_opt`. */
  readonly dnsOptions?: readonly string[] | undefined;
  /** IPv6 enabled in the container netns (default true, as on Linux). */
  readonly ipv6?: boolean | undefined;
  /** Host resolv.conf (default: read it as moby does). */
  readonly hostResolvConf?: { readonly path: string; readonly content: string } | undefined;
  /** `network_mode: host`: hosts is a copy of the host's (plus extra_hosts), resolv.conf the host's. */
  readonly hostNetwork?: boolean | undefined;
  /** The host's /etc/hosts text for `hostNetwork` (default: read /etc/hosts). */
  readonly hostEtcHosts?: string | undefined;
}

const OPT_MTU = 'com.docker.network.driver.mtu';
const OPT_NAME = 'com.docker.network.bridge.name';
const OPT_MASQ = 'com.docker.network.bridge.enable_ip_masquerade';
const OPT_ICC = 'com.docker.network.bridge.enable_icc';
const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'];
const IPVLAN_MODES = ['l2', 'l3', 'l3s'];
const IPVLAN_FLAGS = ['bridge', 'private', 'vepa'];

/** True for a bridge network (records written before other drivers existed are bridges). */
function isBridge(n: NetworkState): boolean {
  return (n.driver ?? 'bridge') === 'bridge';
}

/** `<dev>:<ino>` of a netns file, or undefined when it is gone. */
function netnsIdOf(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function hex64(): string {
  return randomBytes(32).toString('hex');
}

/** The message of a caught failure, for the API's error text (which carries no cause). */
function causeText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function netError(
  code: 'TSC_ENGINE_NOT_FOUND' | 'TSC_ENGINE_CONFLICT' | 'TSC_NETWORK',
  name: string,
  message: string,
  cause?: unknown,
): EngineError {
  return new EngineError(
    code,
    { kind: 'network', name },
    message,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Bridge networks of this host. One instance per engine process; not safe to share between
 * processes (the caller holds the engine lock).
 */
export class NetworkManager {
  private networks = new Map<string, NetworkState>();
  private savedIpForward: string | undefined;
  /** What the last iptables / ip6tables sync left in place (see syncRules). */
  private readonly rules4: RulesState = {};
  private readonly rules6: RulesState = {};
  private readonly dns: EmbeddedDns;
  private readonly proxy = new PortProxy();
  private readonly useIptables: boolean;
  /** ip6tables rules may exist (true at start, so leftovers of a crashed engine are cleaned). */
  private ip6Rules: boolean;
  /** ip6tables and its save/restore can be run here (probed once, at construction). */
  private readonly ip6Available: boolean;
  private readonly published = new Map<string, { networkId: string; ports: PublishedPort[] }>();
  private readonly ip: IpSession;
  private queue: Promise<void> = Promise.resolve();
  /** Deferred host veth deletions, chained (see {@link deleteLinkLater}). */
  private linkQueue: Promise<void> = Promise.resolve();
  private syncQueue: Promise<void> = Promise.resolve();

  constructor(private readonly options: NetworkManagerOptions = {}) {
    for (const [id, n] of Object.entries(options.state?.networks ?? {})) {
      this.networks.set(id, upgradeNetworkState(n));
    }
    this.savedIpForward = options.state?.savedIpForward;
    this.useIptables = options.iptables ?? hasIptables();
    this.ip6Available = this.useIptables && hasIptables(6);
    this.ip6Rules = this.ip6Available;
    this.ip = new IpSession(options.ipTools);
    const forwarders =
      options.dnsForwarders ?? parseResolvConf(readHostResolvConf().content).nameservers;
    this.dns = new EmbeddedDns({ forwarders, port: options.dnsPort });
  }

  /** The state to persist (plain JSON). */
  state(): NetworkManagerState {
    return { networks: Object.fromEntries(this.networks), savedIpForward: this.savedIpForward };
  }

  /**
   * Brings restored networks back after an engine restart: recreates bridges the kernel no longer
   * has (host reboot), collects endpoints whose host veth is gone (their netns died: a crashed or
   * vanished container), re-opens DNS listeners with the remaining records, rewrites the rules.
   * Returns the collected endpoints. Throws TSC_NETWORK when a bridge or listener cannot be set up.
   */
  async resume(): Promise<{ network: string; containerId: string }[]> {
    const collected: { network: string; containerId: string }[] = [];
    for (const n of [...this.networks.values()]) {
      if (!isBridge(n)) {
        // The links live in the containers' netns: an endpoint whose netns is gone is collected.
        for (const ep of Object.values(n.endpoints)) {
          if (ep.netnsId === undefined || netnsIdOf(ep.netnsPath) !== ep.netnsId) {
            this.dropEndpoint(n.inspect.Id, ep.endpointId);
            collected.push({ network: n.inspect.Name, containerId: ep.containerId });
          }
        }
        continue;
      }
      if (!existsSync(`/sys/class/net/${n.bridge}`)) {
        await createBridge(this.ip, {
          name: n.bridge,
          mtu: n.mtu,
          macAddress: n.macAddress,
          addresses: n.subnets.map((s) => addressWithPrefix(s.gateway, s.subnet)),
        });
      }
      const plugged: string[] = [];
      for (const ep of Object.values(n.endpoints)) {
        if (!existsSync(`/sys/class/net/${ep.hostIfName}`)) {
          this.dropEndpoint(n.inspect.Id, ep.endpointId);
          collected.push({ network: n.inspect.Name, containerId: ep.containerId });
        } else if (!existsSync(`/sys/class/net/${ep.hostIfName}/master`)) {
          plugged.push(`link set ${ep.hostIfName} master ${n.bridge} up`);
        }
      }
      // Veths that outlived their bridge go back onto the recreated one.
      await this.ip.run(plugged);
    }
    for (const n of this.networks.values()) await this.startDns(n);
    await this.syncHost();
    return collected;
  }

  /**
   * Creates a bridge network (`NetworkCreate`). Throws TSC_ENGINE_CONFLICT when the name exists,
   * TSC_NETWORK for IPAM or kernel failures (nothing is left behind then).
   */
  async create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    // Serialised: subnet choice awaits the host routes, two creates must not pick the same one.
    return this.serial(() => this.createNow(req));
  }

  private async createNow(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    if (this.find(req.Name)) {
      throw netError('TSC_ENGINE_CONFLICT', req.Name, `create network ${req.Name}: already exists`);
    }
    const driver = req.Driver ?? 'bridge';
    if (driver !== 'bridge' && driver !== 'macvlan' && driver !== 'ipvlan') {
      throw netError(
        'TSC_NETWORK',
        req.Name,
        `create network ${req.Name}: driver ${driver} is not supported`,
      );
    }
    const options = req.Options ?? {};
    const child = driver === 'bridge' ? undefined : this.childOptions(req.Name, driver, options);
    const mtu = Number(options[OPT_MTU] ?? 0);
    if (!Number.isInteger(mtu) || mtu < 0) {
      throw netError(
        'TSC_NETWORK',
        req.Name,
        `create network ${req.Name}: invalid ${OPT_MTU} ${options[OPT_MTU]}`,
      );
    }
    const id = hex64();
    const used = [
      ...(await readHostRoutes(this.options.ipTools).catch(() => [])),
      ...parseResolvConf(readHostResolvConf().content).nameservers.filter((n) => !n.includes(':')),
      ...(this.options.reservedPrefixes ?? []),
      ...[...this.networks.values()].flatMap((n) => n.subnets.map((s) => s.subnet)),
    ];
    const subnets = allocateSubnets({
      configs: req.IPAM?.Config ?? [],
      enableIPv6: req.EnableIPv6 ?? false,
      used,
    });
    const bridge = child ? '' : (options[OPT_NAME] ?? bridgeName(id));
    const inspect: Omit<NetworkInspect, 'Containers'> = {
      Name: req.Name,
      Id: id,
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: driver,
      EnableIPv6: req.EnableIPv6 ?? false,
      IPAM: {
        Driver: 'default',
        Options: {},
        Config: subnets.map((s) => ({
          Subnet: s.subnet,
          Gateway: s.gateway,
          ...(s.ipRange !== undefined ? { IPRange: s.ipRange } : {}),
          ...(Object.keys(s.auxAddresses).length > 0 ? { AuxiliaryAddresses: s.auxAddresses } : {}),
        })),
      },
      Internal: req.Internal ?? false,
      Attachable: false,
      Ingress: false,
      Options: { ...options },
      Labels: { ...(req.Labels ?? {}) },
    };
    const macAddress = randomMac();
    if (child) {
      // No bridge, NAT, rules or DNS listener (moby drivers/macvlan, drivers/ipvlan): the
      // gateway is an address on the parent's segment, not on this host.
      await this.probeChild(req.Name, driver as 'macvlan' | 'ipvlan', child);
      const state: NetworkState = {
        inspect,
        driver: driver,
        child,
        bridge,
        mtu,
        macAddress,
        subnets,
        endpoints: {},
      };
      this.networks.set(id, state);
      return { Id: id, Warning: '' };
    }
    const state: NetworkState = { inspect, bridge, mtu, macAddress, subnets, endpoints: {} };
    try {
      await createBridge(this.ip, {
        name: bridge,
        mtu,
        macAddress,
        addresses: subnets.map((s) => addressWithPrefix(s.gateway, s.subnet)),
      });
    } catch (e) {
      throw netError('TSC_NETWORK', req.Name, `create network ${req.Name}: bridge ${bridge}`, e);
    }
    this.networks.set(id, state);
    try {
      await this.startDns(state);
      await this.syncHost();
    } catch (e) {
      this.networks.delete(id);
      await this.dns.close(id);
      await removeBridge(this.ip, bridge).catch(() => undefined);
      await this.syncHost().catch(() => undefined);
      throw netError('TSC_NETWORK', req.Name, `create network ${req.Name}`, e);
    }
    return { Id: id, Warning: '' };
  }

  /**
   * Removes a network (`NetworkDelete`). Throws TSC_ENGINE_NOT_FOUND, or TSC_ENGINE_CONFLICT while
   * containers are connected (moby: "has active endpoints").
   */
  async remove(ref: string): Promise<void> {
    return this.serial(() => this.removeNow(ref));
  }

  private async removeNow(ref: string): Promise<void> {
    const n = this.get(ref);
    const name = n.inspect.Name;
    if (Object.keys(n.endpoints).length > 0) {
      throw netError(
        'TSC_ENGINE_CONFLICT',
        name,
        `remove network ${name}: network has active endpoints`,
      );
    }
    this.networks.delete(n.inspect.Id);
    // independent: the listener, the kernel's bridge teardown, the iptables rewrite without it
    // (rules naming a bridge being deleted match nothing meanwhile)
    const settled = await Promise.allSettled([
      this.dns.close(n.inspect.Id),
      isBridge(n) ? removeBridge(this.ip, n.bridge) : Promise.resolve(),
      this.syncHost(),
    ]);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  }

  /** `NetworkInspect` by id, id prefix or name. Throws TSC_ENGINE_NOT_FOUND. */
  inspect(ref: string): NetworkInspect {
    return this.toInspect(this.get(ref));
  }

  /** `NetworkList`, sorted by name. */
  list(): NetworkInspect[] {
    return [...this.networks.values()]
      .map((n) => this.toInspect(n))
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /**
   * Connects a container's netns (`NetworkConnect`): allocates addresses, creates the veth with
   * its peer inside the netns, configures it, registers DNS names. Works before "go" and on a
   * running container (the NIC appears live). An endpoint of the same container whose link is
   * gone (a start cut short by an engine crash) is dropped first. Throws TSC_ENGINE_NOT_FOUND,
   * TSC_ENGINE_CONFLICT when already connected, TSC_NETWORK on IPAM/kernel failures (addresses
   * are released then).
   */
  async connect(ref: string, opts: ConnectOptions): Promise<EndpointSettings> {
    let n = this.get(ref);
    const name = n.inspect.Name;
    if (this.dropStaleEndpoint(n, opts.containerId)) n = this.get(ref);
    if (Object.values(n.endpoints).some((e) => e.containerId === opts.containerId)) {
      throw netError(
        'TSC_ENGINE_CONFLICT',
        name,
        `connect ${opts.containerName} to network ${name}: already connected`,
      );
    }
    const netnsPath =
      opts.netnsPath ?? (opts.pid !== undefined ? `/proc/${opts.pid}/ns/net` : undefined);
    if (netnsPath === undefined) {
      throw netError(
        'TSC_NETWORK',
        name,
        `connect ${opts.containerName} to network ${name}: no pid or netns path`,
      );
    }
    const mine = this.endpointsOf(opts.containerId);
    const ifName = opts.interfaceName ?? nextIfName(mine.map((e) => e.ifName));
    // Allocate synchronously so concurrent connects never get the same address.
    let subnets = [...n.subnets];
    let ipv4 = '';
    let ipv6 = '';
    try {
      subnets = subnets.map((s) => {
        if (s.family === 4 && ipv4 === '') {
          const r = allocateAddress(s, opts.ipv4Address);
          ipv4 = r.address;
          return r.state;
        }
        if (s.family === 6 && ipv6 === '') {
          const r = allocateAddress(s, opts.ipv6Address);
          ipv6 = r.address;
          return r.state;
        }
        return s;
      });
    } catch (e) {
      throw netError(
        'TSC_NETWORK',
        name,
        `connect ${opts.containerName} to network ${name}: ${causeText(e)}`,
        e,
      );
    }
    const endpointId = hex64();
    const aliases = [...(opts.aliases ?? [])];
    const netnsId = n.child ? netnsIdOf(netnsPath) : undefined;
    const dnsNames = dedupe([
      opts.containerName,
      ...aliases,
      opts.containerId.slice(0, 12),
      ...(opts.hostname ? [opts.hostname] : []),
    ]);
    const defaultRoute =
      !n.inspect.Internal && (opts.defaultRoute ?? !mine.some((e) => e.defaultRoute));
    const ep: EndpointState = {
      endpointId,
      containerId: opts.containerId,
      containerName: opts.containerName,
      hostIfName: n.child ? '' : vethName(),
      ifName,
      netnsPath,
      // ipvlan children share their parent's MAC (Docker reports none).
      macAddress: n.driver === 'ipvlan' ? '' : randomMac(),
      ipv4,
      ipv6,
      aliases,
      dnsNames,
      defaultRoute,
      forwarders: [...(opts.forwarders ?? [])],
      links: { ...(opts.links ?? {}) },
      ndots: opts.ndots ?? 0,
      ...(netnsId !== undefined ? { netnsId } : {}),
    };
    this.networks.set(n.inspect.Id, {
      ...n,
      subnets,
      endpoints: { ...n.endpoints, [endpointId]: ep },
    });
    const v4 = subnets.find((s) => s.family === 4);
    const v6 = subnets.find((s) => s.family === 6);
    const addresses = [
      ...(v4 && ipv4 ? [addressWithPrefix(ipv4, v4.subnet)] : []),
      ...(v6 && ipv6 ? [addressWithPrefix(ipv6, v6.subnet)] : []),
    ];
    try {
      if (n.child) {
        // ipvlan l3/l3s: no gateway on the segment, the default route is `dev ethN` (moby).
        const l3 = n.driver === 'ipvlan' && n.child.mode !== 'l2';
        await attachChildLink({
          kind: n.driver === 'ipvlan' ? 'ipvlan' : 'macvlan',
          parent: n.child.parent,
          mode: n.child.mode,
          ipvlanFlag: n.child.flag,
          ifName,
          netnsPath,
          macAddress: ep.macAddress,
          addresses,
          gateways: defaultRoute
            ? [
                ...(v4 && ipv4 ? [l3 ? '0.0.0.0' : v4.gateway] : []),
                ...(v6 && ipv6 ? [l3 ? '::' : v6.gateway] : []),
              ]
            : [],
        });
      } else {
        await attachEndpoint(
          this.ip,
          {
            bridge: n.bridge,
            hostIfName: ep.hostIfName,
            ifName,
            netnsPath,
            macAddress: ep.macAddress,
            mtu: n.mtu,
            addresses,
            gateways: defaultRoute
              ? [...(v4 ? [v4.gateway] : []), ...(v6 ? [v6.gateway] : [])]
              : [],
          },
          this.options.ipTools,
        );
      }
    } catch (e) {
      this.dropEndpoint(n.inspect.Id, endpointId);
      throw netError(
        'TSC_NETWORK',
        name,
        `connect ${opts.containerName} to network ${name}: ${causeText(e)}`,
        e,
      );
    }
    if (isBridge(n)) this.dns.register(n.inspect.Id, endpointId, dnsRecordOf(ep));
    return this.toSettings(this.get(n.inspect.Id), ep);
  }

  /**
   * Disconnects a container (`NetworkDisconnect`): deletes the host veth (the NIC vanishes from the
   * netns), releases addresses, drops DNS records. A gone netns/veth (crashed container) is fine.
   * Throws TSC_ENGINE_NOT_FOUND when the network or the endpoint does not exist.
   */
  async disconnect(
    ref: string,
    containerId: string,
    opts: { deferLinks?: boolean } = {},
  ): Promise<void> {
    const n = this.get(ref);
    const ep = Object.values(n.endpoints).find((e) => e.containerId === containerId);
    if (!ep) {
      throw new EngineError(
        'TSC_ENGINE_NOT_FOUND',
        { kind: 'container', name: containerId },
        `disconnect ${containerId} from network ${n.inspect.Name}: not connected`,
      );
    }
    this.dns.unregister(n.inspect.Id, ep.endpointId);
    if (!isBridge(n)) {
      // The child link lives in the container netns; when that netns is gone, so is the link.
      if (ep.netnsId !== undefined && netnsIdOf(ep.netnsPath) === ep.netnsId) {
        await removeLink(this.ip, ep.ifName, ep.netnsPath);
      }
    } else if (opts.deferLinks === true) {
      this.deleteLinkLater(ep.hostIfName);
    } else {
      await removeLink(this.ip, ep.hostIfName);
    }
    this.dropEndpoint(n.inspect.Id, ep.endpointId);
  }

  /** `EndpointSettings` of every network a container is on, by network name. */
  containerNetworks(containerId: string): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    for (const n of this.networks.values()) {
      for (const ep of Object.values(n.endpoints)) {
        if (ep.containerId === containerId) out[n.inspect.Name] = this.toSettings(n, ep);
      }
    }
    return out;
  }

  /**
   * Publishes ports of a container through the userland proxy, towards its address on `network`
   * (default: the network carrying its default route), and DNAT rules when iptables is used.
   * Returns what was bound (random host ports resolved). Throws TSC_NETWORK.
   */
  async publish(
    containerId: string,
    specs: readonly PortSpec[],
    network?: string,
  ): Promise<PublishedPort[]> {
    const target = this.targetEndpoint(containerId, network);
    // Ports are not published for containers only on macvlan/ipvlan networks (as in Docker).
    if (!target && network === undefined && this.endpointsOf(containerId).length > 0) return [];
    if (!target) {
      throw new EngineError(
        'TSC_ENGINE_NOT_FOUND',
        { kind: 'container', name: containerId },
        `publish ports of ${containerId}: not connected to a network`,
      );
    }
    const bindings = specs.flatMap((s) => expandPortSpec(s, hostHasIPv6()));
    const ports = await this.proxy.publish(containerId, bindings, target.ep.ipv4);
    const prev = this.published.get(containerId)?.ports ?? [];
    this.published.set(containerId, { networkId: target.networkId, ports: [...prev, ...ports] });
    await this.syncHost();
    return ports;
  }

  /** Closes a container's published ports. */
  async unpublish(containerId: string): Promise<void> {
    await this.proxy.unpublish(containerId);
    if (this.published.delete(containerId)) await this.syncHost();
  }

  /**
   * Unpublishes and disconnects a container from every network (stop, or a crashed one).
   * `deferLinks` (for a container whose processes are all gone): host veths are deleted in the
   * background, one at a time (see {@link linksSettled}), instead of before this resolves.
   */
  async releaseContainer(containerId: string, opts: { deferLinks?: boolean } = {}): Promise<void> {
    await this.unpublish(containerId);
    for (const n of [...this.networks.values()]) {
      if (Object.values(n.endpoints).some((e) => e.containerId === containerId)) {
        await this.disconnect(n.inspect.Id, containerId, opts);
      }
    }
  }

  /**
   * Deletes a host veth of a dead container in the background. Its netns is going away, and the
   * kernel deletes the pair with it (veth dellink takes the peer along), so this is only the
   * backstop; a link already gone is fine. Deletions run one after another: the kernel takes
   * the rtnl lock for each anyway, and a queue of them would otherwise hold every libuv pool
   * thread, stalling the engine's file I/O behind them.
   */
  private deleteLinkLater(name: string): void {
    const job = this.linkQueue.then(() =>
      // a failure leaves the link to the kernel's netns teardown
      removeLink(this.ip, name).catch(() => undefined),
    );
    this.linkQueue = job;
  }

  /** Resolves when every deferred veth deletion has finished (see {@link releaseContainer}). */
  async linksSettled(): Promise<void> {
    for (let q = this.linkQueue; ; q = this.linkQueue) {
      await q;
      if (q === this.linkQueue) return;
    }
  }

  /**
   * Renders a connected container's /etc/hostname, /etc/hosts and /etc/resolv.conf (nameserver =
   * the embedded DNS on the gateway of its default-route network; `host-gateway` = that gateway).
   */
  containerFiles(input: ContainerFilesInput): {
    hostname: string;
    hosts: string;
    resolvConf: string;
  } {
    if (input.hostNetwork) return this.hostNetworkFiles(input);
    const eps = this.endpointsOf(input.containerId);
    // The embedded DNS listens on bridge gateways only: a macvlan/ipvlan gateway is not ours.
    const onBridge = eps.filter((e) => {
      const net = this.networkOf(e.endpointId);
      return net !== undefined && isBridge(net);
    });
    const primary = onBridge.find((e) => e.defaultRoute) ?? onBridge[0];
    const primaryNet = primary ? this.networkOf(primary.endpointId) : undefined;
    const gateway = primaryNet?.subnets.find((s) => s.family === 4)?.gateway ?? '';
    const addresses = eps.flatMap((e) => [e.ipv4, e.ipv6].filter((a) => a !== ''));
    const hosts = renderHosts({
      hostname: input.hostname,
      domainname: input.domainname ?? '',
      addresses,
      extraHosts: parseExtraHosts(input.extraHosts ?? [], gateway),
      ipv6: input.ipv6 ?? true,
    });
    const host = input.hostResolvConf ?? readHostResolvConf();
    const mode: ResolvMode = gateway ? { kind: 'internal', address: gateway } : { kind: 'host' };
    const resolv = renderResolvConf({
      hostPath: host.path,
      hostContent: host.content,
      mode,
      dns: input.dns,
      dnsSearch: input.dnsSearch,
      dnsOptions: input.dnsOptions,
    });
    return { hostname: renderHostname(input.hostname), hosts, resolvConf: resolv.content };
  }

  /** Files of a `network_mode: host` container (reference §3.6): the host's, plus extra_hosts. */
  private hostNetworkFiles(input: ContainerFilesInput): {
    hostname: string;
    hosts: string;
    resolvConf: string;
  } {
    let etcHosts = input.hostEtcHosts;
    if (etcHosts === undefined) {
      try {
        etcHosts = readFileSync('/etc/hosts', 'utf8');
      } catch {
        etcHosts = '127.0.0.1\tlocalhost\n';
      }
    }
    if (etcHosts !== '' && !etcHosts.endsWith('\n')) etcHosts += '\n';
    const extras = parseExtraHosts(input.extraHosts ?? [], '127.0.0.1');
    const hosts = etcHosts + extras.map((r) => `${r.ip}\t${r.names.join(' ')}\n`).join('');
    const host = input.hostResolvConf ?? readHostResolvConf();
    const resolv = renderResolvConf({
      hostPath: host.path,
      hostContent: host.content,
      mode: { kind: 'host' },
      dns: input.dns,
      dnsSearch: input.dnsSearch,
      dnsOptions: input.dnsOptions,
    });
    return { hostname: renderHostname(input.hostname), hosts, resolvConf: resolv.content };
  }

  /** Stops DNS listeners and port proxies (networks stay; call at engine shutdown). */
  async close(): Promise<void> {
    await this.linksSettled();
    await this.proxy.closeAll();
    await this.dns.closeAll();
    this.ip.close();
  }

  private async startDns(n: NetworkState): Promise<void> {
    const gw = n.subnets.find((s) => s.family === 4)?.gateway;
    if (!gw || !isBridge(n)) return;
    await this.dns.listen(
      { id: n.inspect.Id, name: n.inspect.Name, internal: n.inspect.Internal },
      gw,
    );
    for (const ep of Object.values(n.endpoints)) {
      this.dns.register(n.inspect.Id, ep.endpointId, dnsRecordOf(ep));
    }
  }

  /**
   * Reads and checks macvlan/ipvlan driver_opts with moby's messages: `parent` must exist (and is
   * required: there is no `dummy` link fallback), no other network may use it, modes and flags
   * from Docker's lists. Throws TSC_NETWORK.
   */
  private childOptions(
    name: string,
    driver: 'macvlan' | 'ipvlan',
    options: Readonly<Record<string, string>>,
  ): ChildLinkOptions {
    const fail = (why: string): never => {
      throw netError('TSC_NETWORK', name, `create network ${name}: ${why}`);
    };
    const parent = options['parent'] ?? '';
    if (parent === '') fail(`driver ${driver} needs -o parent=<link> (no dummy parent fallback)`);
    if (parent.length > 15 || parent.includes('/') || !existsSync(`/sys/class/net/${parent}`)) {
      fail(`-o parent interface was not found on the host: ${parent}`);
    }
    const user = [...this.networks.values()].find((n) => n.child?.parent === parent);
    if (user) fail(`network ${user.inspect.Name} is already using parent interface ${parent}`);
    if (driver === 'macvlan') {
      const mode = options['macvlan_mode'] ?? 'bridge';
      if (!MACVLAN_MODES.includes(mode)) {
        fail(
          `requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`,
        );
      }
      return { parent, mode, flag: '' };
    }
    const mode = options['ipvlan_mode'] ?? 'l2';
    if (!IPVLAN_MODES.includes(mode)) {
      fail(`requested ipvlan mode '${mode}' is not valid, 'l2' mode is the ipvlan driver default`);
    }
    const flag = options['ipvlan_flag'] ?? 'bridge';
    if (!IPVLAN_FLAGS.includes(flag)) {
      fail(`requested ipvlan flag '${flag}' is not valid, 'bridge' is the ipvlan driver default`);
    }
    return { parent, mode, flag };
  }

  /**
   * Checks that the kernel has the link kind by creating a child of the parent in our own netns
   * and deleting it at once (a kernel without it answers EOPNOTSUPP). Throws TSC_NETWORK.
   */
  private async probeChild(
    name: string,
    driver: 'macvlan' | 'ipvlan',
    child: ChildLinkOptions,
  ): Promise<void> {
    const probe = `tscp${randomBytes(5).toString('hex')}`;
    try {
      await attachChildLink({
        kind: driver,
        parent: child.parent,
        mode: child.mode,
        ipvlanFlag: child.flag,
        ifName: probe,
        netnsPath: '/proc/self/ns/net',
        macAddress: '',
        addresses: [],
        gateways: [],
      });
    } catch (e) {
      const unsupported = e instanceof Error && /EOPNOTSUPP/.test(e.message);
      throw netError(
        'TSC_NETWORK',
        name,
        unsupported
          ? `create network ${name}: the kernel has no ${driver} support`
          : `create network ${name}: ${driver} on ${child.parent}`,
        e,
      );
    }
    await removeLink(this.ip, probe, '/proc/self/ns/net');
  }

  /** Runs `fn` after every earlier serialised operation has settled. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private syncHost(): Promise<void> {
    // Rule rewrites are serialised with creates/removes; each rewrite reads the latest state.
    this.syncQueue = this.syncQueue.then(
      () => this.syncHostNow(),
      () => this.syncHostNow(),
    );
    return this.syncQueue;
  }

  private async syncHostNow(): Promise<void> {
    if (!this.useIptables) return;
    const rules: NetworkRules[] = [...this.networks.values()].filter(isBridge).map((n) => ({
      bridge: n.bridge,
      subnets: n.subnets.filter((s) => s.family === 4).map((s) => s.subnet),
      internal: n.inspect.Internal,
      masquerade: (n.inspect.Options[OPT_MASQ] ?? 'true') !== 'false',
      icc: (n.inspect.Options[OPT_ICC] ?? 'true') !== 'false',
      ports: [...this.published.values()]
        .filter((p) => p.networkId === n.inspect.Id)
        .flatMap((p) => p.ports)
        .filter((p) => !p.hostIp.includes(':') && !p.containerIp.includes(':'))
        .filter((p) => !p.hostIp.startsWith('127.'))
        .map((p) => ({ ...p })),
    }));
    const nat = rules.some((r) => !r.internal);
    try {
      await syncRules(rules, 4, this.rules4);
      await this.syncIp6Rules();
      if (nat && this.savedIpForward === undefined) this.savedIpForward = enableIpForward();
    } finally {
      // the last NAT network is gone: ip_forward goes back, even when iptables failed
      if (!nat && this.savedIpForward !== undefined) {
        restoreIpForward(this.savedIpForward);
        this.savedIpForward = undefined;
      }
    }
  }

  /**
   * The same chains and rules through ip6tables for IPv6-enabled bridge networks: MASQUERADE of
   * the IPv6 subnets, isolation, and DNAT of ports published on IPv6 host addresses (`::` or a
   * given one, never `::1`) to the container's IPv6 address (containers without one are left to
   * the proxy). IPv6 forwarding is not switched on (it would turn off router advertisements on the
   * host's links): DNAT serves traffic from this host; from elsewhere it needs
   * `net.ipv6.conf.all.forwarding=1` set by the administrator.
   */
  private async syncIp6Rules(): Promise<void> {
    const v6 = [...this.networks.values()].filter(
      (n) => isBridge(n) && n.subnets.some((s) => s.family === 6),
    );
    if (v6.length === 0 && !this.ip6Rules) return;
    if (v6.length > 0 && !this.ip6Available) return;
    const rules: NetworkRules[] = v6.map((n) => ({
      bridge: n.bridge,
      subnets: n.subnets.filter((s) => s.family === 6).map((s) => s.subnet),
      internal: n.inspect.Internal,
      masquerade: (n.inspect.Options[OPT_MASQ] ?? 'true') !== 'false',
      icc: (n.inspect.Options[OPT_ICC] ?? 'true') !== 'false',
      ports: [...this.published.entries()]
        .filter(([, p]) => p.networkId === n.inspect.Id)
        .flatMap(([containerId, p]) => {
          const ep = Object.values(n.endpoints).find((e) => e.containerId === containerId);
          if (!ep?.ipv6) return [];
          return p.ports
            .filter((x) => x.hostIp.includes(':') && x.hostIp !== '::1')
            .map((x) => ({ ...x, containerIp: ep.ipv6 }));
        }),
    }));
    await syncRules(rules, 6, this.rules6);
    this.ip6Rules = v6.length > 0;
  }

  private targetEndpoint(
    containerId: string,
    network?: string,
  ): { networkId: string; ep: EndpointState } | undefined {
    const candidates = (
      network !== undefined ? [this.get(network)] : [...this.networks.values()]
    ).filter(isBridge);
    let fallback: { networkId: string; ep: EndpointState } | undefined;
    for (const n of candidates) {
      for (const ep of Object.values(n.endpoints)) {
        if (ep.containerId !== containerId || ep.ipv4 === '') continue;
        if (ep.defaultRoute || network !== undefined) return { networkId: n.inspect.Id, ep };
        fallback ??= { networkId: n.inspect.Id, ep };
      }
    }
    return fallback;
  }

  /**
   * Drops the endpoint of `containerId` on `n` when its link is gone (bridge: the host veth;
   * macvlan/ipvlan: the netns it was made in), as {@link resume} does: a start of the same
   * container cut short by an engine crash left it, and the container's next start connects
   * again. A live endpoint stays (connect refuses it as already connected). True when one was
   * dropped (the network's state object was replaced: get it again).
   */
  private dropStaleEndpoint(n: NetworkState, containerId: string): boolean {
    const ep = Object.values(n.endpoints).find((e) => e.containerId === containerId);
    if (!ep) return false;
    const gone = isBridge(n)
      ? !existsSync(`/sys/class/net/${ep.hostIfName}`)
      : ep.netnsId === undefined || netnsIdOf(ep.netnsPath) !== ep.netnsId;
    if (!gone) return false;
    this.dns.unregister(n.inspect.Id, ep.endpointId);
    this.dropEndpoint(n.inspect.Id, ep.endpointId);
    return true;
  }

  private dropEndpoint(networkId: string, endpointId: string): void {
    const n = this.networks.get(networkId);
    const ep = n?.endpoints[endpointId];
    if (!n || !ep) return;
    const subnets = n.subnets.map((s) => {
      const addr = s.family === 4 ? ep.ipv4 : ep.ipv6;
      return addr ? releaseAddress(s, addr) : s;
    });
    const endpoints = { ...n.endpoints };
    delete endpoints[endpointId];
    this.networks.set(networkId, { ...n, subnets, endpoints });
  }

  private endpointsOf(containerId: string): EndpointState[] {
    return [...this.networks.values()].flatMap((n) =>
      Object.values(n.endpoints).filter((e) => e.containerId === containerId),
    );
  }

  private networkOf(endpointId: string): NetworkState | undefined {
    return [...this.networks.values()].find((n) => n.endpoints[endpointId] !== undefined);
  }

  private find(ref: string): NetworkState | undefined {
    const all = [...this.networks.values()];
    return (
      all.find((n) => n.inspect.Id === ref) ??
      all.find((n) => n.inspect.Name === ref) ??
      (ref.length >= 3 ? all.find((n) => n.inspect.Id.startsWith(ref)) : undefined)
    );
  }

  private get(ref: string): NetworkState {
    const n = this.find(ref);
    if (!n) throw netError('TSC_ENGINE_NOT_FOUND', ref, `network ${ref} not found`);
    return n;
  }

  private toInspect(n: NetworkState): NetworkInspect {
    const containers: Record<string, NetworkContainer> = {};
    const v4 = n.subnets.find((s) => s.family === 4);
    const v6 = n.subnets.find((s) => s.family === 6);
    for (const ep of Object.values(n.endpoints)) {
      containers[ep.containerId] = {
        Name: ep.containerName,
        EndpointID: ep.endpointId,
        MacAddress: ep.macAddress,
        IPv4Address: ep.ipv4 && v4 ? addressWithPrefix(ep.ipv4, v4.subnet) : '',
        IPv6Address: ep.ipv6 && v6 ? addressWithPrefix(ep.ipv6, v6.subnet) : '',
      };
    }
    return { ...n.inspect, Containers: containers };
  }

  private toSettings(n: NetworkState, ep: EndpointState): EndpointSettings {
    const v4 = n.subnets.find((s) => s.family === 4);
    const v6 = n.subnets.find((s) => s.family === 6);
    const bits = (s: SubnetState | undefined): number => Number(s?.subnet.split('/')[1] ?? 0);
    return {
      NetworkID: n.inspect.Id,
      EndpointID: ep.endpointId,
      Gateway: v4 && ep.ipv4 ? v4.gateway : '',
      IPAddress: ep.ipv4,
      IPPrefixLen: ep.ipv4 ? bits(v4) : 0,
      IPv6Gateway: v6 && ep.ipv6 ? v6.gateway : '',
      GlobalIPv6Address: ep.ipv6,
      GlobalIPv6PrefixLen: ep.ipv6 ? bits(v6) : 0,
      MacAddress: ep.macAddress,
      Aliases: ep.aliases,
      DNSNames: ep.dnsNames,
      InterfaceName: ep.ifName,
    };
  }
}

/**
 * Fills fields added after a state was written (records persisted by an older engine): a bridge
 * MAC, endpoint link aliases, ndots, forwarders.
 */
function upgradeNetworkState(n: NetworkState): NetworkState {
  const old = n as Partial<NetworkState> & NetworkState;
  const endpoints: Record<string, EndpointState> = {};
  for (const [id, ep] of Object.entries(n.endpoints)) {
    const e = ep as Partial<EndpointState> & EndpointState;
    endpoints[id] = {
      ...e,
      links: e.links ?? {},
      ndots: e.ndots ?? 0,
      forwarders: e.forwarders ?? [],
    };
  }
  return { ...old, macAddress: old.macAddress ?? randomMac(), endpoints };
}

/** The DNS record of an endpoint. */
function dnsRecordOf(ep: EndpointState): DnsRecord {
  return {
    containerId: ep.containerId,
    names: ep.dnsNames,
    ipv4: ep.ipv4 || undefined,
    ipv6: ep.ipv6 || undefined,
    forwarders: ep.forwarders.length > 0 ? ep.forwarders : undefined,
    links: Object.keys(ep.links).length > 0 ? ep.links : undefined,
    ndots: ep.ndots > 0 ? ep.ndots : undefined,
  };
}

/** True when the engine netns has IPv6 (an empty host IP then binds `::` too, reference §3.5). */
function hostHasIPv6(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', 'utf8').trim() === '0';
  } catch {
    return false;
  }
}

function nextIfName(taken: readonly string[]): string {
  for (let i = 0; ; i++) if (!taken.includes(`eth${i}`)) return `eth${i}`;
}

function dedupe(names: readonly string[]): string[] {
  return [...new Set(names.filter((x) => x !== ''))];
}
