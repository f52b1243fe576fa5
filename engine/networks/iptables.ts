/**
 * Outbound NAT, network isolation and DNAT for published ports in chains of our own
 * (TSCOMPOSE-*), jumped to from the built-in chains; ip_forward while a NAT network exists.
 * Never changes policies or rules it did not create. Rules are rendered by a pure function and
 * applied in one `iptables-restore --noflush` (`ip6tables-restore` for IPv6 networks: the same
 * chains and rules, IPv6 addresses).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

import { TscError } from '../../base/errors.js';

/** Our chains: table, chain, and the built-in chain (with match) that jumps to it. */
export const OUR_CHAINS = [
  { table: 'nat', chain: 'TSCOMPOSE-POSTROUTING', from: 'POSTROUTING', match: '' },
  {
    table: 'nat',
    chain: 'TSCOMPOSE-DNAT',
    from: 'PREROUTING',
    match: '-m addrtype --dst-type LOCAL ',
  },
  {
    table: 'nat',
    chain: 'TSCOMPOSE-DNAT',
    from: 'OUTPUT',
    match: '! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL ',
  },
  { table: 'filter', chain: 'TSCOMPOSE-FORWARD', from: 'FORWARD', match: '' },
] as const;

/** The same chains for ip6tables (the OUTPUT jump skips `::1` instead of 127.0.0.0/8). */
export const OUR_CHAINS_V6 = [
  OUR_CHAINS[0],
  OUR_CHAINS[1],
  {
    table: 'nat',
    chain: 'TSCOMPOSE-DNAT',
    from: 'OUTPUT',
    match: '! -d ::1/128 -m addrtype --dst-type LOCAL ',
  },
  OUR_CHAINS[3],
] as const;

/** One jump of ours (IPv4 or IPv6). */
export type OurJump = (typeof OUR_CHAINS)[number] | (typeof OUR_CHAINS_V6)[number];

/** Address family of a rule set: 4 = iptables, 6 = ip6tables. */
export type IpFamily = 4 | 6;

function chainsOf(family: IpFamily): readonly OurJump[] {
  return family === 6 ? OUR_CHAINS_V6 : OUR_CHAINS;
}

/** What the rules need to know about one network. */
export interface NetworkRules {
  /** Bridge device. */
  readonly bridge: string;
  /** Subnets (CIDR) of the rule set's family. */
  readonly subnets: readonly string[];
  /** `internal: true`: no traffic leaves or enters the bridge from elsewhere. */
  readonly internal: boolean;
  /** MASQUERADE outbound (`com.docker.network.bridge.enable_ip_masquerade`, default true). */
  readonly masquerade: boolean;
  /** Inter-container traffic on the bridge (`com.docker.network.bridge.enable_icc`, default true). */
  readonly icc: boolean;
  /** Published ports to DNAT to containers on this bridge. */
  readonly ports: readonly DnatRule[];
}

/** One DNAT of a host port to a container port. */
export interface DnatRule {
  /** `tcp` or `udp`. */
  readonly protocol: 'tcp' | 'udp';
  /** Host address bound, or '' / '0.0.0.0' / '::' for any. */
  readonly hostIp: string;
  /** Host port. */
  readonly hostPort: number;
  /** Container address (of the rule set's family). */
  readonly containerIp: string;
  /** Container port. */
  readonly containerPort: number;
}

/**
 * The `iptables-restore --noflush` input that (re)writes our chains for these networks (declaring
 * a chain flushes it). Mirrors moby's iptabler for a bridge with userland proxy on (reference
 * §3.4): MASQUERADE of the subnet leaving by another device, isolation between networks, internal
 * networks closed, RELATED/ESTABLISHED back in, DNAT + ACCEPT per published port.
 * `jumps` lists the jump rules to insert (those missing from the built-in chains). `family` 6
 * renders the ip6tables input: `/128` hosts, `[addr]:port` DNAT targets.
 */
