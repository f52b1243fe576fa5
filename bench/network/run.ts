/**
 * bench/network: container-to-container TCP throughput and request latency over a tscompose
 * bridge next to the same over host loopback; published-port throughput through the engine's
 * userland proxy next to direct container access; time to attach one container to a network.
 * Root only. Uses netns stand-ins named tsc-bench-* and removes everything it created.
 * Run: npm run bench:network  (or build, then node dist/bench/network/run.js); TSC_NETLINK=0
 * measures the iproute2 fallback instead of the addon's rtnetlink client.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

import { usesNetlink } from '../../engine/networks/bridge.js';
import { NetworkManager } from '../../engine/networks/index.js';

const MB = 1024 * 1024;
const BYTES = Number(process.env.BENCH_MB ?? 256) * MB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PINGS = 2000;
const ATTACHES = 20;

const SINK = `
const net = require('net');
net.createServer((s) => { let n = 0; s.on('data', (d) => (n += d.length)); s.on('end', () => s.end(String(n))); s.on('error', () => {}); })
  .listen(Number(process.argv[1]), process.argv[2], () => console.log('ready'));
const echo = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); s.on('error', () => {}); });
echo.listen(Number(process.argv[1]) + 1, process.argv[2]);`;

const SEND = `
const net = require('net');
const [host, port, bytes] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const chunk = Buffer.alloc(256 * 1024, 1);
const s = net.connect({ host, port }, () => {
  const t0 = process.hrtime.bigint();
  let sent = 0;
  const pump = () => { while (sent < bytes) { sent += chunk.length; if (!s.write(chunk)) return s.once('drain', pump); } s.end(); };
  s.on('data', () => { const ms = Number(process.hrtime.bigint() - t0) / 1e6; console.log(JSON.stringify({ ms })); });
  pump();
});`;

const PING = `
const net = require('net');
const [host, port, n] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const s = net.connect({ host, port }, () => {
  s.setNoDelay(true);
  const times = []; let t = process.hrtime.bigint(); let left = n;
  s.on('data', () => { const now = process.hrtime.bigint(); times.push(Number(now - t) / 1e3); if (--left === 0) { times.sort((a, b) => a - b); console.log(JSON.stringify({ p50us: times[Math.floor(n / 2)], p99us: times[Math.floor(n * 0.99)] })); s.destroy(); return; } t = process.hrtime.bigint(); s.write('x'); });
  s.write('x');
});`;

interface Ns {
  name: string;
  path: string;
}

function addNs(tag: string): Ns {
  const name = `tsc-bench-${tag}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  return { name, path: `/run/netns/${name}` };
}

function delNs(ns: Ns): void {
  try {
    execFileSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
  } catch {
    /* gone */
  }
}

function nodeArgv(ns: Ns | undefined, script: string, args: string[]): [string, string[]] {
  const argv = [process.execPath, '-e', script, ...args];
  return ns ? ['nsenter', [`--net=${ns.path}`, ...argv]] : [argv[0]!, argv.slice(1)];
}

async function serve(ns: Ns | undefined, host: string, port: number): Promise<ChildProcess> {
  const [file, args] = nodeArgv(ns, SINK, [String(port), host]);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
  return child;
}

async function runJson<T>(ns: Ns | undefined, script: string, args: string[]): Promise<T> {
  const [file, argv] = nodeArgv(ns, script, args);
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += String(d)));
  await once(child, 'close');
  try {
    return JSON.parse(out) as T;
  } catch {
    throw new Error(`${args.join(' ')}: no result (output ${JSON.stringify(out)})`);
  }
}

