/**
 * Shared setup for runtime integration tests: a bare probe rootfs, a tsc-test-* cgroup made with
 * engine/cgroups, a launched container, and a teardown that leaves nothing behind.
 */
import { readFileSync } from 'node:fs';
import { createCgroupManager, type Cgroup, type Resources } from '../../../engine/cgroups/index.js';
import {
  createLaunchSpec,
  kill,
  launch,
  readExitRecord,
  waitForExit,
  type ExitRecord,
  type LaunchedContainer,
  type RuntimeConfig,
} from '../../../engine/runtime/index.js';
import type { LaunchSpec } from '../../../native/launch-spec.js';
import { makeRootfs, type TestRootfs } from '../../helpers/rootfs.js';

/** v1 controllers bound into the container's /sys/fs/cgroup and joined by the init. */
export const CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'];

/** One test container and everything made for it. */
export interface TestContainer {
  readonly fs: TestRootfs;
  readonly cgroup: Cgroup;
  readonly spec: LaunchSpec;
  readonly c: LaunchedContainer;
  /** Waits for the exit record. */
  wait(timeoutMs?: number): Promise<ExitRecord>;
  /** The json-file log, parsed. */
  log(): { log: string; stream: string; time: string }[];
  /** Kills if running, waits, removes the cgroup and the rootfs. */
  destroy(): Promise<void>;
}

/** The config for a probe container; tests override fields. */
export type ProbeConfig = Omit<RuntimeConfig, 'id' | 'rootfs' | 'stateDir'>;

/** Makes the rootfs and cgroup, builds the spec, launches it. Cleans up when launch throws. */
export async function startProbe(
  config: ProbeConfig,
  resources: Resources = {},
): Promise<TestContainer> {
  const fs = makeRootfs();
  const manager = createCgroupManager();
  const name = `tsc-test-${fs.id.slice(0, 12)}`;
  let cgroup: Cgroup | undefined;
  try {
    cgroup = await manager.create(name, resources);
    const cg = cgroup;
    const spec = createLaunchSpec({
      hostname: fs.id.slice(0, 12),
      cgroup: {
        version: manager.version,
        root: '/sys/fs/cgroup',
        name,
        controllers: CONTROLLERS,
        procs: cg.joinFiles(),
      },
      ...config,
      id: fs.id,
      rootfs: fs.rootfs,
      stateDir: fs.stateDir,
    });
    // the init joins the cgroup itself; in a user namespace it cannot, and we move it from outside
    const c = await launch(
      spec,
      spec.cgroupProcs.length > 0 ? {} : { outside: (pid) => cg.addProcess(pid) },
    );
    const wait = async (timeoutMs = 30_000): Promise<ExitRecord> => {
      const r = await waitForExit(c, timeoutMs);
      if (!r) throw new Error(`container did not exit within ${timeoutMs} ms`);
      return r;
    };
    return {
      fs,
      cgroup: cg,
      spec,
      c,
      wait,
      log: () =>
        readFileSync(c.logPath, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as { log: string; stream: string; time: string }),
      destroy: async () => {
        if (!readExitRecord(c.exitPath)) {
          try {
            kill(c, 'SIGKILL');
          } catch {
            // exited meanwhile
          }
          await waitForExit(c, 10_000);
        }
        await cg.remove();
        fs.cleanup();
      },
    };
  } catch (e) {
    if (cgroup) await cgroup.remove();
    fs.cleanup();
    throw e;
  }
}

/** Runs a probe to completion and returns its exit record and stdout. */
export async function runProbe(
  config: ProbeConfig,
  resources: Resources = {},
): Promise<{
  exit: ExitRecord;
  stdout: string;
  stderr: string;
  entries: { log: string; stream: string; time: string }[];
  raw: string;
}> {
  const t = await startProbe(config, resources);
  try {
    const exit = await t.wait();
    const entries = t.log();
    const stdout = entries
      .filter((e) => e.stream === 'stdout')
      .map((e) => e.log)
      .join('');
    const stderr = entries
      .filter((e) => e.stream === 'stderr')
      .map((e) => e.log)
      .join('');
    return { exit, stdout, stderr, entries, raw: readFileSync(t.c.logPath, 'utf8') };
  } finally {
    await t.destroy();
  }
}
