import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EventBus } from '../../../../engine/events';
import { StateStore } from '../../../../engine/state/store';
import { copyUp, resolveInRoot } from '../../../../engine/volumes/copyup';
import {
  ANONYMOUS_LABEL,
  VolumeService,
  validateLocalOpts,
  type VolumeMounter,
} from '../../../../engine/volumes/index';
import { parseVolumeCreate } from '../../../../engine/api/routes/volumes';

let dir: string;
let users: Record<string, string[]>;
let events: EventBus;
let mounts: string[];
let svc: VolumeService;
const mounter: VolumeMounter = {
  mount: (type, device, options, target) => {
    mounts.push(`mount ${type} ${device} ${options} ${target}`);
    return Promise.resolve();
  },
  unmount: (target) => {
    mounts.push(`umount ${target}`);
    return Promise.resolve();
  },
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-vol-'));
  users = {};
  mounts = [];
  events = new EventBus();
  svc = new VolumeService(new StateStore(dir), { events, usage: (n) => users[n] ?? [], mounter });
  await svc.load();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('engine/volumes create and inspect', () => {
  it("creates a named volume with Docker's shape and its data directory, emitting create", async () => {
    const v = await svc.create({ Name: 'data', Labels: { a: 'b' } });
    expect(v).toEqual({
      CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown,
      Driver: 'local',
      Labels: { a: 'b' },
      Mountpoint: join(dir, 'volumes', 'data', '_data'),
      Name: 'data',
      Options: {},
      Scope: 'local',
    });
    expect(statSync(v.Mountpoint).isDirectory()).toBe(true);
    expect(await svc.inspect('data')).toEqual(v);
    expect(
      events.past({ type: ['volume'] }, 0n).map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes]),
    ).toEqual([['create', 'data', { driver: 'local' }]]);
  });

  it('returns the existing volume on a second create of the same name (labels kept)', async () => {
    const a = await svc.create({ Name: 'data', Labels: { a: 'b' } });
    const b = await svc.create({ Name: 'data', Labels: { other: '1' } });
    expect(b).toEqual(a);
  });

  it('creates exactly one record under concurrent creates of one name', async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => svc.create({ Name: 'race' })));
    expect(new Set(all.map((v) => v.CreatedAt)).size).toBe(1);
    expect(events.past({ event: ['create'] }, 0n)).toHaveLength(1);
  });

  it('names an anonymous volume with 64 hex and labels it', async () => {
    const v = await svc.create({});
    expect(v.Name).toMatch(/^[0-9a-f]{64}$/);
    expect(v.Labels).toEqual({ [ANONYMOUS_LABEL]: '' });
  });

  it("refuses bad names, drivers and options with Docker's messages", async () => {
    await expect(svc.create({ Name: 'a' })).rejects.toThrow('volume name is too short');
    await expect(svc.create({ Name: '/host/dir' })).rejects.toThrow(
      'includes invalid characters for a local volume name',
    );
    await expect(svc.create({ Name: 'x1', Driver: 'nfsplugin' })).rejects.toMatchObject({
      code: 'TSC_ENGINE_NOT_FOUND',
    });
    await expect(svc.create({ Name: 'x1', DriverOpts: { foo: 'bar' } })).rejects.toThrow(
      'invalid option: "foo"',
    );
    expect(() => validateLocalOpts('x', { type: 'tmpfs' })).toThrow(
      'missing required option: "device"',
    );
    expect(() => validateLocalOpts('x', { device: '/dev/sdb1' })).toThrow(
      'missing required option: "type"',
    );
    expect(() => validateLocalOpts('x', { device: '/srv', o: 'bind' })).not.toThrow();
    expect(() =>
      validateLocalOpts('x', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }),
    ).not.toThrow();
  });

  it('answers no such volume for a missing or malformed name', async () => {
    await expect(svc.inspect('nope')).rejects.toThrow('get nope: no such volume');
    await expect(svc.inspect('../etc')).rejects.toMatchObject({ code: 'TSC_ENGINE_NOT_FOUND' });
  });
});

