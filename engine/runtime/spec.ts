/**
 * Builds the LaunchSpec from a runtime config: Docker's defaults (mounts, /dev, masked and
 * read-only paths, capabilities, sysctls, env) as dockerd + runc produce them (engine-reference
 * §1.1, §1.5). Pure: every host fact (user ids, bind source kinds, CPU list) arrives in `facts`.
 */
import { join } from 'node:path';
import { TscError } from '../../base/errors.js';
import {
  CAPABILITIES,
  CLONE,
  DeviceKind,
  MountKind,
  Mountpoint,
  MS,
  RLIMITS,
  type IdMapping,
  type LaunchMount,
  type LaunchSpec,
} from '../../native/launch-spec.js';
import type { ResolvedUser } from './user.js';

/** A bind mount (`HostConfig.Mounts` type bind / compose `volumes` bind). */
export interface BindMount {
  /** Absolute host path. */
  readonly source: string;
  /** Absolute container path. */
  readonly target: string;
  readonly readOnly?: boolean | undefined;
  /** Default `rprivate` (moby linuxDefaultPropagationMode). */
  readonly propagation?: Propagation | undefined;
  /** Non-recursive bind (`bind` instead of `rbind`). */
  readonly nonRecursive?: boolean | undefined;
}

/** Mount propagation modes (mount_namespaces(7)). */
export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

/** A tmpfs mount (`HostConfig.Tmpfs` / compose `tmpfs`). */
export interface TmpfsMount {
  readonly target: string;
  /** Bytes; undefined = kernel default (half of RAM). */
  readonly size?: number | undefined;
  /** Octal permission bits, e.g. 0o1777. */
  readonly mode?: number | undefined;
}

/** Namespace choices (`HostConfig.{NetworkMode,PidMode,IpcMode,UTSMode,CgroupnsMode}`). */
export interface NamespaceConfig {
  /** 'new' (default), 'host', or a /proc/<pid>/ns/net path to join. */
  readonly network?: 'new' | 'host' | { readonly path: string } | undefined;
  readonly pid?: 'new' | 'host' | undefined;
  readonly ipc?: 'new' | 'host' | undefined;
  readonly uts?: 'new' | 'host' | undefined;
  /** Default 'host' on cgroup v1, 'private' on v2 (moby DefaultCgroupNamespaceMode). */
  readonly cgroup?: 'private' | 'host' | undefined;
  /** A user namespace with these maps (rootless / userns-remap). */
  readonly user?:
    | { readonly uidMappings: readonly IdMapping[]; readonly gidMappings: readonly IdMapping[] }
    | undefined;
}

/** Where the container's cgroup is (created by engine/cgroups before launch). */
export interface CgroupPlacement {
  readonly version: 1 | 2;
  /** The cgroupfs root, `/sys/fs/cgroup`. */
  readonly root: string;
  /** The path below the hierarchy root (`tscompose/<id>`). */
  readonly name: string;
  /** v1 controllers to bind into the container's /sys/fs/cgroup (`memory`, `pids`, ...). */
  readonly controllers: readonly string[];
  /**
   * The files the init writes `0` into to join the cgroup itself after "go" (v1 `tasks` per
   * distinct hierarchy, v2 `cgroup.procs`), from `Cgroup.joinFiles()`: a self-move skips the RCU
   * grace period a move from outside waits for. They must exist by "go". Omitted, or in a user
   * namespace (host cgroupfs files are not writable from inside it), the caller must join the
   * init from outside (`Cgroup.addProcess`).
   */
  readonly procs?: readonly string[] | undefined;
}

