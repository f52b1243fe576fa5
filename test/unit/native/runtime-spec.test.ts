import {
  buildExecSpec,
  buildLaunchSpec,
  DEFAULT_MASKED_PATHS,
  resolveCapabilities,
  type HostFacts,
  type RuntimeConfig,
} from '../../../engine/runtime/spec.js';
import { CLONE, MountKind, Mountpoint, MS } from '../../../native/launch-spec.js';

const ALL_CAPS = Array.from({ length: 41 }, (_, i) => i);
const facts: HostFacts = {
  user: { uid: 0, gid: 0, additionalGids: [0], home: '/root' },
  fileSources: new Set(['/host/hosts', '/host/file.txt']),
  hostCaps: ALL_CAPS,
  initBinary: '/usr/bin/tini-static',
  thermalThrottlePaths: [],
};
const base: RuntimeConfig = {
  id: 'c0ffee',
  rootfs: '/rf',
  stateDir: '/state',
  argv: ['/bin/app', '-v'],
};
const dests = (cfg: RuntimeConfig): string[] =>
  buildLaunchSpec(cfg, facts).mounts.map((m) => `${m.kind}:${m.target}`);

describe('buildLaunchSpec', () => {
  it("mounts dockerd's defaults in order, then user mounts by depth, then network files", () => {
    const spec = buildLaunchSpec(
      {
        ...base,
        binds: [
          { source: '/host/deep', target: '/a/b/c' },
          { source: '/host/file.txt', target: '/a', readOnly: true },
        ],
        tmpfs: [{ target: '/run', size: 1024, mode: 0o755 }],
        networkFiles: { hosts: '/host/hosts' },
        cgroup: { version: 1, root: '/sys/fs/cgroup', name: 'tsc/c0', controllers: ['memory'] },
      },
      facts,
    );
    expect(spec.mounts.map((m) => m.target)).toEqual([
      '/rf/proc',
      '/rf/dev',
      '/rf/dev/pts',
      '/rf/sys',
      '/rf/sys/fs/cgroup',
      '/rf/sys/fs/cgroup/memory',
      '/rf/sys/fs/cgroup',
      '/rf/dev/mqueue',
      '/rf/dev/shm',
      '/rf/a',
      '/rf/run',
      '/rf/a/b/c',
      '/rf/etc/hosts',
    ]);
    const byTarget = (t: string) => spec.mounts.filter((m) => m.target === t);
    expect(byTarget('/rf/a')[0]).toMatchObject({
      kind: MountKind.bind,
      mountpoint: Mountpoint.file,
      flags: MS.REC | MS.RDONLY,
      propagation: MS.REC | MS.PRIVATE,
    });
    expect(byTarget('/rf/run')[0]).toMatchObject({ fstype: 'tmpfs', data: 'size=1024,mode=755' });
    expect(byTarget('/rf/dev/shm')[0]?.data).toBe('mode=1777,size=67108864');
    expect(byTarget('/rf/sys/fs/cgroup/memory')[0]?.source).toBe('/sys/fs/cgroup/memory/tsc/c0');
    expect(byTarget('/rf/sys/fs/cgroup')[1]?.kind).toBe(MountKind.remount);
    expect(spec.maskedPaths).toEqual([...DEFAULT_MASKED_PATHS]);
    expect(spec.oomFile).toBe('/sys/fs/cgroup/memory/tsc/c0/memory.oom_control');
  });

  it('lets a user mount replace a default one and a user /dev drop the /dev defaults', () => {
    expect(
      dests({ ...base, tmpfs: [{ target: '/dev/shm' }] }).filter((d) => d.endsWith('/dev/shm')),
    ).toHaveLength(1);
    const spec = buildLaunchSpec(
      { ...base, binds: [{ source: '/host/dev', target: '/dev' }] },
      facts,
    );
    expect(spec.mounts.some((m) => m.target.startsWith('/rf/dev/'))).toBe(false);
    expect(spec.devices).toEqual([]);
  });

  it('creates new namespaces by default, shares host ones on request, joins a netns path', () => {
    const def = buildLaunchSpec(base, facts);
    expect(def.cloneFlags).toBe(
      CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET,
    );
    const shared = buildLaunchSpec(
      {
        ...base,
        namespaces: { network: { path: '/proc/9/ns/net' }, ipc: 'host', cgroup: 'private' },
      },
      facts,
    );
    expect(shared.cloneFlags & CLONE.NEWNET).toBe(0);
    expect(shared.cloneFlags & CLONE.NEWIPC).toBe(0);
    expect(shared.cloneFlags & CLONE.NEWCGROUP).toBe(CLONE.NEWCGROUP);
    expect(shared.joins).toEqual([{ nstype: CLONE.NEWNET, path: '/proc/9/ns/net' }]);
    expect(shared.mounts.some((m) => m.fstype === 'mqueue')).toBe(false);
    expect(shared.sysctls).toEqual([]);
  });

  it("sets Docker's env defaults, sysctls for a new netns, and wraps argv for init", () => {
    const spec = buildLaunchSpec(
      {
        ...base,
        env: ['A=1', 'A=2'],
        hostname: 'h',
        init: true,
        sysctls: { 'net.core.somaxconn': '1024' },
      },
      facts,
    );
    expect(spec.env).toEqual([
      'A=2',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=h',
      'HOME=/root',
    ]);
    expect(spec.argv).toEqual(['/sbin/docker-init', '--', '/bin/app', '-v']);
    expect(spec.mounts.at(-1)).toMatchObject({
      source: '/usr/bin/tini-static',
      target: '/rf/sbin/docker-init',
    });
    expect(spec.sysctls).toEqual([
      { path: '/proc/sys/net/core/somaxconn', value: '1024' },
      { path: '/proc/sys/net/ipv4/ip_unprivileged_port_start', value: '0' },
      { path: '/proc/sys/net/ipv4/ping_group_range', value: '0 2147483647' },
    ]);
  });

  it('makes default mounts read-only for a read-only rootfs, except the writable /dev ones', () => {
    const spec = buildLaunchSpec({ ...base, readOnlyRootfs: true }, facts);
    const ro = (t: string) =>
      ((spec.mounts.find((m) => m.target === t)?.flags ?? 0) & MS.RDONLY) !== 0;
    expect(spec.readonlyRootfs).toBe(true);
    expect(ro('/rf/sys')).toBe(true);
    expect(ro('/rf/dev/shm')).toBe(false);
    expect(ro('/rf/proc')).toBe(false);
  });

  it('binds device nodes from the host inside a user namespace and drops the devpts gid', () => {
    const maps = {
      uidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
      gidMappings: [],
    };
    const spec = buildLaunchSpec({ ...base, namespaces: { user: maps } }, facts);
    expect(spec.cloneFlags & CLONE.NEWUSER).toBe(CLONE.NEWUSER);
    expect(spec.devices[0]).toMatchObject({ kind: 2, source: '/dev/null', target: '/rf/dev/null' });
    expect(spec.mounts.find((m) => m.fstype === 'devpts')?.data).not.toContain('gid=5');
    expect(spec.uidMappings).toEqual(maps.uidMappings);
  });

  it('lets the init join the cgroup.procs files of its placement, except in a user namespace', () => {
    const procs = [
      '/sys/fs/cgroup/memory/tsc/c0/cgroup.procs',
      '/sys/fs/cgroup/pids/tsc/c0/cgroup.procs',
    ];
    const cgroup = {
      version: 1 as const,
      root: '/sys/fs/cgroup',
      name: 'tsc/c0',
      controllers: [],
      procs,
    };
    expect(buildLaunchSpec({ ...base, cgroup }, facts).cgroupProcs).toEqual(procs);
    expect(
      buildLaunchSpec({ ...base, cgroup: { ...cgroup, procs: undefined } }, facts).cgroupProcs,
    ).toEqual([]);
    const user = {
      uidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
      gidMappings: [],
    };
    expect(buildLaunchSpec({ ...base, cgroup, namespaces: { user } }, facts).cgroupProcs).toEqual(
      [],
    );
  });

  it('maps ulimits to rlimit numbers and rejects unknown names', () => {
    const spec = buildLaunchSpec(
      { ...base, ulimits: [{ name: 'nofile', soft: 10, hard: -1 }] },
      facts,
    );
    expect(spec.rlimits).toEqual([{ resource: 7, soft: 10, hard: -1 }]);
    expect(() =>
      buildLaunchSpec({ ...base, ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] }, facts),
    ).toThrow('unknown ulimit: bogus');
  });
});

