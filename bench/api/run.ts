/**
 * bench/api: the engine daemon against its peers in one run. (1) `docker run --rm busybox:1.36 true`
 * through the docker CLI on our engine and on a private dockerd (Debian's docker.io), and `podman run
 * --rm` (Debian's podman, runc), median of BENCH_RUNS (10) rounds (ours and dockerd interleaved in
 * each round, podman after); (2) containers per second for 50
 * create+start+remove cycles from dockerode against ours and dockerd; (3) resident memory (sum of
 * RSS, and beside it the sum of PSS, which counts shared pages once) of our idle engine with 20
 * running `sleep` containers, shims included. Prints times and ratios, never asserts. Root only;
 * removes every engine, daemon, container and temp dir it made.
 * Our daemon runs with the same Node flags and environment as `tscompose engine start`
 * (DAEMON_NODE_FLAGS, DAEMON_ENV).
 * Run: npm run bench:api   (BENCH_RUNS=5 BENCH_CYCLES=20 BENCH_PEERS=none)
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';

import type Docker from 'dockerode';

import { startBenchEngine, type BenchEngine } from '../common/engine.js';
import { startPrivatePodman, type PrivatePodman } from '../common/podman.js';
import { startDockerd, stopDockerd, type TestDockerd } from '../../test/e2e/cli/dockerd.js';
import { ensureDebPackages } from '../../test/helpers/host.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 50);
const IDLE_CONTAINERS = Number(process.env.BENCH_IDLE ?? 20);
/** BENCH_PEERS=none skips dockerd and podman; `dockerd` or `podman` picks one. */
const PEERS = (process.env.BENCH_PEERS ?? 'dockerd,podman').split(',');
const DOCKER = '/usr/local/bin/docker';
const IMAGE = 'busybox:1.36';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

const fmt = (ms: number): string => `${ms.toFixed(0).padStart(6)} ms`;

/** Wall time of one command, ms; throws with its stderr when it fails. */
async function timed(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const t0 = performance.now();
  await run(cmd, [...args], { env, timeout: 120_000 });
  return performance.now() - t0;
}

