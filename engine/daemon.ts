/**
 * The engine daemon process: reads its config, takes the pid file, opens the state store, builds
 * the services and the API router, listens on the socket, and stops gracefully on SIGTERM/SIGINT
 * (streams ended, socket and pid file removed). Run as `node engine/daemon.js [flags]` or through
 * `tscompose engine`. Knows no Compose.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';

import { EngineError } from '../base/errors.js';
import { buildRouter, type Router } from './api/index.js';
import { listenApi, type ApiServer } from './api/server.js';
import type { EngineServices } from './api/services.js';
import { containersPlugin } from './containers/index.js';
import { loadEngineConfig, type EngineConfig, type EngineConfigFile } from './config.js';
import { livePid } from './daemon-control.js';
import { EventBus } from './events.js';
import { StateStore, writeFileAtomic } from './state/store.js';
import { VolumeService } from './volumes/index.js';

/** What the daemon core gives the modules plugged into it (containers, images, networks). */
export interface DaemonCore {
  readonly config: EngineConfig;
  readonly store: StateStore;
  readonly events: EventBus;
  readonly volumes: VolumeService;
}

/**
 * A module plugged into the daemon: the services it implements (their routes stop answering 501
 * once the module's route registration replaces them), its routes, and its shutdown. Close must
 * not stop containers (they outlive the daemon); it stops timers, monitors and listeners.
 */
export interface DaemonPlugin {
  readonly services?: EngineServices;
  /** Registers or replaces routes (Router.add replaces the 501 placeholder of the same route). */
  registerRoutes?(router: Router): void;
  close?(): Promise<void>;
}

/** Builds a plugin once the core exists (e.g. sets `core.volumes.setUsage(...)`). */
export type DaemonPluginFactory = (core: DaemonCore) => DaemonPlugin | Promise<DaemonPlugin>;

/** Options of {@link startDaemon} beyond the config. */
export interface StartOptions {
  /** Modules started in order after the core; their services are merged (later ones win). */
  readonly plugins?: readonly DaemonPluginFactory[];
  /** Log line sink (default: stderr with an ISO time prefix). */
  readonly log?: (line: string) => void;
}

/** A running daemon. */
export interface RunningDaemon {
  readonly config: EngineConfig;
  readonly store: StateStore;
  readonly events: EventBus;
  readonly volumes: VolumeService;
  readonly router: Router;
  readonly server: ApiServer;
  /** Stops serving, ends streams, removes the socket and pid file. Idempotent. */
  close(): Promise<void>;
}

