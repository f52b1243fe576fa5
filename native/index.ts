/**
 * The typed face of the native addon (build/Release/tscompose.node) and the shim binary: loads
 * them once, checks the ABI version, and turns -errno results into NativeError. Must not decide
 * anything about containers; engine/runtime does.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { NativeError, TscError } from '../base/errors.js';
import { LAUNCH_SPEC_VERSION, type LaunchSpec } from './launch-spec.js';

export * from './launch-spec.js';

/** The ABI this TypeScript expects from the addon (`kAbiVersion` in native/src/addon.cc). */
export const ABI_VERSION = 1;

/** The raw addon exports (native/src/addon.cc). Numbers < 0 are -errno. */
export interface RawBinding {
  readonly abiVersion: number;
  readonly specVersion: number;
  encodeLaunchSpec(spec: LaunchSpec): Buffer;
  decodeLaunchSpec(blob: Buffer): LaunchSpec | number;
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): number;
  umount2(target: string, flags: number): number;
  /** mount on the libuv pool. Absent in addons built before it. */
  mountAsync?(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): Promise<number>;
  /** umount2 on the libuv pool. Absent in addons built before it. */
  umount2Async?(target: string, flags: number): Promise<number>;
  pidfdOpen(pid: number, flags: number): number;
  pidfdSendSignal(pidfd: number, signal: number): number;
  close(fd: number): number;
  mknod(path: string, mode: number, major: number, minor: number): number;
  setxattr(path: string, name: string, value: Buffer, flags: number): number;
  lsetxattr(path: string, name: string, value: Buffer, flags: number): number;
  lgetxattr(path: string, name: string): Buffer | number;
  netlinkAttach(endpoint: NetlinkEndpoint): Promise<NetlinkResult>;
  netlinkLinkDel(name: string, netnsPath?: string | null): Promise<NetlinkResult>;
  netlinkBridgeCreate(bridge: NetlinkBridge): Promise<NetlinkResult>;
  /** Absent in addons built before the announcements. */
  netlinkAnnounce?(target: NetlinkAnnounceTarget): Promise<NetlinkResult>;
}

/** What a netlink operation reports (errno 0 = success; `step` names the failed request). */
export interface NetlinkResult {
  readonly errno: number;
  readonly step: string;
  /** The kernel's extended-ack text, or ''. */
  readonly message: string;
  /**
   * A failed unsolicited ARP/NA (`send arp 172.18.0.2: ENETDOWN`), or ''; never an error.
   * Absent from addons built before the announcements.
   */
  readonly warning?: string;
}

/** The addresses of a link to announce ({@link netlinkAnnounce}). */
export interface NetlinkAnnounceTarget {
  /** The netns file holding the link. */
  readonly netnsPath?: string;
  /** An open netns descriptor instead of `netnsPath` (not closed). */
  readonly netnsFd?: number;
  /** The link inside that netns (`eth0`...). */
  readonly ifname: string;
  /** A veth's host end in our netns, waited for until its bridge port forwards (omitted: none). */
  readonly hostIfname?: string;
  /** Its addresses with prefix length (`172.18.0.2/16`, `fd00::2/64`), at most 8. */
  readonly addresses: readonly string[];
}

/**
 * One container endpoint for {@link netlinkAttach} (native/src/netlink.c). Interface names are at
 * most 15 bytes (IFNAMSIZ - 1); addresses carry a prefix length (`172.18.0.2/16`, `fd00::2/64`).
 */
