/**
 * The embedded DNS server: one UDP and one TCP listener per network on its gateway address, port
 * 53, answering A/AAAA/PTR for names registered on the networks of the asking container, and
 * forwarding other names to external servers (moby `libnetwork/resolver.go`, reference §2.4).
 * Name resolution (`resolveName`) is pure; records are data registered by the caller.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';

import type * as DnsPacket from 'dns-packet';

import { TscError } from '../../base/errors.js';
import { lazyModule } from '../../base/lazy.js';
import { formatAddress, parseAddress } from './ipam.js';

/** dns-packet, loaded on first use: only a network with containers runs a DNS server (~1.5 MB RSS). */
const dnsPacket = lazyModule<typeof DnsPacket>('dns-packet');

/** One endpoint's DNS names on one network (moby `buildEndpointDNSNames`). */
export interface DnsRecord {
  /** The container (an asker's networks are all networks holding a record of its container). */
  readonly containerId?: string | undefined;
  /** Names, lowercase compared: container name, aliases, service name, short id, hostname. */
  readonly names: readonly string[];
  /** IPv4 address on this network, if any. */
  readonly ipv4?: string | undefined;
  /** IPv6 address on this network, if any. */
  readonly ipv6?: string | undefined;
  /** Upstreams for queries from this endpoint (`dns` overrides); the network's when absent. */
  readonly forwarders?: readonly string[] | undefined;
  /** Legacy `links` of this container: alias -> target name, resolved for this asker only. */
  readonly links?: Readonly<Record<string, string>> | undefined;
  /** The container's `ndots` option: > 0 means single-label misses are not forwarded. */
  readonly ndots?: number | undefined;
}

/** One network as the resolver sees it. */
export interface DnsNetwork {
  /** Network id (registry key). */
  readonly id: string;
  /** Network name (for `name.network` lookups). */
  readonly name: string;
  /** Records keyed by endpoint id. */
  readonly records: ReadonlyMap<string, DnsRecord>;
  /** Internal networks never forward (moby `proxyDNS=false`). */
  readonly internal: boolean;
}

/** Answer TTL in seconds for local names (moby `respTTL`). */
export const LOCAL_TTL = 600;

/** Result of resolving one question locally. */
export type LocalAnswer =
  /** Known name: addresses (possibly none of the asked family: empty NOERROR). */
  | { readonly kind: 'found'; readonly addresses: readonly string[] }
  /** PTR answer. */
  | { readonly kind: 'ptr'; readonly name: string }
  /** Unknown here: forward (or NXDOMAIN when forwarding is off). */
  | { readonly kind: 'unknown' };

/**
 * Networks the querying container is on: those holding a record with `sourceIp`, and every other
 * network holding a record of the same container (moby resolves across all the sandbox's networks).
 */
export function networksOf(networks: readonly DnsNetwork[], sourceIp: string): DnsNetwork[] {
  const records = networks.flatMap((n) => [...n.records.values()]);
  const own = records.filter((r) => r.ipv4 === sourceIp || r.ipv6 === sourceIp);
  const ids = new Set(own.flatMap((r) => (r.containerId === undefined ? [] : [r.containerId])));
  return networks.filter((n) =>
    [...n.records.values()].some(
      (r) =>
        r.ipv4 === sourceIp ||
        r.ipv6 === sourceIp ||
        (r.containerId !== undefined && ids.has(r.containerId)),
    ),
  );
}

/**
 * Resolves a name in the given networks (those of the asking container), as moby
 * `sandbox.go#ResolveName`: the full name in every network, then `a.b` in network `b`, `a` in
 * network `b.c`... Case-insensitive; a trailing dot is ignored. Addresses are returned in
 * registration order (the server shuffles them).
 */
export function resolveName(
  networks: readonly DnsNetwork[],
  name: string,
  type: 'A' | 'AAAA',
): LocalAnswer {
  const wanted = name.toLowerCase().replace(/\.$/, '');
  const lookup = (n: DnsNetwork, label: string): DnsRecord[] =>
    [...n.records.values()].filter((r) => r.names.some((x) => x.toLowerCase() === label));
  const pick = (records: DnsRecord[]): string[] =>
    records.flatMap((r) => {
      const a = type === 'A' ? r.ipv4 : r.ipv6;
      return a === undefined ? [] : [a];
    });
  const full = networks.flatMap((n) => lookup(n, wanted));
  if (full.length > 0) return { kind: 'found', addresses: pick(full) };
  const labels = wanted.split('.');
  for (let i = labels.length - 1; i >= 1; i--) {
    const host = labels.slice(0, i).join('.');
    const netName = labels.slice(i).join('.');
    const scoped = networks
      .filter((n) => n.name.toLowerCase() === netName)
      .flatMap((n) => lookup(n, host));
    if (scoped.length > 0) return { kind: 'found', addresses: pick(scoped) };
  }
  return { kind: 'unknown' };
}