/** One `docker run --rm ... true` setup: a row name, the command and its environment. */
interface CliRow {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Median wall time of each row's command over RUNS rounds, one warm-up run each first; every
 * round runs every row in turn, so drift in the host's speed (other work, frequency) hits all rows
 * alike instead of whichever block of runs it happened to fall on.
 */
async function cliRuns(rows: readonly CliRow[]): Promise<number[]> {
  for (const r of rows) await timed(r.cmd, r.args, r.env);
  const times = rows.map((): number[] => []);
  for (let i = 0; i < RUNS; i++)
    for (const [j, r] of rows.entries()) times[j]?.push(await timed(r.cmd, r.args, r.env));
  return times.map(median);
}

/** Containers per second over CYCLES create+start+remove(force) cycles through dockerode. */
async function cycles(api: Docker): Promise<number> {
  const once = async (): Promise<void> => {
    const c = await api.createContainer({
      Image: IMAGE,
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await c.remove({ force: true });
  };
  await once();
  const t0 = performance.now();
  for (let i = 0; i < CYCLES; i++) await once();
  return CYCLES / ((performance.now() - t0) / 1000);
}

/** A `<key>:  N kB` line of a /proc/<pid> file, in bytes (0 when the process is gone). */
function procKb(pid: number, file: string, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(
      fs.readFileSync(`/proc/${pid}/${file}`, 'utf8'),
    );
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** VmRSS of a pid in bytes (0 when gone). */
const rss = (pid: number): number => procKb(pid, 'status', 'VmRSS');

/**
 * Proportional set size of a pid in bytes (`Pss:` of /proc/<pid>/smaps_rollup, 0 when gone):
 * shared pages (the shims' common text, the node binary) are split among the processes mapping
 * them, so a sum of PSS counts them once where a sum of RSS counts them per process.
 */
const pss = (pid: number): number => procKb(pid, 'smaps_rollup', 'Pss');

/** Every pid with its parent and comm. */
function processes(): Array<{ pid: number; ppid: number; comm: string }> {
  const out: Array<{ pid: number; ppid: number; comm: string }> = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      out.push({ pid: Number(p), ppid, comm });
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * RSS of our engine with IDLE_CONTAINERS running `sleep`: the daemon, its child processes, and
 * every shim of its containers (a shim is the parent of a container's init pid). The containers'
 * own processes are not counted.
 */
async function idleMemory(ours: BenchEngine): Promise<{
  engine: number;
  shims: number;
  enginePss: number;
  shimsPss: number;
  n: number;
}> {
  const ids: string[] = [];
  for (let i = 0; i < IDLE_CONTAINERS; i++) {
    const c = await ours.api.createContainer({
      Image: IMAGE,
      Cmd: ['sleep', '3600'],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    ids.push(c.id);
  }
  await sleep(3000); // let the daemon go idle (GC, timers)
  const procs = processes();
  const inits = new Set<number>();
  for (const id of ids) inits.add((await ours.api.getContainer(id).inspect()).State.Pid);
  const shimPids = new Set(procs.filter((p) => inits.has(p.pid)).map((p) => p.ppid));
  const daemonTree = new Set<number>([ours.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (daemonTree.has(p.ppid) && !daemonTree.has(p.pid) && !inits.has(p.pid)) {
        daemonTree.add(p.pid);
        grew = true;
      }
    }
  }
  for (const s of shimPids) daemonTree.delete(s);
  const engine = [...daemonTree].reduce((a, p) => a + rss(p), 0);
  const shims = [...shimPids].reduce((a, p) => a + rss(p), 0);
  const enginePss = [...daemonTree].reduce((a, p) => a + pss(p), 0);
  const shimsPss = [...shimPids].reduce((a, p) => a + pss(p), 0);
  for (const id of ids) await ours.api.getContainer(id).remove({ force: true });
  return { engine, shims, enginePss, shimsPss, n: shimPids.size };
}

/** podman with a private config and storage (runc; ulimits within this session's hard limits). */
async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/api needs root');
    process.exit(2);
  }
  console.log(
    `bench/api: ${RUNS} runs per CLI row (median), ${CYCLES} dockerode cycles, ${IDLE_CONTAINERS} idle containers`,
  );
  const ours = await startBenchEngine();
  let dockerd: TestDockerd | undefined;
  let podman: PrivatePodman | undefined;
  const rows: Array<{ name: string; ms: number }> = [];
  try {
    const oursEnv = { ...process.env, DOCKER_HOST: ours.host };
    const none = ['run', '--rm', '--network', 'none', IMAGE, 'true'];
    const cliRows: CliRow[] = [
      { name: 'tscompose engine, --network none', cmd: DOCKER, args: none, env: oursEnv },
      {
        name: 'tscompose engine, default bridge',
        cmd: DOCKER,
        args: ['run', '--rm', IMAGE, 'true'],
        env: oursEnv,
      },
    ];
    let dockerdCps: number | undefined;
    if (PEERS.includes('dockerd')) {
      try {
        ensureDebPackages(['docker.io', 'busybox-static']);
        dockerd = await startDockerd();
        cliRows.push({
          name: 'dockerd 20.10 (docker.io), --network none',
          cmd: DOCKER,
          args: none,
          env: { ...process.env, DOCKER_HOST: dockerd.host },
        });
      } catch (e) {
        console.log(`dockerd: not measured: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    // ours and dockerd interleaved; podman after (its network setup saves and restores iptables)
    const medians = await cliRuns(cliRows);
    cliRows.forEach((r, i) => rows.push({ name: r.name, ms: medians[i] ?? NaN }));
    if (PEERS.includes('podman')) {
      try {
        podman = startPrivatePodman();
        rows.push({
          name: 'podman (runc), --network none',
          ms:
            (await cliRuns([{ name: 'podman', cmd: 'podman', args: none, env: podman.env }]))[0] ??
            NaN,
        });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        console.log(`podman: not measured: ${msg.split('\n').slice(0, 4).join(' | ')}`);
      } finally {
        podman?.stop();
        podman = undefined;
      }
    }
    console.log('\n`docker run --rm busybox:1.36 true`, end to end (median):');
    const base = rows[0]?.ms ?? NaN;
    for (const r of rows)
      console.log(`  ${r.name.padEnd(44)} ${fmt(r.ms)}   x${(r.ms / base).toFixed(2)} of ours`);

    const oursCps = await cycles(ours.api);
    if (dockerd) dockerdCps = await cycles(dockerd.api);
    console.log(`\ncreate+start+remove through dockerode (${CYCLES} cycles, --network none):`);
    console.log(`  tscompose engine   ${oursCps.toFixed(1).padStart(6)} containers/s`);
    if (dockerdCps !== undefined) {
      console.log(`  dockerd            ${dockerdCps.toFixed(1).padStart(6)} containers/s`);
      console.log(`  ratio ours/dockerd x${(oursCps / dockerdCps).toFixed(2)}`);
    }
    if (dockerd) {
      await stopDockerd(dockerd);
      dockerd = undefined;
    }

    const mem = await idleMemory(ours);
    const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
    const each = (b: number): string => mb(mem.n > 0 ? b / mem.n : 0);
    console.log(`\nidle engine with ${IDLE_CONTAINERS} running containers (RSS | PSS):`);
    console.log(`  engine process tree ${mb(mem.engine)} | ${mb(mem.enginePss)}`);
    console.log(
      `  ${mem.n} shims           ${mb(mem.shims)} (${each(mem.shims)} each) | ${mb(mem.shimsPss)} (${each(mem.shimsPss)} each)`,
    );
    console.log(
      `  total               ${mb(mem.engine + mem.shims)} | ${mb(mem.enginePss + mem.shimsPss)}   (target < 80 MB resident)`,
    );
    const dockerdRow = rows.find((r) => r.name.startsWith('dockerd'));
    if (dockerdRow)
      console.log(
        `\nend to end: dockerd / ours = x${(dockerdRow.ms / base).toFixed(2)} (target >= 5)`,
      );
  } finally {
    if (dockerd) await stopDockerd(dockerd);
    podman?.stop();
    await ours.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
