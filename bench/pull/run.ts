/**
 * bench/pull: pull + unpack of a ~100 MB multi-layer image from a loopback docker-registry with
 * tscompose's ImageStore, next to `skopeo copy` + `umoci unpack` of the same image, and our unpack
 * alone next to `tar -xzf` of the same layer blobs. Prints MB/s and ratios (median of rounds).
 * Root only. Run: npm run build && node dist/bench/pull/run.js  (BENCH_MB, BENCH_ROUNDS)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageStore } from '../../engine/images/store.js';
import { RegistryClient } from '../../engine/images/registry.js';
import { shellHostOps } from '../../engine/images/host-ops.js';
import { unpackLayerFile } from '../../engine/images/unpack.js';
import { ensureDebPackages } from '../../test/helpers/host.js';
import { startRegistry } from '../../test/helpers/registry.js';
import {
  buildImage,
  busyboxRootfs,
  pushImage,
  type FixtureEntry,
} from '../../test/fixtures/images/build.js';

const MB = 1024 * 1024;
const TOTAL_MB = Number(process.env.BENCH_MB ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LAYERS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** Layers of half-compressible files (random halves, zero halves), ~TOTAL_MB uncompressed. */
function benchLayers(): FixtureEntry[][] {
  const perLayer = Math.floor((TOTAL_MB * MB) / LAYERS);
  const fileSize = 256 * 1024;
  const layers: FixtureEntry[][] = [busyboxRootfs()];
  for (let l = 0; l < LAYERS; l++) {
    const entries: FixtureEntry[] = [{ name: `data${l}/`, type: 'directory' }];
    for (let f = 0; f * fileSize < perLayer; f++) {
      const body = Buffer.concat([randomBytes(fileSize / 2), Buffer.alloc(fileSize / 2)]);
      entries.push({ name: `data${l}/f${f}`, body });
    }
    layers.push(entries);
  }
  return layers;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/pull needs root');
    process.exit(2);
  }
  ensureDebPackages(['docker-registry', 'skopeo', 'umoci', 'busybox-static', 'attr']);
  const reg = await startRegistry();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-pull-'));
  try {
    console.log(`building a ${TOTAL_MB} MB image in ${LAYERS + 1} layers ...`);
    const image = await buildImage({ layers: benchLayers() });
    const ref = `${reg.host}/bench:1`;
    await pushImage(new RegistryClient({ credentials: () => undefined }), ref, image);
    const manifest = JSON.parse(image.manifest.toString()) as {
      layers: Array<{ digest: string; size: number }>;
    };
    const compressed = manifest.layers.reduce((n, l) => n + l.size, 0);

    const ours: number[] = [];
    const theirs: number[] = [];
    const unpackOurs: number[] = [];
    const tarX: number[] = [];
    let uncompressed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const root = path.join(work, `ours-${round}`);
      const store = new ImageStore({ root, registry: { credentials: () => undefined } });
      ours.push(await timeAsync(() => store.pull(ref)));
      uncompressed = (await store.inspect(ref)).Size;

      const oci = path.join(work, `oci-${round}`);
      const bundle = path.join(work, `bundle-${round}`);
      theirs.push(
        timeIt(() => {
          execFileSync(
            'skopeo',
            [
              '--insecure-policy',
              'copy',
              '--src-tls-verify=false',
              `docker://${ref}`,
              `oci:${oci}:bench`,
            ],
            {
              stdio: 'ignore',
            },
          );
          execFileSync('umoci', ['unpack', '--image', `${oci}:bench`, bundle], { stdio: 'ignore' });
        }),
      );

      const rec = (await store.record(image.configDigest))!;
      const blobs = rec.layers.map((l) => store.content.blobPath(l.digest));
      unpackOurs.push(
        await timeAsync(async () => {
          for (let i = 0; i < blobs.length; i++) {
            await unpackLayerFile(blobs[i]!, path.join(work, `unpack-${round}`, String(i)), {
              hostOps: shellHostOps,
              diffId: rec.diffIds[i]!,
            });
          }
        }),
      );
      tarX.push(
        timeIt(() => {
          for (let i = 0; i < blobs.length; i++) {
            const dest = path.join(work, `tar-${round}`, String(i));
            fs.mkdirSync(dest, { recursive: true });
            execFileSync('tar', ['-xzf', blobs[i]!, '-C', dest]);
          }
        }),
      );
      for (const d of [
        root,
        oci,
        bundle,
        path.join(work, `unpack-${round}`),
        path.join(work, `tar-${round}`),
      ]) {
        fs.rmSync(d, { recursive: true, force: true });
      }
    }
    const mbps = (bytes: number, s: number): string => `${(bytes / MB / s).toFixed(1)} MB/s`;
    const o = median(ours);
    const t = median(theirs);
    const u = median(unpackOurs);
    const x = median(tarX);
    console.log(
      `image: ${(compressed / MB).toFixed(1)} MB compressed, ${(uncompressed / MB).toFixed(1)} MB unpacked, ${manifest.layers.length} layers, median of ${ROUNDS}`,
    );
    console.log(`pull+unpack  tscompose      ${o.toFixed(2)} s  ${mbps(uncompressed, o)}`);
    console.log(
      `pull+unpack  skopeo+umoci   ${t.toFixed(2)} s  ${mbps(uncompressed, t)}   ratio skopeo+umoci/tscompose ${(t / o).toFixed(2)}x`,
    );
    console.log(`unpack only  tscompose      ${u.toFixed(2)} s  ${mbps(uncompressed, u)}`);
    console.log(
      `unpack only  tar -xzf       ${x.toFixed(2)} s  ${mbps(uncompressed, x)}   ratio tscompose/tar ${(u / x).toFixed(2)}x`,
    );
  } finally {
    await reg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