export function renderRules(
  networks: readonly NetworkRules[],
  jumps: readonly OurJump[] = [],
  family: IpFamily = 4,
): string {
  const host = family === 6 ? '/128' : '/32';
  const anyHost = family === 6 ? '::' : '0.0.0.0';
  const target = (ip: string, port: number): string =>
    family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
  const nat: string[] = [];
  const dnat: string[] = [];
  const fwd: string[] = [];
  for (const n of networks) {
    fwd.push(`-A TSCOMPOSE-FORWARD -i ${n.bridge} -o ${n.bridge} -j ${n.icc ? 'ACCEPT' : 'DROP'}`);
  }
  for (const a of networks) {
    for (const b of networks) {
      if (a !== b) fwd.push(`-A TSCOMPOSE-FORWARD -i ${a.bridge} -o ${b.bridge} -j DROP`);
    }
  }
  for (const n of networks) {
    if (n.internal) {
      fwd.push(`-A TSCOMPOSE-FORWARD -i ${n.bridge} ! -o ${n.bridge} -j DROP`);
      fwd.push(`-A TSCOMPOSE-FORWARD -o ${n.bridge} ! -i ${n.bridge} -j DROP`);
      continue;
    }
    for (const p of n.ports) {
      fwd.push(
        `-A TSCOMPOSE-FORWARD -d ${p.containerIp}${host} ! -i ${n.bridge} -o ${n.bridge} -p ${p.protocol} -m ${p.protocol} --dport ${p.containerPort} -j ACCEPT`,
      );
      const dst = p.hostIp && p.hostIp !== anyHost ? `-d ${p.hostIp}${host} ` : '';
      dnat.push(
        `-A TSCOMPOSE-DNAT ${dst}! -i ${n.bridge} -p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j DNAT --to-destination ${target(p.containerIp, p.containerPort)}`,
      );
    }
    fwd.push(
      `-A TSCOMPOSE-FORWARD -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    );
    fwd.push(`-A TSCOMPOSE-FORWARD -i ${n.bridge} ! -o ${n.bridge} -j ACCEPT`);
    if (n.masquerade) {
      for (const s of n.subnets) {
        nat.push(`-A TSCOMPOSE-POSTROUTING -s ${s} ! -o ${n.bridge} -j MASQUERADE`);
      }
    }
  }
  const jumpLines = (table: string): string[] =>
    jumps.filter((j) => j.table === table).map((j) => `-I ${j.from} 1 ${j.match}-j ${j.chain}`);
  return [
    '*nat',
    ':TSCOMPOSE-POSTROUTING - [0:0]',
    ':TSCOMPOSE-DNAT - [0:0]',
    ...nat,
    ...dnat,
    ...jumpLines('nat'),
    'COMMIT',
    '*filter',
    ':TSCOMPOSE-FORWARD - [0:0]',
    ...fwd,
    ...jumpLines('filter'),
    'COMMIT',
    '',
  ].join('\n');
}

/** Names of our chains (both tables). */
const OUR_CHAIN_NAMES: readonly string[] = [...new Set(OUR_CHAINS.map((c) => c.chain))];

/**
 * The `iptables-restore --noflush` input that removes our jumps and chains (either family):
 * `present` jumps deleted, then the `chains` (default: all of ours) flushed and deleted. A table
 * with nothing to do is left out (each table commits on its own, so an earlier failed removal may
 * have removed one table's part already).
 */
export function renderRemoval(
  present: readonly OurJump[],
  chains: readonly string[] = OUR_CHAIN_NAMES,
): string {
  const table = (name: string): string[] => {
    const lines = [
      ...present.filter((j) => j.table === name).map((j) => `-D ${j.from} ${j.match}-j ${j.chain}`),
      ...[...new Set(OUR_CHAINS.filter((c) => c.table === name).map((c) => c.chain))]
        .filter((c) => chains.includes(c))
        .flatMap((c) => [`-F ${c}`, `-X ${c}`]),
    ];
    return lines.length === 0 ? [] : [`*${name}`, ...lines, 'COMMIT'];
  };
  return [...table('nat'), ...table('filter'), ''].join('\n');
}

/** True when `iptables-save` and `iptables-restore` (`ip6tables-*` for 6) can be run. */
export function hasIptables(family: IpFamily = 4): boolean {
  const tool = family === 6 ? 'ip6tables' : 'iptables';
  const r = spawnSync(`${tool}-save`, ['--version'], { stdio: 'ignore' });
  const s = spawnSync(`${tool}-restore`, ['--version'], { stdio: 'ignore' });
  return r.status === 0 && s.status === 0;
}

async function run(file: string, args: readonly string[], input = ''): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === '' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) =>
      reject(new TscError('TSC_NETWORK', `run ${file}: ${e.message}`, { cause: e })),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new TscError('TSC_NETWORK', `${file}: ${err.trim() || `exit ${String(code)}`}`)),
    );
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/**
 * What {@link syncRules} last left in place for one family (kept by the caller between calls):
 * `jumps` undefined until a sync has looked at the host.
 */
export interface RulesState {
  jumps?: readonly OurJump[] | undefined;
}

/**
 * Makes our chains match `networks` (creating chains and jumps when first needed), or removes
 * every chain and jump of ours when `networks` is empty; `family` 6 does the same with
 * ip6tables. Each sync reads the host's rules first (`iptables-save`: jumps someone else removed
 * are put back), except the removal of everything when `state` knows what the last sync left:
 * then one `iptables-restore` (a `down` that removes the last network spawns one process, not
 * two), and only if that fails because the host changed behind us, the reading way. Throws
 * TSC_NETWORK from iptables.
 */
export async function syncRules(
  networks: readonly NetworkRules[],
  family: IpFamily = 4,
  state: RulesState = {},
): Promise<void> {
  const tool = family === 6 ? 'ip6tables' : 'iptables';
  const known = state.jumps;
  if (networks.length === 0 && known?.length === 0) return;
  // unknown until a restore has worked (a failed one may have done one table)
  state.jumps = undefined;
  if (networks.length === 0 && known !== undefined) {
    try {
      await run(`${tool}-restore`, ['--noflush'], renderRemoval(known));
      state.jumps = [];
      return;
    } catch {
      // a jump or chain of ours was changed by someone else: read what is there
    }
  }
  const save = await run(`${tool}-save`, []);
  const lines = new Set(save.split('\n').map((l) => l.trim()));
  const present = chainsOf(family).filter((j) => lines.has(`-A ${j.from} ${j.match}-j ${j.chain}`));
  if (networks.length === 0) {
    // declared chains (`:TSCOMPOSE-DNAT - [0:0]`), whether or not a jump leads to them
    const chains = OUR_CHAIN_NAMES.filter((c) => save.includes(`\n:${c} `));
    if (present.length > 0 || chains.length > 0)
      await run(`${tool}-restore`, ['--noflush'], renderRemoval(present, chains));
    state.jumps = [];
    return;
  }
  const missing = chainsOf(family).filter((j) => !present.includes(j));
  await run(`${tool}-restore`, ['--noflush'], renderRules(networks, missing, family));
  state.jumps = chainsOf(family);
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/**
 * Sets net.ipv4.ip_forward to 1 and returns the previous value ('0' or '1'), so the caller can put
 * it back with {@link restoreIpForward} when the last NAT network goes.
 */
export function enableIpForward(): string {
  const before = readFileSync(IP_FORWARD, 'utf8').trim();
  if (before !== '1') writeFileSync(IP_FORWARD, '1\n');
  return before;
}

/** Writes back the value {@link enableIpForward} returned. */
export function restoreIpForward(previous: string): void {
  writeFileSync(IP_FORWARD, `${previous}\n`);
}
