import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { requireHost } from '../../helpers/host.js';
import { freePort, startRegistry, type TestRegistry } from '../../helpers/registry.js';
import {
  buildImage,
  makeTar,
  pushImage,
  seedBusybox,
  type BuiltImage,
} from '../../fixtures/images/build.js';
import { ImageStore } from '../../../engine/images/store.js';
import { RegistryClient } from '../../../engine/images/registry.js';
import { shellHostOps } from '../../../engine/images/host-ops.js';
import { applyLayer } from '../../../engine/images/unpack.js';

const run = requireHost({ root: true, packages: ['docker-registry', 'busybox-static', 'attr'] });
const d = run ? describe : describe.skip;

/** A proxy in front of the registry that cuts the first response of one blob after `cutAt` bytes. */
async function startCuttingProxy(upstreamPort: number, blob: string, cutAt: number) {
  const seen: Array<{ url: string; range: string | undefined }> = [];
  let cut = false;
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', range: req.headers.range });
    const up = http.request(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (!cut && req.method === 'GET' && req.url?.endsWith(`/blobs/${blob}`)) {
          cut = true;
          let sent = 0;
          ur.on('data', (c: Buffer) => {
            if (sent >= cutAt) return;
            res.write(c.subarray(0, cutAt - sent));
            sent += c.length;
            if (sent >= cutAt) {
              ur.destroy();
              res.socket?.destroy();
            }
          });
          return;
        }
        ur.pipe(res);
      },
    );
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

d('pull robustness and hostile content', () => {
  let reg: TestRegistry;
  let image: BuiltImage;
  let tmp: string;
  const client = (): RegistryClient =>
    new RegistryClient({ credentials: () => undefined, backoffMs: 10 });

  beforeAll(async () => {
    reg = await startRegistry();
    image = await seedBusybox(client(), reg.host);
  });
  afterAll(async () => reg?.stop());
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-robust-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('resumes an interrupted layer download with a Range request', async () => {
    const manifest = JSON.parse(image.manifest.toString()) as {
      layers: Array<{ digest: string; size: number }>;
    };
    const big = manifest.layers[0]!;
    expect(big.size).toBeGreaterThan(200_000);
    const proxy = await startCuttingProxy(Number(reg.host.split(':')[1]), big.digest, 100_000);
    try {
      const store = new ImageStore({ root: tmp, registry: client() });
      expect(await store.pull(`${proxy.host}/busybox:1.36`)).toBe(image.configDigest);
      const blobGets = proxy.seen.filter((s) => s.url.endsWith(`/blobs/${big.digest}`));
      expect(blobGets).toHaveLength(2);
      expect(blobGets[0]!.range).toBeUndefined();
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(blobGets[1]!.range ?? '')?.[1]);
      expect(resumedAt).toBeGreaterThan(0);
      expect(resumedAt).toBeLessThanOrEqual(100_000);
      expect(await store.content.has(big.digest)).toBe(true);
      expect(fs.readdirSync(path.join(tmp, 'ingest'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('rejects a pulled layer with a .. entry and writes nothing outside', async () => {
    const hostile = await buildImage({
      layers: [
        [
          { name: 'ok', body: 'fine' },
          { name: '../../../../tsc-test-escape', body: 'pwned' },
        ],
      ],
    });
    await pushImage(client(), `${reg.host}/hostile:dotdot`, hostile);
    const store = new ImageStore({ root: tmp, registry: client() });
    await expect(store.pull(`${reg.host}/hostile:dotdot`)).rejects.toMatchObject({
      code: 'TSC_IMAGE_UNPACK',
    });
    expect(fs.existsSync('/tsc-test-escape')).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'tsc-test-escape'))).toBe(false);
    expect(await store.snapshots.listLayers()).toEqual([]);
    expect(fs.readdirSync(path.join(tmp, 'snapshots/tmp'))).toEqual([]);
    expect(await store.records()).toEqual([]);
  });

  it('neutralises symlink escapes and rejects hardlink escapes (as root, real mknod)', async () => {
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(tmp, 'secret'), 'secret');
    const root = path.join(tmp, 'layer');
    const symlinks = await makeTar([
      { name: 'esc', type: 'symlink', linkname: outside },
      { name: 'esc/planted', body: 'x' },
      { name: 'rel', type: 'symlink', linkname: '../../../../../..' + outside },
      { name: 'rel/planted2', body: 'y' },
      { name: 'etc/.wh.gone' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    ]);
    const r = await applyLayer(Readable.from(symlinks), root, { hostOps: shellHostOps });
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.existsSync(path.join(root, outside, 'planted'))).toBe(true);
    expect(fs.existsSync(path.join(root, outside, 'planted2'))).toBe(true);
    expect(fs.lstatSync(path.join(root, 'etc/gone')).isCharacterDevice()).toBe(true);
    expect(fs.lstatSync(path.join(root, 'dev/null')).rdev).toBe(fs.statSync('/dev/null').rdev);
    expect(r.skipped).toEqual([]);
    const hard = await makeTar([{ name: 'h', type: 'link', linkname: '../secret' }]);
    await expect(
      applyLayer(Readable.from(hard), path.join(tmp, 'layer2'), { hostOps: shellHostOps }),
    ).rejects.toMatchObject({
      code: 'TSC_IMAGE_UNPACK',
    });
    expect(fs.statSync(path.join(tmp, 'secret')).nlink).toBe(1);
    const devOff = await applyLayer(
      Readable.from(
        await makeTar([{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }]),
      ),
      path.join(tmp, 'layer3'),
      { hostOps: shellHostOps, allowDevices: false },
    );
    expect(devOff.skipped).toEqual(['dev/sda: device nodes not allowed']);
    expect(fs.existsSync(path.join(tmp, 'layer3/dev/sda'))).toBe(false);
  });
});
