/**
 * The Engine API HTTP server on a unix socket (`node:http`): listens, sets the socket's mode, hands
 * requests and upgrades to the Router, and closes gracefully (ends streams, removes the socket).
 * Owns no routes and no engine state.
 */
import { promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';

import { EngineError } from '../../base/errors.js';
import type { Router } from './router.js';

/** Options of {@link listenApi}. */
export interface ListenOptions {
  /** Absolute path of the unix socket. */
  readonly socket: string;
  /** Socket file mode (default 0660, as dockerd's). */
  readonly mode?: number;
  /** Group id to own the socket (default: leave as created). */
  readonly gid?: number;
  /** Called with 5xx failures and server errors (logging). */
  readonly onError?: (err: unknown, req?: IncomingMessage) => void;
}

/** A listening API server. */
export interface ApiServer {
  readonly server: Server;
  readonly socket: string;
  /** Stops accepting, ends every open connection (streams included), removes the socket file. */
  close(): Promise<void>;
}

/** True when something accepts connections on the unix socket `path`. */
export function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Listens on `opts.socket` (creating its directory, 0755) and serves `router`. A stale socket file
 * (nothing listening) is replaced; a live one throws TSC_ENGINE_CONFLICT.
 */
export async function listenApi(router: Router, opts: ListenOptions): Promise<ApiServer> {
  await fsp.mkdir(dirname(opts.socket), { recursive: true, mode: 0o755 });
  if (await socketIsLive(opts.socket)) {
    throw new EngineError(
      'TSC_ENGINE_CONFLICT',
      { kind: 'socket', name: opts.socket },
      `listen on ${opts.socket}: another engine is serving it`,
    );
  }
  await fsp.rm(opts.socket, { force: true });

  const sockets = new Set<Socket>();
  // dockerd (Go's net/http without IdleTimeout or ReadTimeout) never closes an idle keep-alive
  // connection nor limits how long a request body may take (docker load of a large image); Node
  // closes idle ones after 5 s, racing a client that reuses one at that moment (EPIPE/ECONNRESET
  // on its next request), and cuts request bodies after 300 s. Neither, like dockerd.
  const server = createServer({ keepAlive: true, requestTimeout: 0 });
  server.keepAliveTimeout = 0;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('request', (req, res) => {
    void router.dispatch(req, res, undefined, opts.onError);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    void router.dispatch(req, undefined, { socket, head }, opts.onError);
  });
  server.on('clientError', (err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    opts.onError?.(err);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await fsp.chmod(opts.socket, opts.mode ?? 0o660);
  if (opts.gid !== undefined) await fsp.chown(opts.socket, 0, opts.gid);

  let closing: Promise<void> | undefined;
  return {
    server,
    socket: opts.socket,
    close: () =>
      (closing ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        for (const s of sockets) s.destroy();
        await done;
        await fsp.rm(opts.socket, { force: true });
      })()),
  };
}
