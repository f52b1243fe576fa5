/**
 * Linux bridges and container endpoints. Bridges, attach and detach go through the native
 * addon's rtnetlink client (no child process); iproute2 is the fallback when the addon lacks it
 * (or TSC_NETLINK=0): one long-lived `ip -force -batch -` plus one `ip -n` per attach. Command
 * lists are built by pure functions. Owns no IPAM and no iptables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, unlinkSync } from 'node:fs';

import { NativeError, TscError } from '../../base/errors.js';
import {
  netlinkAnnounce,
  netlinkAnnounceAvailable,
  netlinkAttach,
  netlinkAvailable,
  netlinkBridgeCreate,
  netlinkLinkDel,
} from '../../native/index.js';

/** The `ip` executable (iproute2); overridable for tests. */
export interface IpTools {
  /** Path or name of `ip`. */
  readonly ip: string;
}

const DEFAULT_TOOLS: IpTools = { ip: 'ip' };

/**
 * Runs `ip -batch -` once with the given commands (one per line, without the leading `ip`), in
 * our netns or, with `netnsName` (a name under /run/netns), inside that netns (`ip -n`).
 * Throws TSC_NETWORK with iproute2's message when a command fails (the batch stops there).
 */
export async function runIpBatch(
  commands: readonly string[],
  netnsName?: string,
  tools: IpTools = DEFAULT_TOOLS,
): Promise<void> {
  if (commands.length === 0) return;
  const args = netnsName === undefined ? ['-batch', '-'] : ['-n', netnsName, '-batch', '-'];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(tools.ip, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) =>
      reject(new TscError('TSC_NETWORK', `run ${tools.ip}: ${e.message}`, { cause: e })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        const where = netnsName === undefined ? '' : ` in netns ${netnsName}`;
        const detail = stderr.trim().split('\n').join('; ') || `exit ${String(code)}`;
        reject(new TscError('TSC_NETWORK', `ip -batch${where}: ${detail}`));
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(commands.join('\n') + '\n');
  });
}

interface PendingBatch {
  readonly first: number;
  readonly sentinel: number;
  readonly errors: string[];
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * A long-lived `ip -force -batch -` in our netns. Each request is followed by a sentinel command
 * that always fails (`link show dev tsc-sentinel-N`): iproute2 reports every failure on stderr as
 * `<message>\nCommand failed -:<line>`, in order, so the sentinel's report ends the request and
 * the reports before it are the request's errors. Requests run one at a time, in order.
 */
export class IpSession {
  private child: ChildProcess | undefined;
  private line = 0;
  private buffer = '';
  private readonly pending: PendingBatch[] = [];

  constructor(private readonly tools: IpTools = DEFAULT_TOOLS) {}