describe('engine/volumes list filters', () => {
  beforeEach(async () => {
    await svc.create({
      Name: 'app_db',
      Labels: { 'com.docker.compose.project': 'app', tier: 'db' },
    });
    await svc.create({ Name: 'app_web', Labels: { 'com.docker.compose.project': 'app' } });
    await svc.create({ Name: 'other' });
    users.app_db = ['c1'];
  });

  const names = async (f: Record<string, string[]>): Promise<string[]> =>
    (await svc.list(f)).map((v) => v.Name);

  it('filters by name substring, label, label!, driver and dangling', async () => {
    expect(await names({})).toEqual(['app_db', 'app_web', 'other']);
    expect(await names({ name: ['app'] })).toEqual(['app_db', 'app_web']);
    expect(await names({ label: ['com.docker.compose.project=app'] })).toEqual([
      'app_db',
      'app_web',
    ]);
    expect(await names({ label: ['com.docker.compose.project=app', 'tier'] })).toEqual(['app_db']);
    expect(await names({ 'label!': ['tier'] })).toEqual(['app_web', 'other']);
    expect(await names({ driver: ['local'] })).toHaveLength(3);
    expect(await names({ dangling: ['true'] })).toEqual(['app_web', 'other']);
    expect(await names({ dangling: ['0'] })).toEqual(['app_db']);
  });

  it('refuses unknown filter keys and bad dangling values', async () => {
    await expect(svc.list({ color: ['red'] })).rejects.toThrow("invalid filter 'color'");
    await expect(svc.list({ dangling: ['maybe'] })).rejects.toThrow(
      "invalid filter 'dangling=maybe'",
    );
  });
});

describe('engine/volumes remove and prune', () => {
  it('refuses to remove a volume in use, even with force, and removes it once free', async () => {
    const v = await svc.create({ Name: 'busy' });
    users.busy = ['c1', 'c2'];
    await expect(svc.remove('busy', true)).rejects.toThrow(
      'remove busy: volume is in use - [c1, c2]',
    );
    users.busy = [];
    await svc.remove('busy');
    expect(existsSync(v.Mountpoint)).toBe(false);
    await expect(svc.remove('busy')).rejects.toMatchObject({ code: 'TSC_ENGINE_NOT_FOUND' });
    await expect(svc.remove('busy', true)).resolves.toBeUndefined();
    expect(events.past({ event: ['destroy'] }, 0n)).toHaveLength(1);
  });

  it('prunes only unused anonymous volumes by default, all unused ones with all=true', async () => {
    const anon = await svc.create({});
    const anonBusy = await svc.create({});
    users[anonBusy.Name] = ['c'];
    const named = await svc.create({ Name: 'named', Labels: { keep: 'no' } });
    writeFileSync(join(anon.Mountpoint, 'f'), 'x'.repeat(100));
    expect(await svc.prune()).toEqual({ VolumesDeleted: [anon.Name], SpaceReclaimed: 100 });
    expect(await svc.prune({ all: ['true'], 'label!': ['keep'] })).toEqual({
      VolumesDeleted: [],
      SpaceReclaimed: 0,
    });
    expect(await svc.prune({ all: ['true'], label: ['keep=no'] })).toEqual({
      VolumesDeleted: [named.Name],
      SpaceReclaimed: 0,
    });
    expect((await svc.list()).map((v) => v.Name)).toEqual([anonBusy.Name]);
  });

  it('prunes every unused volume for old API clients (allByDefault)', async () => {
    await svc.create({ Name: 'named' });
    expect((await svc.prune({}, true)).VolumesDeleted).toEqual(['named']);
  });
});

