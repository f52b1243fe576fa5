/**
 * bench/start-latency: time from "start" to the container's first instruction (the probe writes
 * a CLOCK_REALTIME marker), median of 20, for tscompose's shim, the `unshare` floor and Debian's
 * `runc run` on the same rootfs in the same run; prints ratios and the shim's resident memory.
 * Needs root. Writes only under a temp dir it removes. Run: npm run bench:start-latency
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLaunchSpec, kill, launch, waitForExit } from '../../engine/runtime/index.js';

const RUNS = 20;

/** The repository root (works from the source tree and from dist/). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** Wall-clock now in ms with sub-ms precision (same clock as the probe's CLOCK_REALTIME). */
const now = (): number => performance.timeOrigin + performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function markerMs(path: string): number {
  return Number(readFileSync(path, 'utf8').trim()) * 1000;
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolveRun, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => resolveRun(code ?? 1));
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/start-latency needs root');
    process.exit(2);
  }
  for (const [bin, pkg] of [
    ['/usr/sbin/runc', 'runc'],
    ['/usr/bin/gcc', 'gcc'],
  ] as const) {
    if (!existsSync(bin))
      execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsc-test-bench-'));
  try {
    const rootfs = join(dir, 'rootfs');
    for (const d of ['bin', 'proc', 'dev', 'sys', 'etc', 'tmp'])
      mkdirSync(join(rootfs, d), { recursive: true });
    const probe = join(rootfs, 'bin', 'probe');
    execFileSync('gcc', [
      '-static',
      '-O2',
      '-o',
      probe,
      join(repoRoot(), 'test', 'probe', 'probe.c'),
    ]);
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
    const marker = join(rootfs, 'marker');

    // tscompose: launch() until the probe's first write
    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(marker, { force: true });
      const stateDir = join(dir, `state-${i}`);
      mkdirSync(stateDir);
      const id = `tscbench${String(i).padStart(56, '0')}`;
      const spec = createLaunchSpec({
        id,
        rootfs,
        stateDir,
        argv: ['/bin/probe', 'marker', '/marker'],
      });
      const t0 = now();
      const c = await launch(spec);
      await waitForExit(c);
      ours.push(markerMs(marker) - t0);
    }

    // the floor: unshare(1) with the same namespaces, running the probe directly
    const floor: number[] = [];
    const hostMarker = join(dir, 'unshare-marker');
    for (let i = 0; i < RUNS; i++) {
      const t0 = now();
      await run('unshare', [
        '--fork',
        '--pid',
        '--mount',
        '--uts',
        '--ipc',
        '--net',
        '--mount-proc',
        probe,
        'marker',
        hostMarker,
      ]);
      floor.push(markerMs(hostMarker) - t0);
    }

    // Debian's runc on the same rootfs
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle);
    execFileSync('runc', ['spec'], { cwd: bundle });
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
      root: { path: string; readonly: boolean };
      process: { args: string[]; terminal: boolean };
    };
    config.root = { path: rootfs, readonly: false };
    config.process.args = ['/bin/probe', 'marker', '/marker'];
    config.process.terminal = false;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const runcTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(marker, { force: true });
      const t0 = now();
      await run('runc', ['run', '--bundle', bundle, `tsc-test-bench-${process.pid}-${i}`]);
      runcTimes.push(markerMs(marker) - t0);
    }

    // shim resident memory while a container runs
    const stateDir = join(dir, 'state-rss');
    mkdirSync(stateDir);
    const spec = createLaunchSpec({
      id: `tscbenchrss${'0'.repeat(53)}`,
      rootfs,
      stateDir,
      argv: ['/bin/probe', 'sleep'],
    });
    const c = await launch(spec);
    const rssKb = Number(
      /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.shimPid}/status`, 'utf8'))?.[1],
    );
    kill(c, 'SIGKILL');
    await waitForExit(c);

    const m = { ours: median(ours), floor: median(floor), runc: median(runcTimes) };
    console.log(`start -> first instruction, median of ${RUNS} (ms)`);
    console.log(`  tscompose-shim  ${m.ours.toFixed(2)}`);
    console.log(`  unshare (floor) ${m.floor.toFixed(2)}`);
    console.log(`  runc run        ${m.runc.toFixed(2)}`);
    console.log(`  tscompose / unshare = ${(m.ours / m.floor).toFixed(2)}x (target <= 2x)`);
    console.log(`  runc / tscompose    = ${(m.runc / m.ours).toFixed(2)}x (target >= 3x)`);
    console.log(`shim resident memory: ${rssKb} kB (target < 1024 kB; containerd-shim ~10 MB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
