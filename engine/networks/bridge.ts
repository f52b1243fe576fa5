/**
 * Linux bridges and veth endpoints through iproute2: one `ip -batch -` process per namespace per
 * operation (an `ip` process costs 3-7 ms). The container end of a veth is created directly in the
 * container's netns (moving it costs ~18 ms). Command lists are built by pure functions.
 * Owns no IP allocation and no iptables rules.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { TscError } from '../../base/errors.js';

/** The `ip` and `nsenter` executables (iproute2, util-linux); overridable for tests. */
export interface IpTools {
  /** Path or name of `ip`. */
  readonly ip: string;
  /** Path or name of `nsenter`. */
  readonly nsenter: string;
}

const DEFAULT_TOOLS: IpTools = { ip: 'ip', nsenter: 'nsenter' };

/**
 * Runs `ip -batch -` with the given commands (one per line, without the leading `ip`), in the
 * engine's netns or, with `netnsPath`, inside that netns through `nsenter --net=<path>`.
 * Throws TSC_NETWORK with iproute2's message when a command fails (the batch stops there).
 */
export async function runIpBatch(
  commands: readonly string[],
  netnsPath?: string,
  tools: IpTools = DEFAULT_TOOLS,
): Promise<void> {
  if (commands.length === 0) return;
  const argv =
    netnsPath === undefined
      ? [tools.ip, '-batch', '-']
      : [tools.nsenter, `--net=${netnsPath}`, tools.ip, '-batch', '-'];
  const [file = '', ...args] = argv;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) =>
      reject(new TscError('TSC_NETWORK', `run ${file}: ${e.message}`, { cause: e })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        const where = netnsPath === undefined ? '' : ` in ${netnsPath}`;
        const detail = stderr.trim().split('\n').join('; ') || `exit ${String(code)}`;
        reject(new TscError('TSC_NETWORK', `ip -batch${where}: ${detail}`));
      }
    });
    child.stdin.end(commands.join('\n') + '\n');
  });
}

/** The bridge of one network. */
export interface BridgeSpec {
  /** Device name (`br-tsc` + 9 hex of the network id, at most 15 chars, IFNAMSIZ). */
  readonly name: string;
  /** MTU in bytes, or 0 to keep the kernel default (1500). */
  readonly mtu: number;
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
    `link add name ${spec.name}${mtu} type bridge`,
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

/** `ip -batch` lines for the host netns: the veth pair, its peer born in the container netns. */
export function endpointHostCommands(ep: EndpointSpec): string[] {
  const mtu = ep.mtu > 0 ? ` mtu ${ep.mtu}` : '';
  return [
    `link add ${ep.hostIfName}${mtu} type veth peer name ${ep.ifName}${mtu} address ${ep.macAddress} netns ${ep.netnsPath}`,
    `link set ${ep.hostIfName} master ${ep.bridge} up`,
  ];
}

/** `ip -batch` lines run inside the container netns: lo up, addresses, link up, default routes. */
export function endpointNetnsCommands(ep: EndpointSpec): string[] {
  return [
    'link set lo up',
    ...ep.addresses.map((a) => `addr add ${a} dev ${ep.ifName}${a.includes(':') ? ' nodad' : ''}`),
    `link set ${ep.ifName} up`,
    ...ep.gateways.map(
      (g) => `${g.includes(':') ? '-6 ' : ''}route replace default via ${g} dev ${ep.ifName}`,
    ),
  ];
}

/** Creates, addresses and raises a bridge. Throws TSC_NETWORK (e.g. the name exists). */
export async function createBridge(spec: BridgeSpec, tools?: IpTools): Promise<void> {
  await runIpBatch(bridgeCreateCommands(spec), undefined, tools);
}

/** Deletes a bridge; a missing device is not an error. */
export async function removeBridge(name: string, tools?: IpTools): Promise<void> {
  await ignoreMissing(runIpBatch([`link del ${name}`], undefined, tools));
}

/**
 * Plugs a container into a bridge: veth pair with the peer created in the netns (two `ip`
 * processes in all), then the netns side configured. On failure the host end is removed again.
 */
export async function attachEndpoint(ep: EndpointSpec, tools?: IpTools): Promise<void> {
  await runIpBatch(endpointHostCommands(ep), undefined, tools);
  try {
    await runIpBatch(endpointNetnsCommands(ep), ep.netnsPath, tools);
  } catch (e) {
    await removeLink(ep.hostIfName, tools).catch(() => undefined);
    throw e;
  }
}

/** Deletes a host-side veth (its peer goes with it); a missing device is not an error. */
export async function removeLink(name: string, tools?: IpTools): Promise<void> {
  await ignoreMissing(runIpBatch([`link del ${name}`], undefined, tools));
}

async function ignoreMissing(p: Promise<void>): Promise<void> {
  try {
    await p;
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
