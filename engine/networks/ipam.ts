/**
 * IP address management for bridge networks: Docker's default local pools, subnet choice, gateway,
 * ip_range, aux addresses, container address allocation and release.
 * PURE: no I/O. The caller passes the prefixes already in use (host routes, other networks).
 */
import { isIPv4, isIPv6 } from 'node:net';

import { TscError } from '../../base/errors.js';

/** An address family: 4 or 6. */
export type IpFamily = 4 | 6;

/** A parsed CIDR prefix. `network` is the prefix's first address (host bits cleared). */
export interface Prefix {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** The network address as an integer (32 or 128 bits). */
  readonly network: bigint;
  /** Prefix length in bits (0-32 for IPv4, 0-128 for IPv6). */
  readonly bits: number;
}

/** One default pool: a base prefix split into subnets of `size` bits. */
export interface AddressPool {
  /** Base prefix in CIDR form (`172.20.0.0/14`). */
  readonly base: string;
  /** Prefix length of each subnet carved out of `base`. */
  readonly size: number;
}

/**
 * Docker's local-scope default pools, in order (moby `daemon/libnetwork/ipamutils/utils.go`,
 * engine-reference §3.2): 172.17-19 as /16s, 172.20-31 as /16s out of three /14s, then
 * 192.168.0.0/16 as /20s.
 */
export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/**
 * The IPv6 pool used when IPv6 is enabled without a configured subnet: unique local addresses
 * (RFC 4193) as /64s. Docker 27+ uses a ULA pool too (`fd00::/8` split into /64s).
 */
export const DEFAULT_IPV6_POOLS: readonly AddressPool[] = [{ base: 'fd00::/8', size: 64 }];

/** One `IPAM.Config` entry as the Docker Engine API `NetworkCreate` takes it (compose `ipam.config`). */
export interface IpamConfigRequest {
  /** Subnet in CIDR form; chosen from the default pools when absent. */
  readonly Subnet?: string | undefined;
  /** Sub-range container addresses are taken from (CIDR inside Subnet). */
  readonly IPRange?: string | undefined;
  /** Gateway address; the first usable address of Subnet when absent. */
  readonly Gateway?: string | undefined;
  /** Addresses reserved for other hosts (name -> address); never handed to containers. */
  readonly AuxiliaryAddresses?: Readonly<Record<string, string>> | undefined;
}

/** Allocation state of one subnet of a network. Plain JSON (the caller persists it). */
export interface SubnetState {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** Subnet, canonical CIDR (`172.18.0.0/16`). */
  readonly subnet: string;
  /** Gateway address (no prefix length); on the bridge, the containers' default route. */
  readonly gateway: string;
  /** Range container addresses come from (canonical CIDR), or undefined for the whole subnet. */
  readonly ipRange?: string | undefined;
  /** Reserved aux addresses (name -> address). */
  readonly auxAddresses: Readonly<Record<string, string>>;
  /** Addresses handed to endpoints, sorted ascending. */
  readonly allocated: readonly string[];
}

