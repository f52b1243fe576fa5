/**
 * The cgroup interface of the engine: resource limits in Docker HostConfig terms, stats, and the
 * Cgroup/CgroupManager contract that the v1 and v2 implementations fulfil. Types only: no I/O.
 */

/**
 * One device cgroup rule, as OCI `linux.resources.devices[]` and Docker's `device_cgroup_rules`
 * (`c 1:3 rwm`). Applied on cgroup v1 through `devices.allow`/`devices.deny`; cgroup v2 needs an
 * eBPF program and is not supported (see docs/cgroups.md).
 */
export interface DeviceRule {
  /** True for an allow rule, false for a deny rule. */
  readonly allow: boolean;
  /** `a` all devices, `c` character, `b` block. */
  readonly type: 'a' | 'c' | 'b';
  /** Device major number; undefined or negative means any (`*`). */
  readonly major?: number;
  /** Device minor number; undefined or negative means any (`*`). */
  readonly minor?: number;
  /** Any combination of `r` read, `w` write, `m` mknod. */
  readonly access: string;
}

/** A per-device throttle (`blkio.throttle.*` on v1, `io.max` on v2). */
export interface DeviceRate {
  /** The device as `major:minor` or a device node path (`/dev/sda`, resolved by `stat`). */
  readonly path: string;
  /** Bytes per second or IO operations per second, depending on the field. */
  readonly rate: number;
}

/**
 * Resource limits, with the names and units of the Docker Engine API `HostConfig`
 * (docs: Engine API ContainerCreate, HostConfig.Resources). An undefined field is not written.
 */
export interface Resources {
  /** Memory limit in bytes (`HostConfig.Memory`); -1 unlimited. */
  readonly memory?: number;
  /** Soft limit in bytes (`HostConfig.MemoryReservation`): v1 soft_limit_in_bytes, v2 memory.low. */
  readonly memoryReservation?: number;
  /** Memory plus swap in bytes, like Docker (`HostConfig.MemorySwap`); -1 unlimited swap. */
  readonly memorySwap?: number;
  /** CPU quota in units of 1e-9 CPUs (`HostConfig.NanoCpus`): quota/period with a 100 ms period. */
  readonly nanoCpus?: number;
  /** CFS quota in µs per period (`HostConfig.CpuQuota`); -1 unlimited. */
  readonly cpuQuota?: number;
  /** CFS period in µs (`HostConfig.CpuPeriod`), 1000..1000000. */
  readonly cpuPeriod?: number;
  /** Relative CPU weight, v1 shares (`HostConfig.CpuShares`); v2 weight converted like runc. */
  readonly cpuShares?: number;
  /** CPUs allowed, list syntax `0-2,4` (`HostConfig.CpusetCpus`). */
  readonly cpusetCpus?: string;
  /** Memory nodes allowed, list syntax (`HostConfig.CpusetMems`). */
  readonly cpusetMems?: string;
  /** Maximum number of tasks (`HostConfig.PidsLimit`); <= 0 unlimited. */
  readonly pidsLimit?: number;
  /** Relative block IO weight 10..1000 (`HostConfig.BlkioWeight`). */
  readonly blkioWeight?: number;
  /** Read bytes per second per device (`HostConfig.BlkioDeviceReadBps`). */
  readonly blkioDeviceReadBps?: ReadonlyArray<DeviceRate>;
  /** Write bytes per second per device (`HostConfig.BlkioDeviceWriteBps`). */
  readonly blkioDeviceWriteBps?: ReadonlyArray<DeviceRate>;
  /** Read IO operations per second per device (`HostConfig.BlkioDeviceReadIOps`). */
  readonly blkioDeviceReadIOps?: ReadonlyArray<DeviceRate>;
  /** Write IO operations per second per device (`HostConfig.BlkioDeviceWriteIOps`). */
  readonly blkioDeviceWriteIOps?: ReadonlyArray<DeviceRate>;
  /**
   * Device access rules, applied in order after denying everything (v1). Undefined leaves the
   * device controller untouched (all devices allowed).
   */
  readonly devices?: ReadonlyArray<DeviceRule>;
  /** Huge page limits in bytes per page size (`2MB`, `1GB`), like OCI `hugepageLimits`. */
  readonly hugepageLimits?: ReadonlyArray<{ readonly pageSize: string; readonly limit: number }>;
}

/** A sample of a cgroup's usage, as `docker stats` needs it. */
export interface CgroupStats {
  /** Total CPU time consumed by all tasks, in CPU-nanoseconds. */
  cpuUsageNs: number;
  /** Memory in use in bytes, without inactive file cache (like `docker stats`). */
  memoryUsageBytes: number;
  /** Memory limit in bytes; the host's RAM when unlimited or larger (like the Docker daemon). */
  memoryLimitBytes: number;
  /** Number of tasks in the cgroup (`pids.current`); 0 when the pids controller is missing. */
  pids: number;
  /** CFS periods in which the group was throttled (`cpu.stat nr_throttled`), when known. */
  throttledPeriods?: number;
  /** Processes killed by the OOM killer in this group (`oom_kill`), when the kernel reports it. */
  oomKills?: number;
  /** CPU time in user mode, CPU-ns (v1 `cpuacct.stat user` ticks, v2 `cpu.stat user_usec`). */
  cpuUserNs?: number;
  /** CPU time in kernel mode, CPU-ns (v1 `cpuacct.stat system`, v2 `cpu.stat system_usec`). */
  cpuSystemNs?: number;
  /** CPU time per CPU, CPU-ns, index = CPU number (v1 `cpuacct.usage_percpu` only). */
  percpuUsageNs?: number[];
  /** CFS enforcement periods elapsed (`cpu.stat nr_periods`). */
  cpuPeriods?: number;
  /** Total time throttled, ns (v1 `throttled_time`, v2 `throttled_usec` × 1000). */
  throttledTimeNs?: number;
  /** Memory usage including page cache, bytes (v1 `memory.usage_in_bytes`, v2 `memory.current`). */
  memoryRawUsageBytes?: number;
  /** Peak memory usage, bytes (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`). */
  memoryMaxUsageBytes?: number;
  /** Times the memory limit was hit (v1 `memory.failcnt`). */
  memoryFailcnt?: number;
  /** The counters of `memory.stat` (bytes or counts, as the kernel names them). */
  memoryStat?: Record<string, number>;
  /** The pids limit (`pids.max`); undefined when unlimited. */
  pidsLimit?: number;
  /** Bytes read and written per block device (v1 blkio throttle stats, v2 `io.stat`). */
  ioServiceBytes?: Array<{ major: number; minor: number; op: 'read' | 'write'; value: number }>;
}

