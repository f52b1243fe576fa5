/**
 * The engine config file (JSON, keys as dockerd's daemon.json where one exists; default
 * `/etc/tscompose/engine.json`): data root, socket, pid file, registry mirrors, insecure registries,
 * default address pools, log driver and options. Parses and validates; starts nothing.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';

import type * as Zod from 'zod';

import { EngineError } from '../base/errors.js';
import { lazyModule } from '../base/lazy.js';

/** Default config file path. */
export const DEFAULT_CONFIG_PATH = '/etc/tscompose/engine.json';
/** Default API socket (dockerd: /run/docker.sock). */
export const DEFAULT_SOCKET = '/run/tscompose/engine.sock';
/** Default pid file. */
export const DEFAULT_PID_FILE = '/run/tscompose/engine.pid';
/** Default data root. */
export const DEFAULT_DATA_ROOT = '/var/lib/tscompose';

/** One default address pool (`{"base":"172.17.0.0/16","size":16}`, dockerd's `default-address-pools`). */
export interface AddressPool {
  /** CIDR to carve networks from. */
  readonly base: string;
  /** Prefix length of each network carved from `base`. */
  readonly size: number;
}

/** The validated engine configuration. */
export interface EngineConfig {
  /** Absolute directory for all state (`data-root`). */
  readonly dataRoot: string;
  /** Absolute path of the API unix socket (`socket`). */
  readonly socket: string;
  /** Group owning the socket (`group`, name or gid), or undefined to leave it root's. */
  readonly socketGroup: string | undefined;
  /** Absolute pid file path (`pidfile`). */
  readonly pidFile: string;
  /** Log file of a detached engine (`log-file`), default `<data-root>/engine.log`. */
  readonly logFile: string;
  /** Registry mirror URLs for Docker Hub (`registry-mirrors`). */
  readonly registryMirrors: readonly string[];
  /** Registries (host[:port] or CIDR) reached over plain HTTP (`insecure-registries`). */
  readonly insecureRegistries: readonly string[];
  /** Pools for networks created without a subnet (`default-address-pools`); empty = built-in. */
  readonly defaultAddressPools: readonly AddressPool[];
  /** Container log driver (`log-driver`): only `json-file` and `none` are served. */
  readonly logDriver: 'json-file' | 'none';
  /** Log driver options (`log-opts`: `max-size`, `max-file`, `compress`). */
  readonly logOpts: Readonly<Record<string, string>>;
  /** Verbose daemon logging (`debug`). */
  readonly debug: boolean;
}

/** zod, loaded on first use: a daemon started without a config file never pays its ~12 MB RSS. */
const zod = lazyModule<typeof Zod>('zod');

/** Builds the config file schema (dockerd daemon.json-style keys). */
function buildSchema() {
  const { z } = zod();
  const absPath = z.string().refine((p) => isAbsolute(p), 'must be an absolute path');

  return z.strictObject({
    'data-root': absPath.optional(),
    socket: absPath.optional(),
    group: z.union([z.string(), z.number().int().nonnegative()]).optional(),
    pidfile: absPath.optional(),
    'log-file': absPath.optional(),
    'registry-mirrors': z.array(z.url()).optional(),
    'insecure-registries': z.array(z.string().min(1)).optional(),
    'default-address-pools': z
      .array(
        z.strictObject({
          base: z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'must be a CIDR'),
          size: z.number().int().min(1).max(128),
        }),
      )
      .optional(),
    'log-driver': z.enum(['json-file', 'none']).optional(),
    'log-opts': z.record(z.string(), z.string()).optional(),
    debug: z.boolean().optional(),
  });
}

let schema: ReturnType<typeof buildSchema> | undefined;

/** The file's schema (built on first use); unknown keys are errors (dockerd refuses them too). */
export function engineConfigFileSchema(): ReturnType<typeof buildSchema> {
  return (schema ??= buildSchema());
}

/** The file's shape (dockerd-style keys). */
export type EngineConfigFile = Zod.infer<ReturnType<typeof buildSchema>>;

/** Applies defaults to a parsed file (and command-line overrides, same keys). */
export function resolveConfig(
  file: EngineConfigFile = {},
  overrides: EngineConfigFile = {},
): EngineConfig {
  const f = {
    ...file,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  const dataRoot = f['data-root'] ?? DEFAULT_DATA_ROOT;
  return {
    dataRoot,
    socket: f.socket ?? DEFAULT_SOCKET,
    socketGroup: f.group === undefined ? undefined : String(f.group),
    pidFile: f.pidfile ?? DEFAULT_PID_FILE,
    logFile: f['log-file'] ?? `${dataRoot}/engine.log`,
    registryMirrors: f['registry-mirrors'] ?? [],
    insecureRegistries: f['insecure-registries'] ?? [],
    defaultAddressPools: f['default-address-pools'] ?? [],
    logDriver: f['log-driver'] ?? 'json-file',
    logOpts: f['log-opts'] ?? {},
    debug: f.debug ?? false,
  };
}

/** Validates a parsed JSON value as a config file; throws TSC_ENGINE_INVALID listing every problem. */
export function parseConfigFile(value: unknown, source: string): EngineConfigFile {
  const r = engineConfigFileSchema().safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new EngineError(
    'TSC_ENGINE_INVALID',
    { kind: 'config', name: source },
    `read engine config ${source}: ${problems}`,
  );
}

/**
 * Loads the engine config: `path` when given (must exist), else {@link DEFAULT_CONFIG_PATH} when it
 * exists, else defaults. `overrides` (command-line flags) win over the file. Throws
 * TSC_ENGINE_INVALID on unreadable, malformed or invalid files.
 */
export function loadEngineConfig(path?: string, overrides: EngineConfigFile = {}): EngineConfig {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (path !== undefined || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'config', name: file },
        `read engine config ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  if (text === undefined) return resolveConfig({}, overrides);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'config', name: file },
      `read engine config ${file}: invalid JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return resolveConfig(parseConfigFile(json, file), overrides);
}
