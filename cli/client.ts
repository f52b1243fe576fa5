/**
 * Builds the Docker Engine API client (dockerode) the commands use: `--host` / `DOCKER_HOST`, else
 * tscompose's own engine socket, starting the engine on demand when that socket does not answer.
 * Owns no command logic; the only place the CLI decides which daemon it talks to.
 */
import Dockerode from 'dockerode';

import { EngineError, UsageError, isTscError } from '../base/errors.js';
import { loadEngineConfig } from '../engine/config.js';
import { engineStart, pingSocket } from '../engine/daemon-control.js';
import type { GlobalOptions } from './options.js';

/** Where the client connects: a unix socket path, or a TCP host and port. */
export type DaemonAddress =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * Parses a Docker host URL like the docker CLI: `unix:///path`, `/path`, `tcp://host:port`
 * (port 2375 when omitted).
 * @throws UsageError for other schemes (ssh://, npipe://) or a malformed URL
 */
export function parseDockerHost(host: string): DaemonAddress {
  if (host.startsWith('/')) return { kind: 'unix', socketPath: host };
  if (host.startsWith('unix://')) {
    const p = host.slice('unix://'.length);
    if (p === '') throw new UsageError(`parse docker host ${host}: empty socket path`);
    return { kind: 'unix', socketPath: p };
  }
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    const rest = host.replace(/^[a-z]+:\/\//, '').replace(/\/$/, '');
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(rest);
    if (!m?.[1]) throw new UsageError(`parse docker host ${host}: bad address`);
    return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 2375 };
  }
  throw new UsageError(`parse docker host ${host}: unsupported scheme`, {
    hint: 'use unix:///path/to/socket or tcp://host:port',
  });
}

/** The host to use: `--host`, else `DOCKER_HOST`, else undefined (tscompose's engine). */
export function chosenHost(
  g: Pick<GlobalOptions, 'host'>,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (g.host !== undefined && g.host !== '') return g.host;
  const e = env['DOCKER_HOST'];
  return e !== undefined && e !== '' ? e : undefined;
}

/** A dockerode instance for an address. */
export function dockerodeFor(a: DaemonAddress): Dockerode {
  return a.kind === 'unix'
    ? new Dockerode({ socketPath: a.socketPath })
    : new Dockerode({ host: a.host, port: a.port, protocol: 'http' });
}

/**
 * The client for this invocation. Without `--host`/`DOCKER_HOST`, connects to the engine socket
 * (engine config `socket`, default /run/tscompose/engine.sock); when it does not answer `/_ping`,
 * commands that create things (`start: true`: up, run, pull, start, ...) start the engine with
 * engineStart, the others fail (a stopped engine has nothing to list, stop or remove).
 * @throws EngineError TSC_ENGINE_UNAVAILABLE when the engine is not running (and may not be
 *   started) or cannot be started
 */
export async function dockerClient(
  g: Pick<GlobalOptions, 'host'>,
  o: { readonly start?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<Dockerode> {
  const host = chosenHost(g, env);
  if (host !== undefined) return dockerodeFor(parseDockerHost(host));
  const config = loadEngineConfig();
  const socket = config.socket;
  if ((await pingSocket(socket)) === undefined) {
    if (o.start !== true) {
      throw new EngineError(
        'TSC_ENGINE_UNAVAILABLE',
        { kind: 'engine', name: socket },
        `connect to engine ${socket}: not running`,
        { hint: 'start it with `tscompose engine start` (or `tscompose up`), or use --host' },
      );
    }
    await engineStart({ config });
  }
  return dockerodeFor({ kind: 'unix', socketPath: socket });
}

/**
 * Turns a dockerode failure (HTTP status from the daemon, or a socket error) into an EngineError
 * with the daemon's message; anything else is returned unchanged (a bug, rendered as one).
 * Codes: 404 TSC_ENGINE_NOT_FOUND, 409 TSC_ENGINE_CONFLICT, socket errors TSC_ENGINE_UNAVAILABLE,
 * other statuses TSC_ENGINE_STATE.
 */
export function asEngineError(e: unknown): unknown {
  if (isTscError(e) || !(e instanceof Error)) return e;
  const status = (e as { statusCode?: unknown }).statusCode;
  const errno = (e as { code?: unknown }).code;
  const json = (e as { json?: { message?: unknown } | null }).json;
  const detail = typeof json?.message === 'string' ? json.message : e.message;
  if (typeof status === 'number') {
    const code =
      status === 404
        ? 'TSC_ENGINE_NOT_FOUND'
        : status === 409
          ? 'TSC_ENGINE_CONFLICT'
          : 'TSC_ENGINE_STATE';
    return new EngineError(
      code,
      { kind: 'api', name: String(status) },
      `engine API (${status}): ${detail}`,
      { cause: e },
    );
  }
  if (
    typeof errno === 'string' &&
    ['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(errno)
  ) {
    return new EngineError(
      'TSC_ENGINE_UNAVAILABLE',
      { kind: 'engine', name: errno },
      `connect to the engine: ${e.message}`,
      {
        cause: e,
        hint: 'check --host / DOCKER_HOST, or start the engine with `tscompose engine start`',
      },
    );
  }
  return e;
}