export interface NetlinkEndpoint {
  /** `veth` (default): a pair, host end on `bridge`; `macvlan`/`ipvlan`: a child of `parent`. */
  readonly kind?: 'veth' | 'macvlan' | 'ipvlan';
  /** The container's netns file (`/proc/<pid>/ns/net`, `/run/netns/<name>`). */
  readonly netnsPath?: string;
  /** An open netns descriptor instead of `netnsPath` (not closed). */
  readonly netnsFd?: number;
  /** veth: the bridge in our netns the host end joins (omitted: none). */
  readonly bridge?: string;
  /** veth: the host end's name in our netns (`vtsc...`). */
  readonly hostIfname?: string;
  /** macvlan/ipvlan: the parent link in our netns. */
  readonly parent?: string;
  /** macvlan: `bridge` (default) | `private` | `vepa` | `passthru`; ipvlan: `l2` (default) | `l3` | `l3s`. */
  readonly mode?: string;
  /** ipvlan: `bridge` (default) | `private` | `vepa`. */
  readonly ipvlanFlag?: string;
  /** Name inside the container (`eth0`...). */
  readonly ifname: string;
  /** MAC `aa:bb:cc:dd:ee:ff` of the container end (ignored for ipvlan, which has its parent's). */
  readonly mac?: string;
  /** MTU in bytes; 0 or omitted = kernel default (the parent's for macvlan/ipvlan). */
  readonly mtu?: number;
  /** Container addresses with prefix length (at most 8; IPv6 ones skip DAD). */
  readonly addresses?: readonly string[];
  /** Default routes via these gateways (at most 2, one per family); `0.0.0.0`/`::` = a device route. */
  readonly gateways?: readonly string[];
  /**
   * false: do not announce the addresses (the caller sends them with {@link netlinkAnnounce},
   * e.g. in the background, since waiting for the link to be up costs ~10 ms); default true.
   */
  readonly announce?: boolean;
}

/** A bridge for {@link netlinkBridgeCreate}. */
export interface NetlinkBridge {
  readonly name: string;
  /** Fixed MAC, or omitted for the kernel's choice. */
  readonly mac?: string;
  /** MTU in bytes, 0 or omitted for the default. */
  readonly mtu?: number;
  /** Gateway addresses with prefix length. */
  readonly addresses?: readonly string[];
}

/** umount2(2) flags. */
export const MNT = { FORCE: 1, DETACH: 2, EXPIRE: 4 } as const;

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/** The errno name (`ENOENT`) of a positive errno number, or `E<n>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** The directory holding tscompose.node and tscompose-shim (source tree or dist/). */
export function buildDir(): string {
  const candidates = [
    resolve(__dirname, '..', 'build', 'Release'),
    resolve(__dirname, '..', '..', 'build', 'Release'),
  ];
  for (const dir of candidates) if (existsSync(join(dir, 'tscompose.node'))) return dir;
  throw new TscError(
    'TSC_NATIVE_LOAD',
    `load native addon: not found in ${candidates.join(' or ')}`,
    {
      hint: 'run `npm install` (it builds the addon with node-gyp)',
    },
  );
}

let loaded: RawBinding | undefined;

/**
 * Loads the addon once and checks `abiVersion`.
 * @throws TscError TSC_NATIVE_LOAD when it is missing, TSC_NATIVE_ABI when it is stale.
 */
export function loadBinding(): RawBinding {
  if (loaded) return loaded;
  const dir = buildDir();
  let raw: RawBinding;
  try {
    raw = createRequire(__filename)(join(dir, 'tscompose.node')) as RawBinding;
  } catch (e) {
    throw new TscError('TSC_NATIVE_LOAD', `load native addon ${dir}/tscompose.node`, {
      cause: e,
      hint: 'run `npm rebuild`',
    });
  }
  if (raw.abiVersion !== ABI_VERSION || raw.specVersion !== LAUNCH_SPEC_VERSION) {
    throw new TscError(
      'TSC_NATIVE_ABI',
      `load native addon: abi ${raw.abiVersion}/spec ${raw.specVersion}, expected ${ABI_VERSION}/${LAUNCH_SPEC_VERSION}`,
      { hint: 'run `npm rebuild`' },
    );
  }
  loaded = raw;
  return raw;
}

/**
 * Absolute path of the tscompose-shim executable.
 * @throws TscError TSC_NATIVE_LOAD when it was not built.
 */
export function shimPath(): string {
  const path = join(buildDir(), 'tscompose-shim');
  if (!existsSync(path)) {
    throw new TscError('TSC_NATIVE_LOAD', `find tscompose-shim: ${path} is missing`, {
      hint: 'run `npm rebuild`',
    });
  }
  return path;
}

function check(result: number, syscall: string, path: string | undefined, what: string): number {
  if (result >= 0) return result;
  const code = errnoName(-result);
  throw new NativeError(syscall, code, path, `${what}: ${code}`);
}

/** Encodes a LaunchSpec into the versioned binary blob the shim reads (native/src/spec.c). */
export function encodeLaunchSpec(spec: LaunchSpec): Buffer {
  return loadBinding().encodeLaunchSpec(spec);
}