/** What {@link allocateSubnets} needs. */
export interface AllocateSubnetsOptions {
  /** `IPAM.Config` entries; empty means one IPv4 subnet from the default pools. */
  readonly configs: readonly IpamConfigRequest[];
  /** `EnableIPv6`: add an IPv6 subnet (from {@link DEFAULT_IPV6_POOLS} when none is configured). */
  readonly enableIPv6: boolean;
  /** Prefixes in use (CIDR or bare addresses): host on-link routes, nameservers, other networks. */
  readonly used: readonly string[];
  /** IPv4 pools to use instead of {@link DEFAULT_ADDRESS_POOLS} (daemon `default-address-pools`). */
  readonly pools?: readonly AddressPool[] | undefined;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

function ipamError(message: string): TscError {
  return new TscError('TSC_NETWORK', message);
}

/** Parses an IPv4 or IPv6 address to its integer value. Throws TSC_NETWORK when invalid. */
export function parseAddress(text: string): { family: IpFamily; value: bigint } {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (isIPv6(text)) return { family: 6, value: parseIPv6(text) };
  throw ipamError(`parse address ${text}: not an IP address`);
}

function parseIPv6(text: string): bigint {
  let body = text;
  const groups: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two 16-bit groups.
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  let tailGroups: number[] = [];
  if (tail.includes('.')) {
    const v4 = parseAddress(tail).value;
    tailGroups = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    body = body.slice(0, lastColon + 1) + '0';
  }
  const [head = '', rest] = body.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  let right = rest === undefined ? [] : parse(rest);
  if (tailGroups.length > 0) {
    if (rest === undefined) left.splice(left.length - 1, 1, ...tailGroups);
    else right = [...right.slice(0, -1), ...tailGroups];
  }
  const fill = 8 - left.length - right.length;
  groups.push(...left, ...Array<number>(rest === undefined ? 0 : fill).fill(0), ...right);
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Formats an integer address: dotted quad, or RFC 5952 compressed IPv6. */
export function formatAddress(family: IpFamily, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of two or more zero groups becomes "::" (first one on ties).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/**
 * Parses `addr/bits` (or a bare address, as a host prefix) and clears the host bits.
 * Throws TSC_NETWORK when invalid.
 */
export function parsePrefix(text: string): Prefix {
  const [addr = '', bitsText] = text.split('/');
  const { family, value } = parseAddress(addr);
  const max = BITS[family];
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (bitsText ?? '0').trim() === '') {
    throw ipamError(`parse prefix ${text}: invalid prefix length`);
  }
  return { family, network: value & prefixMask(family, bits), bits };
}

/** Canonical CIDR text of a prefix (`172.18.0.0/16`). */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.family, p.network)}/${p.bits}`;
}

function prefixMask(family: IpFamily, bits: number): bigint {
  const max = BITS[family];
  const all = (1n << BigInt(max)) - 1n;
  return (all >> BigInt(max - bits)) << BigInt(max - bits);
}

function lastAddress(p: Prefix): bigint {
  return p.network | (~prefixMask(p.family, p.bits) & ((1n << BigInt(BITS[p.family])) - 1n));
}

/** True when `a` and `b` share at least one address (same family only). */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  return contains(a, b.network) || contains(b, a.network);
}

/** True when the address lies inside the prefix. */
export function contains(p: Prefix, value: bigint): boolean {
  return (value & prefixMask(p.family, p.bits)) === p.network;
}

/** The IPv4 netmask length and address in one string (`172.18.0.2/16`) for `ip addr add`. */
export function addressWithPrefix(address: string, subnet: string): string {
  return `${address}/${parsePrefix(subnet).bits}`;
}

/**
 * Chooses the subnets of a new network. Configured subnets are validated (gateway, ip_range and
 * aux addresses inside the subnet; no overlap with `used`); IPv4 without a configured subnet takes
 * the first subnet of the pools that overlaps nothing in `used` (moby `defaultipam`, reference
 * §3.2). Throws TSC_NETWORK when a configuration is invalid or the pools are exhausted.
 */
export function allocateSubnets(opts: AllocateSubnetsOptions): SubnetState[] {
  const used = opts.used.map(parsePrefix);
  const familyOf = (c: IpamConfigRequest): IpFamily | undefined =>
    c.Subnet === undefined ? undefined : parsePrefix(c.Subnet).family;
  // Each request: a configured entry, or an automatic one of a family.
  const requests: { config: IpamConfigRequest; auto: IpFamily | undefined }[] = opts.configs.map(
    (config) => ({ config, auto: config.Subnet === undefined ? 4 : undefined }),
  );
  if (!requests.some((r) => r.auto === 4 || familyOf(r.config) === 4)) {
    requests.unshift({ config: {}, auto: 4 });
  }
  if (opts.enableIPv6 && !requests.some((r) => familyOf(r.config) === 6)) {
    requests.push({ config: {}, auto: 6 });
  }
  const out: SubnetState[] = [];
  for (const { config, auto } of requests) {
    let subnet: Prefix;
    if (auto === undefined) {
      subnet = parsePrefix(config.Subnet ?? '');
      const clash = used.find((u) => prefixesOverlap(u, subnet));
      if (clash) {
        throw ipamError(
          `allocate subnet ${formatPrefix(subnet)}: overlaps ${formatPrefix(clash)} already in use`,
        );
      }
    } else {
      const pools = auto === 6 ? DEFAULT_IPV6_POOLS : (opts.pools ?? DEFAULT_ADDRESS_POOLS);
      subnet = pickFromPools(pools, used);
    }
    used.push(subnet);
    out.push(buildSubnetState(subnet, config));
  }
  return out;
}

function pickFromPools(pools: readonly AddressPool[], used: readonly Prefix[]): Prefix {
  for (const pool of pools) {
    const base = parsePrefix(pool.base);
    const step = 1n << BigInt(BITS[base.family] - pool.size);
    const end = lastAddress(base);
    for (let net = base.network; net <= end; net += step) {
      const candidate: Prefix = { family: base.family, network: net, bits: pool.size };
      const clash = used.find((u) => prefixesOverlap(u, candidate));
      if (!clash) return candidate;
      // Skip past a larger used prefix in one step (a /8 route over a /16 pool).
      if (clash.bits < pool.size) {
        const after = lastAddress(clash) + 1n;
        if (after > net + step) net = after - step;
      }
    }
  }
  throw ipamError('allocate subnet: all default address pools are in use');
}

function buildSubnetState(subnet: Prefix, config: IpamConfigRequest): SubnetState {
  const where = formatPrefix(subnet);
  const inside = (what: string, addr: string): bigint => {
    const parsed = parseAddress(addr);
    if (parsed.family !== subnet.family || !contains(subnet, parsed.value)) {
      throw ipamError(`configure subnet ${where}: ${what} ${addr} is outside the subnet`);
    }
    return parsed.value;
  };
  let ipRange: string | undefined;
  if (config.IPRange !== undefined) {
    const range = parsePrefix(config.IPRange);
    if (
      range.family !== subnet.family ||
      !contains(subnet, range.network) ||
      range.bits < subnet.bits
    ) {
      throw ipamError(
        `configure subnet ${where}: ip_range ${config.IPRange} is outside the subnet`,
      );
    }
    ipRange = formatPrefix(range);
  }
  const gateway =
    config.Gateway !== undefined
      ? formatAddress(subnet.family, inside('gateway', config.Gateway))
      : formatAddress(subnet.family, subnet.network + 1n);
  const auxAddresses: Record<string, string> = {};
  for (const [name, addr] of Object.entries(config.AuxiliaryAddresses ?? {}).sort()) {
    auxAddresses[name] = formatAddress(subnet.family, inside(`aux address ${name}`, addr));
  }
  return { family: subnet.family, subnet: where, gateway, ipRange, auxAddresses, allocated: [] };
}

/**
 * Takes a container address from a subnet: `requested` (static `ipv4_address`/`ipv6_address`)
 * when given, else the lowest free address of ip_range (or the subnet). Network and IPv4
 * broadcast addresses, the gateway and aux addresses are never handed out; a released address is
 * reused by the next caller (moby local IPAM is non-serial). Returns the new state.
 * Throws TSC_NETWORK when the requested address is taken or outside, or the subnet is full.
 */
export function allocateAddress(
  state: SubnetState,
  requested?: string,
): { address: string; state: SubnetState } {
  const subnet = parsePrefix(state.subnet);
  const taken = new Set<bigint>([
    parseAddress(state.gateway).value,
    ...Object.values(state.auxAddresses).map((a) => parseAddress(a).value),
    ...state.allocated.map((a) => parseAddress(a).value),
  ]);
  const first = subnet.network;
  const last = lastAddress(subnet);
  const reserved = (v: bigint): boolean =>
    v === first || (subnet.family === 4 && subnet.bits < 31 && v === last);
  let chosen: bigint | undefined;
  if (requested !== undefined) {
    const { family, value } = parseAddress(requested);
    if (family !== state.family || !contains(subnet, value) || reserved(value)) {
      throw ipamError(`allocate address ${requested}: not a host address of ${state.subnet}`);
    }
    if (taken.has(value)) {
      throw ipamError(`allocate address ${requested}: already in use on ${state.subnet}`);
    }
    chosen = value;
  } else {
    const range = state.ipRange !== undefined ? parsePrefix(state.ipRange) : subnet;
    const end = lastAddress(range);
    for (let v = range.network; v <= end; v++) {
      if (!reserved(v) && !taken.has(v)) {
        chosen = v;
        break;
      }
    }
    if (chosen === undefined) {
      throw ipamError(`allocate address on ${state.subnet}: no free address left`);
    }
  }
  const address = formatAddress(state.family, chosen);
  const allocated = [...state.allocated, address].sort((a, b) =>
    compareBig(parseAddress(a).value, parseAddress(b).value),
  );
  return { address, state: { ...state, allocated } };
}

/** Returns the state with `address` free again (no-op when it was not allocated). */
export function releaseAddress(state: SubnetState, address: string): SubnetState {
  const value = parseAddress(address).value;
  return { ...state, allocated: state.allocated.filter((a) => parseAddress(a).value !== value) };
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
