/**
 * The Engine API route table and request dispatch: method + path pattern -> typed handler, version
 * prefix stripped and checked, query and JSON body helpers, replies written with Docker's headers
 * and error bodies, and the connection hijack attach/exec need. Knows no engine service; route
 * modules (system.ts, volumes.ts, later containers/images/networks) register their handlers here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex, type Writable } from 'node:stream';

import { EngineError } from '../../base/errors.js';
import { errorBody, errorResponse } from './errors.js';
import { readUpgradeBody } from './upgrade-body.js';
import { API_VERSION, ENGINE_VERSION, splitVersion } from './version.js';

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** What a handler returns when it does not stream: status (default 200) and a JSON or text body. */
export interface ApiReply {
  readonly status?: number;
  /** Serialised as JSON (`application/json`). */
  readonly json?: unknown;
  /** Sent as is (`text/plain; charset=utf-8`), when `json` is absent. */
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Everything a handler gets about its request. */
export interface ApiContext {
  readonly req: IncomingMessage;
  readonly method: HttpMethod;
  /** The path without the version prefix (`/containers/abc/json`). */
  readonly path: string;
  /** The API version of the request (the prefix, or {@link API_VERSION} when unprefixed). */
  readonly apiVersion: string;
  /** Path parameters by name (`{name}` in the pattern), URI-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Aborted when the client goes away (ends streams and waits). */
  readonly signal: AbortSignal;
  /** True when the client asked to upgrade the connection (`Upgrade: tcp`, attach/exec). */
  readonly upgrade: boolean;
  /** The request body, bytes. */
  body(): Promise<Buffer>;
  /**
   * The JSON body (an empty body is `{}`); `validate` may check and type it and throw
   * TSC_ENGINE_INVALID. Invalid JSON throws TSC_ENGINE_INVALID (HTTP 400).
   */
  json<T = unknown>(validate?: (v: unknown) => T): Promise<T>;
  /** Docker's boolean query parameter (`1`, `true`, `yes` and other non-false words; absent = `dflt`). */
  bool(name: string, dflt?: boolean): boolean;
  /** Integer query parameter; absent = `dflt`; not an integer throws TSC_ENGINE_INVALID. */
  int(name: string, dflt?: number): number | undefined;
  /**
   * Starts a streamed response (headers sent at once, body flushed as written; no length).
   * Returns the body stream; the handler ends it.
   */
  stream(status: number, contentType: string, headers?: Readonly<Record<string, string>>): Writable;
  /**
   * Takes over the connection for a raw bidirectional stream (attach, exec start). With
   * `Upgrade: tcp` it answers `101 UPGRADED` (`Connection: Upgrade`, `Upgrade: tcp`), else `200 OK`;
   * both with `Content-Type: application/vnd.docker.raw-stream` (or `multiplexed-stream` when
   * `multiplexed`, API >= 1.42). Reads are the client's stdin, writes go to the client. Without
   * Upgrade the output is raw (close-delimited, not chunked) but input still comes through the
   * request's HTTP framing; every current client (docker CLI, dockerode) sends Upgrade.
   */
  hijack(multiplexed?: boolean): Duplex;
}

/** A route handler. Returning undefined means it answered through `stream()` or `hijack()`. */
export type ApiHandler = (ctx: ApiContext) => Promise<ApiReply | undefined> | ApiReply | undefined;

interface Route {
  readonly method: HttpMethod;
  readonly pattern: string;
  readonly re: RegExp;
  readonly names: readonly string[];
  readonly handler: ApiHandler;
}

/** Headers every response carries (moby `api/server/server.go` + version middleware). */
export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `tscompose/${ENGINE_VERSION} (linux)`,
  };
}

/** Compiles `/containers/{id}/json` (one segment) or `/images/{name*}/json` (greedy) to a RegExp. */
function compile(pattern: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const src = pattern
    .replace(/[.+?^$()[\]\\|]/g, '\\$&')
    .replace(/\{(\w+)(\*?)\}/g, (_m, name: string, star: string) => {
      names.push(name);
      return star ? '(.+)' : '([^/]+)';
    });
  return { re: new RegExp(`^${src}/?$`), names };
}

