import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireHost } from '../../helpers/host.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { makeTar, busyboxRootfs, seedBusybox } from '../../fixtures/images/build.js';
import { ImageStore } from '../../../engine/images/store.js';
import { RegistryClient } from '../../../engine/images/registry.js';
import { importImage, loadImages, saveImages } from '../../../engine/images/archive.js';

const run = requireHost({ root: true, packages: ['docker-registry', 'busybox-static', 'attr'] });
const d = run ? describe : describe.skip;

d('image operations: tag, remove, prune, save, load, import', () => {
  let reg: TestRegistry;
  let tmp: string;
  let store: ImageStore;
  const client = (): RegistryClient => new RegistryClient({ credentials: () => undefined });

  beforeAll(async () => {
    reg = await startRegistry();
    await seedBusybox(client(), reg.host);
  });
  afterAll(async () => reg?.stop());
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-arch-'));
    store = new ImageStore({ root: tmp, registry: client() });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('tags, untags and removes like docker rmi, refusing images in use', async () => {
    const id = await store.pull(`${reg.host}/busybox:1.36`);
    await store.tag(id, 'busybox:mine');
    expect((await store.inspect(id)).RepoTags.sort()).toEqual([
      `${reg.host}/busybox:1.36`,
      'busybox:mine',
    ]);
    await expect(store.remove(id)).rejects.toMatchObject({ code: 'TSC_ENGINE_CONFLICT' });
    expect(await store.remove('busybox:mine')).toEqual([{ Untagged: 'busybox:mine' }]);
    const inUse = (i: string): boolean => i === id;
    await expect(
      store.remove(`${reg.host}/busybox:1.36`, { isInUse: inUse }),
    ).rejects.toMatchObject({
      code: 'TSC_ENGINE_CONFLICT',
    });
    const items = await store.remove(`${reg.host}/busybox:1.36`);
    expect(items).toContainEqual({ Deleted: id });
    await expect(store.inspect(id)).rejects.toMatchObject({ code: 'TSC_IMAGE_NOT_FOUND' });
    expect(await store.content.list()).toEqual([]);
    expect(await store.snapshots.listLayers()).toEqual([]);
  });

  it('prunes dangling images only, unless all', async () => {
    const id = await store.pull(`${reg.host}/busybox:1.36`);
    expect((await store.prune()).ImagesDeleted).toEqual([]);
    expect((await store.prune({ all: true, isInUse: () => true })).ImagesDeleted).toEqual([]);
    const r = await store.prune({ all: true });
    expect(r.ImagesDeleted).toContainEqual({ Deleted: id });
    expect(r.SpaceReclaimed).toBeGreaterThan(0);
    expect(await store.records()).toEqual([]);
  });

  it('saves and loads an archive (OCI layout + manifest.json) to an identical image', async () => {
    const id = await store.pull(`${reg.host}/busybox:1.36`);
    const file = path.join(tmp, 'out.tar');
    await saveImages(store, [`${reg.host}/busybox:1.36`], fs.createWriteStream(file));
    const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    expect(listing).toEqual(
      expect.arrayContaining([
        'oci-layout',
        'index.json',
        'manifest.json',
        `blobs/sha256/${id.slice(7)}`,
      ]),
    );
    const other = new ImageStore({ root: path.join(tmp, 'second'), registry: client() });
    const loaded = await loadImages(other, file);
    expect(loaded).toEqual([{ id, tags: [`${reg.host}/busybox:1.36`] }]);
    expect((await other.inspect(`${reg.host}/busybox:1.36`)).RootFS.Layers).toEqual(
      (await store.inspect(id)).RootFS.Layers,
    );
  });

  it('loads an OCI layout without manifest.json', async () => {
    const id = await store.pull(`${reg.host}/busybox:1.36`);
    const dir = path.join(tmp, 'layout');
    fs.mkdirSync(dir);
    await saveImages(store, [id], fs.createWriteStream(path.join(tmp, 'l.tar')));
    execFileSync('tar', ['-xf', path.join(tmp, 'l.tar'), '-C', dir]);
    fs.rmSync(path.join(dir, 'manifest.json'));
    execFileSync('tar', ['-cf', path.join(tmp, 'oci.tar'), '-C', dir, '.']);
    const other = new ImageStore({ root: path.join(tmp, 'third'), registry: client() });
    expect((await loadImages(other, path.join(tmp, 'oci.tar'))).map((l) => l.id)).toEqual([id]);
    expect((await other.imageConfig(id)).config?.Cmd).toEqual(['sh']);
  });

  it('loads a classic docker-archive with uncompressed layer.tar files', async () => {
    const layer = await makeTar(busyboxRootfs());
    const { createHash } = await import('node:crypto');
    const diff = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [diff] },
    });
    const dir = path.join(tmp, 'da');
    fs.mkdirSync(path.join(dir, 'abc'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'abc/layer.tar'), layer);
    fs.writeFileSync(path.join(dir, 'cfg.json'), config);
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify([{ Config: 'cfg.json', RepoTags: ['old:1'], Layers: ['abc/layer.tar'] }]),
    );
    execFileSync('tar', ['-czf', path.join(tmp, 'da.tar.gz'), '-C', dir, '.']);
    const loaded = await loadImages(store, path.join(tmp, 'da.tar.gz'));
    expect(loaded[0]!.tags).toEqual(['old:1']);
    const mounts = await store.prepare('tsc-test-load', 'old:1');
    expect(mounts).toHaveLength(1);
    await store.removeSnapshot('tsc-test-load');
  });

  it('imports a rootfs tar with --change', async () => {
    const rootfs = path.join(tmp, 'rootfs.tar');
    fs.writeFileSync(rootfs, await makeTar(busyboxRootfs()));
    const id = await importImage(store, rootfs, {
      reference: 'imported:1',
      changes: [
        'CMD ["sh", "-c", "echo hi"]',
        'ENV A=b',
        'WORKDIR /srv',
        'EXPOSE 8080',
        'USER nobody',
        'LABEL x=y',
        'ENTRYPOINT ["/bin/env"]',
      ],
      message: 'from a tar',
    });
    const info = await store.inspect('imported:1');
    expect(info.Id).toBe(id);
    expect(info.Config).toEqual({
      Cmd: ['sh', '-c', 'echo hi'],
      Entrypoint: ['/bin/env'],
      Env: ['A=b'],
      WorkingDir: '/srv',
      ExposedPorts: { '8080/tcp': {} },
      User: 'nobody',
      Labels: { x: 'y' },
    });
    expect(info.RepoTags).toEqual(['imported:1']);
    const rec = (await store.record(id))!;
    expect(fs.existsSync(path.join(store.snapshots.layerFs(rec.chainIds[0]!), 'bin/busybox'))).toBe(
      true,
    );
  });
});