/** The cgroup version of this host: '2' when /sys/fs/cgroup is cgroup2 (has cgroup.controllers). */
function cgroupVersion(): '1' | '2' {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

/** A gid for a group name or number, from /etc/group; undefined when unknown. */
function groupId(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  try {
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${group}:`));
    const gid = line?.split(':')[2];
    return gid === undefined ? undefined : Number(gid);
  } catch {
    return undefined;
  }
}

/**
 * Starts the daemon with `config`: refuses when the pid file names a live process or the socket is
 * served (TSC_ENGINE_CONFLICT), creates the data root, writes the pid file, listens.
 */
export async function startDaemon(
  config: EngineConfig,
  opts: StartOptions = {},
): Promise<RunningDaemon> {
  const log =
    opts.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
  const other = livePid(config.pidFile);
  if (other !== undefined && other !== process.pid) {
    throw new EngineError(
      'TSC_ENGINE_CONFLICT',
      { kind: 'engine', name: config.pidFile },
      `start engine: already running as pid ${other} (${config.pidFile})`,
    );
  }
  const store = new StateStore(config.dataRoot);
  await store.init();
  const idFile = join(config.dataRoot, 'engine-id');
  let id: string;
  try {
    id = (await fsp.readFile(idFile, 'utf8')).trim();
  } catch {
    id = randomUUID();
    await writeFileAtomic(idFile, `${id}\n`, 0o644);
  }

  const events = new EventBus();
  const volumes = new VolumeService(store, { events });
  await volumes.load();
  const plugins: DaemonPlugin[] = [];
  for (const factory of opts.plugins ?? [])
    plugins.push(await factory({ config, store, events, volumes }));
  const services: EngineServices = Object.assign(
    {},
    ...plugins.map((p) => p.services ?? {}),
  ) as EngineServices;
  const router = buildRouter({
    facts: {
      id,
      dataRoot: config.dataRoot,
      registryMirrors: config.registryMirrors,
      insecureRegistries: config.insecureRegistries,
      logDriver: config.logDriver,
      debug: config.debug,
      cgroupVersion: cgroupVersion(),
    },
    events,
    volumes,
    services,
  });

  for (const p of plugins) p.registerRoutes?.(router);
  const closePlugins = async (): Promise<void> => {
    for (const p of [...plugins].reverse()) {
      try {
        await p.close?.();
      } catch (err) {
        log(`error closing a module: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };

  await fsp.mkdir(dirname(config.pidFile), { recursive: true, mode: 0o755 });
  await writeFileAtomic(config.pidFile, `${process.pid}\n`, 0o644);
  let server: ApiServer;
  try {
    const gid = config.socketGroup === undefined ? undefined : groupId(config.socketGroup);
    server = await listenApi(router, {
      socket: config.socket,
      ...(gid === undefined ? {} : { gid }),
      onError: (err: unknown, req?: IncomingMessage) => {
        const where = req ? `${req.method} ${req.url}` : 'server';
        log(`error ${where}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      },
    });
  } catch (err) {
    if (other !== process.pid) await fsp.rm(config.pidFile, { force: true });
    await closePlugins();
    throw err;
  }
  log(`engine ${process.pid} listening on ${config.socket}, data root ${config.dataRoot}`);

  let closing: Promise<void> | undefined;
  return {
    config,
    store,
    events,
    volumes,
    router,
    server,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await closePlugins();
        if (livePid(config.pidFile) === process.pid) await fsp.rm(config.pidFile, { force: true });
        log('engine stopped');
      })()),
  };
}

/** Command-line flags of the daemon process, as config-file keys. */
export function parseDaemonArgs(argv: readonly string[]): {
  configPath: string | undefined;
  overrides: EngineConfigFile;
} {
  const overrides: Record<string, unknown> = {};
  let configPath: string | undefined;
  const keys: Record<string, string> = {
    '--data-root': 'data-root',
    '--socket': 'socket',
    '--pidfile': 'pidfile',
    '--log-file': 'log-file',
    '--group': 'group',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (flag === '--debug') {
      overrides.debug = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined)
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'flag', name: flag },
        `engine flag ${flag}: missing value`,
      );
    if (flag === '--config') configPath = value;
    else if (keys[flag] !== undefined) overrides[keys[flag]] = value;
    else
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'flag', name: flag },
        `engine flag ${flag}: unknown flag`,
      );
  }
  return { configPath, overrides: overrides };
}

/**
 * Runs the daemon in the foreground until SIGTERM/SIGINT, then closes gracefully. Resolves with the
 * exit code (0 after a clean stop).
 */
export async function runForeground(
  argv: readonly string[],
  opts: StartOptions = {},
): Promise<number> {
  const { configPath, overrides } = parseDaemonArgs(argv);
  const config = loadEngineConfig(configPath, overrides);
  process.title = 'tsc:[engine]';
  const daemon = await startDaemon(config, opts);
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      (opts.log ?? ((l: string) => process.stderr.write(`${new Date().toISOString()} ${l}\n`)))(
        `received ${signal}, stopping`,
      );
      daemon.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

if (require.main === module) {
  // the containers plugin serves containers, exec, images and networks (engine/containers)
  runForeground(process.argv.slice(2), { plugins: [containersPlugin()] }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `${new Date().toISOString()} ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
