/**
 * bench/archery: wall time of `up -d --wait` and `down` of the Archery stack (examples/archery,
 * offline stand-ins, images present) through tscompose's CLI + engine, next to Debian's
 * docker-compose v1 on a private dockerd with the same images, in the same run; median of RUNS,
 * ratios peer/ours. Needs root; run under the host lock: flock /tmp/tsc-host.lock npm run bench:archery
 * Everything it starts (engine, dockerd, registry) is stopped by pid and its temp dir removed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

import type Dockerode from 'dockerode';

import { startDockerd, stopDockerd, type TestDockerd } from '../../test/e2e/cli/dockerd.js';
import { freePort } from '../../test/helpers/registry.js';

const RUNS = Number(process.env.TSC_BENCH_RUNS ?? 5);
/** The stand-ins: OCI layout tag -> the reference the compose file names. */
const IMAGES: readonly (readonly [string, string])[] = [
  ['redis', 'redis:5'],
  ['mysql', 'mysql:5.7'],
  ['goinception', 'hanchuanchuan/goinception:latest'],
  ['archery', 'hhyo/archery:v1.14.0'],
];
/** The compose file's bind-mounted data directories (left out of the copies). */
const DATA_DIRS = [
  'mysql/datadir',
  'archery/downloads',
  'archery/sql',
  'archery/logs',
  'archery/keys',
];

/** The repository root (works from the source tree and from dist/). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

const ROOT = repoRoot();
const OFFLINE = join(ROOT, 'examples/archery/offline');
const CLI = join(ROOT, 'dist/cli/tscompose.js');
const CACHE = process.env.TSCOMPOSE_ARCHERY_CACHE ?? '/var/cache/tscompose-archery';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion; throws with its output when it fails. */
function must(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): string {
  const r = spawnSync(cmd, [...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
    ...(cwd === undefined ? {} : { cwd }),
  });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

/** Runs a command and resolves with its wall time in ms; rejects when it fails. */
function timed(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let err = '';
    const p = spawn(cmd, [...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0
        ? resolve(performance.now() - t0)
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${err}`)),
    );
  });
}

/**
 * docker-compose v1 has no `up --wait`: after `up -d` (which already waits for the depends_on
 * service_healthy conditions), poll the project's containers every 100 ms until every one runs and
 * every one with a healthcheck is healthy, as compose v2's --wait does.
 */
async function waitProject(api: Dockerode, project: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const list = await api.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${project}`] },
    });
    const states = await Promise.all(list.map((c) => api.getContainer(c.Id).inspect()));
    if (
      states.length > 0 &&
      states.every(
        (s) =>
          s.State.Running && (s.State.Health === undefined || s.State.Health.Status === 'healthy'),
      )
    )
      return;
    await sleep(100);
  }
  throw new Error('docker-compose project did not become healthy in 120 s');
}

