import { parseExitRecord } from '../../../engine/runtime/exit.js';
import { renderSetupMessage } from '../../../engine/runtime/setup-error.js';
import { MSG, parseShimMessage, type ShimMessage } from '../../../engine/runtime/shim-client.js';
import { buildLaunchSpec } from '../../../engine/runtime/spec.js';

const spec = buildLaunchSpec(
  {
    id: 'x',
    rootfs: '/rf',
    stateDir: '/s',
    argv: ['app'],
    binds: [{ source: '/srv/data', target: '/data' }],
  },
  {
    user: { uid: 0, gid: 0, additionalGids: [], home: '/' },
    fileSources: new Set(),
    hostCaps: [0],
    initBinary: '/tini',
    thermalThrottlePaths: [],
  },
);
const msg = (m: Partial<ShimMessage>): ShimMessage => ({
  type: MSG.error,
  pid: 0,
  shimPid: 0,
  stage: 0,
  op: 0,
  errno: 2,
  arg: -1,
  exitCode: 125,
  ...m,
});

describe('renderSetupMessage', () => {
  it('names the mount from the spec entry the record points at', () => {
    const i = spec.mounts.findIndex((m) => m.source === '/srv/data');
    expect(renderSetupMessage(spec, msg({ stage: 6, op: 4, arg: i }))).toBe(
      'mount /srv/data on /data: ENOENT',
    );
    expect(renderSetupMessage(spec, msg({ stage: 6, op: 6, arg: i, errno: 13 }))).toBe(
      'create mountpoint /data: EACCES',
    );
  });

  it('renders exec failures as Docker does', () => {
    expect(renderSetupMessage(spec, msg({ stage: 19, op: 20 }))).toBe(
      'exec: "app": executable file not found in $PATH',
    );
    expect(renderSetupMessage(spec, msg({ stage: 19, op: 19, errno: 13 }))).toBe(
      'exec app: EACCES',
    );
    expect(renderSetupMessage(spec, msg({ stage: 17, op: 18, errno: 1 }))).toBe(
      'set user 0:0: setresuid: EPERM',
    );
  });
});

describe('parseShimMessage', () => {
  it('decodes the 32-byte little-endian record', () => {
    const b = Buffer.alloc(32);
    [3, 10, 11, 6, 4, 2, 5, 125].forEach((v, i) => b.writeInt32LE(v, i * 4));
    expect(parseShimMessage(b)).toEqual({
      type: 3,
      pid: 10,
      shimPid: 11,
      stage: 6,
      op: 4,
      errno: 2,
      arg: 5,
      exitCode: 125,
    });
  });
});

describe('parseExitRecord', () => {
  it('reads the fields the shim writes and rejects anything else', () => {
    const text =
      '{"exitCode":137,"signal":9,"oomKilled":true,"finishedAt":"2026-01-02T03:04:05.5Z","pid":7}\n';
    expect(parseExitRecord(text)).toEqual({
      exitCode: 137,
      signal: 9,
      oomKilled: true,
      finishedAt: '2026-01-02T03:04:05.5Z',
      pid: 7,
    });
    expect(() => parseExitRecord('{"exitCode":1}')).toThrow('read exit record: missing fields');
    expect(() => parseExitRecord('nope')).toThrow('read exit record: invalid json');
  });
});