const FALSE_WORDS = new Set(['', '0', 'no', 'false', 'none']);

/** Writes a complete HTTP/1.1 response on a raw socket (upgrade requests answered normally). */
function writeRaw(
  socket: Socket,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): void {
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Error'}`];
  for (const [k, v] of Object.entries({
    ...headers,
    'Content-Length': String(body.length),
    Connection: 'close',
  })) {
    lines.push(`${k}: ${v}`);
  }
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
}

/** The route table. Adding a route for an existing method+pattern replaces the earlier handler. */
export class Router {
  private readonly routes: Route[] = [];

  /** Registers `handler` for `method pattern`; GET routes also answer HEAD unless HEAD is registered. */
  add(method: HttpMethod, pattern: string, handler: ApiHandler): this {
    const { re, names } = compile(pattern);
    const route: Route = { method, pattern, re, names, handler };
    const i = this.routes.findIndex((r) => r.method === method && r.pattern === pattern);
    if (i >= 0) this.routes[i] = route;
    else this.routes.push(route);
    return this;
  }

  /** Every registered `METHOD pattern`, in registration order (for docs and tests). */
  list(): string[] {
    return this.routes.map((r) => `${r.method} ${r.pattern}`);
  }

  /**
   * Finds the route for `method path` (path without version prefix): the handler and its params,
   * or undefined. Exact-method routes win over GET-for-HEAD.
   */
  match(
    method: string,
    path: string,
  ): { handler: ApiHandler; params: Record<string, string> } | undefined {
    const tryMethod = (
      m: string,
    ): { handler: ApiHandler; params: Record<string, string> } | undefined => {
      for (const r of this.routes) {
        if (r.method !== m) continue;
        const hit = r.re.exec(path);
        if (!hit) continue;
        const params: Record<string, string> = {};
        r.names.forEach((n, i) => {
          params[n] = decodeURIComponent(hit[i + 1] ?? '');
        });
        return { handler: r.handler, params };
      }
      return undefined;
    };
    return tryMethod(method) ?? (method === 'HEAD' ? tryMethod('GET') : undefined);
  }