/**
 * Decodes a blob back into a LaunchSpec (tests, diagnostics).
 * @throws NativeError EINVAL for a malformed blob, EPROTO for another version.
 */
export function decodeLaunchSpec(blob: Buffer): LaunchSpec {
  const r = loadBinding().decodeLaunchSpec(blob);
  if (typeof r === 'number') check(r, 'decode', undefined, 'decode launch spec');
  return r as LaunchSpec;
}

/** mount(2). Empty strings pass NULL. @throws NativeError naming source and target. */
export function mount(
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data = '',
): void {
  const r = loadBinding().mount(source || null, target, fstype || null, flags, data || null);
  check(r, 'mount', target, `mount ${source || fstype || 'none'} on ${target}`);
}

/**
 * mount(2) on the libuv pool, off the event loop; synchronous with an addon built before it.
 * Relative paths in `data` would resolve against the process's cwd at an unknown moment: use
 * {@link mount} after chdir for those. @throws NativeError naming source and target
 */
export async function mountAsync(
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data = '',
): Promise<void> {
  const b = loadBinding();
  const args = [source || null, target, fstype || null, flags, data || null] as const;
  const r = b.mountAsync ? await b.mountAsync(...args) : b.mount(...args);
  check(r, 'mount', target, `mount ${source || fstype || 'none'} on ${target}`);
}

/** umount2(2) with {@link MNT} flags. @throws NativeError */
export function umount2(target: string, flags = 0): void {
  check(loadBinding().umount2(target, flags), 'umount2', target, `umount ${target}`);
}

/**
 * umount2(2) on the libuv pool, off the event loop (an overlay unmount syncs its upper
 * filesystem); synchronous with an addon built before it. @throws NativeError
 */
export async function umount2Async(target: string, flags = 0): Promise<void> {
  const b = loadBinding();
  const r = b.umount2Async ? await b.umount2Async(target, flags) : b.umount2(target, flags);
  check(r, 'umount2', target, `umount ${target}`);
}

/** pidfd_open(2): a file descriptor that keeps naming this process. @throws NativeError */
export function pidfdOpen(pid: number): number {
  return check(loadBinding().pidfdOpen(pid, 0), 'pidfd_open', undefined, `pidfd_open ${pid}`);
}

/** pidfd_send_signal(2). @throws NativeError (ESRCH once the process has been reaped) */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  check(
    loadBinding().pidfdSendSignal(pidfd, signal),
    'pidfd_send_signal',
    undefined,
    `signal ${signal}`,
  );
}

/** close(2) for descriptors the addon returned. */
export function closeFd(fd: number): void {
  check(loadBinding().close(fd), 'close', undefined, `close fd ${fd}`);
}

/** mknod(2): `mode` includes S_IFCHR/S_IFBLK. @throws NativeError */
export function mknod(path: string, mode: number, major: number, minor: number): void {
  check(loadBinding().mknod(path, mode, major, minor), 'mknod', path, `mknod ${path}`);
}

/** setxattr(2) (follows symlinks). @throws NativeError */
export function setxattr(path: string, name: string, value: Buffer, flags = 0): void {
  check(
    loadBinding().setxattr(path, name, value, flags),
    'setxattr',
    path,
    `setxattr ${name} on ${path}`,
  );
}

/** lsetxattr(2) (the link itself). @throws NativeError */
export function lsetxattr(path: string, name: string, value: Buffer, flags = 0): void {
  check(
    loadBinding().lsetxattr(path, name, value, flags),
    'lsetxattr',
    path,
    `lsetxattr ${name} on ${path}`,
  );
}

/** lgetxattr(2); undefined when the attribute is absent (ENODATA). @throws NativeError */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const r = loadBinding().lgetxattr(path, name);
  if (typeof r !== 'number') return r;
  if (-r === constants.errno.ENODATA) return undefined;
  check(r, 'lgetxattr', path, `lgetxattr ${name} on ${path}`);
  return undefined;
}

/** True when the loaded addon has the rtnetlink client (false for a stale or missing build). */
export function netlinkAvailable(): boolean {
  try {
    return typeof loadBinding().netlinkAttach === 'function';
  } catch {
    return false;
  }
}