  /** Runs commands; rejects with TSC_NETWORK listing each failed command's message. */
  run(commands: readonly string[]): Promise<void> {
    if (commands.length === 0) return Promise.resolve();
    const child = this.ensure();
    const first = this.line + 1;
    this.line += commands.length + 1;
    const sentinel = this.line;
    if (this.pending.length === 0) this.setRef(true);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ first, sentinel, errors: [], resolve, reject });
      child.stdin?.write(`${commands.join('\n')}\nlink show dev tsc-sentinel-${sentinel}\n`);
    });
  }

  /** Ends the process (pending requests fail). */
  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(this.tools.ip, ['-force', '-batch', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.line = 0;
    this.buffer = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.onStderr(d));
    child.stdin?.on('error', () => undefined);
    const fail = (why: string): void => {
      if (this.child === child) this.child = undefined;
      for (const p of this.pending.splice(0)) {
        p.reject(new TscError('TSC_NETWORK', `ip -batch session: ${why}`));
      }
    };
    child.on('error', (e) => fail(e.message));
    child.on('close', (code) => fail(`exited ${String(code)}`));
    this.child = child;
    this.setRef(false);
    return child;
  }

  /** Keeps the process alive only while requests are pending (an idle session must not). */
  private setRef(on: boolean): void {
    const c = this.child;
    if (!c) return;
    type Refable = { ref?: () => void; unref?: () => void } | null;
    for (const h of [c, c.stdin as Refable, c.stderr as Refable]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  private onStderr(data: string): void {
    this.buffer += data;
    const re = /Command failed -:(\d+)\n/;
    for (let m = re.exec(this.buffer); m; m = re.exec(this.buffer)) {
      const message = this.buffer.slice(0, m.index).trim();
      const lineNo = Number(m[1]);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const req = this.pending[0];
      if (!req) continue;
      if (lineNo === req.sentinel) {
        this.pending.shift();
        if (this.pending.length === 0) this.setRef(false);
        if (req.errors.length === 0) req.resolve();
        else req.reject(new TscError('TSC_NETWORK', `ip -batch: ${req.errors.join('; ')}`));
      } else if (lineNo >= req.first) {
        req.errors.push(message.split('\n').join(' '));
      }
    }
  }
}

/** The bridge of one network. */
export interface BridgeSpec {
  /** Device name (`br-tsc` + 9 hex of the network id, at most 15 chars, IFNAMSIZ). */
  readonly name: string;
  /** MTU in bytes, or 0 to keep the kernel default (1500). */
  readonly mtu: number;
  /**
   * Fixed MAC of the bridge. Without one the kernel gives the bridge the lowest MAC of its ports,
   * so the gateway's MAC would change as containers come and go (and on recreation), leaving
   * stale neighbour entries in the containers.
   */
  readonly macAddress: string;
  /** Gateway addresses with prefix length (`172.18.0.1/16`, `fd00::1/64`). */
  readonly addresses: readonly string[];
}

/** Device name of a network's bridge: `br-tsc` + first 9 hex of its id (15 chars). */
export function bridgeName(networkId: string): string {
  return `br-tsc${networkId.slice(0, 9)}`;
}

/** A random host-side veth name: `vtsc` + 11 hex (15 chars, like moby's `veth` + 7 hex). */
export function vethName(random: Buffer = randomBytes(6)): string {
  return `vtsc${random.toString('hex').slice(0, 11)}`;
}

/**
 * A random locally administered unicast MAC (`hw[0] &= 0xfe; hw[0] |= 0x02`, moby since Docker 28,
 * reference §3.3), `aa:bb:cc:dd:ee:ff`.
 */
export function randomMac(random: Buffer = randomBytes(6)): string {
  const bytes = [...random.subarray(0, 6)];
  bytes[0] = ((bytes[0] ?? 0) & 0xfe) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** `ip -batch` lines creating and addressing a bridge, then bringing it up. */
export function bridgeCreateCommands(spec: BridgeSpec): string[] {
  const mtu = spec.mtu > 0 ? ` mtu ${spec.mtu}` : '';
  return [
    `link add name ${spec.name}${mtu} address ${spec.macAddress} type bridge`,
    ...spec.addresses.map(
      (a) => `addr add ${a} dev ${spec.name}${a.includes(':') ? ' nodad' : ''}`,
    ),
    `link set ${spec.name} up`,
  ];
}

/** One container endpoint on a bridge. */
export interface EndpointSpec {
  /** The network's bridge device. */
  readonly bridge: string;
  /** Host-side veth name (`vtsc...`). */
  readonly hostIfName: string;
  /** Name inside the container (`eth0`, `eth1`...). */
  readonly ifName: string;
  /** The container's netns (`/proc/<pid>/ns/net` or a bind-mounted netns file). */
  readonly netnsPath: string;
  /** MAC address of the container end. */
  readonly macAddress: string;
  /** MTU in bytes, 0 for the default. */
  readonly mtu: number;
  /** Container addresses with prefix length (`172.18.0.2/16`, `fd00::2/64`). */
  readonly addresses: readonly string[];
  /** Default gateways to install (empty for internal networks or non-primary attachments). */
  readonly gateways: readonly string[];
}

/**
 * `ip -batch` lines run inside the container netns: the veth created there as `ifName` with its
 * peer born in our netns (`hostNetns`, e.g. `/proc/<engine pid>/ns/net`), lo up, addresses, link
 * up, default routes (accepted before the host end is up; the route is then `linkdown`).
 */
export function endpointNetnsCommands(ep: EndpointSpec, hostNetns: string): string[] {
  const mtu = ep.mtu > 0 ? ` mtu ${ep.mtu}` : '';
  return [
    `link add ${ep.ifName}${mtu} address ${ep.macAddress} type veth peer name ${ep.hostIfName}${mtu} netns ${hostNetns}`,
    'link set lo up',
    ...ep.addresses.map((a) => `addr add ${a} dev ${ep.ifName}${a.includes(':') ? ' nodad' : ''}`),
    `link set ${ep.ifName} up`,
    // The family follows the gateway address (`-6` is not accepted inside a batch).
    ...ep.gateways.map((g) => `route replace default via ${g} dev ${ep.ifName}`),
  ];
}

/** `ip -batch` lines for our netns: the host end onto the bridge, up. */
export function endpointHostCommands(ep: EndpointSpec): string[] {
  return [`link set ${ep.hostIfName} master ${ep.bridge} up`];
}

let netlinkChoice: boolean | undefined;

/**
 * True when bridges and endpoints go through rtnetlink (the addon has it and `TSC_NETLINK` is
 * not `0`); false means the iproute2 fallback. Decided once per process.
 */
export function usesNetlink(): boolean {
  netlinkChoice ??= process.env['TSC_NETLINK'] !== '0' && netlinkAvailable();
  return netlinkChoice;
}

/** A NativeError from the rtnetlink client as TSC_NETWORK (the errno name stays in the text). */
function netlinkError(e: unknown): unknown {
  return e instanceof NativeError ? new TscError('TSC_NETWORK', e.message, { cause: e }) : e;
}

/** Creates, addresses and raises a bridge. Throws TSC_NETWORK (e.g. the name exists). */
export async function createBridge(session: IpSession, spec: BridgeSpec): Promise<void> {
  if (usesNetlink()) {
    await netlinkBridgeCreate({
      name: spec.name,
      mac: spec.macAddress,
      mtu: spec.mtu,
      addresses: spec.addresses,
    }).catch((e: unknown) => {
      throw netlinkError(e);
    });
    return;
  }
  try {
    await session.run(bridgeCreateCommands(spec));
  } catch (e) {
    await removeLink(session, spec.name).catch(() => undefined);
    throw e;
  }
}

/** Deletes a bridge; a missing device is not an error. */
export async function removeBridge(session: IpSession, name: string): Promise<void> {
  await removeLink(session, name);
}

/**
 * Plugs a container into a bridge. Through rtnetlink: one request creates the veth with its peer
 * born in the container netns (host end on the bridge, up), then lo, addresses, link and routes
 * are set inside the netns; no process. Fallback: one `ip -n` process in its netns plus one line
 * to the session; a netns path outside /run/netns then gets a temporary `/run/netns/tsc-ep-*`
 * symlink so `ip -n` can name it. On failure the veth is removed again. Either way the
 * container end then announces its addresses (gratuitous ARP, unsolicited NA; Docker 28 does,
 * engine-reference §3.3; with rtnetlink in the background, after this resolves), so peers holding the old MAC of a restarted container (same IP, new
 * random MAC) update their neighbour entry at once; the fallback does this only when the addon
 * has `netlinkAnnounce`. Throws TSC_NETWORK.
 * @returns a warning when the fallback's announcement could not be sent (never an error), or ''
 */
export async function attachEndpoint(
  session: IpSession,
  ep: EndpointSpec,
  tools: IpTools = DEFAULT_TOOLS,
): Promise<string> {
  if (usesNetlink()) {
    await netlinkAttach({
      kind: 'veth',
      netnsPath: ep.netnsPath,
      bridge: ep.bridge,
      hostIfname: ep.hostIfName,
      ifname: ep.ifName,
      mac: ep.macAddress,
      mtu: ep.mtu,
      addresses: ep.addresses,
      gateways: ep.gateways,
      announce: !netlinkAnnounceAvailable(),
    }).catch((e: unknown) => {
      throw netlinkError(e);
    });
    // The announcement waits for the link to be up and the bridge port to forward (~10 ms of
    // the kernel's link-watch work): sent in the background, so the container need not wait.
    if (netlinkAnnounceAvailable() && ep.addresses.length > 0) void announce(ep);
    return '';
  }
  const named = /^\/run\/netns\/([^/]+)$/.exec(ep.netnsPath)?.[1];
  let link: string | undefined;
  let name = named;
  if (name === undefined) {
    name = `tsc-ep-${randomBytes(6).toString('hex')}`;
    mkdirSync('/run/netns', { recursive: true });
    link = `/run/netns/${name}`;
    symlinkSync(ep.netnsPath, link);
  }
  try {
    await runIpBatch(endpointNetnsCommands(ep, `/proc/${process.pid}/ns/net`), name, tools);
    await session.run(endpointHostCommands(ep));
  } catch (e) {
    await removeLink(session, ep.hostIfName).catch(() => undefined);
    throw e;
  } finally {
    if (link !== undefined) unlinkSync(link);
  }
  if (!netlinkAnnounceAvailable() || ep.addresses.length === 0) return '';
  return await announce(ep);
}

/** Announces an endpoint's addresses; resolves to a warning ('' when all were sent), never throws. */
async function announce(ep: EndpointSpec): Promise<string> {
  return await netlinkAnnounce({
    netnsPath: ep.netnsPath,
    ifname: ep.ifName,
    hostIfname: ep.hostIfName,
    addresses: ep.addresses,
  }).catch((e: unknown) => `announce ${ep.ifName}: ${e instanceof Error ? e.message : String(e)}`);
}

/** A macvlan/ipvlan endpoint: a child of a parent link in our netns, born in the container's. */
export interface ChildLinkSpec {
  /** `macvlan` or `ipvlan`. */
  readonly kind: 'macvlan' | 'ipvlan';
  /** The parent link in our netns (`driver_opts.parent`). */
  readonly parent: string;
  /** `macvlan_mode` (bridge, private, vepa, passthru) or `ipvlan_mode` (l2, l3, l3s). */
  readonly mode: string;
  /** `ipvlan_flag` (bridge, private, vepa); '' for macvlan. */
  readonly ipvlanFlag: string;
  /** Name inside the container (`eth0`...). */
  readonly ifName: string;
  /** The container's netns file. */
  readonly netnsPath: string;
  /** MAC of a macvlan child ('' = kernel's; ipvlan children have their parent's). */
  readonly macAddress: string;
  /** Container addresses with prefix length. */
  readonly addresses: readonly string[];
  /** Default routes: gateway addresses, or `0.0.0.0`/`::` for a device route (ipvlan l3). */
  readonly gateways: readonly string[];
}

/**
 * Creates a macvlan/ipvlan child of `parent` directly in the container netns and configures it
 * (rtnetlink only; moby drivers/macvlan, drivers/ipvlan `CreateEndpoint`+`Join`), then announces
 * its addresses (gratuitous ARP, unsolicited NA; skipped by the kernel-side check for IFF_NOARP
 * links such as ipvlan l3). Undone on failure. Throws TSC_NETWORK (EOPNOTSUPP when the kernel
 * lacks the link kind, ENODEV when the parent is gone).
 * @returns a warning when an announcement could not be sent (never an error), or ''
 */
export async function attachChildLink(spec: ChildLinkSpec): Promise<string> {
  if (!netlinkAvailable()) {
    throw new TscError(
      'TSC_NETWORK',
      `attach ${spec.ifName}: ${spec.kind} needs the addon's rtnetlink client`,
      {
        hint: 'run `npm rebuild`',
      },
    );
  }
  return await netlinkAttach({
    kind: spec.kind,
    netnsPath: spec.netnsPath,
    parent: spec.parent,
    mode: spec.mode,
    ...(spec.kind === 'ipvlan' ? { ipvlanFlag: spec.ipvlanFlag } : {}),
    ifname: spec.ifName,
    ...(spec.macAddress !== '' && spec.kind === 'macvlan' ? { mac: spec.macAddress } : {}),
    addresses: spec.addresses,
    gateways: spec.gateways,
  }).catch((e: unknown) => {
    throw netlinkError(e);
  });
}

/**
 * Deletes a link in our netns, or inside `netnsPath` (a macvlan/ipvlan endpoint; rtnetlink
 * only). A veth takes its peer along; a missing device or netns is fine. Throws TSC_NETWORK.
 */
export async function removeLink(
  session: IpSession,
  name: string,
  netnsPath?: string,
): Promise<void> {
  if (usesNetlink() || netnsPath !== undefined) {
    try {
      await netlinkLinkDel(name, netnsPath);
    } catch (e) {
      if (e instanceof NativeError && (e.errno === 'ENODEV' || e.errno === 'ENOENT')) return;
      throw netlinkError(e);
    }
    return;
  }
  try {
    await session.run([`link del ${name}`]);
  } catch (e) {
    if (e instanceof TscError && /Cannot find device|does not exist/.test(e.message)) return;
    throw e;
  }
}

/** One line of `ip -j route` (the fields used here). */
interface RouteJson {
  readonly dst?: string;
  readonly gateway?: string;
  readonly scope?: string;
}

/**
 * IPv4 prefixes of the host's on-link routes (`ip -4 -j route`, moby `InferReservedNetworks`), for
 * IPAM to skip. The default route is not a prefix in use.
 */
export async function readHostRoutes(tools: IpTools = DEFAULT_TOOLS): Promise<string[]> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(tools.ip, ['-4', '-j', 'route', 'show', 'table', 'all'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    child.on('error', (e) =>
      reject(new TscError('TSC_NETWORK', `read host routes: ${e.message}`, { cause: e })),
    );
    child.on('close', () => resolve(text));
  });
  let routes: RouteJson[];
  try {
    routes = JSON.parse(out || '[]') as RouteJson[];
  } catch {
    return [];
  }
  return routes
    .filter((r) => r.dst !== undefined && r.dst !== 'default' && r.gateway === undefined)
    .filter((r) => r.scope !== 'host')
    .map((r) => r.dst ?? '');
}