/** Copies examples/archery (compose file and config files, no data dirs, no offline/) to `dest`. */
function copyExample(dest: string): void {
  const src = join(ROOT, 'examples/archery');
  cpSync(src, dest, {
    recursive: true,
    filter: (p) => {
      const rel = relative(src, p);
      return rel !== 'offline' && rel !== 'README.md' && !DATA_DIRS.includes(rel);
    },
  });
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/archery needs root');
    process.exit(2);
  }
  for (const [bin, pkg] of [
    ['/usr/sbin/dockerd', 'docker.io'],
    ['/usr/bin/docker-compose', 'docker-compose'],
    ['/usr/bin/skopeo', 'skopeo'],
  ] as const) {
    if (!existsSync(bin))
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
        stdio: 'inherit',
      });
  }
  const work = mkdtempSync('/tmp/tsc-test-bench-archery-');
  const ours = join(work, 'ours', 'archery');
  const peer = join(work, 'peer', 'archery');
  const engineConfig = join(work, 'engine.json');
  const registry = `127.0.0.1:${await freePort()}`;
  const offlineEnv: NodeJS.ProcessEnv = {
    TSCOMPOSE_ARCHERY_CACHE: CACHE,
    TSCOMPOSE_ARCHERY_STATE: join(work, 'state'),
    TSCOMPOSE_ARCHERY_REGISTRY: registry,
    TSCOMPOSE_ENGINE_CONFIG: engineConfig,
  };
  const oursEnv: NodeJS.ProcessEnv = { DOCKER_HOST: `unix://${join(work, 'engine.sock')}` };
  let dockerd: TestDockerd | undefined;
  let engineStarted = false;
  try {
    copyExample(ours);
    copyExample(peer);
    writeFileSync(
      engineConfig,
      `${JSON.stringify({ 'data-root': join(work, 'engine'), socket: join(work, 'engine.sock'), pidfile: join(work, 'engine.pid') })}\n`,
    );
    // Images: build or reuse the stand-ins, serve them, point our engine's Docker Hub mirror at them.
    console.log('stand-ins: build-images.sh (cached), registry, engine mirror');
    must(join(OFFLINE, 'build-images.sh'), [], offlineEnv);
    must(join(OFFLINE, 'registry.sh'), ['start'], offlineEnv);
    must(join(OFFLINE, 'registry.sh'), ['push'], offlineEnv);
    must(join(OFFLINE, 'engine-config.sh'), ['add'], offlineEnv);
    must(process.execPath, [CLI, 'engine', 'start', '--config', engineConfig]);
    engineStarted = true;
    must(process.execPath, [CLI, 'pull', '-q'], oursEnv, ours);
    // The same images in a private dockerd.
    dockerd = await startDockerd({ busybox: false });
    for (const [tag, ref] of IMAGES) {
      must('skopeo', [
        'copy',
        '--quiet',
        '--dest-daemon-host',
        `unix://${dockerd.socket}`,
        `oci:${CACHE}/oci:${tag}`,
        `docker-daemon:${ref}`,
      ]);
    }
    const peerEnv: NodeJS.ProcessEnv = {
      DOCKER_HOST: `unix://${dockerd.socket}`,
      COMPOSE_INTERACTIVE_NO_CLI: '1',
    };

    const oursUp = async (): Promise<number> =>
      timed(process.execPath, [CLI, '--progress', 'quiet', 'up', '-d', '--wait'], oursEnv, ours);
    const oursDown = async (): Promise<number> =>
      timed(process.execPath, [CLI, '--progress', 'quiet', 'down'], oursEnv, ours);
    const peerUp = async (): Promise<number> => {
      const t0 = performance.now();
      await timed('docker-compose', ['up', '-d'], peerEnv, peer);
      await waitProject(dockerd!.api, 'archery');
      return performance.now() - t0;
    };
    const peerDown = async (): Promise<number> => timed('docker-compose', ['down'], peerEnv, peer);

    // Same data state for both: mysql initialises an empty datadir once (warm-up through our engine),
    // then both start from a copy of that initialised datadir in every measured run.
    console.log('warm-up: mysql initialises its data dir once; both then start from that state');
    await oursUp();
    await oursDown();
    cpSync(join(ours, 'mysql/datadir'), join(peer, 'mysql/datadir'), { recursive: true });
    await peerUp();
    await peerDown();

    const t = {
      oursUp: [] as number[],
      oursDown: [] as number[],
      peerUp: [] as number[],
      peerDown: [] as number[],
    };
    for (let i = 0; i < RUNS; i++) {
      t.oursUp.push(await oursUp());
      t.oursDown.push(await oursDown());
      t.peerUp.push(await peerUp());
      t.peerDown.push(await peerDown());
      console.log(
        `run ${i + 1}/${RUNS}: ours up ${fmt(t.oursUp.at(-1)!)} down ${fmt(t.oursDown.at(-1)!)}; ` +
          `docker-compose v1 up ${fmt(t.peerUp.at(-1)!)} down ${fmt(t.peerDown.at(-1)!)}`,
      );
    }
    const row = (what: string, o: number[], p: number[]): string =>
      `${what.padEnd(22)} ${fmt(median(o)).padStart(9)} ${fmt(median(p)).padStart(11)}   ${(median(p) / median(o)).toFixed(2)}x`;
    const sum = (a: number[], b: number[]): number[] => a.map((x, i) => x + (b[i] ?? 0));
    console.log(
      `\nArchery stack, images present, median of ${RUNS} (peer: docker-compose ${must('docker-compose', ['version', '--short']).trim()} on dockerd ${dockerd.api ? (await dockerd.api.version()).Version : ''})`,
    );
    console.log(
      `${'step'.padEnd(22)} ${'tscompose'.padStart(9)} ${'peer'.padStart(11)}   ratio (peer / ours)`,
    );
    console.log(row('up -d --wait', t.oursUp, t.peerUp));
    console.log(row('down', t.oursDown, t.peerDown));
    console.log(row('up + down', sum(t.oursUp, t.oursDown), sum(t.peerUp, t.peerDown)));
    // The healthchecks (interval 5s, first probe one interval after start) bound `up --wait` from
    // below for both: archery starts only once redis and mysql are healthy.
    const floor = 5000;
    console.log(
      row(
        'up minus 5 s health floor',
        t.oursUp.map((x) => x - floor),
        t.peerUp.map((x) => x - floor),
      ),
    );
  } finally {
    if (dockerd) {
      spawnSync('docker-compose', ['down', '-t', '1'], {
        cwd: peer,
        env: { ...process.env, DOCKER_HOST: `unix://${dockerd.socket}` },
        stdio: 'ignore',
      });
      await stopDockerd(dockerd);
    }
    if (engineStarted) {
      spawnSync(process.execPath, [CLI, 'down', '-t', '1'], {
        cwd: ours,
        env: { ...process.env, ...oursEnv },
        stdio: 'ignore',
      });
      spawnSync(process.execPath, [CLI, 'engine', 'stop', '--config', engineConfig], {
        stdio: 'inherit',
      });
    }
    spawnSync(join(OFFLINE, 'registry.sh'), ['stop'], {
      env: { ...process.env, ...offlineEnv },
      stdio: 'inherit',
    });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