/** Answers `in-addr.arpa` / `ip6.arpa` names of registered addresses with the first name. */
export function resolvePtr(networks: readonly DnsNetwork[], name: string): LocalAnswer {
  const address = ptrToAddress(name.toLowerCase().replace(/\.$/, ''));
  if (address === undefined) return { kind: 'unknown' };
  for (const n of networks) {
    for (const r of n.records.values()) {
      if ((r.ipv4 === address || r.ipv6 === address) && r.names[0] !== undefined) {
        return { kind: 'ptr', name: `${r.names[0]}.${n.name}` };
      }
    }
  }
  return { kind: 'unknown' };
}

function ptrToAddress(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    return parts.length === 4 ? parts.reverse().join('.') : undefined;
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.').reverse();
    if (nibbles.length !== 32) return undefined;
    try {
      return formatAddress(6, BigInt(`0x${nibbles.join('')}`));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Fits a UDP reply into 512 bytes, or the EDNS0 payload size the query advertises (RFC 6891):
 * answers are dropped from the end and the TC bit set, so the client retries over TCP
 * (moby `resolver.go` truncates the same way). Replies that fit are returned unchanged.
 */
export function truncateForUdp(query: Buffer, reply: Buffer): Buffer {
  let limit = 512;
  try {
    const opt = dnsPacket()
      .decode(query)
      .additionals?.find((a) => a.type === 'OPT');
    if (opt && 'udpPayloadSize' in opt && opt.udpPayloadSize > 512) limit = opt.udpPayloadSize;
  } catch {
    return reply;
  }
  if (reply.length <= limit) return reply;
  const decoded = dnsPacket().decode(reply);
  const answers = [...(decoded.answers ?? [])];
  let out = reply;
  while (out.length > limit && answers.length > 0) {
    answers.pop();
    out = dnsPacket().encode({
      type: 'response',
      id: decoded.id ?? 0,
      flags: (decoded.flags ?? 0) | dnsPacket().TRUNCATED_RESPONSE,
      questions: decoded.questions ?? [],
      answers,
    });
  }
  return out;
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Options of {@link EmbeddedDns}. */
export interface EmbeddedDnsOptions {
  /** Upstreams used when a record names none (host resolv.conf servers), max 3 used. */
  readonly forwarders: readonly string[];
  /** UDP port of upstreams (53). */
  readonly forwardPort?: number | undefined;
  /** Per-upstream timeout in ms (moby `extIOTimeout` = 4000). */
  readonly forwardTimeoutMs?: number | undefined;
  /** Port to listen on (53; tests may pick another). */
  readonly port?: number | undefined;
}

interface Listener {
  readonly address: string;
  readonly udp: Socket;
  readonly tcp: Server;
  readonly conns: Set<TcpSocket>;
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

/**
 * The engine's DNS server. `listen` opens UDP+TCP on a network's gateway; `register`/`unregister`
 * maintain records; `close` stops a network's listeners; `closeAll` stops everything.
 */
export class EmbeddedDns {
  private readonly networks = new Map<string, DnsNetwork & { records: Map<string, DnsRecord> }>();
  private readonly listeners = new Map<string, Listener>();

  constructor(private readonly options: EmbeddedDnsOptions) {}

  /**
   * Starts answering for a network on `address` (its gateway). Throws TSC_NETWORK when a socket
   * cannot be bound (e.g. EADDRINUSE).
   */
  async listen(network: { id: string; name: string; internal: boolean }, address: string) {
    if (this.listeners.has(network.id)) return;
    this.networks.set(network.id, { ...network, records: new Map() });
    const port = this.options.port ?? 53;
    const family = parseAddress(address).family;
    const udp = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    const conns = new Set<TcpSocket>();
    const tcp = createServer((sock) => this.serveTcp(network.id, sock, conns));
    udp.on('message', (msg, rinfo) => {
      void this.answer(network.id, msg, rinfo.address).then((reply) => {
        if (reply) udp.send(truncateForUdp(msg, reply), rinfo.port, rinfo.address);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, address, () => resolve());
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, address, () => resolve());
      });
    } catch (e) {
      udp.close();
      tcp.close();
      this.networks.delete(network.id);
      throw new TscError('TSC_NETWORK', `listen dns on ${address}:${port}: ${String(e)}`, {
        cause: e,
      });
    }
    udp.on('error', () => undefined);
    this.listeners.set(network.id, { address, udp, tcp, conns });
  }

  /** Adds or replaces the record of one endpoint on a network. */
  register(networkId: string, endpointId: string, record: DnsRecord): void {
    this.networks.get(networkId)?.records.set(endpointId, record);
  }

  /** Removes an endpoint's record from a network. */
  unregister(networkId: string, endpointId: string): void {
    this.networks.get(networkId)?.records.delete(endpointId);
  }

  /** True while a network has listeners. */
  isListening(networkId: string): boolean {
    return this.listeners.has(networkId);
  }

  /** Stops a network's listeners and drops its records. */
  async close(networkId: string): Promise<void> {
    const l = this.listeners.get(networkId);
    this.listeners.delete(networkId);
    this.networks.delete(networkId);
    if (!l) return;
    for (const c of l.conns) c.destroy();
    await Promise.all([
      new Promise<void>((r) => l.udp.close(() => r())),
      new Promise<void>((r) => l.tcp.close(() => r())),
    ]);
  }

  /** Stops every listener. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((id) => this.close(id)));
  }

  private serveTcp(networkId: string, sock: TcpSocket, conns: Set<TcpSocket>): void {
    conns.add(sock);
    let buf = Buffer.alloc(0);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(networkId, msg, sock.remoteAddress ?? '').then((reply) => {
          if (!reply || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([head, reply]));
        });
      }
    });
  }

  /** Builds the reply to one query (undefined for packets that are not queries). */
  private async answer(
    networkId: string,
    msg: Buffer,
    source: string,
  ): Promise<Buffer | undefined> {
    let query: DnsPacket.DecodedPacket;
    try {
      query = dnsPacket().decode(msg);
    } catch {
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    const q = query.questions?.[0];
    const self = this.networks.get(networkId);
    if (!q || !self) return undefined;
    const all = [...this.networks.values()];
    const src = source.replace(/^::ffff:/, '');
    const mine = networksOf(all, src);
    const scope = mine.length > 0 ? mine : [self];
    const base = {
      type: 'response' as const,
      id: query.id ?? 0,
      questions: [q],
    };
    const flags = dnsPacket().RECURSION_DESIRED | dnsPacket().RECURSION_AVAILABLE;
    const record = scope
      .flatMap((n) => [...n.records.values()])
      .find((r) => r.ipv4 === src || r.ipv6 === src);
    let local: LocalAnswer = { kind: 'unknown' };
    if (q.type === 'A' || q.type === 'AAAA') {
      // A link alias of the asker names its target (moby: links on user-defined networks).
      const bare = q.name.toLowerCase().replace(/\.$/, '');
      const target = Object.entries(record?.links ?? {}).find(([a]) => a.toLowerCase() === bare);
      local = resolveName(scope, target ? target[1] : q.name, q.type);
    } else if (q.type === 'PTR') local = resolvePtr(scope, q.name);
    if (local.kind === 'found' && (q.type === 'A' || q.type === 'AAAA')) {
      const type = q.type;
      const answers = shuffle(local.addresses).map((data) => ({
        type,
        class: 'IN' as const,
        name: q.name,
        ttl: LOCAL_TTL,
        data,
      }));
      return dnsPacket().encode({
        ...base,
        flags: flags | dnsPacket().AUTHORITATIVE_ANSWER,
        answers,
      });
    }
    if (local.kind === 'ptr') {
      const answers = [
        {
          type: 'PTR' as const,
          class: 'IN' as const,
          name: q.name,
          ttl: LOCAL_TTL,
          data: local.name,
        },
      ];
      return dnsPacket().encode({
        ...base,
        flags: flags | dnsPacket().AUTHORITATIVE_ANSWER,
        answers,
      });
    }
    const internal = scope.every((n) => n.internal);
    if ((record?.ndots ?? 0) > 0 && !q.name.replace(/\.$/, '').includes('.')) {
      // moby: with a user ndots > 0 a single-label miss is not forwarded; the empty answer makes
      // the stub resolver try its search domains.
      return dnsPacket().encode({ ...base, flags });
    }
    const upstreams = (record?.forwarders ?? this.options.forwarders).slice(0, 3);
    if (internal || upstreams.length === 0) {
      return dnsPacket().encode({ ...base, flags: flags | RCODE_NXDOMAIN });
    }
    for (const server of upstreams) {
      const reply = await this.forward(msg, server);
      if (reply) return reply;
    }
    return dnsPacket().encode({ ...base, flags: flags | RCODE_SERVFAIL });
  }

  /** Sends the query as-is to one upstream over UDP; resolves undefined on timeout or error. */
  private forward(msg: Buffer, server: string): Promise<Buffer | undefined> {
    const family = parseAddress(server).family;
    const sock = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    const timeoutMs = this.options.forwardTimeoutMs ?? 4000;
    return new Promise<Buffer | undefined>((resolve) => {
      const done = (reply: Buffer | undefined): void => {
        clearTimeout(timer);
        sock.close();
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      sock.on('error', () => done(undefined));
      sock.on('message', (reply: Buffer, _r: RemoteInfo) => {
        if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(reply);
      });
      sock.send(msg, this.options.forwardPort ?? 53, server);
    });
  }
}
