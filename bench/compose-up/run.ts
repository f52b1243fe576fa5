/**
 * bench/compose-up: `up -d` until every container runs, and `down`, of 1/5/10/20 busybox services
 * (one default network), median of BENCH_ROUNDS (5), through tscompose + our engine, next to
 * docker-compose v1 + a private dockerd and podman-compose + podman on the same files, all daemons up
 * at once and each round running every tool in turn (so drift in the host's speed hits all). Prints times
 * and ratios (peer / ours), never asserts. Root only; removes every engine, daemon, container,
 * network and temp dir it made. Run: npm run bench:compose-up  (BENCH_SIZES=1,5 BENCH_ROUNDS=3 BENCH_TOOLS=tscompose)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type Docker from 'dockerode';

import { startBenchEngine } from '../common/engine.js';
import { startPrivatePodman } from '../common/podman.js';
import { ensureDebPackages } from '../../test/helpers/host.js';
import { startDockerd, stopDockerd } from '../../test/e2e/cli/dockerd.js';

const SIZES = (process.env.BENCH_SIZES ?? '1,5,10,20').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** BENCH_TOOLS=tscompose,podman-compose measures only those (default: all three). */
const TOOLS = process.env.BENCH_TOOLS?.split(',');
/** The installed command (run through its `#!` line, as `tscompose` runs from PATH). */
const CLI = path.resolve(__dirname, '..', '..', 'cli', 'tscompose.js');

/** One compose implementation + its daemon, as the bench drives it. */
interface Tool {
  readonly name: string;
  /** argv (with env) of `<tool> -p P -f F <args...>`. */
  argv(project: string, file: string, args: readonly string[]): string[];
  readonly env: NodeJS.ProcessEnv;
  /** Running containers of the project. */
  running(project: string): Promise<number>;
  /** All containers of the project. */
  all(project: string): Promise<number>;
  stop(): Promise<void>;
}

