/**
 * One engine per jest suite (the jest-only part of the engine helpers: test/helpers/engine.ts is
 * also compiled into the benchmarks, which have no jest globals).
 */
import { rmSync } from 'node:fs';

import type Docker from 'dockerode';

import type { BuildOptions } from '../fixtures/images/build';
import {
  makeHome,
  removeNetworks,
  shimPids,
  startEngine,
  waitShimsGone,
  type Engine,
  type EngineHome,
} from './engine';

/**
 * One engine for a test suite: {@link useEngine} starts it in `beforeAll` on a fresh home and, in
 * `afterAll`, removes every container (with its anonymous volumes), named volume and user network
 * it holds, stops it, waits for the shims to end, removes the engine's networks and the home.
 * A test that kills the engine calls {@link EngineFixture.restart}; teardown restarts a dead one.
 */
export class EngineFixture {
  #home: EngineHome | undefined;
  #engine: Engine | undefined;
  #shimsBefore = new Set<number>();

  constructor(private readonly options: BuildOptions = {}) {}

  /** The engine's temp home (throws before `beforeAll` ran). */
  get home(): EngineHome {
    if (!this.#home) throw new Error('engine fixture not started');
    return this.#home;
  }

  /** The running daemon child (throws before `beforeAll` ran). */
  get engine(): Engine {
    if (!this.#engine) throw new Error('engine fixture not started');
    return this.#engine;
  }

  /** A dockerode client of the current engine. */
  get docker(): Docker {
    return this.engine.docker;
  }

  /** Makes the home and starts the engine. */
  async start(): Promise<void> {
    this.#shimsBefore = shimPids();
    this.#home = await makeHome(this.options);
    this.#engine = await startEngine(this.#home);
  }

  /** Starts the engine again on the same home (after a test killed or stopped it). */
  async restart(): Promise<Engine> {
    this.#engine = await startEngine(this.home);
    return this.#engine;
  }

  /** Removes everything the engine holds, stops it and removes its home. */
  async teardown(): Promise<void> {
    const home = this.#home;
    if (!home) return;
    try {
      if (this.#engine) {
        const e = this.#engine;
        if (e.proc.exitCode !== null || e.proc.signalCode !== null) await this.restart();
        const docker = this.docker;
        const quietly = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);
        for (const c of await docker.listContainers({ all: true }).catch(() => []))
          await quietly(docker.getContainer(c.Id).remove({ force: true, v: true }));
        for (const v of (await docker.listVolumes().catch(() => ({ Volumes: [] }))).Volumes ?? [])
          await quietly(docker.getVolume(v.Name).remove({ force: true }));
        for (const n of await docker.listNetworks().catch(() => []))
          if (!['bridge', 'host', 'none'].includes(n.Name))
            await quietly(docker.getNetwork(n.Id).remove());
      }
    } finally {
      // the engine stops even when a removal failed, before its networks and home go
      if (this.#engine) {
        await this.#engine.stop();
        await waitShimsGone(this.#shimsBefore);
      }
      await removeNetworks(home);
      rmSync(home.dir, { recursive: true, force: true });
    }
  }
}

/** Registers `beforeAll`/`afterAll` for one engine per suite; see {@link EngineFixture}. */
export function useEngine(options: BuildOptions = {}): EngineFixture {
  const fixture = new EngineFixture(options);
  beforeAll(() => fixture.start());
  afterAll(() => fixture.teardown());
  return fixture;
}
