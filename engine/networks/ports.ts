/**
 * Published ports through a userland proxy inside the engine (the role of moby's docker-proxy):
 * TCP and UDP, host IP binding, ranges, random host ports. Pure expansion of port specs plus the
 * proxy sockets. Owns no iptables rules (iptables.ts renders the DNAT side).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';

import { TscError } from '../../base/errors.js';

/** A transport protocol that can be published. */
export type PortProtocol = 'tcp' | 'udp';

/** One publish request as HostConfig.PortBindings carries it, per container port (range). */
export interface PortSpec {
  /** `tcp` or `udp`. */
  readonly protocol: PortProtocol;
  /** Host address (`127.0.0.1`, `::1`, `0.0.0.0`), or '' for every address (IPv4 and IPv6). */
  readonly hostIp: string;
  /** Host port or range (`8080`, `8000-8010`), or '' for a random port. */
  readonly published: string;
  /** Container port or range (`80`, `80-90`). */
  readonly target: string;
}

/** One host socket to open: a host address and port (0 = random) to one container port. */
export interface PortBinding {
  /** Protocol. */
  readonly protocol: PortProtocol;
  /** Host address to bind. */
  readonly hostIp: string;
  /** First host port to try; 0 = any (kernel ephemeral range). */
  readonly hostPort: number;
  /** Last host port to try (a host range to one container port takes the first free one). */
  readonly hostPortEnd: number;
  /** Container port. */
  readonly containerPort: number;
}

/** A binding that is open, with the host port actually bound. */
export interface PublishedPort {
  /** Protocol. */
  readonly protocol: PortProtocol;
  /** Host address bound. */
  readonly hostIp: string;
  /** Host port bound (the chosen one for random ports). */
  readonly hostPort: number;
  /** Container address the proxy connects to. */
  readonly containerIp: string;
  /** Container port. */
  readonly containerPort: number;
}

function parseRange(text: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!m || lo < 1 || hi > 65535 || hi < lo) {
    throw new TscError('TSC_NETWORK', `parse ${what} port ${text}: invalid port or range`);
  }
  return [lo, hi];
}

/**
 * Expands a spec to bindings: ranges map 1:1 (`8000-8010:80-90`), a host range to one container
 * port takes the first free host port in it, an empty published port is random, an empty host IP
 * binds `0.0.0.0` and, when `ipv6`, `::` too (moby `portmapper`, reference §3.5).
 * Throws TSC_NETWORK on malformed ports or ranges of different lengths.
 */
export function expandPortSpec(spec: PortSpec, ipv6: boolean): PortBinding[] {
  const [tLo, tHi] = parseRange(spec.target, 'container');
  const hostIps = spec.hostIp === '' ? (ipv6 ? ['0.0.0.0', '::'] : ['0.0.0.0']) : [spec.hostIp];
  const out: PortBinding[] = [];
  for (const hostIp of hostIps) {
    if (spec.published === '') {
      for (let p = tLo; p <= tHi; p++) {
        out.push({
          protocol: spec.protocol,
          hostIp,
          hostPort: 0,
          hostPortEnd: 0,
          containerPort: p,
        });
      }
      continue;
    }
    const [hLo, hHi] = parseRange(spec.published, 'host');
    if (tLo === tHi) {
      out.push({
        protocol: spec.protocol,
        hostIp,
        hostPort: hLo,
        hostPortEnd: hHi,
        containerPort: tLo,
      });
      continue;
    }
    if (hHi - hLo !== tHi - tLo) {
      throw new TscError(
        'TSC_NETWORK',
        `publish ${spec.published}:${spec.target}: host and container ranges differ in length`,
      );
    }
    for (let i = 0; i <= tHi - tLo; i++) {
      out.push({
        protocol: spec.protocol,
        hostIp,
        hostPort: hLo + i,
        hostPortEnd: hLo + i,
        containerPort: tLo + i,
      });
    }
  }
  return out;
}

/** UDP flows idle longer than this are dropped (docker-proxy `UDPConnTrackTimeout`, 90 s). */
const UDP_IDLE_MS = 90_000;

interface OpenProxy {
  readonly port: PublishedPort;
  readonly close: () => Promise<void>;
}

/**
 * The userland proxy. `publish` opens host sockets and relays to the container; `unpublish`
 * closes a container's sockets. Keyed by an owner id (the container id).
 */
export class PortProxy {
  private readonly open = new Map<string, OpenProxy[]>();

