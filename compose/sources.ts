/**
 * The loader's only I/O besides reading files named inside compose files: locating the compose
 * files (`-f`, COMPOSE_FILE, default lookup up the parent directories, override files), the project
 * directory, the project environment (`.env`, `--env-file`, the process environment) and the project
 * name. Follows docker compose v2 (compose-go `cli/options.go`). Writes nothing.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

import { ComposeError, TscError, type SourcePosition } from '../base/errors.js';
import { parseDotenv } from './dotenv.js';
import { decodeComposeBytes } from './parse.js';

/** Default compose file names, in lookup order (compose-go `DefaultFileNames`). */
export const DEFAULT_FILE_NAMES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yaml',
  'docker-compose.yml',
] as const;

/** Override file names, in lookup order (compose-go `DefaultOverrideFileNames`). */
export const DEFAULT_OVERRIDE_FILE_NAMES = [
  'compose.override.yaml',
  'compose.override.yml',
  'docker-compose.override.yaml',
  'docker-compose.override.yml',
] as const;

/** Reads a file as UTF-8; the seam tests and the loader use. Throws TSC_COMPOSE_READ. */
export type FileReader = (absPath: string) => string;

/** Reads a UTF-8 file; a missing or unreadable file is a TSC_COMPOSE_READ error naming it. */
export const readFileUtf8: FileReader = (absPath) => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(absPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : code;
    throw new TscError('TSC_COMPOSE_READ', `read ${absPath}: ${why}`, { cause: e });
  }
  // Bytes, decoded strictly: invalid UTF-8 is a TSC_COMPOSE_PARSE error at its line:col, not U+FFFD.
  return decodeComposeBytes(bytes, absPath);
};

/** The environment as a lookup function: name -> value, undefined when unset. */
export type EnvLookup = (name: string) => string | undefined;