describe('engine/volumes device mounts', () => {
  it('mounts a device-backed volume on first acquire, unmounts on last release, refuses removal meanwhile', async () => {
    const v = await svc.create({
      Name: 'tmp',
      DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' },
    });
    expect(v.Options).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    expect(await svc.acquire('tmp')).toBe(v.Mountpoint);
    await svc.acquire('tmp');
    expect(mounts).toEqual([`mount tmpfs tmpfs size=1m ${v.Mountpoint}`]);
    await expect(svc.remove('tmp')).rejects.toMatchObject({ code: 'TSC_ENGINE_CONFLICT' });
    await svc.release('tmp');
    expect(mounts).toHaveLength(1);
    await svc.release('tmp');
    expect(mounts).toEqual([`mount tmpfs tmpfs size=1m ${v.Mountpoint}`, `umount ${v.Mountpoint}`]);
    await svc.remove('tmp');
  });

  it('does not mount plain volumes', async () => {
    await svc.create({ Name: 'plain' });
    await svc.acquire('plain');
    await svc.release('plain');
    expect(mounts).toEqual([]);
  });

  it('survives a restart: a new service over the same root sees the volumes', async () => {
    await svc.create({ Name: 'kept', Labels: { x: '1' } });
    const again = new VolumeService(new StateStore(dir));
    await again.load();
    expect((await again.inspect('kept')).Labels).toEqual({ x: '1' });
  });
});

describe('engine/volumes create body', () => {
  it('accepts the API fields and refuses unknown fields and wrong types', () => {
    expect(
      parseVolumeCreate({
        Name: 'a1',
        Driver: 'local',
        DriverOpts: { o: 'x' },
        Labels: { k: 'v' },
      }),
    ).toEqual({
      Name: 'a1',
      Driver: 'local',
      DriverOpts: { o: 'x' },
      Labels: { k: 'v' },
    });
    expect(() => parseVolumeCreate({ Nmae: 'x' })).toThrow('invalid JSON: unknown field "Nmae"');
    expect(() => parseVolumeCreate({ Labels: { k: 1 } })).toThrow(
      'Labels must be a map of strings',
    );
    expect(() => parseVolumeCreate([])).toThrow('body must be an object');
  });
});

describe('engine/volumes copy-up', () => {
  let rootfs: string;
  let data: string;
  beforeEach(() => {
    rootfs = join(dir, 'rootfs');
    data = join(dir, 'vol');
    mkdirSync(join(rootfs, 'var/lib/app/sub'), { recursive: true, mode: 0o750 });
    writeFileSync(join(rootfs, 'var/lib/app/conf'), 'c', { mode: 0o640 });
    writeFileSync(join(rootfs, 'var/lib/app/sub/f'), 'f');
    symlinkSync('conf', join(rootfs, 'var/lib/app/link'));
    mkdirSync(data);
  });

  it("copies the image's content, modes and symlinks into an empty volume", async () => {
    expect(await copyUp(rootfs, '/var/lib/app', data)).toBe(true);
    expect(readdirSync(data).sort()).toEqual(['conf', 'link', 'sub']);
    expect(readFileSync(join(data, 'sub/f'), 'utf8')).toBe('f');
    expect(statSync(join(data, 'conf')).mode & 0o777).toBe(0o640);
    expect(readlinkSync(join(data, 'link'))).toBe('conf');
    expect(statSync(data).mode & 0o777).toBe(statSync(join(rootfs, 'var/lib/app')).mode & 0o777);
  });

  it('leaves a volume with content alone, and does nothing when the image has no such directory', async () => {
    writeFileSync(join(data, 'mine'), 'm');
    expect(await copyUp(rootfs, '/var/lib/app', data)).toBe(false);
    expect(readdirSync(data)).toEqual(['mine']);
    rmSync(join(data, 'mine'));
    expect(await copyUp(rootfs, '/nope', data)).toBe(false);
    expect(readdirSync(data)).toEqual([]);
  });

  it('resolves symlinks inside the image root only', async () => {
    symlinkSync('/var/lib/app', join(rootfs, 'abs'));
    symlinkSync('../../../../../../etc', join(rootfs, 'escape'));
    expect(await resolveInRoot(rootfs, '/abs/sub')).toBe(join(rootfs, 'var/lib/app/sub'));
    expect(await resolveInRoot(rootfs, '/escape/passwd')).toBe(join(rootfs, 'etc/passwd'));
    expect(await resolveInRoot(rootfs, '/../../x')).toBe(join(rootfs, 'x'));
    symlinkSync('loop', join(rootfs, 'loop'));
    await expect(resolveInRoot(rootfs, '/loop')).rejects.toThrow(
      'too many levels of symbolic links',
    );
  });
});