  /**
   * Opens every binding for `owner` towards `containerIp` (and `containerIp6` for `::` bindings
   * when given). Bindings sharing an empty host IP share one random port. Throws TSC_NETWORK
   * (after closing what it opened) when a port cannot be bound.
   */
  async publish(
    owner: string,
    bindings: readonly PortBinding[],
    containerIp: string,
  ): Promise<PublishedPort[]> {
    const opened: OpenProxy[] = [];
    // A random port chosen for 0.0.0.0 is reused for :: of the same container port.
    const chosen = new Map<string, number>();
    try {
      for (const b of bindings) {
        const key = `${b.protocol}/${b.containerPort}`;
        const reuse = b.hostPort === 0 ? chosen.get(key) : undefined;
        const first = reuse ?? b.hostPort;
        const last = reuse ?? b.hostPortEnd;
        let proxy: OpenProxy | undefined;
        let lastError: unknown;
        for (let port = first; port <= last; port++) {
          try {
            proxy = await openProxy(b, port, containerIp);
            break;
          } catch (e) {
            lastError = e;
          }
        }
        if (!proxy) {
          const range = first === last ? String(first) : `${first}-${last}`;
          throw new TscError(
            'TSC_NETWORK',
            `publish ${b.protocol} ${b.hostIp}:${range}: ${errText(lastError)}`,
            { cause: lastError },
          );
        }
        if (b.hostPort === 0) chosen.set(key, proxy.port.hostPort);
        opened.push(proxy);
      }
    } catch (e) {
      await Promise.all(opened.map((p) => p.close()));
      throw e;
    }
    this.open.set(owner, [...(this.open.get(owner) ?? []), ...opened]);
    return opened.map((p) => p.port);
  }

  /** Ports open for an owner. */
  list(owner: string): PublishedPort[] {
    return (this.open.get(owner) ?? []).map((p) => p.port);
  }

  /** Closes an owner's sockets (and their live connections). */
  async unpublish(owner: string): Promise<void> {
    const list = this.open.get(owner) ?? [];
    this.open.delete(owner);
    await Promise.all(list.map((p) => p.close()));
  }

  /** Closes everything. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((o) => this.unpublish(o)));
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function openProxy(b: PortBinding, port: number, containerIp: string): Promise<OpenProxy> {
  return b.protocol === 'tcp'
    ? openTcpProxy(b, port, containerIp)
    : openUdpProxy(b, port, containerIp);
}

async function openTcpProxy(b: PortBinding, port: number, containerIp: string): Promise<OpenProxy> {
  const conns = new Set<Socket>();
  // Half-open on both sides: a client that shuts down its write side still gets the reply.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: containerIp, port: b.containerPort, allowHalfOpen: true });
    conns.add(client);
    conns.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: b.hostIp, port, ipv6Only: b.hostIp.includes(':') }, () => resolve());
  });
  const addr = server.address();
  const hostPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    port: {
      protocol: 'tcp',
      hostIp: b.hostIp,
      hostPort,
      containerIp,
      containerPort: b.containerPort,
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

async function openUdpProxy(b: PortBinding, port: number, containerIp: string): Promise<OpenProxy> {
  const v6 = b.hostIp.includes(':');
  const host = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  const flows = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout }>();
  const upstreamType = containerIp.includes(':') ? 'udp6' : 'udp4';
  host.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const sock = createSocket(upstreamType);
      sock.on('message', (reply) => {
        host.send(reply, rinfo.port, rinfo.address);
        const f = flows.get(key);
        if (f) f.timer.refresh();
      });
      sock.on('error', () => undefined);
      const timer = setTimeout(() => {
        flows.delete(key);
        sock.close();
      }, UDP_IDLE_MS);
      timer.unref();
      flow = { sock, timer };
      flows.set(key, flow);
    }
    flow.timer.refresh();
    flow.sock.send(msg, b.containerPort, containerIp);
  });
  await new Promise<void>((resolve, reject) => {
    host.once('error', reject);
    host.bind({ address: b.hostIp, port }, () => resolve());
  });
  host.on('error', () => undefined);
  return {
    port: {
      protocol: 'udp',
      hostIp: b.hostIp,
      hostPort: host.address().port,
      containerIp,
      containerPort: b.containerPort,
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const f of flows.values()) {
          clearTimeout(f.timer);
          f.sock.close();
        }
        flows.clear();
        host.close(() => resolve());
      }),
  };
}