/** One container's cgroup (one directory per controller on v1, one directory on v2). */
export interface Cgroup {
  /** The path below the hierarchy root, e.g. `tscompose/<container id>`. */
  readonly name: string;
  /**
   * The cgroup's directories: on v1 one per mounted controller (`memory` →
   * `/sys/fs/cgroup/memory/<name>`, co-mounted controllers share one), on v2 `{ unified: dir }`.
   * For the runtime's cgroup mounts and for joining with CLONE_INTO_CGROUP. No I/O.
   */
  directories(): Readonly<Record<string, string>>;
  /** Moves a process (all its threads) into the cgroup. Throws TscError TSC_CGROUP. */
  addProcess(pid: number): Promise<void>;
  /**
   * The files a single-threaded process writes `0` into to join the cgroup itself. Does no I/O.
   * v1: `tasks` in each distinct hierarchy (a thread moving itself skips the threadgroup rwsem
   * and the RCU grace period its write lock waits for, kernel/cgroup `cgroup_procs_write_start`);
   * v2: `cgroup.procs` (`cgroup.threads` cannot cross domains). The container init joins so.
   */
  joinFiles(): string[];
  /** Applies resource limits (see {@link resourceWrites} for the files). Throws TSC_CGROUP. */
  update(r: Resources): Promise<void>;
  /** Reads a usage sample. Missing controllers give 0. */
  stats(): Promise<CgroupStats>;
  /** Freezes every task (docker pause) and waits until the kernel reports frozen (bounded). */
  freeze(): Promise<void>;
  /** Thaws the group (docker unpause). */
  thaw(): Promise<void>;
  /**
   * Sends a signal to every process in the group and its nested groups (v2 SIGKILL uses
   * `cgroup.kill`; v1 SIGKILL is sent with the group frozen). Signals other than SIGKILL stay
   * pending in a frozen group until thaw().
   */
  killAll(signal: NodeJS.Signals): Promise<void>;
  /** The process ids in the group and in groups nested in it, sorted ascending. */
  pids(): Promise<number[]>;
  /**
   * Waits (bounded) until the group is empty, then removes the directory of every controller
   * (nested groups first) and any ancestors below the root that are left empty. Throws TSC_CGROUP when tasks remain.
   */
  remove(): Promise<void>;
  /**
   * Removes the cgroup whatever still runs in it: the way to remove a container's cgroup when a
   * process of it may have outlived its record (an engine crash between launch and record, a
   * `pid: host` container's leftovers). The group's processes are the ground truth: every process
   * in it or in a nested group (on v1 in any hierarchy, not only `pids`) is SIGKILLed until none
   * is left (v2 `cgroup.kill`, kernel >= 5.14; else, and on v1, SIGKILL to each pid of
   * `cgroup.procs` with the group frozen when a freezer is there, then thaw, repeated until
   * empty, like runc's `signalAllProcesses` and containerd's task delete), then it is removed
   * as by {@link remove}. An empty group costs what remove() does (one rmdir(2) per hierarchy).
   * A missing group is fine. Resolves true when processes had to be killed.
   * Throws TscError TSC_CGROUP when processes survive the bound on waits (`waitMs`).
   */
  destroy(): Promise<boolean>;
}

/** Creates and opens cgroups on one hierarchy layout. */
export interface CgroupManager {
  /** 1 for the legacy per-controller hierarchies, 2 for the unified hierarchy. */
  readonly version: 1 | 2;
  /** Creates the cgroup (and ancestors) and applies `r`. Throws TSC_CGROUP. */
  create(name: string, r: Resources): Promise<Cgroup>;
  /** A handle to an existing cgroup; does no I/O. */
  open(name: string): Cgroup;
  /**
   * The names (`<parent>/<child>`) of the cgroups directly below `parent`, sorted; on v1 those
   * present in any hierarchy. Empty when `parent` does not exist. One readdir(2) per hierarchy.
   */
  children(parent: string): Promise<string[]>;
}

/** Options for {@link createCgroupManager}. */
export interface CgroupManagerOptions {
  /** The cgroupfs root, default `/sys/fs/cgroup` (a tmpdir laid out like cgroupfs in tests). */
  readonly root?: string;
  /** Forces the version instead of detecting it (`cgroup.controllers` in the root means v2). */
  readonly version?: 1 | 2;
  /** How long remove() and freeze() wait for the kernel, in ms (default 5000). */
  readonly waitMs?: number;
}
