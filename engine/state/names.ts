/**
 * Unique names for one kind of resource under concurrent requests: reserve (in memory, atomic in
 * the event loop) before the record is written, release if the create fails. Rebuilt from the
 * records at daemon start. Follows moby's name registrar (`daemon/names.go`).
 */
import { EngineError } from '../../base/errors.js';

/** name -> owner id, one per resource kind. */
export class NameRegistry {
  private readonly owners = new Map<string, string>();

  constructor(
    /** The resource kind for messages (`container`, `volume`). */
    readonly kind: string,
    /** The conflict message for `name` held by `owner` (default: the generic wording below). */
    private readonly conflictMessage?: (name: string, owner: string) => string,
  ) {}

  /**
   * Reserves `name` for `id`. Reserving again for the same id is a no-op. Throws
   * TSC_ENGINE_CONFLICT with Docker's wording when another id holds it.
   */
  reserve(name: string, id: string): void {
    const owner = this.owners.get(name);
    if (owner !== undefined && owner !== id) {
      throw new EngineError(
        'TSC_ENGINE_CONFLICT',
        { kind: this.kind, name },
        this.conflictMessage?.(name, owner) ??
          `the ${this.kind} name "${name}" is already in use by ${this.kind} "${owner}". You have to remove (or rename) that ${this.kind} to be able to reuse that name`,
      );
    }
    this.owners.set(name, id);
  }

  /** Frees `name` (only when `id` is given and matches, or unconditionally without `id`). */
  release(name: string, id?: string): void {
    if (id === undefined || this.owners.get(name) === id) this.owners.delete(name);
  }

  /** The id holding `name`, or undefined. */
  get(name: string): string | undefined {
    return this.owners.get(name);
  }

  /**
   * Reserve-then-commit: reserves `name`, runs `commit` (which writes the record), and releases
   * the name if `commit` throws. Returns what `commit` returns.
   */
  async withReservation<R>(name: string, id: string, commit: () => Promise<R>): Promise<R> {
    this.reserve(name, id);
    try {
      return await commit();
    } catch (err) {
      this.release(name, id);
      throw err;
    }
  }
}