/** Inputs from the command line and the process that decide what is loaded. */
export interface SourceOptions {
  /** Absolute directory the command runs in. */
  readonly cwd: string;
  /** `-f` files as given (relative to cwd; `-` is stdin). Empty: COMPOSE_FILE or default lookup. */
  readonly files?: readonly string[] | undefined;
  /** `--project-directory`, relative to cwd. */
  readonly projectDirectory?: string | undefined;
  /** `--env-file` files as given (relative to cwd). Empty: `<project dir>/.env` when it exists. */
  readonly envFiles?: readonly string[] | undefined;
  /** The process environment (compose/ never reads process.env itself). */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** What sources resolve to: the files to load, the project directory and the environment. */
export interface ResolvedSources {
  /** Compose files to load, in order: absolute paths, or `-` for stdin. */
  readonly files: readonly string[];
  /** Absolute project directory: relative paths in the model resolve against it. */
  readonly workingDir: string;
  /**
   * The project environment: env files (later wins), then the process environment on top
   * (the process environment wins, as in docker compose v2). Insertion-ordered.
   */
  readonly env: ReadonlyMap<string, string>;
  /** Env files that were read, absolute, in order. */
  readonly envFiles: readonly string[];
}

/**
 * Resolves files, project directory and environment in compose-go's order: the working directory
 * (from `--project-directory`, else the first `-f` file's directory, else cwd) locates `.env`; the
 * env (files + process) may then set COMPOSE_FILE, COMPOSE_PATH_SEPARATOR and
 * COMPOSE_PROJECT_DIRECTORY... when no `-f` was given, COMPOSE_FILE or the default lookup (cwd and
 * its parents) finds the files, and override files are added only in the default lookup.
 * @throws ComposeError TSC_COMPOSE_NOT_FOUND when no compose file exists; TSC_COMPOSE_READ and
 *   TSC_COMPOSE_ENV_FILE for unreadable or malformed env files.
 */
export function resolveSources(o: SourceOptions, read: FileReader = readFileUtf8): ResolvedSources {
  const given = (o.files ?? []).filter((f) => f !== '');
  const explicitDir = o.projectDirectory ? resolve(o.cwd, o.projectDirectory) : undefined;
  const firstFile = given.find((f) => f !== '-');
  const preliminaryDir =
    explicitDir ?? (firstFile !== undefined ? dirname(resolve(o.cwd, firstFile)) : o.cwd);

  const { env: fileEnv, files: envFiles } = loadEnvFiles(o, preliminaryDir, read);
  const env = new Map(fileEnv);
  for (const [k, v] of Object.entries(o.environment)) if (v !== undefined) env.set(k, v);

  let files: string[];
  let workingDir = preliminaryDir;
  if (given.length > 0) {
    files = given.map((f) => (f === '-' ? '-' : resolve(o.cwd, f)));
  } else if (env.get('COMPOSE_FILE')) {
    const sep = env.get('COMPOSE_PATH_SEPARATOR') || ':';
    files = (env.get('COMPOSE_FILE') ?? '')
      .split(sep)
      .filter((f) => f !== '')
      .map((f) => resolve(explicitDir ?? o.cwd, f));
    const first = files[0];
    if (!explicitDir && first !== undefined) workingDir = dirname(first);
  } else {
    files = findDefaultFiles(o.cwd);
    const first = files[0];
    if (!explicitDir && first !== undefined) workingDir = dirname(first);
  }
  for (const f of files) {
    if (f !== '-' && !isFile(f)) {
      throw ComposeError.at('TSC_COMPOSE_NOT_FOUND', { file: f, path: '' }, whyNotFile(f), {
        hint: 'check the -f / COMPOSE_FILE paths',
      });
    }
  }
  const envDir = env.get('COMPOSE_PROJECT_DIRECTORY');
  if (!explicitDir && envDir) workingDir = resolve(o.cwd, envDir);
  return { files, workingDir, env, envFiles };
}

/**
 * Finds `compose.yaml` (or the other default names) in `dir` or the nearest parent that has one,
 * plus its override file from the same directory.
 * @throws ComposeError TSC_COMPOSE_NOT_FOUND naming the directory searched from.
 */
export function findDefaultFiles(dir: string): string[] {
  for (let d = dir; ; d = dirname(d)) {
    const main = DEFAULT_FILE_NAMES.map((n) => join(d, n)).find(isFile);
    if (main !== undefined) {
      const override = DEFAULT_OVERRIDE_FILE_NAMES.map((n) => join(d, n)).find(isFile);
      return override !== undefined ? [main, override] : [main];
    }
    if (dirname(d) === d) break;
  }
  throw ComposeError.at(
    'TSC_COMPOSE_NOT_FOUND',
    { file: dir, path: '' },
    'no configuration file provided: not found',
    { hint: `create ${DEFAULT_FILE_NAMES[0]} here or name one with -f` },
  );
}

function loadEnvFiles(
  o: SourceOptions,
  projectDir: string,
  read: FileReader,
): { env: Map<string, string>; files: string[] } {
  const processLookup: EnvLookup = (k) => o.environment[k];
  const explicit = (o.envFiles ?? []).filter((f) => f !== '');
  let files: string[];
  if (explicit.length > 0) {
    files = explicit.map((f) => resolve(o.cwd, f));
    for (const f of files) {
      if (!isFile(f)) {
        throw ComposeError.at(
          'TSC_COMPOSE_ENV_FILE',
          { file: f, path: '' },
          "couldn't find env file",
        );
      }
    }
  } else {
    const fromEnv = o.environment.COMPOSE_ENV_FILES;
    if (fromEnv) files = fromEnv.split(',').map((f) => resolve(projectDir, f));
    else files = [join(projectDir, '.env')].filter(isFile);
  }
  const env = new Map<string, string>();
  for (const f of files) {
    // Later lines may reference earlier values and the process environment (compose-go dotenv).
    const lookup: EnvLookup = (k) => processLookup(k) ?? env.get(k);
    for (const [k, v] of parseDotenv(read(f), f, lookup)) env.set(k, v);
  }
  return { env, files };
}

/** compose-go's project-name rule: lowercase letters, digits, `-`, `_`, starting alnum. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Normalises a directory basename into a project name: lower case, drop every character not in
 * `[a-z0-9_-]`, strip leading `_` and `-` (compose-go `NormalizeProjectName`; cases 039, 040).
 */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '')
    .replace(/^[_-]+/, '');
}

/**
 * Checks an explicit project name (`-p`, COMPOSE_PROJECT_NAME, top-level `name:`).
 * @throws ComposeError TSC_COMPOSE_PROJECT_NAME with compose's wording.
 */
export function checkProjectName(name: string, from: string, position?: SourcePosition): string {
  if (!PROJECT_NAME.test(name)) {
    throw ComposeError.at(
      'TSC_COMPOSE_PROJECT_NAME',
      { file: from, path: 'name', position },
      `invalid project name ${JSON.stringify(name)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
    );
  }
  return name;
}

/** The directory name a project is named after when nothing names it. */
export function projectNameFromDir(workingDir: string): string {
  return normalizeProjectName(basename(workingDir));
}

/**
 * True when the path exists and is not a directory: regular files, and also character devices
 * and pipes (`-f <(...)`, `--env-file /dev/null`), which docker compose reads too.
 */
export function isFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Why a path cannot be read as a file: `is a directory`, `no such file`, or the errno. */
export function whyNotFile(p: string): string {
  try {
    return statSync(p).isDirectory() ? 'is a directory' : 'cannot be read';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? 'no such file'
      : code === 'ELOOP'
        ? 'too many levels of symbolic links'
        : (code ?? 'cannot be read');
  }
}

/** True when the path exists. */
export function exists(p: string): boolean {
  return existsSync(p);
}

/** Resolves `p` against `base` unless it is absolute. */
export function resolveFrom(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}
