/**
 * Starts a container: gathers host facts, builds and encodes the LaunchSpec, spawns the detached
 * shim, runs the caller's `outside(pid)` work (cgroup join, network) while the init waits, sends
 * "go" and returns once the init has exec'd (or throws its setup error). No container policy here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeLaunchSpec } from '../../native/index.js';
import type { LaunchSpec } from '../../native/launch-spec.js';
import { MSG, spawnShim, type SpawnedShim } from './shim-client.js';
import { toSetupError } from './setup-error.js';
import { buildLaunchSpec, type HostFacts, type RuntimeConfig } from './spec.js';
import { resolveUser } from './user.js';

/** A running container as the runtime knows it. Plain data (can be persisted as JSON). */
export interface LaunchedContainer {
  readonly id: string;
  /** The init's pid in the host pid namespace. */
  readonly initPid: number;
  /** The shim's pid (the init's parent). */
  readonly shimPid: number;
  readonly exitPath: string;
  readonly logPath: string;
  /** The spec it was launched with (exec builds on it). */
  readonly spec: LaunchSpec;
}

/** Options of {@link launch}. */
export interface LaunchOptions {
  /**
   * Work done from outside while the init is stopped between clone and setup: join its cgroup,
   * move a veth into /proc/<pid>/ns/net. A throw aborts the launch (the shim kills the init).
   */
  readonly outside?: ((initPid: number) => Promise<void>) | undefined;
  /**
   * A `run` shim spawned earlier without a spec ({@link prespawnShim}): its process start
   * overlaps the caller's preparations (rootfs mount, spec building). Launch sends it the spec.
   */
  readonly shim?: SpawnedShim | undefined;
}

/**
 * Spawns a `run` shim that waits for its spec, for {@link LaunchOptions.shim}. Close its channel
 * when it will not be used (the shim then exits).
 */
export function prespawnShim(what: string): SpawnedShim {
  return spawnShim('run', undefined, what);
}

/** Debian's static tini, bound in as /sbin/docker-init for `init: true`. */
export const DEFAULT_INIT_BINARY = '/usr/bin/tini-static';

/** The capability numbers in this process's bounding set (/proc/self/status CapBnd). */
export function hostCapabilities(): number[] {
  const status = readFileSync('/proc/self/status', 'utf8');
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  const bits = BigInt(`0x${hex}`);
  const out: number[] = [];
  for (let c = 0; c < 64; c++) if (bits & (1n << BigInt(c))) out.push(c);
  return out;
}

/** Reads the host facts {@link buildLaunchSpec} needs. */
export function gatherHostFacts(
  config: RuntimeConfig,
  initBinary = DEFAULT_INIT_BINARY,
): HostFacts {
  const fileSources = new Set<string>();
  const sources = [
    ...(config.binds ?? []).map((b) => b.source),
    ...Object.values(config.networkFiles ?? {}).filter((s): s is string => typeof s === 'string'),
  ];
  for (const s of sources) {
    try {
      if (!statSync(s).isDirectory()) fileSources.add(s);
    } catch {
      // a missing source is reported by the init as `mount <src> on <dest>: ENOENT`
    }
  }
  const cpuDir = '/sys/devices/system/cpu';
  const thermal = existsSync(cpuDir)
    ? readdirSync(cpuDir)
        .filter((d) => /^cpu[0-9]+$/.test(d))
        .sort()
        .map((d) => join(cpuDir, d, 'thermal_throttle'))
        .filter((p) => existsSync(p))
    : [];
  return {
    user: resolveUser(config.rootfs, config.user ?? '', config.groupAdd ?? []),
    fileSources,
    hostCaps: hostCapabilities(),
    initBinary,
    thermalThrottlePaths: thermal,
  };
}

/** Builds the LaunchSpec for `config` on this host. @throws TscError TSC_CHILD_SETUP (bad user, cap, ulimit) */
export function createLaunchSpec(
  config: RuntimeConfig,
  initBinary = DEFAULT_INIT_BINARY,
): LaunchSpec {
  return buildLaunchSpec(config, gatherHostFacts(config, initBinary));
}

/**
 * Launches `spec`: returns when the init has exec'd. The shim keeps running detached.
 * @throws SetupError (TSC_CHILD_SETUP) with Docker's exit code when setup or exec failed; the shim
 *   has then written the exit record and exited
 * @throws whatever `outside` throws (the init was killed, the shim exited, no exit record)
 */
export async function launch(
  spec: LaunchSpec,
  opts: LaunchOptions = {},
): Promise<LaunchedContainer> {
  const blob = encodeLaunchSpec(spec);
  let shim: SpawnedShim;
  if (opts.shim) {
    shim = opts.shim;
    shim.channel.send(blob);
  } else shim = spawnShim('run', blob, spec.id);
  // with no outside work, "go" can follow the spec at once: the shim reads it after the pid
  if (!opts.outside) shim.channel.go();
  try {
    const first = await shim.channel.expect(MSG.pid, MSG.error);
    if (first.type === MSG.error) throw toSetupError(spec, first);
    if (opts.outside) {
      try {
        await opts.outside(first.pid);
      } catch (e) {
        shim.channel.close();
        await shim.exited;
        throw e;
      }
      shim.channel.go();
    }
    const verdict = await shim.channel.expect(MSG.execOk, MSG.error);
    if (verdict.type === MSG.error) {
      await shim.exited;
      throw toSetupError(spec, verdict);
    }
    shim.channel.close();
    shim.child.unref();
    return {
      id: spec.id,
      initPid: first.pid,
      shimPid: first.shimPid,
      exitPath: spec.exitPath,
      logPath: spec.logPath,
      spec,
    };
  } catch (e) {
    shim.channel.close();
    throw e;
  }
}