/** What a container runs with; the engine's vocabulary (Docker `Config` + `HostConfig`). */
export interface RuntimeConfig {
  /** Container id (64 hex). */
  readonly id: string;
  /** Prepared root filesystem (host path). */
  readonly rootfs: string;
  /** Per-container state dir: exit record and json log live here. */
  readonly stateDir: string;
  /** Entrypoint + cmd, already merged. */
  readonly argv: readonly string[];
  /** `KEY=value`, image env then user env (later wins). */
  readonly env?: readonly string[] | undefined;
  readonly hostname?: string | undefined;
  readonly domainname?: string | undefined;
  /** Docker user string (`name`, `uid`, `name:group`, `uid:gid`). */
  readonly user?: string | undefined;
  readonly groupAdd?: readonly string[] | undefined;
  /** Default `/`; created when missing. */
  readonly workingDir?: string | undefined;
  readonly privileged?: boolean | undefined;
  /** Capability names, with or without `CAP_`, any case; `ALL` allowed. */
  readonly capAdd?: readonly string[] | undefined;
  readonly capDrop?: readonly string[] | undefined;
  readonly readOnlyRootfs?: boolean | undefined;
  readonly noNewPrivileges?: boolean | undefined;
  /** Run tini as PID 1 (`HostConfig.Init`). */
  readonly init?: boolean | undefined;
  /** /dev/shm size in bytes; default 64 MiB (moby DefaultShmSize). */
  readonly shmSize?: number | undefined;
  readonly binds?: readonly BindMount[] | undefined;
  readonly tmpfs?: readonly TmpfsMount[] | undefined;
  /** Host files bound over /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  readonly networkFiles?:
    | {
        readonly hosts?: string | undefined;
        readonly hostname?: string | undefined;
        readonly resolvConf?: string | undefined;
      }
    | undefined;
  /** `net.ipv4.ip_forward` style keys. */
  readonly sysctls?: Readonly<Record<string, string>> | undefined;
  /** Docker ulimits: name (`nofile`), soft, hard (-1 = unlimited). */
  readonly ulimits?:
    readonly { readonly name: string; readonly soft: number; readonly hard: number }[] | undefined;
  readonly oomScoreAdj?: number | undefined;
  readonly namespaces?: NamespaceConfig | undefined;
  readonly cgroup?: CgroupPlacement | undefined;
  /** json-file options: `max-size` in bytes (0 = unlimited), `max-file` (default 1). */
  readonly log?:
    { readonly maxSize?: number | undefined; readonly maxFile?: number | undefined } | undefined;
  /**
   * Docker's `Config.OpenStdin`: the init reads its stdin from the state dir's `stdin` FIFO
   * ({@link stateFiles}), which the caller creates and holds open for writing before launch
   * (engine/runtime/stdin.ts). Default false: stdin is /dev/null.
   */
  readonly openStdin?: boolean | undefined;
}

/** Host facts the builder needs; gathered by launch.ts (I/O), passed in so building stays pure. */
export interface HostFacts {
  readonly user: ResolvedUser;
  /** Bind sources that are not directories (their mount point is an empty file). */
  readonly fileSources: ReadonlySet<string>;
  /** The capabilities this host can grant: the engine's bounding set (`privileged` gets all). */
  readonly hostCaps: readonly number[];
  /** Host path of the init binary for `init: true` (tini-static). */
  readonly initBinary: string;
  /** `/sys/devices/system/cpu/cpu<N>/thermal_throttle` paths that exist (masked). */
  readonly thermalThrottlePaths: readonly string[];
}

/** Docker's default capability set (moby daemon/pkg/oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
] as const;

/** Docker's masked paths (moby defaults.go#defaultLinuxMaskedPaths), thermal_throttle added per CPU. */
export const DEFAULT_MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
] as const;

/** Docker's read-only paths. */
export const DEFAULT_READONLY_PATHS = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
] as const;

/** PATH when neither image nor user sets one (moby container.go#CreateDaemonEnvironment). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where `init: true` binds tini inside the container. */
export const DOCKER_INIT_PATH = '/sbin/docker-init';

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const S_IFCHR = 0o020000;

/**
 * The files of a container's state dir: the shim's exit record, the json-file log, and the FIFO
 * an `OpenStdin` init reads as stdin.
 */
export function stateFiles(
  stateDir: string,
  id: string,
): { exitPath: string; logPath: string; stdinPath: string } {
  return {
    exitPath: join(stateDir, 'exit.json'),
    logPath: join(stateDir, `${id}-json.log`),
    stdinPath: join(stateDir, 'stdin'),
  };
}

/**
 * Capability numbers for Docker's rules: default set (or all when privileged), then cap_drop,
 * then cap_add; `ALL` (and privileged) means every capability in `hostCaps`.
 * @throws TscError TSC_CHILD_SETUP for an unknown capability name
 */