async function throughput(ns: Ns | undefined, host: string, port: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const { ms } = await runJson<{ ms: number }>(ns, SEND, [host, String(port), String(BYTES)]);
    runs.push(BYTES / MB / (ms / 1000));
  }
  return median(runs);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const closed = once(child, 'close');
  child.kill('SIGKILL');
  await closed;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/network needs root');
    process.exit(2);
  }
  const manager = new NetworkManager({ iptables: false, dnsForwarders: [] });
  const a = addNs('a');
  const b = addNs('b');
  const extra: Ns[] = [];
  const procs: ChildProcess[] = [];
  let netId = '';
  let jumboId = '';
  try {
    netId = (await manager.create({ Name: `tsc-bench-${process.pid}` })).Id;
    const ea = await manager.connect(netId, {
      containerId: 'a'.repeat(64),
      containerName: 'bench-a',
      netnsPath: a.path,
    });
    const eb = await manager.connect(netId, {
      containerId: 'b'.repeat(64),
      containerName: 'bench-b',
      netnsPath: b.path,
    });
    void ea;
    procs.push(await serve(b, eb.IPAddress, 9000));
    procs.push(await serve(undefined, '127.0.0.1', 9100));
    const [pub] = await manager.publish('b'.repeat(64), [
      { protocol: 'tcp', hostIp: '127.0.0.1', published: '', target: '9000' },
    ]);

    const bridgeMBs = await throughput(a, eb.IPAddress, 9000);
    // The same over a bridge with loopback's MTU class (driver_opts mtu), to separate MTU from path.
    jumboId = (
      await manager.create({
        Name: `tsc-bench-jumbo-${process.pid}`,
        Options: { 'com.docker.network.driver.mtu': '65520' },
      })
    ).Id;
    await manager.connect(jumboId, {
      containerId: 'a'.repeat(64),
      containerName: 'bench-a',
      netnsPath: a.path,
      defaultRoute: false,
    });
    const ej = await manager.connect(jumboId, {
      containerId: 'b'.repeat(64),
      containerName: 'bench-b',
      netnsPath: b.path,
      defaultRoute: false,
    });
    procs.push(await serve(b, ej.IPAddress, 9200));
    const jumboMBs = await throughput(a, ej.IPAddress, 9200);
    const loopMBs = await throughput(undefined, '127.0.0.1', 9100);
    const directMBs = await throughput(undefined, eb.IPAddress, 9000);
    const proxyMBs = await throughput(undefined, '127.0.0.1', pub!.hostPort);
    const bridgeLat = await runJson<{ p50us: number; p99us: number }>(a, PING, [
      eb.IPAddress,
      '9001',
      String(PINGS),
    ]);
    const loopLat = await runJson<{ p50us: number; p99us: number }>(undefined, PING, [
      '127.0.0.1',
      '9101',
      String(PINGS),
    ]);

    const attachMs: number[] = [];
    for (let i = 0; i < ATTACHES; i++) {
      const ns = addNs(`x${i}`);
      extra.push(ns);
      const t0 = process.hrtime.bigint();
      await manager.connect(netId, {
        containerId: `${i}`.padStart(64, 'c'),
        containerName: `bench-x${i}`,
        netnsPath: ns.path,
      });
      attachMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }

    // The floor of an attach: one process in a netns (`ip -n <ns> link show lo`), same moment.
    const spawnMs: number[] = [];
    for (let i = 0; i < ATTACHES; i++) {
      const t0 = process.hrtime.bigint();
      await new Promise<void>((resolve) =>
        spawn('ip', ['-n', a.name, 'link', 'show', 'lo'], { stdio: 'ignore' }).on('close', () =>
          resolve(),
        ),
      );
      spawnMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }

    const f = (x: number): string => x.toFixed(1);
    console.log(`network bench (${BYTES / MB} MB x ${ROUNDS} rounds, median; ${PINGS} pings)`);
    console.log(
      `  tcp throughput  bridge ${f(bridgeMBs)} MB/s   loopback ${f(loopMBs)} MB/s   loopback/bridge ${(loopMBs / bridgeMBs).toFixed(2)}x (target <= 1.5x)`,
    );
    console.log(
      `  tcp throughput  bridge mtu 65520 ${f(jumboMBs)} MB/s   loopback/bridge ${(loopMBs / jumboMBs).toFixed(2)}x`,
    );
    console.log(
      `  tcp latency p50 bridge ${f(bridgeLat.p50us)} us   loopback ${f(loopLat.p50us)} us   ratio ${(bridgeLat.p50us / loopLat.p50us).toFixed(2)}x`,
    );
    console.log(
      `  tcp latency p99 bridge ${f(bridgeLat.p99us)} us   loopback ${f(loopLat.p99us)} us`,
    );
    console.log(
      `  published port  proxy ${f(proxyMBs)} MB/s   direct ${f(directMBs)} MB/s   direct/proxy ${(directMBs / proxyMBs).toFixed(2)}x`,
    );
    console.log(
      `  attach (${usesNetlink() ? 'rtnetlink' : 'ip -batch'}) median ${f(median(attachMs))} ms   min ${f(Math.min(...attachMs))} ms   max ${f(Math.max(...attachMs))} ms (target < 15 ms)`,
    );
    console.log(
      `  spawn floor     median ${f(median(spawnMs))} ms (one ip -n process; the ip fallback runs one per attach)   attach/floor ${(median(attachMs) / median(spawnMs)).toFixed(2)}x`,
    );
  } finally {
    for (const p of procs) await stop(p);
    if (netId) {
      await manager.releaseContainer('a'.repeat(64));
      await manager.releaseContainer('b'.repeat(64));
      for (let i = 0; i < extra.length; i++)
        await manager.releaseContainer(`${i}`.padStart(64, 'c'));
      await manager.remove(netId);
      if (jumboId) await manager.remove(jumboId);
    }
    await manager.close();
    for (const ns of [a, b, ...extra]) delNs(ns);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
