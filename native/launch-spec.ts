/**
 * The LaunchSpec: the fully resolved, versioned description of a container init (or an exec) that
 * crosses into C (native/src/spec.h). Flat data only: no optional-means-default fields, every
 * path absolute, every user resolved to numbers. Must not hold behaviour or defaults.
 */

/** The codec version this file describes; the addon refuses others. */
export const LAUNCH_SPEC_VERSION = 3;

/** `kind` of a mount entry (`enum tsc_mount_kind`). */
export const MountKind = {
  /** mount(source, target, fstype, flags, data) */
  fs: 1,
  /** MS_BIND[|MS_REC], then MS_REMOUNT|MS_BIND|flags when other flags are set */
  bind: 2,
  /** mount(NULL, target, NULL, MS_REMOUNT|flags, data) */
  remount: 3,
} as const;

/** What the init creates at a mount target first (`enum tsc_mountpoint`). */
export const Mountpoint = { none: 0, dir: 1, file: 2 } as const;

/** How a device node is provided (`enum tsc_device_kind`). */
export const DeviceKind = { mknod: 1, bind: 2 } as const;

/** mount(2) flags (linux/mount.h). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

/** clone(2) namespace flags (linux/sched.h). */
export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** Capability numbers (linux/capability.h), by the name Docker and OCI use. */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** RLIMIT_* resource numbers (asm-generic/resource.h), by Docker's ulimit names. */
export const RLIMITS: Readonly<Record<string, number>> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};

/** One mount entry, carried out in list order before pivot_root. */
export interface LaunchMount {
  /** {@link MountKind} */
  readonly kind: number;
  /** {@link Mountpoint}: create a directory or an empty file at `target` first. */
  readonly mountpoint: number;
  /** Host path (bind) or fs source name (`proc`, `tmpfs`); '' for none. */
  readonly source: string;
  /** Absolute host path of the mount point, already joined under the rootfs. */
  readonly target: string;
  /** Filesystem type for `fs`; '' otherwise. */
  readonly fstype: string;
  /** fs-specific options (`size=65536k,mode=755`); '' for none. */
  readonly data: string;
  /** MS_* flags. */
  readonly flags: number;
  /** Propagation applied afterwards (MS_PRIVATE|MS_REC...), 0 to leave. */
  readonly propagation: number;
}

/** A device node in the container's /dev. */
export interface LaunchDevice {
  /** {@link DeviceKind}: mknod it, or bind the host node (user namespaces). */
  readonly kind: number;
  /** Absolute host path under the rootfs. */
  readonly target: string;
  /** Host node to bind for `bind`; '' for `mknod`. */
  readonly source: string;
  /** S_IFCHR/S_IFBLK | permission bits. */
  readonly mode: number;
  readonly major: number;
  readonly minor: number;
  readonly uid: number;
  readonly gid: number;
}

/** A uid/gid map line: `containerId hostId size`. */
export interface IdMapping {
  readonly containerId: number;
  readonly hostId: number;
  readonly size: number;
}

/** Capability sets as capability numbers ({@link CAPABILITIES}). */
export interface CapabilitySets {
  readonly bounding: readonly number[];
  readonly effective: readonly number[];
  readonly permitted: readonly number[];
  readonly inheritable: readonly number[];
  readonly ambient: readonly number[];
}

/**
 * Everything the shim needs to start (kind `launch`) or exec into (kind `exec`) a container.
 * Encoded by `native.encodeLaunchSpec`; field order and meaning match native/src/spec.h.
 */
