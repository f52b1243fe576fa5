/**
 * Global options shared by every command (docker compose's global flags) and how they become
 * loader options. Reads process.env here, at the edge, and passes it down.
 */
import { readFileSync } from 'node:fs';

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
