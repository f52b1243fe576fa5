/**
 * Stand-ins for containers in network tests: named netns (`tsc-test-*`) and `unshare --net`
 * holder processes, plus node snippets run inside a netns through nsenter. Cleans up by name/pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

/** A named netns created with `ip netns add`. */
export interface NamedNetns {
  readonly name: string;
  readonly path: string;
}

/** Creates `tsc-test-<tag>-<rand>` and brings its lo up. */
export function addNetns(tag: string): NamedNetns {
  const name = `tsc-test-${tag}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return { name, path: `/run/netns/${name}` };
}

/** Deletes a named netns (its veth ends go with it). */
export function delNetns(ns: NamedNetns): void {
  try {
    execFileSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}

/** A process holding a fresh netns (`unshare --net sleep`), like a container init before exec. */
export async function spawnHolder(): Promise<ChildProcess & { pid: number }> {
  const child = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
  await once(child, 'spawn');
  // unshare execs sleep once the netns exists; wait for that.
  for (let i = 0; i < 200; i++) {
    try {
      const comm = execFileSync('cat', [`/proc/${child.pid}/comm`], { encoding: 'utf8' }).trim();
      if (comm === 'sleep') break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return child as ChildProcess & { pid: number };
}

/** Runs a node script inside a netns; resolves its trimmed stdout. */
export function nodeIn(
  netnsPath: string,
  script: string,
  args: readonly string[] = [],
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'nsenter',
      [`--net=${netnsPath}`, process.execPath, '-e', script, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: process.cwd(),
      },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) =>
      code === 0
        ? resolve(out.trim())
        : reject(new Error(`node in ${netnsPath}: exit ${code}: ${err}`)),
    );
  });
}

/** Starts a long-running node script inside a netns; resolves once it prints `ready`. */
export async function serveIn(
  netnsPath: string,
  script: string,
  args: readonly string[] = [],
): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=${netnsPath}`, process.execPath, '-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: process.cwd(),
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    child.on('close', (code) => reject(new Error(`server in ${netnsPath} exited ${code}`)));
  });
  return child;
}

/** Stops a process we started, by pid, and waits for it. */
export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const closed = once(child, 'close');
  child.kill('SIGKILL');
  await closed;
}

/** TCP server answering `pong <tag> <remote address>` to every connection. */
export const TCP_PONG = `
const net = require('net');
net.createServer((s) => { s.on('error', () => {}); s.end('pong ' + process.argv[2] + ' ' + s.remoteAddress.replace(/^::ffff:/, '')); })
  .listen(Number(process.argv[1]), () => console.log('ready'));`;

/** UDP server echoing `echo <payload>`. */
export const UDP_ECHO = `
const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => s.send('echo ' + m, r.port, r.address));
s.bind(Number(process.argv[1]), () => console.log('ready'));`;

/** TCP client: connects to argv[1]:argv[2] (a name is resolved through argv[3] as DNS server). */
export const TCP_CLIENT = `
const net = require('net');
const dns = require('dns');
const [host, port, server] = process.argv.slice(1);
const go = (addr) => {
  const s = net.connect({ host: addr, port: Number(port) });
  let data = '';
  s.setTimeout(1500, () => { console.log('fail:timeout'); process.exit(0); });
  s.on('data', (d) => (data += d));
  s.on('end', () => console.log(data));
  s.on('error', (e) => console.log('fail:' + e.code));
};
if (server) {
  const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
  r.setServers([server]);
  r.resolve4(host).then((a) => go(a[0]), (e) => console.log('fail:' + e.code));
} else go(host);`;

/** DNS query: prints JSON addresses of argv[1] (A or AAAA per argv[3]) from server argv[2]. */
export const DNS_QUERY = `
const dns = require('dns');
const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
r.setServers([process.argv[2]]);
(process.argv[3] === 'AAAA' ? r.resolve6(process.argv[1]) : r.resolve4(process.argv[1]))
  .then((a) => console.log(JSON.stringify(a.sort())), (e) => console.log(JSON.stringify({ error: e.code })));`;

/** Upstream DNS server: answers outside.test A 198.51.100.7, NXDOMAIN for anything else. */
export const UPSTREAM_DNS = `
const dgram = require('dgram');
const packet = require('dns-packet');
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => {
  const q = packet.decode(m);
  const name = q.questions[0].name;
  const known = name === 'outside.test';
  s.send(packet.encode({ type: 'response', id: q.id, flags: known ? 0 : 3, questions: q.questions,
    answers: known ? [{ type: 'A', name, ttl: 60, data: '198.51.100.7' }] : [] }), r.port, r.address);
});
s.bind(53, process.argv[1], () => console.log('ready'));`;

/** Names of links in the host netns starting with our prefixes. */
export function ourLinks(): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((n) => /^(tsc|vtsc|br-tsc)/.test(n));
}

/**
 * `iptables-save` (or `ip6tables-save`) reduced to what matters for "left the host as found": chains with policies and
 * rules, no comments/counters, tables holding only empty built-in ACCEPT chains dropped (nft
 * creates a table on first use, which changes no rule or policy).
 */
export function iptablesState(tool: 'iptables' | 'ip6tables' = 'iptables'): string {
  const text = execFileSync(`${tool}-save`, [], { encoding: 'utf8' });
  const tables: string[] = [];
  let current: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\[\d+:\d+\]/g, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) current = [line];
    else if (line === 'COMMIT') {
      const meaningful = current.slice(1).some((l) => !/^:[A-Z]+ ACCEPT$/.test(l));
      if (meaningful) tables.push(current.join('\n'));
    } else current.push(line);
  }
  return tables.sort().join('\n');
}
