import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireHost } from '../../helpers/host.js';
import { startRegistry, registryBlobPath, type TestRegistry } from '../../helpers/registry.js';
import {
  buildImage,
  pushImage,
  pushIndex,
  seedBusybox,
  type BuiltImage,
} from '../../fixtures/images/build.js';
import { ImageStore } from '../../../engine/images/store.js';
import { RegistryClient } from '../../../engine/images/registry.js';
import type { TransferProgress } from '../../../engine/images/registry.js';

/** fetch that refuses anything but loopback, so a fallback to a public registry fails loudly. */
const loopbackFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : input.toString());
  if (url.hostname !== '127.0.0.1')
    return Promise.reject(new Error(`non-loopback request to ${url.host}`));
  return fetch(input, init);
};

const run = requireHost({
  root: true,
  packages: ['docker-registry', 'busybox-static', 'attr', 'zstd'],
});
const d = run ? describe : describe.skip;

d('image pull from a real registry', () => {
  let reg: TestRegistry;
  let seeded: BuiltImage;
  let tmp: string;
  let store: ImageStore;
  const client = (): RegistryClient =>
    new RegistryClient({ credentials: () => undefined, fetch: loopbackFetch, backoffMs: 10 });

  beforeAll(async () => {
    reg = await startRegistry();
    seeded = await seedBusybox(client(), reg.host);
  });
  afterAll(async () => {
    await reg?.stop();
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-images-'));
    store = new ImageStore({ root: tmp, registry: client() });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('pulls by tag with per-layer progress and shows Docker ImageInspect', async () => {
    const progress: TransferProgress[] = [];
    const id = await store.pull(`${reg.host}/busybox:1.36`, {
      onProgress: (p) => progress.push(p),
    });
    expect(id).toBe(seeded.configDigest);
    const done = progress
      .filter((p) => p.status === 'done')
      .map((p) => p.digest)
      .sort();
    expect(done).toHaveLength(3);
    const info = await store.inspect(`${reg.host}/busybox:1.36`);
    expect(info.Id).toBe(id);
    expect(info.RepoTags).toEqual([`${reg.host}/busybox:1.36`]);
    expect(info.RepoDigests).toEqual([`${reg.host}/busybox@${seeded.manifestDigest}`]);
    expect(info.RootFS.Layers).toHaveLength(3);
    expect(info.Config.Cmd).toEqual(['sh']);
    expect(info.Os).toBe('linux');
    expect(info.Architecture).toBe('amd64');
    expect(info.Size).toBeGreaterThan(500_000);
    const list = await store.list();
    expect(list.map((i) => i.Id)).toEqual([id]);
    expect((await store.imageConfig(id)).config?.Labels).toEqual({
      'org.tscompose.fixture': 'busybox',
    });
  });

  it('unpacks whiteouts as char 0/0 devices and opaque dirs with the overlay xattr', async () => {
    const id = await store.pull(`${reg.host}/busybox:latest`);
    const rec = (await store.record(id))!;
    const layer2 = store.snapshots.layerFs(rec.chainIds[1]!);
    const wh = fs.lstatSync(path.join(layer2, 'etc/motd'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    const xattr = execFileSync(
      'getfattr',
      ['--only-values', '-n', 'trusted.overlay.opaque', path.join(layer2, 'var/cache')],
      {
        encoding: 'utf8',
      },
    );
    expect(xattr).toBe('y');
    expect(fs.readlinkSync(path.join(store.snapshots.layerFs(rec.chainIds[0]!), 'bin/sh'))).toBe(
      'busybox',
    );
  });

  it('pulls by digest to the same image and shares blobs and snapshots', async () => {
    const a = await store.pull(`${reg.host}/busybox:1.36`);
    const blobsBefore = (await store.content.list()).length;
    const b = await store.pull(`${reg.host}/busybox@${seeded.manifestDigest}`);
    expect(b).toBe(a);
    expect((await store.content.list()).length).toBe(blobsBefore);
    expect((await store.snapshots.listLayers()).length).toBe(3);
    const info = await store.inspect(b);
    expect(info.RepoDigests).toEqual([`${reg.host}/busybox@${seeded.manifestDigest}`]);
    expect(await store.resolveImage(`${reg.host}/busybox@${seeded.manifestDigest}`)).toBe(a);
  });

  it('mounts the overlay a container gets: whiteouts hide, init files exist', async () => {
    await store.pull(`${reg.host}/busybox:1.36`);
    const mounts = await store.prepare('tsc-test-c1', `${reg.host}/busybox:1.36`);
    expect(mounts).toHaveLength(1);
    const m = mounts[0]!;
    expect(m.type).toBe('overlay');
    const target = path.join(tmp, 'merged');
    fs.mkdirSync(target);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', m.options.join(','), target]);
    try {
      expect(fs.existsSync(path.join(target, 'bin/busybox'))).toBe(true);
      expect(fs.existsSync(path.join(target, 'etc/motd'))).toBe(false);
      expect(fs.readdirSync(path.join(target, 'var/cache'))).toEqual(['new']);
      expect(fs.readFileSync(path.join(target, 'etc/fixture'), 'utf8')).toBe('busybox-fixture\n');
      expect(fs.existsSync(path.join(target, '.dockerenv'))).toBe(true);
      expect(fs.readlinkSync(path.join(target, 'etc/mtab'))).toBe('/proc/mounts');
      fs.writeFileSync(path.join(target, 'etc/written'), 'rw');
      expect(
        execFileSync('chroot', [target, '/bin/cat', '/etc/fixture'], { encoding: 'utf8' }),
      ).toBe('busybox-fixture\n');
      // the runtime's static test probe ships in the fixture image and runs from it
      expect(
        execFileSync('chroot', [target, '/usr/local/bin/probe', 'echo', 'probe-ok'], {
          encoding: 'utf8',
        }),
      ).toBe('probe-ok\n');
    } finally {
      execFileSync('umount', [target]);
    }
    const upper = m.options.find((o) => o.startsWith('upperdir='))!.slice('upperdir='.length);
    expect(fs.readFileSync(path.join(upper, 'etc/written'), 'utf8')).toBe('rw');
    await store.removeSnapshot('tsc-test-c1');
    expect(fs.existsSync(path.dirname(upper))).toBe(false);
  });

  it('builds the same tree with the copying fallback', async () => {
    const copy = new ImageStore({ root: tmp, registry: client(), snapshotDriver: 'copy' });
    await copy.pull(`${reg.host}/busybox:1.36`);
    const [m] = await copy.prepare('tsc-test-c2', `${reg.host}/busybox:1.36`);
    expect(m!.type).toBe('bind');
    expect(fs.existsSync(path.join(m!.source, 'etc/motd'))).toBe(false);
    expect(fs.readdirSync(path.join(m!.source, 'var/cache'))).toEqual(['new']);
    expect(fs.existsSync(path.join(m!.source, 'etc/hostname'))).toBe(true);
    await copy.removeSnapshot('tsc-test-c2');
  });

  it('chooses linux/amd64 from a multi-platform index, skipping attestations; platform overrides', async () => {
    const amd = await buildImage({ layers: [[{ name: 'arch', body: 'amd64' }]] });
    const arm = await buildImage({
      architecture: 'arm64',
      layers: [[{ name: 'arch', body: 'arm64' }]],
    });
    const indexDigest = await pushIndex(client(), `${reg.host}/multi:1`, [
      { image: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
    ]);
    expect(await store.pull(`${reg.host}/multi:1`)).toBe(amd.configDigest);
    expect((await store.inspect(amd.configDigest)).RepoDigests).toEqual([
      `${reg.host}/multi@${indexDigest}`,
    ]);
    expect(await store.pull(`${reg.host}/multi:1`, { platform: 'linux/arm64' })).toBe(
      arm.configDigest,
    );
    await expect(store.pull(`${reg.host}/multi:1`, { platform: 'linux/s390x' })).rejects.toThrow(
      'no matching manifest for linux/s390x in the manifest list entries',
    );
  });

  it('uses a docker.io mirror for Docker Hub names', async () => {
    await seedBusybox(client(), reg.host, 'library/busybox');
    const mirrored = new ImageStore({
      root: tmp,
      registry: new RegistryClient({
        credentials: () => undefined,
        fetch: loopbackFetch,
        config: { registryMirrors: [reg.url] },
      }),
    });
    const id = await mirrored.pull('busybox:1.36');
    expect(id).toBe(seeded.configDigest);
    expect((await mirrored.inspect('busybox:1.36')).RepoTags).toEqual(['busybox:1.36']);
    expect((await mirrored.list())[0]!.RepoTags).toEqual(['busybox:1.36']);
  });

  it.each(['zstd', 'none'] as const)('pulls %s-compressed layers', async (compression) => {
    const img = await buildImage({ compression });
    await pushImage(client(), `${reg.host}/comp:${compression}`, img);
    const id = await store.pull(`${reg.host}/comp:${compression}`);
    const rec = (await store.record(id))!;
    expect(fs.existsSync(path.join(store.snapshots.layerFs(rec.chainIds[0]!), 'bin/busybox'))).toBe(
      true,
    );
  });

  it('reports an unknown tag as a pull error', async () => {
    await expect(store.pull(`${reg.host}/busybox:nope`)).rejects.toMatchObject({
      code: 'TSC_IMAGE_PULL',
    });
  });

  it('refuses a corrupted blob with TSC_IMAGE_DIGEST and stores nothing of it', async () => {
    const img = await buildImage({ layers: [[{ name: 'data', body: 'x'.repeat(5000) }]] });
    await pushImage(client(), `${reg.host}/corrupt:1`, img);
    const layerDigest = [...img.blobs.keys()].find((k) => k !== img.configDigest)!;
    const file = registryBlobPath(reg.storageDir, layerDigest);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    await expect(store.pull(`${reg.host}/corrupt:1`)).rejects.toMatchObject({
      code: 'TSC_IMAGE_DIGEST',
    });
    expect(await store.content.has(layerDigest)).toBe(false);
    expect(fs.readdirSync(path.join(tmp, 'ingest'))).toEqual([]);
    expect(await store.records()).toEqual([]);
    expect(await store.snapshots.listLayers()).toEqual([]);
  });
});
