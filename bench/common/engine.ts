/**
 * Our engine for the benchmarks: the built daemon (dist/engine/daemon.js) as a child process on a
 * temp data root and socket seeded with busybox:1.36, started with the same Node flags and
 * environment as `tscompose engine start`. Owns nothing else; never touches the default paths.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import Docker from 'dockerode';

import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../engine/daemon-control.js';
import {
  fullBusyboxLayers,
  makeHome,
  removeNetworks,
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
 * Starts the engine and waits (polling `_ping` every 50 ms, at most 30 s) until it answers.
 * @throws Error with the end of the engine's log when it exits or does not answer
 */
export async function startBenchEngine(): Promise<BenchEngine> {
  const home = await makeHome({ layers: fullBusyboxLayers() });
  const logPath = path.join(home.dir, 'engine.log');
  const log = fs.openSync(logPath, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...DAEMON_NODE_FLAGS,
      DAEMON,
      '--data-root',
      home.dataRoot,
      '--socket',
      home.socket,
      '--pidfile',
      home.pidFile,
    ],
    { stdio: ['ignore', log, log], env: { ...process.env, ...DAEMON_ENV } },
  );
  fs.closeSync(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const api = new Docker({ socketPath: home.socket });
  const stop = async (): Promise<void> => {
    try {
      if (child.exitCode !== null || child.signalCode !== null) {
        // it died during the benchmark: say how, before its home (and log) goes
        const tail = fs.readFileSync(logPath, 'utf8').slice(-3000);
        console.error(
          `engine exited early (${child.signalCode ?? `code ${String(child.exitCode)}`}); log tail:\n${tail}`,
        );
      }
      if (child.exitCode === null && child.signalCode === null) {
        for (const c of await api.listContainers({ all: true }).catch(() => []))
          await api.getContainer(c.Id).remove({ force: true });
        child.kill('SIGTERM');
        await exited;
      }
      await removeNetworks(home);
    } finally {
      fs.rmSync(home.dir, { recursive: true, force: true });
    }
  };
  for (let i = 0; ; i++) {
    const up = await api.ping().then(
      () => true,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || i > 600) {
      const why = fs.readFileSync(logPath, 'utf8').slice(-2000);
      await stop();
      throw new Error(`engine did not start: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { home, host: `unix://${home.socket}`, api, pid: child.pid ?? 0, stop };
}
