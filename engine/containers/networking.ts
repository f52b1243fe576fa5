/**
 * The engine's NetworkManager held for the daemon: its state persisted after every change
 * (`<data-root>/network-state.json`), restored and resumed at start, and Docker's predefined
 * `bridge` network created on first use. Container policy stays in service.ts.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

import { NetworkManager, type NetworkManagerState } from '../networks/index.js';
import { writeFileAtomic } from '../state/store.js';

/** Name of Docker's default network. */
export const DEFAULT_NETWORK = 'bridge';

/** The persisted network manager. */
export class EngineNetworks {
  private chain: Promise<unknown> = Promise.resolve();
  /** The write that has not started yet, if any (see {@link persist}). */
  private queued: Promise<void> | undefined;

  private constructor(
    /** The manager; callers call {@link persist} after changing it. */
    readonly manager: NetworkManager,
    private readonly file: string,
  ) {}

  /** Loads the persisted state from `dataRoot` and resumes DNS listeners. */
  static async open(dataRoot: string): Promise<EngineNetworks> {
    const file = join(dataRoot, 'network-state.json');
    let state: NetworkManagerState | undefined;
    try {
      state = JSON.parse(await fsp.readFile(file, 'utf8')) as NetworkManagerState;
    } catch {
      state = undefined;
    }
    const manager = new NetworkManager(state ? { state } : {});
    const n = new EngineNetworks(manager, file);
    await manager.resume();
    return n;
  }

  /**
   * Writes the manager state (serialised: one write after another). Calls made while a write
   * waits for its turn share it: the state is taken when the write starts, so it holds their
   * changes too (ten containers exiting at once cost two fsync'd writes, not ten).
   */
  persist(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.chain.then(() => {
      this.queued = undefined;
      return writeFileAtomic(this.file, `${JSON.stringify(this.manager.state())}\n`);
    });
    this.queued = next;
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** True when a network of that name or id exists. */
  has(ref: string): boolean {
    try {
      this.manager.inspect(ref);
      return true;
    } catch {
      return false;
    }
  }

  /** Creates the predefined `bridge` network unless it exists. */
  async ensureDefault(): Promise<void> {
    if (this.has(DEFAULT_NETWORK)) return;
    await this.manager.create({
      Name: DEFAULT_NETWORK,
      Options: {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      },
    });
    await this.persist();
  }

  /**
   * Removes the predefined `bridge` network when no container is attached to it, so a stopped
   * engine with no containers leaves no bridge, iptables chain or ip_forward change behind
   * (the network manager undoes those with the last network). dockerd keeps docker0 instead:
   * a deliberate difference (docs/containers.md). Called when the engine stops.
   */
  async releaseDefaultIfUnused(): Promise<void> {
    if (!this.has(DEFAULT_NETWORK)) return;
    const attached = this.manager.inspect(DEFAULT_NETWORK).Containers ?? {};
    if (Object.keys(attached).length > 0) return;
    await this.manager.remove(DEFAULT_NETWORK);
    await this.persist();
  }

  /** Stops listeners and proxies (networks stay). */
  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.manager.close();
  }
}
