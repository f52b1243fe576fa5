/**
 * bench/stop-remove: the engine side of `tscompose down` — N busybox containers (a shell trap, so
 * SIGTERM ends them at once) on one bridge network, then stop all, remove all and remove the
 * network through the API with bounded concurrency (4, as the orchestrator) and unbounded.
 * Prints per-phase medians of BENCH_ROUNDS; never asserts. Root only; removes what it made.
 * Run: npm run bench:stop-remove   (BENCH_N=10 BENCH_ROUNDS=5 BENCH_CONCURRENCY=4,0)
 */
import type Docker from 'dockerode';

import { startBenchEngine } from '../common/engine.js';

const N = Number(process.env.BENCH_N ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** 0 = unbounded. */
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '4,0').split(',').map(Number);
const IMAGE = 'busybox:1.36';
const CMD = ['sh', '-c', "trap 'exit 0' TERM; sleep 2147483647 & wait"];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Runs `fn` over `items` with at most `limit` in flight (0 = all at once). */
async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (x: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const width = limit <= 0 ? queue.length : Math.min(limit, queue.length);
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x);
    }),
  );
}

interface Round {
  stop: number;
  remove: number;
  network: number;
  total: number;
  /** Per-container stop latency (request to response), ms. */
  stopEach: number[];
}

async function round(api: Docker, limit: number, tag: string): Promise<Round> {
  const net = await api.createNetwork({ Name: `tsc-bench-sr-${tag}`, Driver: 'bridge' });
  const ids: string[] = [];
  await pool(
    Array.from({ length: N }, (_, i) => i),
    4,
    async (i) => {
      const c = await api.createContainer({
        name: `tsc-bench-sr-${tag}-${i}`,
        Image: IMAGE,
        Cmd: CMD,
        HostConfig: { NetworkMode: `tsc-bench-sr-${tag}` },
      });
      await c.start();
      ids.push(c.id);
    },
  );
  await new Promise((r) => setTimeout(r, 300)); // let the traps be installed
  const stopEach: number[] = [];
  const t0 = performance.now();
  await pool(ids, limit, async (id) => {
    const s = performance.now();
    await api.getContainer(id).stop({ t: 10 });
    stopEach.push(performance.now() - s);
  });
  const t1 = performance.now();
  await pool(ids, limit, (id) => api.getContainer(id).remove());
  const t2 = performance.now();
  await net.remove();
  const t3 = performance.now();
  return { stop: t1 - t0, remove: t2 - t1, network: t3 - t2, total: t3 - t0, stopEach };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/stop-remove needs root');
    process.exit(2);
  }
  const ours = await startBenchEngine();
  try {
    // warm-up: image config, default paths, first bridge
    await round(ours.api, 4, 'warm');
    console.log(`bench/stop-remove: ${N} containers on one bridge network, median of ${ROUNDS}`);
    for (const limit of CONCURRENCY) {
      const rs: Round[] = [];
      for (let i = 0; i < ROUNDS; i++) rs.push(await round(ours.api, limit, `${limit}-${i}`));
      const m = (f: (r: Round) => number): string =>
        `${median(rs.map(f)).toFixed(0).padStart(5)} ms`;
      console.log(
        `  concurrency ${limit === 0 ? 'all' : String(limit).padEnd(3)}  stop ${m((r) => r.stop)}  remove ${m((r) => r.remove)}  network ${m((r) => r.network)}  total ${m((r) => r.total)}  (one stop: median ${median(rs.flatMap((r) => r.stopEach)).toFixed(0)} ms)`,
      );
    }
  } finally {
    await ours.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
