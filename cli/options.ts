/**
 * Global options shared by every command (docker compose's global flags) and how they become
 * loader options. Reads process.env here, at the edge, and passes it down.
 */
import { readFileSync } from 'node:fs';

import { UsageError } from '../base/errors.js';
import type { LoadOptions } from '../compose/index.js';
import { decodeComposeBytes } from '../compose/parse.js';

/** docker compose's global flags, as commander parses them. */
export interface GlobalOptions {
  readonly file?: string[];
  readonly projectName?: string;
  readonly projectDirectory?: string;
  readonly envFile?: string[];
  readonly profile?: string[];
  readonly progress?: string;
  readonly ansi?: string;
  readonly host?: string;
  /** `--parallel`: max API calls at once, -1 for unlimited (string as commander parses it). */
  readonly parallel?: string;
}

/**
 * API calls at once when neither `--parallel` nor `COMPOSE_PARALLEL_LIMIT` is set: unlimited, as
 * docker compose's default (-1). (Until the engine's stop path waited on its exit monitor instead
 * of polling, 4 was as fast here; bench/stop-remove now measures stop + remove of 10 containers
 * at 126 ms unbounded vs 216 ms with 4 at once.)
 */
export const DEFAULT_PARALLEL = Number.MAX_SAFE_INTEGER;

/**
 * Nodes the executor may run at once: `--parallel N`, else `COMPOSE_PARALLEL_LIMIT`; -1 is
 * unlimited (`Number.MAX_SAFE_INTEGER`); undefined when neither is set (callers use
 * {@link DEFAULT_PARALLEL}).
 * Throws UsageError on a value that is not an integer, or is 0.
 */
export function parallelLimit(
  g: GlobalOptions,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const raw = g.parallel ?? env.COMPOSE_PARALLEL_LIMIT;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n === 0)
    throw new UsageError(
      `invalid argument "${raw}" for "--parallel" flag: must be a non-zero integer`,
    );
  return n < 0 ? Number.MAX_SAFE_INTEGER : n;
}

/** `--ansi` values (docker compose's). */
const ANSI_VALUES = ['never', 'always', 'auto'] as const;
/** `--progress` values (docker compose's, as cli/render/progress.ts takes them). */
const PROGRESS_VALUES = ['auto', 'tty', 'plain', 'json', 'quiet'] as const;

/**
 * Checks the global flags before any command runs, so a bad value is refused whatever the
 * command (`config --progress bogus` as well as `up`): `--ansi` never|always|auto, `--progress`
 * auto|tty|plain|json|quiet, `--parallel` a non-zero integer.
 * @throws UsageError (exit 2) naming the flag and the values it takes
 */
export function checkGlobalOptions(g: GlobalOptions): void {
  if (g.ansi !== undefined && !(ANSI_VALUES as readonly string[]).includes(g.ansi))
    throw new UsageError(`unsupported --ansi value ${JSON.stringify(g.ansi)}`, {
      hint: `use one of ${ANSI_VALUES.join(', ')}`,
    });
  if (g.progress !== undefined && !(PROGRESS_VALUES as readonly string[]).includes(g.progress))
    throw new UsageError(`unsupported --progress value ${JSON.stringify(g.progress)}`, {
      hint: `use one of ${PROGRESS_VALUES.join(', ')}`,
    });
  parallelLimit(g);
}

/** Loader options from the global flags, the cwd and the process environment. */
export function toLoadOptions(g: GlobalOptions, extra: Partial<LoadOptions> = {}): LoadOptions {
  return {
    cwd: process.cwd(),
    files: g.file,
    projectDirectory: g.projectDirectory,
    envFiles: g.envFile,
    projectName: g.projectName,
    profiles: g.profile,
    environment: process.env,
    readStdin: () => decodeComposeBytes(readFileSync(0), '-'),
    onWarning: (line) => process.stderr.write(`${line}\n`),
    ...extra,
  };
}

/** Collects a repeatable flag into an array (commander's variadic helper). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
