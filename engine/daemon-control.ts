/**
 * Managing the engine daemon from the CLI (`tscompose engine start|stop|status|logs`, and "start it
 * on demand"): spawn it detached with its pid and log files and wait for the socket, stop it by the
 * pid in its pid file, report its status. Talks to the daemon only through `/_ping`.
 */
import type * as ChildProcess from 'node:child_process';
import { closeSync, openSync, promises as fsp, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';

import { EngineError } from '../base/errors.js';
import { lazyModule } from '../base/lazy.js';
import type { EngineConfig } from './config.js';

/** node:child_process on first use: only starting the engine spawns (~6 ms of a CLI start). */
const childProcess = lazyModule<typeof ChildProcess>('node:child_process');

/** The pid in a pid file when that process is alive, else undefined. */
export function livePid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Node flags the daemon runs with: a 1 MiB young-generation semi-space keeps an idle daemon with
 * 20 containers about 12 MB smaller (bench/api) for a few percent more GC work on bursts.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * Environment added for the daemon: at most 2 glibc malloc arenas (mallopt(3) M_ARENA_MAX) instead
 * of one per thread that mallocs (libuv pool, V8 workers), each keeping freed pages resident;
 * ~1.6 MB less idle RSS with 20 containers (bench/api), no measurable latency change.
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Options shared by the control functions. */
export interface EngineControlOptions {
  readonly config: EngineConfig;
  /** Config file to pass to the daemon (`--config`). */
  readonly configPath?: string | undefined;
  /**
   * argv that starts the daemon in the foreground; flags are appended. Default:
   * `[process.execPath, ...DAEMON_NODE_FLAGS, <this directory>/daemon.js]` (the built daemon).
   */
  readonly command?: readonly string[] | undefined;
  /** How long start waits for the socket and stop for the exit, ms (default 10000). */
  readonly timeoutMs?: number | undefined;
}

/** What {@link engineStatus} reports. */
export interface EngineStatus {
  readonly running: boolean;
  /** The daemon's pid when the pid file names a live process. */
  readonly pid: number | undefined;
  readonly socket: string;
  /** API version from `/_ping` when the socket answers. */
  readonly apiVersion: string | undefined;
  readonly logFile: string;
}

/** `GET /_ping` on a unix socket: the API-Version header, or undefined when it does not answer OK. */
export function pingSocket(socket: string, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { socketPath: socket, path: '/_ping', method: 'GET', timeout: timeoutMs },
      (res) => {
        res.resume();
        const v = res.headers['api-version'];
        resolve(res.statusCode === 200 ? ((Array.isArray(v) ? v[0] : v) ?? '') : undefined);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The daemon's status from its pid file and socket. */
export async function engineStatus(o: EngineControlOptions): Promise<EngineStatus> {
  const pid = livePid(o.config.pidFile);
  const apiVersion = await pingSocket(o.config.socket);
  return {
    running: apiVersion !== undefined,
    pid,
    socket: o.config.socket,
    apiVersion,
    logFile: o.config.logFile,
  };
}

/** The last `bytes` of a file, or '' . */
async function tail(path: string, bytes = 2000): Promise<string> {
  try {
    const text = await fsp.readFile(path, 'utf8');
    return text.slice(-bytes).trim();
  } catch {
    return '';
  }
}

/**
 * Starts the daemon detached (own session, stdio to the log file) unless it already answers, and
 * waits until `/_ping` answers. Throws TSC_ENGINE_UNAVAILABLE with the log's tail when it exits or
 * does not answer in time.
 */
export async function engineStart(
  o: EngineControlOptions,
): Promise<{ pid: number; alreadyRunning: boolean }> {
  const c = o.config;
  const before = await engineStatus(o);
  if (before.running) return { pid: before.pid ?? 0, alreadyRunning: true };
  const command = o.command ?? [
    process.execPath,
    ...DAEMON_NODE_FLAGS,
    // engine/daemon.js, also from the CLI bundle in dist/cli/ (cli/make-bundle.ts)
    join(__dirname, '..', 'engine', 'daemon.js'),
  ];
  const [exe, ...pre] = command;
  if (exe === undefined)
    throw new EngineError(
      'TSC_ENGINE_UNAVAILABLE',
      { kind: 'engine', name: c.socket },
      'start engine: empty command',
    );
  const args = [
    ...pre,
    '--data-root',
    c.dataRoot,
    '--socket',
    c.socket,
    '--pidfile',
    c.pidFile,
    '--log-file',
    c.logFile,
  ];
  if (o.configPath !== undefined) args.push('--config', o.configPath);
  await fsp.mkdir(dirname(c.logFile), { recursive: true });
  const fd = openSync(c.logFile, 'a', 0o640);
  let exited: number | null | undefined;
  let child;
  try {
    child = childProcess().spawn(exe, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...DAEMON_ENV },
    });
  } finally {
    closeSync(fd);
  }
  child.on('exit', (code) => {
    exited = code;
  });
  child.on('error', () => {
    exited = -1;
  });
  child.unref();
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    if ((await pingSocket(c.socket, 1000)) !== undefined)
      return { pid: child.pid ?? 0, alreadyRunning: false };
    await sleep(50);
  }
  if (exited === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  const why = exited !== undefined ? `exited with ${exited}` : 'did not answer in time';
  throw new EngineError(
    'TSC_ENGINE_UNAVAILABLE',
    { kind: 'engine', name: c.socket },
    `start engine: ${why}`,
    {
      hint: (await tail(c.logFile)) || `see ${c.logFile}`,
    },
  );
}

/**
 * Stops the daemon named by the pid file: SIGTERM, wait for it to exit, SIGKILL after the timeout
 * (then removes the socket and pid file it could not). Returns the pid stopped, or undefined when
 * none was running.
 */
export async function engineStop(o: EngineControlOptions): Promise<number | undefined> {
  const c = o.config;
  const pid = livePid(c.pidFile);
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (!alive(pid)) return pid;
    await sleep(50);
  }
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(20);
  await fsp.rm(c.socket, { force: true });
  await fsp.rm(c.pidFile, { force: true });
  return pid;
}

/** True while `pid` exists (zombies of our own children count as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/**
 * The daemon's log file (`tscompose engine logs`): the last `tailLines` lines (all when undefined),
 * or '' when there is no log yet.
 */
export async function readEngineLog(o: EngineControlOptions, tailLines?: number): Promise<string> {
  let text: string;
  try {
    text = await fsp.readFile(o.config.logFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
  if (tailLines === undefined) return text;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return (
    lines.slice(Math.max(0, lines.length - tailLines)).join('\n') + (lines.length > 0 ? '\n' : '')
  );
}
