/**
 * Per-key async locks for the engine: operations on one resource (container, volume, name) run one
 * after another, operations on different keys run concurrently. In-process only; the daemon is the
 * single writer of its data root (its pid file guards that).
 */

/**
 * A map of FIFO mutexes keyed by string. Entries are dropped when their queue empties, so the map
 * holds only keys in use.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `fn` once every earlier holder of `key` has finished, and returns its result. A failing
   * `fn` releases the lock too (its rejection is passed to the caller).
   */
  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** True while some call holds or waits for `key`. */
  isBusy(key: string): boolean {
    return this.tails.has(key);
  }
}
