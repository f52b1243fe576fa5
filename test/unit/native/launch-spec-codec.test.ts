import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildLaunchSpec } from '../../../engine/runtime/spec.js';
import { decodeLaunchSpec, encodeLaunchSpec } from '../../../native/index.js';
import { LAUNCH_SPEC_VERSION } from '../../../native/launch-spec.js';

// The codec lives in the addon, which `npm ci` builds (node-gyp); it needs no root.
const built = existsSync(resolve(__dirname, '../../../build/Release/tscompose.node'));
if (!built && process.env.CI) throw new Error('native addon not built under CI');
const d = built ? describe : describe.skip;

const spec = buildLaunchSpec(
  {
    id: 'abc',
    rootfs: '/rf',
    stateDir: '/s',
    argv: ['/bin/app', 'ünïcode ✓', ''],
    env: ['A=1'],
    hostname: 'h',
    user: 'app',
    binds: [{ source: '/srv', target: '/data', readOnly: true, propagation: 'rslave' }],
    ulimits: [{ name: 'nofile', soft: 1, hard: -1 }],
    oomScoreAdj: -500,
    namespaces: {
      user: { uidMappings: [{ containerId: 0, hostId: 1000, size: 1 }], gidMappings: [] },
    },
    cgroup: { version: 2, root: '/sys/fs/cgroup', name: 'tsc/abc', controllers: [] },
    log: { maxSize: 10 * 1024 * 1024 * 1024, maxFile: 3 },
  },
  {
    user: { uid: 1000, gid: 1000, additionalGids: [1000, 29], home: '/home/app' },
    fileSources: new Set(),
    hostCaps: [0, 1, 40],
    initBinary: '/tini',
    thermalThrottlePaths: ['/sys/devices/system/cpu/cpu0/thermal_throttle'],
  },
);

d('LaunchSpec codec', () => {
  it('round-trips every field through the C encoder and decoder', () => {
    const blob = encodeLaunchSpec(spec);
    expect(blob.readUInt32LE(0)).toBe(0x4c435354);
    expect(blob.readUInt32LE(4)).toBe(LAUNCH_SPEC_VERSION);
    expect(blob.readUInt32LE(12)).toBe(blob.length);
    expect(decodeLaunchSpec(blob)).toEqual(JSON.parse(JSON.stringify(spec)));
  });

  it('rejects a truncated, corrupted or other-version blob', () => {
    const blob = encodeLaunchSpec(spec);
    expect(() => decodeLaunchSpec(blob.subarray(0, blob.length - 1))).toThrow(
      'decode launch spec: EINVAL',
    );
    const other = Buffer.from(blob);
    other.writeUInt32LE(LAUNCH_SPEC_VERSION + 1, 4);
    expect(() => decodeLaunchSpec(other)).toThrow('decode launch spec: EPROTO');
  });

  it('names the field that has the wrong shape', () => {
    expect(() =>
      encodeLaunchSpec({
        ...spec,
        mounts: [{ ...spec.mounts[0]!, target: 7 as unknown as string }],
      }),
    ).toThrow('launch spec: spec.mounts[0].target must be a string');
    expect(() => encodeLaunchSpec({ ...spec, argv: [] })).toThrow(
      'launch spec: spec.argv must not be empty',
    );
    expect(() => encodeLaunchSpec({ ...spec, uid: -1 })).toThrow(
      'launch spec: spec.uid is out of range',
    );
  });
});