export function resolveCapabilities(
  privileged: boolean,
  capAdd: readonly string[],
  capDrop: readonly string[],
  hostCaps: readonly number[],
): number[] {
  const all = [...hostCaps];
  const toNumber = (name: string): number => {
    const key = name.toUpperCase().startsWith('CAP_')
      ? name.toUpperCase()
      : `CAP_${name.toUpperCase()}`;
    const n = CAPABILITIES[key];
    if (n === undefined) throw new TscError('TSC_CHILD_SETUP', `unknown capability: ${name}`);
    return n;
  };
  if (privileged) return all;
  let set = new Set<number>(DEFAULT_CAPABILITIES.map((c) => CAPABILITIES[c] ?? -1));
  if (capDrop.some((c) => c.toUpperCase() === 'ALL')) set = new Set();
  for (const c of capDrop) if (c.toUpperCase() !== 'ALL') set.delete(toNumber(c));
  if (capAdd.some((c) => c.toUpperCase() === 'ALL')) for (const c of all) set.add(c);
  for (const c of capAdd) if (c.toUpperCase() !== 'ALL') set.add(toNumber(c));
  return [...set].filter((c) => c >= 0).sort((a, b) => a - b);
}

function propagationFlags(p: Propagation): number {
  const rec = p.startsWith('r') ? MS.REC : 0;
  const base = p.endsWith('shared') ? MS.SHARED : p.endsWith('slave') ? MS.SLAVE : MS.PRIVATE;
  return rec | base;
}

/** Sets env KEY only when absent. */
function withDefault(env: string[], key: string, value: string): void {
  if (!env.some((e) => e.startsWith(`${key}=`))) env.push(`${key}=${value}`);
}

/** Later entries win; order of first appearance kept (runc env.go#prepareEnv). */
function dedupEnv(env: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    byKey.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...byKey.values()];
}

/** The Docker ulimit names -> RLIMIT numbers. @throws TscError for an unknown name */
function rlimitNumber(name: string): number {
  const n = RLIMITS[name];
  if (n === undefined) throw new TscError('TSC_CHILD_SETUP', `unknown ulimit: ${name}`);
  return n;
}

/**
 * The LaunchSpec for `config` on a host described by `facts`. Mount order follows dockerd's:
 * default mounts, user mounts sorted by path depth, network files, docker-init.
 * @throws TscError TSC_CHILD_SETUP for unknown capabilities or ulimits
 */
