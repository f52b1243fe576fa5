import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostOps } from '../../../../engine/images/host-ops.js';
import { sha256Digest } from '../../../../engine/images/oci.js';
import {
  MAX_MOUNT_DATA,
  SnapshotStore,
  shortLinkName,
} from '../../../../engine/images/snapshot.js';

const ops: HostOps = {
  mknod: () => Promise.reject(new Error('no mknod in unit tests')),
  setxattr: () => Promise.resolve(),
};

describe('SnapshotStore', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-snap-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  async function layers(store: SnapshotStore, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = sha256Digest(`layer-${i}`);
      await store.ensureLayer(id, (dir) => {
        fs.writeFileSync(path.join(dir, `file${i}`), String(i));
        return Promise.resolve({});
      });
      ids.push(id);
    }
    return ids;
  }

  it('stores layers by ChainID once, with a short link', async () => {
    const store = new SnapshotStore({ root, hostOps: ops, driver: 'overlay' });
    const id = sha256Digest('x');
    let calls = 0;
    const apply = (): Promise<object> => {
      calls++;
      return Promise.resolve({});
    };
    await Promise.all([store.ensureLayer(id, apply), store.ensureLayer(id, apply)]);
    await store.ensureLayer(id, apply);
    expect(calls).toBe(1);
    expect(await store.listLayers()).toEqual([id]);
    expect(shortLinkName(id)).toMatch(/^[A-Z2-7]{26}$/);
    expect(fs.realpathSync(path.join(root, 'snapshots/l', shortLinkName(id)))).toBe(
      store.layerFs(id),
    );
  });

  it('deletes trash a crash left behind when swept, and removes snapshots through trash/', async () => {
    const store = new SnapshotStore({ root, hostOps: ops, driver: 'overlay' });
    const left = path.join(root, 'snapshots/trash/deadbeef-0000');
    fs.mkdirSync(path.join(left, 'upper/etc'), { recursive: true });
    fs.writeFileSync(path.join(left, 'upper/etc/x'), 'x');
    await store.sweepTrash();
    await store.settled();
    expect(fs.readdirSync(path.join(root, 'snapshots/trash'))).toEqual([]);
    const active = store.containerDir('c1');
    fs.mkdirSync(path.join(active, 'upper'), { recursive: true });
    await store.remove('c1');
    expect(fs.existsSync(active)).toBe(false);
    await store.settled();
    expect(fs.readdirSync(path.join(root, 'snapshots/trash'))).toEqual([]);
  });

  it('removes the partial directory when unpacking fails', async () => {
    const store = new SnapshotStore({ root, hostOps: ops, driver: 'overlay' });
    const id = sha256Digest('bad');
    await expect(store.ensureLayer(id, () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(await store.hasLayer(id)).toBe(false);
    expect(fs.readdirSync(path.join(root, 'snapshots/tmp'))).toEqual([]);
  });

  it('describes an overlay mount with lowerdirs top first after the shared init layer', async () => {
    const store = new SnapshotStore({ root, hostOps: ops, driver: 'overlay' });
    const ids = await layers(store, 3);
    const [m] = await store.prepare('c1', ids);
    const lower = m!.options
      .find((o) => o.startsWith('lowerdir='))!
      .slice(9)
      .split(':');
    expect(lower).toEqual([
      path.join(root, 'snapshots/init-v1'),
      ...[...ids].reverse().map((c) => path.join(root, 'snapshots/l', shortLinkName(c))),
    ]);
    expect(m!.options).toContain(`upperdir=${path.join(root, 'snapshots/active/c1/fs')}`);
    expect(m!.options).toContain(`workdir=${path.join(root, 'snapshots/active/c1/work')}`);
    expect(m!.cwd).toBeUndefined();
    expect(fs.readlinkSync(path.join(root, 'snapshots/init-v1/etc/mtab'))).toBe('/proc/mounts');
    // one init layer for every container: a second snapshot reuses it, a removal keeps it
    const [m2] = await store.prepare('c1b', ids);
    expect(m2!.options.find((o) => o.startsWith('lowerdir='))).toContain(
      `lowerdir=${path.join(root, 'snapshots/init-v1')}:`,
    );
    await store.remove('c1');
    expect(fs.existsSync(path.join(root, 'snapshots/active/c1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'snapshots/init-v1/etc/hosts'))).toBe(true);
  });

  it('switches to relative lowerdirs with a cwd when the data would exceed a page', async () => {
    const store = new SnapshotStore({ root, hostOps: ops, driver: 'overlay' });
    const ids = await layers(store, 120);
    const [m] = await store.prepare('c2', ids);
    expect(m!.cwd).toBe(path.join(root, 'snapshots'));
    expect(m!.options.join(',').length).toBeLessThanOrEqual(MAX_MOUNT_DATA);
    expect(m!.options.find((o) => o.startsWith('lowerdir='))).toMatch(
      /^lowerdir=init-v1:l\/[A-Z2-7]{26}:/,
    );
  });

  it('merges layers into one tree with the copy driver', async () => {
    const store = new SnapshotStore({ root, hostOps: ops, driver: 'copy' });
    const ids = await layers(store, 2);
    const [m] = await store.prepare('c3', ids);
    expect(m).toEqual({
      type: 'bind',
      source: path.join(root, 'snapshots/active/c3/fs'),
      options: ['rbind', 'rw'],
    });
    expect(fs.readdirSync(m!.source).sort()).toEqual([
      '.dockerenv',
      'dev',
      'etc',
      'file0',
      'file1',
      'proc',
      'sys',
    ]);
  });

  it('refuses to prepare over a missing layer and rejects odd container ids', async () => {
    const store = new SnapshotStore({ root, hostOps: ops, driver: 'overlay' });
    await expect(store.prepare('c4', [sha256Digest('missing')])).rejects.toMatchObject({
      code: 'TSC_IMAGE_NOT_FOUND',
    });
    await expect(store.prepare('../x', [])).rejects.toMatchObject({ code: 'TSC_ENGINE_STATE' });
  });
});