describe('resolveCapabilities', () => {
  it("applies Docker's cap_drop then cap_add to the default set", () => {
    expect(resolveCapabilities(false, [], [], ALL_CAPS)).toEqual([
      0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31,
    ]);
    expect(resolveCapabilities(false, ['sys_admin'], ['CAP_CHOWN', 'net_raw'], ALL_CAPS)).toEqual([
      1, 3, 4, 5, 6, 7, 8, 10, 18, 21, 27, 29, 31,
    ]);
    expect(resolveCapabilities(false, ['KILL'], ['ALL'], ALL_CAPS)).toEqual([5]);
    expect(resolveCapabilities(true, [], [], [0, 2])).toEqual([0, 2]);
    expect(() => resolveCapabilities(false, ['CAP_NOPE'], [], ALL_CAPS)).toThrow(
      'unknown capability: CAP_NOPE',
    );
  });
});

describe('buildExecSpec', () => {
  it('joins every namespace of the container, user first and mount last', () => {
    const container = buildLaunchSpec({ ...base, workingDir: '/w' }, facts);
    const spec = buildExecSpec(
      container,
      42,
      { argv: ['sh'], env: ['X=1'] },
      ['/cg/cgroup.procs'],
      ALL_CAPS,
    );
    expect(spec.kind).toBe('exec');
    expect(spec.joins.map((j) => j.path)).toEqual([
      '/proc/42/ns/ipc',
      '/proc/42/ns/uts',
      '/proc/42/ns/net',
      '/proc/42/ns/pid',
      '/proc/42/ns/mnt',
    ]);
    expect(spec).toMatchObject({
      cwd: '/w',
      rootfs: '',
      mounts: [],
      cgroupProcs: ['/cg/cgroup.procs'],
    });
    expect(spec.env.at(-1)).toBe('X=1');
  });
});
