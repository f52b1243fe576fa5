/**
 * Wake-ups for the polling loops of the container service (exit monitor, log follow): a persistent
 * inotify watch (`fs.watch`) on a directory that ends a wait as soon as a matching file changes,
 * with the poll interval as the fallback. Owns no state beyond its watcher.
 */
import { watch, type FSWatcher } from 'node:fs';

/** Waits for a change in one directory, or a timeout, whichever comes first. */
export class ChangeWaiter {
  private watcher: FSWatcher | undefined;
  private dirty = false;
  private wake: (() => void) | undefined;

  /**
   * Watches `dir` (non-recursive). `names`, when given, limits the wake-ups to those file names.
   * A directory that cannot be watched leaves only the timeout.
   */
  constructor(dir: string, names?: readonly string[]) {
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, file) => {
        if (names && file !== null && !names.includes(String(file))) return;
        this.dirty = true;
        this.wake?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = undefined;
    }
  }

  /** True when the watch is active (callers may then poll less often). */
  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /** Resolves after `ms`, on a change since the last wait, or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        this.dirty = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  /** Ends the current wait (or the next one) now, as a change would. */
  poke(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Stops watching. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.wake?.();
  }
}