function netlinkCheck(r: NetlinkResult, what: string, path: string | undefined): void {
  if (r.errno === 0) return;
  const code = errnoName(r.errno);
  const kernel = r.message ? ` (${r.message})` : '';
  throw new NativeError('rtnetlink', code, path, `${what}: ${r.step}: ${code}${kernel}`);
}

/**
 * Plugs a container into a network through rtnetlink, with no child process: a veth whose peer
 * is born in the container netns (host end on the bridge and up), or a macvlan/ipvlan child of
 * `parent` born there; then lo up, addresses, link up and default routes inside the netns (a
 * socket opened there by a short-lived thread), then one gratuitous ARP per IPv4 address and one
 * unsolicited NA per IPv6 address from inside the netns (as {@link netlinkAnnounce}; Docker
 * 28 sends them too, engine-reference §3.3). Runs on the libuv pool; undone on failure.
 * @returns the announcement's warning ('' when every announcement was sent; a failed one never
 *   fails the attach)
 * @throws NativeError (syscall `rtnetlink`, errno name, e.g. EEXIST for a taken name, ENODEV for
 *   a missing bridge or parent, EOPNOTSUPP for a kernel without the link kind)
 */
export async function netlinkAttach(endpoint: NetlinkEndpoint): Promise<string> {
  const r = await loadBinding().netlinkAttach(endpoint);
  const host = endpoint.hostIfname ? ` (${endpoint.hostIfname})` : '';
  netlinkCheck(r, `attach ${endpoint.ifname}${host}`, endpoint.netnsPath);
  return r.warning ?? '';
}

/** True when the loaded addon can send announcements ({@link netlinkAnnounce}). */
export function netlinkAnnounceAvailable(): boolean {
  try {
    return typeof loadBinding().netlinkAnnounce === 'function';
  } catch {
    return false;
  }
}

/**
 * Announces a link's addresses from inside its netns so that peers replace stale neighbour
 * entries (a container that came back with its IP and a new MAC): per IPv4 address a gratuitous
 * ARP request (sender IP = target IP, broadcast; RFC 5227 §3), per IPv6 address an unsolicited
 * Neighbor Advertisement to ff02::1 with Override and the target link-layer address option, hop
 * limit 255 (RFC 4861 §7.2.6). Sent once the link is operationally up (and `hostIfname`'s
 * bridge port forwarding), waiting at most ~250 ms for the kernel's asynchronous carrier change.
 * Links with IFF_NOARP (ipvlan l3) are skipped. The sockets (an
 * AF_PACKET and a raw ICMPv6 one) are opened in the netns by a short-lived thread, as for
 * rtnetlink. Best effort.
 * @returns a warning naming what could not be sent, or ''
 * @throws NativeError only when the netns cannot be opened or entered (errno name), or when the
 *   addon predates announcements (ENOSYS)
 */
export async function netlinkAnnounce(target: NetlinkAnnounceTarget): Promise<string> {
  const binding = loadBinding();
  if (binding.netlinkAnnounce === undefined) {
    throw new NativeError(
      'rtnetlink',
      'ENOSYS',
      target.netnsPath,
      `announce ${target.ifname}: ENOSYS`,
    );
  }
  const r = await binding.netlinkAnnounce(target);
  netlinkCheck(r, `announce ${target.ifname}`, target.netnsPath);
  return r.warning ?? '';
}

/**
 * Deletes a link (RTM_DELLINK) in our netns, or inside `netnsPath`; a veth takes its peer along.
 * @throws NativeError ENODEV when there is no such link
 */
export async function netlinkLinkDel(name: string, netnsPath?: string): Promise<void> {
  const r = await loadBinding().netlinkLinkDel(name, netnsPath ?? null);
  netlinkCheck(r, `delete link ${name}`, netnsPath);
}

/**
 * Creates a bridge in our netns (RTM_NEWLINK kind bridge), adds its addresses, brings it up;
 * deleted again on failure. @throws NativeError (EEXIST when the name is taken)
 */
export async function netlinkBridgeCreate(bridge: NetlinkBridge): Promise<void> {
  const r = await loadBinding().netlinkBridgeCreate(bridge);
  netlinkCheck(r, `create bridge ${bridge.name}`, undefined);
}