  /**
   * Serves one request. `res` is set for ordinary requests; `upgrade` (socket + bytes read past
   * the headers) for requests carrying `Connection: Upgrade`. Never throws: failures become
   * Docker error responses; `onError` sees 5xx failures.
   */
  async dispatch(
    req: IncomingMessage,
    res: ServerResponse | undefined,
    upgrade?: { socket: Socket; head: Buffer },
    onError?: (err: unknown, req: IncomingMessage) => void,
  ): Promise<void> {
    const abort = new AbortController();
    const conn = upgrade?.socket ?? req.socket;
    const onClose = (): void => abort.abort();
    conn.once('close', onClose);
    let answered = false;
    const isHead = req.method === 'HEAD';

    const reply = (r: ApiReply): void => {
      answered = true;
      const status = r.status ?? 200;
      const headers: Record<string, string> = { ...commonHeaders(), ...(r.headers ?? {}) };
      let body = Buffer.alloc(0);
      if (r.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = Buffer.from(`${JSON.stringify(r.json)}\n`);
      } else if (r.text !== undefined) {
        headers['Content-Type'] ??= 'text/plain; charset=utf-8';
        body = Buffer.from(r.text);
      }
      if (upgrade)
        return writeRaw(upgrade.socket, status, headers, isHead ? Buffer.alloc(0) : body);
      if (!res) return;
      headers['Content-Length'] = String(body.length);
      res.writeHead(status, headers);
      res.end(isHead || status === 204 || status === 304 ? undefined : body);
    };

    try {
      const url = new URL(req.url ?? '/', 'http://engine');
      const { version, path } = splitVersion(url.pathname);
      const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
      const found = this.match(method, path);
      if (!found) {
        reply({ status: 404, json: { message: 'page not found' } });
        return;
      }
      let bodyPromise: Promise<Buffer> | undefined;
      // stream bytes read along with an upgrade's body, handed on at hijack
      let upgradeRest: Buffer = Buffer.alloc(0);
      if (upgrade) {
        // Node parses no body on an upgrade: take it off the raw bytes before the stream
        const u = await readUpgradeBody(req.headers, upgrade.head, upgrade.socket);
        bodyPromise = Promise.resolve(u.body);
        upgradeRest = u.rest;
      }
      const readBody = (): Promise<Buffer> =>
        (bodyPromise ??= new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => resolve(Buffer.concat(chunks)));
          req.on('error', reject);
        }));
      const query = url.searchParams;
      const ctx: ApiContext = {
        req,
        method,
        path,
        apiVersion: version,
        params: found.params,
        query,
        signal: abort.signal,
        upgrade: upgrade !== undefined,
        body: readBody,
        json: async <T>(validate?: (v: unknown) => T): Promise<T> => {
          const raw = (await readBody()).toString('utf8');
          let value: unknown = {};
          if (raw.trim() !== '') {
            try {
              value = JSON.parse(raw);
            } catch (err) {
              throw new EngineError(
                'TSC_ENGINE_INVALID',
                { kind: 'request', name: path },
                `invalid JSON: ${(err as Error).message}`,
                {
                  cause: err,
                },
              );
            }
          }
          return validate ? validate(value) : (value as T);
        },
        bool: (name, dflt = false) => {
          const v = query.get(name);
          return v === null ? dflt : !FALSE_WORDS.has(v.trim().toLowerCase());
        },
        int: (name, dflt) => {
          const v = query.get(name);
          if (v === null || v === '') return dflt;
          if (!/^-?\d+$/.test(v)) {
            throw new EngineError(
              'TSC_ENGINE_INVALID',
              { kind: 'query', name },
              `invalid value for ${name}: ${JSON.stringify(v)}`,
            );
          }
          return Number(v);
        },
        stream: (status, contentType, headers = {}) => {
          answered = true;
          const all = { ...commonHeaders(), 'Content-Type': contentType, ...headers };
          if (upgrade) {
            const lines = [
              `HTTP/1.1 ${status} OK`,
              ...Object.entries({ ...all, Connection: 'close' }).map(([k, v]) => `${k}: ${v}`),
            ];
            upgrade.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
            return upgrade.socket;
          }
          if (!res) return conn;
          res.writeHead(status, all);
          res.flushHeaders();
          return res;
        },
        hijack: (multiplexed = false) => {
          answered = true;
          const type = multiplexed
            ? 'application/vnd.docker.multiplexed-stream'
            : 'application/vnd.docker.raw-stream';
          if (upgrade) {
            const head = [
              'HTTP/1.1 101 UPGRADED',
              `Content-Type: ${type}`,
              'Connection: Upgrade',
              'Upgrade: tcp',
              ...Object.entries(commonHeaders()).map(([k, v]) => `${k}: ${v}`),
            ];
            upgrade.socket.write(`${head.join('\r\n')}\r\n\r\n`);
            if (upgradeRest.length > 0) upgrade.socket.unshift(upgradeRest);
            return upgrade.socket;
          }
          if (!res) return conn;
          // A raw stream, not chunked: the body runs until the connection closes (as dockerd's).
          res.useChunkedEncodingByDefault = false;
          res.writeHead(200, { ...commonHeaders(), 'Content-Type': type, Connection: 'close' });
          res.flushHeaders();
          return Duplex.from({ readable: req, writable: res });
        },
      };
      const out = await found.handler(ctx);
      if (out !== undefined) reply(out);
      else if (!answered) reply({ status: 204 });
    } catch (err) {
      const { status, message } = errorResponse(err);
      if (status >= 500 && status !== 501 && onError) onError(err, req);
      if (!answered) {
        reply({
          status,
          text: errorBody(message),
          headers: { 'Content-Type': 'application/json' },
        });
      } else if (res && !res.writableEnded) {
        res.destroy();
      } else if (upgrade) {
        upgrade.socket.destroy();
      }
    } finally {
      conn.off('close', onClose);
    }
  }
}