interface Result {
  up: number;
  down: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** The compose file: n services sleeping until SIGTERM (a trap, so `down` needs no grace period). */
function composeFile(n: number): string {
  let s = 'services:\n';
  for (let i = 1; i <= n; i++) {
    s += `  s${i}:\n    image: busybox:1.36\n`;
    s += `    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 2147483647 & wait"]\n`;
  }
  return s;
}

function run(tool: Tool, project: string, file: string, args: readonly string[]): void {
  const [exe, ...rest] = tool.argv(project, file, args);
  execFileSync(exe!, rest, {
    env: tool.env,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
    timeout: 600_000,
  });
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** One round: `up -d` until n running, then `down` until none left; seconds each. */
async function round(tool: Tool, project: string, file: string, n: number): Promise<Result> {
  const t0 = now();
  run(tool, project, file, ['up', '-d']);
  let t1 = now();
  if ((await tool.running(project)) < n) {
    for (let i = 0; (await tool.running(project)) < n; i++) {
      if (i > 600) throw new Error(`${tool.name}: ${n} containers not running after up -d`);
      await sleep(50);
    }
    t1 = now();
  }
  const t2 = now();
  run(tool, project, file, ['down']);
  let t3 = now();
  if ((await tool.all(project)) > 0) {
    for (let i = 0; (await tool.all(project)) > 0; i++) {
      if (i > 600) throw new Error(`${tool.name}: containers left after down`);
      await sleep(50);
    }
    t3 = now();
  }
  return { up: t1 - t0, down: t3 - t2 };
}

/**
 * Every size, ROUNDS rounds, each round running every tool once in turn: the host's speed drifts
 * (other work, page-cache reclaim of the node and python binaries), and interleaving puts the same
 * drift on every tool, so the ratios hold where back-to-back blocks per tool did not. A tool that
 * fails is dropped (and its project taken down) without stopping the others.
 */
async function measureAll(
  tools: Tool[],
  work: string,
  why: Map<string, string>,
): Promise<Map<string, Map<number, Result>>> {
  const out = new Map<string, Map<number, Result>>(tools.map((t) => [t.name, new Map()]));
  let live = [...tools];
  for (const n of SIZES) {
    const file = path.join(work, `compose-${n}.yaml`);
    const project = `tsc-bench-cu-${n}`;
    const samples = new Map<string, Result[]>(live.map((t) => [t.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const tool of live) {
        try {
          samples.get(tool.name)?.push(await round(tool, project, file, n));
        } catch (e) {
          why.set(
            tool.name,
            `failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000),
          );
          console.log(`  ${tool.name}: ${why.get(tool.name)}`);
          try {
            run(tool, project, file, ['down']);
          } catch {
            // best effort before the daemon goes
          }
          live = live.filter((t) => t !== tool);
          out.delete(tool.name);
        }
      }
    }
    for (const tool of live) {
      const xs = samples.get(tool.name) ?? [];
      const res = { up: median(xs.map((x) => x.up)), down: median(xs.map((x) => x.down)) };
      out.get(tool.name)?.set(n, res);
      console.log(
        `  ${tool.name.padEnd(15)} ${String(n).padStart(2)} services  up ${res.up.toFixed(2)} s  down ${res.down.toFixed(2)} s`,
      );
    }
  }
  return out;
}

/** Counts a dockerode daemon's containers of a compose project. */
function dockerCounter(api: Docker): Pick<Tool, 'running' | 'all'> {
  const count = async (project: string, status?: string): Promise<number> =>
    (
      await api.listContainers({
        all: true,
        filters: {
          label: [`com.docker.compose.project=${project}`],
          ...(status ? { status: [status] } : {}),
        },
      })
    ).length;
  return { running: (p) => count(p, 'running'), all: (p) => count(p) };
}

/** tscompose + our engine (dist/engine/daemon.js) on a temp data root and socket. */
async function startOurs(): Promise<Tool> {
  const { home, api, stop } = await startBenchEngine();
  return {
    name: 'tscompose',
    argv: (p, f, args) => [CLI, '-p', p, '-f', f, ...args],
    env: { ...process.env, DOCKER_HOST: `unix://${home.socket}` },
    ...dockerCounter(api),
    stop,
  };
}

/** docker-compose v1 against a private dockerd (test/e2e/cli/dockerd.ts). */
async function startDockerCompose(): Promise<Tool> {
  ensureDebPackages(['docker.io', 'docker-compose', 'busybox-static']);
  const d = await startDockerd();
  return {
    name: 'docker-compose',
    argv: (p, f, args) => ['docker-compose', '-p', p, '-f', f, ...args],
    env: { ...process.env, DOCKER_HOST: d.host },
    ...dockerCounter(d.api),
    stop: () => stopDockerd(d),
  };
}

/** iptables rules (filter and nat) and ip_forward, to give back after podman's netavark. */
function saveNetState(): { rules: string; ipForward: string } {
  return {
    rules: execFileSync('iptables-save', { encoding: 'utf8' }),
    ipForward: fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'),
  };
}

/**
 * podman-compose + podman with a private config (runc: crun refuses this host's hybrid cgroups;
 * ulimits within the session's hard limits), storage, run and network dirs under a temp dir.
 */
function startPodman(): Promise<Tool> {
  const saved = saveNetState();
  const restoreNet = (): void => {
    const after = saveNetState();
    if (after.rules !== saved.rules) execFileSync('iptables-restore', { input: saved.rules });
    if (after.ipForward !== saved.ipForward)
      fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', saved.ipForward);
  };
  let p;
  try {
    p = startPrivatePodman(['podman-compose', 'iptables']);
  } catch (e) {
    restoreNet();
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  const { env, podman } = p;
  const stop = (): Promise<void> => {
    try {
      p.stop();
    } finally {
      restoreNet();
    }
    return Promise.resolve();
  };
  const count = (project: string, status?: string): Promise<number> =>
    Promise.resolve(
      podman([
        'ps',
        '-aq',
        '--filter',
        `label=io.podman.compose.project=${project}`,
        ...(status ? ['--filter', `status=${status}`] : []),
      ])
        .split('\n')
        .filter((l) => l !== '').length,
    );
  return Promise.resolve({
    name: 'podman-compose',
    argv: (pr, f, args) => ['podman-compose', '-p', pr, '-f', f, ...args],
    env,
    running: (pr) => count(pr, 'running'),
    all: (pr) => count(pr),
    stop,
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/compose-up needs root');
    process.exit(2);
  }
  ensureDebPackages(['busybox-static', 'iptables']);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-compose-up-'));
  const why = new Map<string, string>();
  const tools: Tool[] = [];
  let measured: Map<string, Map<number, Result>> | undefined;
  try {
    for (const n of SIZES) fs.writeFileSync(path.join(work, `compose-${n}.yaml`), composeFile(n));
    // podman first: it saves the host's iptables rules before and restores them when it stops,
    // which it does last, after our engine and dockerd have removed their own
    const starters: [string, () => Promise<Tool>][] = [
      ['podman-compose', startPodman],
      ['docker-compose', startDockerCompose],
      ['tscompose', startOurs],
    ];
    console.log(`compose-up: sizes ${SIZES.join('/')}, median of ${ROUNDS}, rounds interleaved`);
    for (const [name, start] of starters.filter(
      ([n]) => TOOLS === undefined || TOOLS.includes(n),
    )) {
      try {
        tools.push(await start());
      } catch (e) {
        why.set(name, `cannot start: ${e instanceof Error ? e.message : String(e)}`);
        console.log(`  ${name}: ${why.get(name)}`);
      }
    }
    // ours first in each round, then the peers, in the order of the table
    const order = ['tscompose', 'docker-compose', 'podman-compose'];
    tools.sort((x, y) => order.indexOf(x.name) - order.indexOf(y.name));
    measured = await measureAll(tools, work, why);
  } finally {
    // ours and dockerd first, podman (which restores the iptables rules it saved) last
    for (const tool of tools) {
      try {
        await tool.stop();
      } catch (e) {
        console.log(`  ${tool.name}: stop failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    fs.rmSync(work, { recursive: true, force: true });
  }

  const results = measured ?? new Map<string, Map<number, Result>>();
  const ours = results.get('tscompose');
  console.log('');
  console.log('services  tool             up -d (s)  down (s)  up peer/ours  down peer/ours');
  for (const n of SIZES) {
    for (const [name, r] of results) {
      const res = r.get(n);
      if (!res) continue;
      const o = ours?.get(n);
      const ratio = (peer: number, us: number | undefined): string =>
        name === 'tscompose' || us === undefined ? '' : `${(peer / us).toFixed(1)}x`;
      console.log(
        `${String(n).padStart(8)}  ${name.padEnd(15)}  ${res.up.toFixed(2).padStart(9)}  ${res.down
          .toFixed(2)
          .padStart(
            8,
          )}  ${ratio(res.up, o?.up).padStart(12)}  ${ratio(res.down, o?.down).padStart(14)}`,
      );
    }
  }
  for (const [name, w] of why) console.log(`${name}: not measured (${w})`);
  const o10 = ours?.get(10);
  const peers10 = [...results].filter(([n]) => n !== 'tscompose').map(([, r]) => r.get(10));
  if (o10 && peers10.length > 0) {
    const fastestUp = Math.min(...peers10.map((r) => r?.up ?? Infinity));
    const fastestDown = Math.min(...peers10.map((r) => r?.down ?? Infinity));
    console.log(
      `10 services, fastest peer / ours: up ${(fastestUp / o10.up).toFixed(1)}x, down ${(fastestDown / o10.down).toFixed(1)}x (target 5x)`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