export function buildLaunchSpec(config: RuntimeConfig, facts: HostFacts): LaunchSpec {
  const rootfs = config.rootfs;
  const at = (dest: string): string => join(rootfs, dest);
  const ns = config.namespaces ?? {};
  const privileged = config.privileged === true;
  const readOnly = config.readOnlyRootfs === true;
  const userNs = ns.user !== undefined;
  const cgroupVersion = config.cgroup?.version ?? 1;
  const cgroupPrivate = (ns.cgroup ?? (cgroupVersion === 2 ? 'private' : 'host')) === 'private';

  let cloneFlags = CLONE.NEWNS;
  const joins: { nstype: number; path: string }[] = [];
  if ((ns.pid ?? 'new') === 'new') cloneFlags |= CLONE.NEWPID;
  if ((ns.uts ?? 'new') === 'new') cloneFlags |= CLONE.NEWUTS;
  if ((ns.ipc ?? 'new') === 'new') cloneFlags |= CLONE.NEWIPC;
  const net = ns.network ?? 'new';
  if (net === 'new') cloneFlags |= CLONE.NEWNET;
  else if (net !== 'host') joins.push({ nstype: CLONE.NEWNET, path: net.path });
  if (userNs) cloneFlags |= CLONE.NEWUSER;
  if (cgroupPrivate) cloneFlags |= CLONE.NEWCGROUP;

  const ro = (dest: string): number =>
    readOnly && !['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue'].includes(dest)
      ? MS.RDONLY
      : 0;
  const fs = (
    dest: string,
    fstype: string,
    source: string,
    flags: number,
    data: string,
  ): LaunchMount => ({
    kind: MountKind.fs,
    mountpoint: Mountpoint.dir,
    source,
    target: at(dest),
    fstype,
    data,
    flags: flags | ro(dest),
    propagation: 0,
  });
  const bind = (
    source: string,
    dest: string,
    flags: number,
    propagation: number,
    file: boolean,
  ): LaunchMount => ({
    kind: MountKind.bind,
    mountpoint: file ? Mountpoint.file : Mountpoint.dir,
    source,
    target: at(dest),
    fstype: '',
    data: '',
    flags,
    propagation,
  });

  const userDests = new Set(
    [...(config.binds ?? []), ...(config.tmpfs ?? [])].map((m) => m.target),
  );
  const shmSize = config.shmSize ?? DEFAULT_SHM_SIZE;
  const mounts: LaunchMount[] = [];
  const defaults: [string, () => LaunchMount[]][] = [
    ['/proc', () => [fs('/proc', 'proc', 'proc', MS.NOSUID | MS.NOEXEC | MS.NODEV, '')]],
    [
      '/dev',
      () => [fs('/dev', 'tmpfs', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k')],
    ],
    [
      '/dev/pts',
      () => [
        fs(
          '/dev/pts',
          'devpts',
          'devpts',
          MS.NOSUID | MS.NOEXEC,
          `newinstance,ptmxmode=0666,mode=0620${userNs ? '' : ',gid=5'}`,
        ),
      ],
    ],
    [
      '/sys',
      () => [
        fs(
          '/sys',
          'sysfs',
          'sysfs',
          MS.NOSUID | MS.NOEXEC | MS.NODEV | (privileged ? 0 : MS.RDONLY),
          '',
        ),
      ],
    ],
    ['/sys/fs/cgroup', () => cgroupMounts()],
    [
      '/dev/mqueue',
      () => [fs('/dev/mqueue', 'mqueue', 'mqueue', MS.NOSUID | MS.NOEXEC | MS.NODEV, '')],
    ],
    [
      '/dev/shm',
      () => [
        fs(
          '/dev/shm',
          'tmpfs',
          'shm',
          MS.NOSUID | MS.NOEXEC | MS.NODEV,
          `mode=1777,size=${shmSize}`,
        ),
      ],
    ],
  ];
  const cgroupMounts = (): LaunchMount[] => {
    const roFlag = privileged ? 0 : MS.RDONLY;
    const c = config.cgroup;
    if (c && c.version === 2) {
      if (cgroupPrivate)
        return [
          fs('/sys/fs/cgroup', 'cgroup2', 'cgroup', MS.NOSUID | MS.NOEXEC | MS.NODEV | roFlag, ''),
        ];
      return [
        bind(
          join(c.root, c.name),
          '/sys/fs/cgroup',
          MS.REC | roFlag | MS.NOSUID | MS.NOEXEC | MS.NODEV,
          0,
          false,
        ),
      ];
    }
    const out = [
      fs('/sys/fs/cgroup', 'tmpfs', 'tmpfs', MS.NOSUID | MS.NOEXEC | MS.NODEV, 'mode=755'),
    ];
    for (const ctrl of c?.controllers ?? []) {
      out.push(
        bind(
          join(c?.root ?? '/sys/fs/cgroup', ctrl, c?.name ?? ''),
          `/sys/fs/cgroup/${ctrl}`,
          roFlag | MS.NOSUID | MS.NOEXEC | MS.NODEV,
          0,
          false,
        ),
      );
    }
    if (roFlag) {
      out.push({
        ...fs('/sys/fs/cgroup', '', '', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY, 'mode=755'),
        kind: MountKind.remount,
        mountpoint: Mountpoint.none,
      });
    }
    return out;
  };
  const userDev = userDests.has('/dev');
  for (const [dest, make] of defaults) {
    if (userDests.has(dest)) continue;
    if (userDev && dest.startsWith('/dev/')) continue;
    if (dest === '/dev/mqueue' && !(cloneFlags & CLONE.NEWIPC)) continue;
    mounts.push(...make());
  }

  const depth = (p: string): number => p.split('/').length;
  const user: { dest: string; make: () => LaunchMount }[] = [
    ...(config.binds ?? []).map((b) => ({
      dest: b.target,
      make: (): LaunchMount =>
        bind(
          b.source,
          b.target,
          (b.nonRecursive ? 0 : MS.REC) | (b.readOnly ? MS.RDONLY : 0),
          propagationFlags(b.propagation ?? 'rprivate'),
          facts.fileSources.has(b.source),
        ),
    })),
    ...(config.tmpfs ?? []).map((t) => ({
      dest: t.target,
      make: (): LaunchMount => {
        const data = [
          t.size !== undefined ? `size=${t.size}` : '',
          t.mode !== undefined ? `mode=${t.mode.toString(8)}` : '',
        ]
          .filter((s) => s !== '')
          .join(',');
        return {
          ...fs(t.target, 'tmpfs', 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, data),
          propagation: MS.REC | MS.PRIVATE,
        };
      },
    })),
  ];
  user.sort((a, b) => depth(a.dest) - depth(b.dest));
  for (const u of user) mounts.push(u.make());

  const files = config.networkFiles ?? {};
  const netFiles: [string, string | undefined][] = [
    ['/etc/resolv.conf', files.resolvConf],
    ['/etc/hostname', files.hostname],
    ['/etc/hosts', files.hosts],
  ];
  for (const [dest, source] of netFiles) {
    if (source === undefined || userDests.has(dest)) continue;
    mounts.push(bind(source, dest, readOnly ? MS.RDONLY : 0, MS.REC | MS.PRIVATE, true));
  }
  const pidNew = (cloneFlags & CLONE.NEWPID) !== 0;
  const useInit = config.init === true && pidNew;
  if (useInit) mounts.push(bind(facts.initBinary, DOCKER_INIT_PATH, MS.RDONLY, 0, true));

  const devNames: [string, number, number][] = [
    ['null', 1, 3],
    ['zero', 1, 5],
    ['full', 1, 7],
    ['tty', 5, 0],
    ['random', 1, 8],
    ['urandom', 1, 9],
  ];
  const devices = userDev
    ? []
    : devNames.map(([name, major, minor]) => ({
        kind: userNs ? DeviceKind.bind : DeviceKind.mknod,
        target: at(`/dev/${name}`),
        source: userNs ? `/dev/${name}` : '',
        mode: S_IFCHR | 0o666,
        major,
        minor,
        uid: 0,
        gid: 0,
      }));
  const symlinks = userDev
    ? []
    : [
        ['/proc/self/fd', '/dev/fd'],
        ['/proc/self/fd/0', '/dev/stdin'],
        ['/proc/self/fd/1', '/dev/stdout'],
        ['/proc/self/fd/2', '/dev/stderr'],
        ['pts/ptmx', '/dev/ptmx'],
        ['/proc/kcore', '/dev/core'],
      ].map(([target = '', path = '']) => ({ target, path: at(path) }));

  const caps = resolveCapabilities(
    privileged,
    config.capAdd ?? [],
    config.capDrop ?? [],
    facts.hostCaps,
  );
  const hostname = config.hostname ?? '';
  const env = dedupEnv(config.env ?? []);
  withDefault(env, 'PATH', DEFAULT_PATH);
  if (hostname !== '' && cloneFlags & CLONE.NEWUTS) withDefault(env, 'HOSTNAME', hostname);
  withDefault(env, 'HOME', facts.user.home);

  const sysctls: Record<string, string> = {};
  if (cloneFlags & CLONE.NEWNET) {
    sysctls['net.ipv4.ip_unprivileged_port_start'] = '0';
    if (!userNs) sysctls['net.ipv4.ping_group_range'] = '0 2147483647';
  }
  Object.assign(sysctls, config.sysctls ?? {});
  const { exitPath, logPath, stdinPath } = stateFiles(config.stateDir, config.id);
  const argv = useInit ? [DOCKER_INIT_PATH, '--', ...config.argv] : [...config.argv];

  return {
    v: 3,
    kind: 'launch',
    id: config.id,
    exitPath,
    logPath,
    stdinPath: config.openStdin === true ? stdinPath : '',
    logMaxSize: config.log?.maxSize ?? 0,
    logMaxFile: config.log?.maxFile ?? 1,
    ...oomCounter(config.cgroup),
    cloneFlags,
    joins,
    uidMappings: ns.user?.uidMappings ?? [],
    gidMappings: ns.user?.gidMappings ?? [],
    cgroupProcs: userNs ? [] : [...(config.cgroup?.procs ?? [])],
    rootfs,
    rootPropagation: MS.REC | MS.PRIVATE,
    readonlyRootfs: readOnly,
    mounts,
    devices,
    symlinks,
    maskedPaths: privileged ? [] : [...DEFAULT_MASKED_PATHS, ...facts.thermalThrottlePaths],
    readonlyPaths: privileged ? [] : [...DEFAULT_READONLY_PATHS],
    nullDevice: '/dev/null',
    hostname: cloneFlags & CLONE.NEWUTS ? hostname : '',
    domainname: cloneFlags & CLONE.NEWUTS ? (config.domainname ?? '') : '',
    sysctls: Object.keys(sysctls)
      .sort()
      .map((k) => ({ path: `/proc/sys/${k.replace(/\./g, '/')}`, value: sysctls[k] ?? '' })),
    rlimits: (config.ulimits ?? []).map((u) => ({
      resource: rlimitNumber(u.name),
      soft: u.soft,
      hard: u.hard,
    })),
    setOomScoreAdj: config.oomScoreAdj !== undefined,
    oomScoreAdj: config.oomScoreAdj ?? 0,
    umask: 0o022,
    capabilities: {
      bounding: caps,
      effective: caps,
      permitted: caps,
      inheritable: [],
      ambient: [],
    },
    noNewPrivileges: config.noNewPrivileges === true,
    uid: facts.user.uid,
    gid: facts.user.gid,
    additionalGids: facts.user.additionalGids,
    cwd: config.workingDir || '/',
    tty: false,
    argv,
    env,
  };
}

/** The OOM-kill counter of a cgroup: v1 memory.oom_control / v2 memory.events, key `oom_kill`. */
export function oomCounter(cgroup: CgroupPlacement | undefined): {
  oomFile: string;
  oomKey: string;
} {
  if (!cgroup) return { oomFile: '', oomKey: '' };
  const oomFile =
    cgroup.version === 2
      ? join(cgroup.root, cgroup.name, 'memory.events')
      : join(cgroup.root, 'memory', cgroup.name, 'memory.oom_control');
  return { oomFile, oomKey: 'oom_kill' };
}

/** Options of an exec into a running container (Docker `ExecConfig`). */
export interface ExecConfig {
  readonly argv: readonly string[];
  /** Added to the container env (later wins). */
  readonly env?: readonly string[] | undefined;
  /** Default: the container's user. */
  readonly user?: ResolvedUser | undefined;
  /** Default: the container's working dir. */
  readonly workingDir?: string | undefined;
  readonly tty?: boolean | undefined;
  readonly privileged?: boolean | undefined;
}

/**
 * The exec spec for a container launched with `container`, whose init is `initPid`: join every
 * namespace the container has (user first, mount last) and its cgroups (`cgroupProcs`).
 */
export function buildExecSpec(
  container: LaunchSpec,
  initPid: number,
  exec: ExecConfig,
  cgroupProcs: readonly string[],
  hostCaps: readonly number[],
): LaunchSpec {
  const order: [number, string][] = [
    [CLONE.NEWUSER, 'user'],
    [CLONE.NEWIPC, 'ipc'],
    [CLONE.NEWUTS, 'uts'],
    [CLONE.NEWNET, 'net'],
    [CLONE.NEWPID, 'pid'],
    [CLONE.NEWCGROUP, 'cgroup'],
    [CLONE.NEWNS, 'mnt'],
  ];
  const joins = order
    .filter(([flag]) => (container.cloneFlags & flag) !== 0)
    .map(([nstype, name]) => ({ nstype, path: `/proc/${initPid}/ns/${name}` }));
  const caps = exec.privileged
    ? resolveCapabilities(true, [], [], hostCaps)
    : container.capabilities.bounding;
  return {
    ...container,
    kind: 'exec',
    exitPath: '',
    logPath: '',
    stdinPath: '',
    oomFile: '',
    oomKey: '',
    cloneFlags: 0,
    joins,
    uidMappings: [],
    gidMappings: [],
    cgroupProcs: [...cgroupProcs],
    rootfs: '',
    mounts: [],
    devices: [],
    symlinks: [],
    maskedPaths: [],
    readonlyPaths: [],
    sysctls: [],
    setOomScoreAdj: false,
    capabilities: {
      bounding: caps,
      effective: caps,
      permitted: caps,
      inheritable: [],
      ambient: [],
    },
    uid: exec.user?.uid ?? container.uid,
    gid: exec.user?.gid ?? container.gid,
    additionalGids: exec.user?.additionalGids ?? container.additionalGids,
    cwd: exec.workingDir ?? container.cwd,
    tty: exec.tty === true,
    argv: [...exec.argv],
    env: dedupEnv([...container.env, ...(exec.env ?? [])]),
  };
}
