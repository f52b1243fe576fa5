/**
 * Our engine for the benchmarks: the built daemon (dist/engine/daemon.js) as a child process on a
 * temp data root and socket seeded with busybox:1.36, started with the same Node flags and
 * environment as `tscompose engine start`. Owns nothing else; never touches the default paths.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type Docker from 'dockerode';

import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../engine/daemon-control.js';
import {
  fullBusyboxLayers,
  makeHome,
  removeNetworks,
  startEngine,
  type EngineHome,
} from '../../test/helpers/engine.js';

const DAEMON = path.resolve(__dirname, '..', '..', 'engine', 'daemon.js');

/** A running benchmark engine. */
export interface BenchEngine {
  readonly home: EngineHome;
  /** `unix://<socket>` for DOCKER_HOST. */
  readonly host: string;
  readonly api: Docker;
  readonly pid: number;
  /** Removes every container, stops the engine (SIGTERM), removes its networks and home. */
  stop(): Promise<void>;
}

/**
 * Starts the built engine (test/helpers/engine.ts startEngine with the daemon's own Node flags and
 * environment) on a fresh home seeded with busybox:1.36, and waits until it answers.
 * @throws Error with the engine's output when it exits or does not answer (its home is removed)
 */
export async function startBenchEngine(): Promise<BenchEngine> {
  const home = await makeHome({ layers: fullBusyboxLayers() });
  let engine;
  try {
    engine = await startEngine(home, {
      entry: DAEMON,
      nodeFlags: DAEMON_NODE_FLAGS,
      env: DAEMON_ENV,
    });
  } catch (e) {
    await removeNetworks(home);
    fs.rmSync(home.dir, { recursive: true, force: true });
    throw e;
  }
  const { proc, docker: api } = engine;
  const stop = async (): Promise<void> => {
    try {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        // it died during the benchmark: say how, before its home goes
        console.error(
          `engine exited early (${proc.signalCode ?? `code ${String(proc.exitCode)}`}); log tail:\n${engine.log().slice(-3000)}`,
        );
      } else {
        for (const c of await api.listContainers({ all: true }).catch(() => []))
          await api.getContainer(c.Id).remove({ force: true });
        await engine.stop();
      }
      await removeNetworks(home);
    } finally {
      fs.rmSync(home.dir, { recursive: true, force: true });
    }
  };
  return { home, host: `unix://${home.socket}`, api, pid: proc.pid ?? 0, stop };
}
