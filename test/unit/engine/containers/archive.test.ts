import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  goFileMode,
  hostPathOf,
  resolveInView,
  rfc3339Nano,
  statPath,
  type FsView,
} from '../../../../engine/containers/archive';

describe('engine/containers archive helpers', () => {
  it('encodes stat modes as Go os.FileMode bits', () => {
    expect(goFileMode(0o100644)).toBe(0o644);
    expect(goFileMode(0o040755)).toBe(2 ** 31 + 0o755);
    expect(goFileMode(0o041777)).toBe(2 ** 31 + 2 ** 20 + 0o777);
    expect(goFileMode(0o120777)).toBe(2 ** 27 + 0o777);
    expect(goFileMode(0o020666)).toBe(2 ** 26 + 2 ** 21 + 0o666);
    expect(goFileMode(0o104755)).toBe(2 ** 23 + 0o755);
  });

  it('formats times like Go RFC3339Nano (trailing zeros trimmed)', () => {
    expect(rfc3339Nano(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z');
    expect(rfc3339Nano(1_700_000_000_120_000_000n)).toBe('2023-11-14T22:13:20.12Z');
    expect(rfc3339Nano(1_700_000_000_000_000_001n)).toBe('2023-11-14T22:13:20.000000001Z');
  });

  describe('paths inside a view', () => {
    let dir: string;
    let view: FsView;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tsc-test-archive-'));
      const root = join(dir, 'root');
      for (const d of ['bin', 'etc', 'data']) mkdirSync(join(root, d), { recursive: true });
      mkdirSync(join(dir, 'vol'));
      writeFileSync(join(root, 'bin', 'busybox'), 'bb');
      symlinkSync('busybox', join(root, 'bin', 'sh'));
      symlinkSync('/', join(root, 'up'));
      symlinkSync('../../../../..', join(root, 'etc', 'far'));
      symlinkSync('/data', join(root, 'datalink'));
      writeFileSync(join(dir, 'vol', 'in-volume'), 'v');
      view = {
        root,
        mounts: [{ destination: '/data', source: join(dir, 'vol'), readOnly: false }],
        readonlyRootfs: false,
        ref: 'c1',
      };
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('never climbs above the container root', async () => {
      expect(await resolveInView(view, '/../../etc', true)).toBe('/etc');
      expect(await resolveInView(view, '/up/up/etc', true)).toBe('/etc');
      expect(await resolveInView(view, '/etc/far/bin', true)).toBe('/bin');
      expect(hostPathOf(view, await resolveInView(view, '/up/../../bin/sh', true))).toBe(
        join(view.root, 'bin', 'busybox'),
      );
    });

    it('follows a final symlink only when asked', async () => {
      expect(await resolveInView(view, '/bin/sh', false)).toBe('/bin/sh');
      expect(await resolveInView(view, '/bin/sh', true)).toBe('/bin/busybox');
      expect(await resolveInView(view, '/nope/x', true)).toBe('/nope/x');
    });

    it('maps mounts of a stopped container to their source', async () => {
      const p = await resolveInView(view, '/datalink/in-volume', true);
      expect(p).toBe('/data/in-volume');
      expect(hostPathOf(view, p)).toBe(join(dir, 'vol', 'in-volume'));
      expect(hostPathOf(view, '/database')).toBe(join(view.root, 'database'));
    });

    it('stats like dockerd (symlink target resolved in the container)', async () => {
      const { stat } = await statPath(view, '/bin/sh');
      expect(stat).toMatchObject({ name: 'sh', size: 7, linkTarget: '/bin/busybox' });
      expect(stat.mode).toBe(2 ** 27 + 0o777);
      await expect(statPath(view, '/missing')).rejects.toMatchObject({
        code: 'TSC_ENGINE_NOT_FOUND',
        message: 'Could not find the file /missing in container c1',
      });
      await expect(statPath(view, '')).rejects.toMatchObject({ code: 'TSC_ENGINE_INVALID' });
      expect((await statPath(view, '/data/')).stat.name).toBe('data');
    });
  });
});