export interface LaunchSpec {
  /** Codec version: {@link LAUNCH_SPEC_VERSION}. */
  readonly v: 3;
  readonly kind: 'launch' | 'exec';
  /** Container id (64 hex), for diagnostics. */
  readonly id: string;
  /** Where the shim writes the exit record (JSON, atomically: temp + rename); launch only. */
  readonly exitPath: string;
  /** json-file log path; '' discards output. */
  readonly logPath: string;
  /**
   * launch: a FIFO the init reads as its stdin (Docker's `OpenStdin`); the engine creates it and
   * holds it open for writing before the shim starts, so the shim's open never blocks, and closes
   * it for EOF. '' = the init's stdin is /dev/null. exec: ''.
   */
  readonly stdinPath: string;
  /** Rotate the log when it would exceed this many bytes; 0 = unlimited. */
  readonly logMaxSize: number;
  /** Files kept on rotation (>= 1; 1 truncates). */
  readonly logMaxFile: number;
  /** A counter file read before and after the run to detect an OOM kill ('' = none). */
  readonly oomFile: string;
  /** The counter's key in `oomFile` (`oom_kill`). */
  readonly oomKey: string;
  /** CLONE_NEW* flags for the init; CLONE_NEWCGROUP is unshared after the cgroup join. */
  readonly cloneFlags: number;
  /** Namespaces to join (setns) before clone, in order (exec: all of the container's). */
  readonly joins: readonly { readonly nstype: number; readonly path: string }[];
  readonly uidMappings: readonly IdMapping[];
  readonly gidMappings: readonly IdMapping[];
  /**
   * cgroup membership files. launch: the init writes `0` (itself) into each (v1 `tasks`, v2
   * `cgroup.procs`) right after "go", before anything else, so it never runs container code
   * outside them (empty: the engine joins it from outside). exec: the exec shim writes its own pid
   * into each (`cgroup.procs`) before setns.
   */
  readonly cgroupProcs: readonly string[];
  /** Absolute host path of the prepared root filesystem ('' = no mount setup, exec). */
  readonly rootfs: string;
  /** Propagation set on `/` first (MS_REC|MS_PRIVATE). */
  readonly rootPropagation: number;
  readonly readonlyRootfs: boolean;
  readonly mounts: readonly LaunchMount[];
  readonly devices: readonly LaunchDevice[];
  /** Symlinks created after the devices: `path -> target` (host path under the rootfs). */
  readonly symlinks: readonly { readonly target: string; readonly path: string }[];
  /** Container paths masked after pivot_root (files: bind of `nullDevice`, dirs: ro tmpfs). */
  readonly maskedPaths: readonly string[];
  /** Container paths remounted read-only after pivot_root. */
  readonly readonlyPaths: readonly string[];
  /** Container path bound over masked files (`/dev/null`). */
  readonly nullDevice: string;
  /** '' leaves the hostname as is. */
  readonly hostname: string;
  readonly domainname: string;
  /** Container paths under /proc/sys and their values. */
  readonly sysctls: readonly { readonly path: string; readonly value: string }[];
  /** setrlimit(2) values; -1 = RLIM_INFINITY. */
  readonly rlimits: readonly {
    readonly resource: number;
    readonly soft: number;
    readonly hard: number;
  }[];
  readonly setOomScoreAdj: boolean;
  readonly oomScoreAdj: number;
  readonly umask: number;
  readonly capabilities: CapabilitySets;
  readonly noNewPrivileges: boolean;
  readonly uid: number;
  readonly gid: number;
  /** setgroups(2) list. */
  readonly additionalGids: readonly number[];
  /** Working directory, created (0755) when missing. */
  readonly cwd: string;
  /** exec only: run the process on a new pty. */
  readonly tty: boolean;
  /** argv[0] without '/' is looked up in the PATH of `env`. */
  readonly argv: readonly string[];
  /** `KEY=value` strings. */
  readonly env: readonly string[];
}

/** `enum tsc_stage`: where the init was when setup failed. */
export const SETUP_STAGES: Readonly<Record<number, string>> = {
  1: 'spec',
  2: 'namespaces',
  3: 'id-maps',
  4: 'cgroup',
  5: 'rootfs',
  6: 'mount',
  7: 'device',
  8: 'symlink',
  9: 'pivot-root',
  10: 'readonly-path',
  11: 'masked-path',
  12: 'hostname',
  13: 'sysctl',
  14: 'rlimit',
  15: 'oom-score',
  16: 'capabilities',
  17: 'user',
  18: 'cwd',
  19: 'exec',
  20: 'stdio',
};

/** `enum tsc_op`: the call that failed. */
export const SETUP_OPS: Readonly<Record<number, string>> = {
  1: 'read',
  2: 'write',
  3: 'open',
  4: 'mount',
  5: 'umount2',
  6: 'mkdir',
  7: 'mknod',
  8: 'symlink',
  9: 'chdir',
  10: 'pivot_root',
  11: 'sethostname',
  12: 'setdomainname',
  13: 'setrlimit',
  14: 'prctl',
  15: 'capset',
  16: 'setgroups',
  17: 'setresgid',
  18: 'setresuid',
  19: 'execve',
  20: 'exec-search',
  21: 'unshare',
  22: 'clone',
  23: 'setns',
  24: 'chown',
  25: 'chmod',
  26: 'dup2',
  27: 'setsid',
  28: 'ioctl',
  29: 'remount',
  30: 'propagation',
};
