import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EngineError } from '../../../../base/errors';
import { errorResponse } from '../../../../engine/api/errors';
import { Router } from '../../../../engine/api/router';
import { registerUnimplemented, PLANNED_ROUTES } from '../../../../engine/api/routes/unimplemented';
import { listenApi, type ApiServer } from '../../../../engine/api/server';
import {
  API_VERSION,
  MIN_API_VERSION,
  compareApiVersions,
  splitVersion,
} from '../../../../engine/api/version';
import { call } from './http-client';

describe('engine/api version prefix', () => {
  it('strips a supported prefix and defaults unprefixed paths to the current version', () => {
    expect(splitVersion('/v1.41/volumes')).toEqual({ version: '1.41', path: '/volumes' });
    expect(splitVersion(`/v${API_VERSION}/_ping`)).toEqual({
      version: API_VERSION,
      path: '/_ping',
    });
    expect(splitVersion('/volumes')).toEqual({ version: API_VERSION, path: '/volumes' });
  });

  it("rejects versions outside the range with Docker's messages", () => {
    expect(() => splitVersion('/v1.12/info')).toThrow(
      `client version 1.12 is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
    expect(() => splitVersion('/v9.99/info')).toThrow(
      `client version 9.99 is too new. Maximum supported API version is ${API_VERSION}`,
    );
  });

  it('compares versions numerically, not as strings', () => {
    expect(compareApiVersions('1.9', '1.41')).toBeLessThan(0);
    expect(compareApiVersions('1.41', '1.41')).toBe(0);
    expect(compareApiVersions('2.0', '1.99')).toBeGreaterThan(0);
  });
});

describe('engine/api Router matching', () => {
  const router = new Router()
    .add('GET', '/containers/{id}/json', (c) => ({ json: c.params }))
    .add('GET', '/images/{name*}/json', (c) => ({ json: c.params }));

  it('binds one-segment and greedy parameters, URI-decoded', () => {
    expect(router.match('GET', '/containers/abc/json')?.params).toEqual({ id: 'abc' });
    expect(router.match('GET', '/images/library/busybox:1.36/json')?.params).toEqual({
      name: 'library/busybox:1.36',
    });
    expect(router.match('GET', '/containers/a%2Fb/json')?.params).toEqual({ id: 'a/b' });
    expect(router.match('GET', '/containers/a/b/json')).toBeUndefined();
  });

  it('answers HEAD with the GET route and not other methods', () => {
    expect(router.match('HEAD', '/containers/x/json')).toBeDefined();
    expect(router.match('POST', '/containers/x/json')).toBeUndefined();
  });

  it('replaces a route registered twice (real handlers replace the 501 placeholders)', () => {
    const r = new Router();
    registerUnimplemented(r);
    const before = r.list().length;
    r.add('GET', '/containers/json', () => ({ json: [] }));
    expect(r.list()).toHaveLength(before);
    expect(before).toBe(PLANNED_ROUTES.length);
  });
});

describe('engine/api error mapping', () => {
  it.each([
    ['TSC_ENGINE_INVALID', 400],
    ['TSC_ENGINE_NOT_FOUND', 404],
    ['TSC_IMAGE_NOT_FOUND', 404],
    ['TSC_ENGINE_CONFLICT', 409],
    ['TSC_ENGINE_UNSUPPORTED', 501],
    ['TSC_CGROUP', 500],
  ] as const)('%s -> %d', (code, status) => {
    expect(errorResponse(new EngineError(code, { kind: 'x', name: 'y' }, 'msg')).status).toBe(
      status,
    );
  });

  it('treats a non-TscError as a 500', () => {
    expect(errorResponse(new TypeError('boom'))).toEqual({ status: 500, message: 'boom' });
  });
});

describe('engine/api server dispatch', () => {
  let dir: string;
  let api: ApiServer;
  let socket: string;
  const errors: unknown[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-test-api-'));
    socket = join(dir, 'api.sock');
    const router = new Router();
    registerUnimplemented(router);
    router
      .add('GET', '/hello/{who}', (c) => ({
        json: { who: c.params.who, v: c.apiVersion, flag: c.bool('flag'), n: c.int('n', 7) },
      }))
      .add('POST', '/echo', async (c) => ({ status: 201, json: await c.json() }))
      .add('GET', '/missing', () => {
        throw new EngineError(
          'TSC_ENGINE_NOT_FOUND',
          { kind: 'thing', name: 'x' },
          'no such thing: x',
        );
      })
      .add('GET', '/bug', () => {
        throw new TypeError('unexpected');
      })
      .add('GET', '/lines', (c) => {
        const out = c.stream(200, 'application/json');
        out.write('{"a":1}\n');
        out.end('{"a":2}\n');
        return undefined;
      })
      .add('POST', '/rawjson', async (c) => {
        const body = await c.json();
        const conn = c.hijack();
        let data = '';
        conn.on('data', (d: Buffer) => {
          data += d.toString();
          if (data.endsWith('!')) conn.end(`json:${JSON.stringify(body)} stream:${data}`);
        });
        return undefined;
      })
      .add('POST', '/raw', (c) => {
        const conn = c.hijack();
        conn.on('data', (d: Buffer) => conn.end(`echo:${d.toString()}`));
        return undefined;
      });
    api = await listenApi(router, { socket, onError: (e) => errors.push(e) });
  });

  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves prefixed and unprefixed paths with params, query helpers and common headers', async () => {
    const a = await call(socket, 'GET', '/v1.41/hello/bob?flag=1&n=3');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ who: 'bob', v: '1.41', flag: true, n: 3 });
    expect(a.headers['api-version']).toBe(API_VERSION);
    expect(a.headers.ostype).toBe('linux');
    const b = await call(socket, 'GET', '/hello/ann?flag=false');
    expect(JSON.parse(b.body)).toEqual({ who: 'ann', v: API_VERSION, flag: false, n: 7 });
  });

  it('answers 400 with a message for a bad integer and for invalid JSON', async () => {
    const a = await call(socket, 'GET', '/hello/x?n=abc');
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body)).toEqual({ message: 'invalid value for n: "abc"' });
    const b = await call(socket, 'POST', '/echo', '{oops', { 'Content-Type': 'application/json' });
    expect(b.status).toBe(400);
    expect((JSON.parse(b.body) as { message: string }).message).toMatch(/^invalid JSON: /);
    expect(b.headers['content-type']).toBe('application/json');
  });

  it('parses JSON bodies (empty body = {})', async () => {
    expect(JSON.parse((await call(socket, 'POST', '/echo', '{"x":[1]}')).body)).toEqual({ x: [1] });
    expect(JSON.parse((await call(socket, 'POST', '/echo')).body)).toEqual({});
  });

  it('maps errors to Docker status codes and {"message"} bodies', async () => {
    const nf = await call(socket, 'GET', '/missing');
    expect([nf.status, JSON.parse(nf.body)]).toEqual([404, { message: 'no such thing: x' }]);
    const page = await call(socket, 'GET', '/nowhere');
    expect([page.status, JSON.parse(page.body)]).toEqual([404, { message: 'page not found' }]);
    const old = await call(socket, 'GET', '/v1.10/hello/x');
    expect(old.status).toBe(400);
    expect((JSON.parse(old.body) as { message: string }).message).toContain('is too old');
    const bug = await call(socket, 'GET', '/bug');
    expect([bug.status, JSON.parse(bug.body)]).toEqual([500, { message: 'unexpected' }]);
    expect(errors.some((e) => e instanceof TypeError)).toBe(true);
  });

  it('answers planned but unimplemented routes with 501 naming the operation', async () => {
    const r = await call(socket, 'POST', '/v1.41/containers/create', '{}');
    expect(r.status).toBe(501);
    expect((JSON.parse(r.body) as { message: string }).message).toBe(
      'ContainerCreate (POST /containers/create) is not implemented by the tscompose engine yet',
    );
  });

  it('streams a body as written', async () => {
    const r = await call(socket, 'GET', '/lines');
    expect(
      r.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('hijacks an Upgrade: tcp request with 101 UPGRADED and a raw stream', async () => {
    const got = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      data: string;
    }>((resolve, reject) => {
      const req = request({
        socketPath: socket,
        method: 'POST',
        path: '/v1.41/raw',
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
      });
      req.on('upgrade', (res, conn) => {
        let data = '';
        conn.on('data', (d: Buffer) => (data += d.toString()));
        conn.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, data }));
        conn.write('ping');
      });
      req.on('error', reject);
      req.end();
    });
    expect(got.status).toBe(101);
    expect(got.headers['content-type']).toBe('application/vnd.docker.raw-stream');
    expect(got.headers.upgrade).toBe('tcp');
    expect(got.data).toBe('echo:ping');
  });

  /** Writes `parts` on a raw connection, 20 ms apart, and returns everything read back. */
  const exchange = (parts: string[]): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const conn = connect(socket);
      let data = '';
      conn.on('data', (d: Buffer) => (data += d.toString()));
      conn.on('end', () => resolve(data));
      conn.on('error', reject);
      const next = (i: number): void => {
        const part = parts[i];
        if (part === undefined) return;
        conn.write(part);
        setTimeout(() => next(i + 1), 20);
      };
      next(0);
    });
  const upgradeHead = (extra: string): string =>
    `POST /v1.43/rawjson HTTP/1.1\r\nHost: engine\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
    `Content-Type: application/json\r\n${extra}\r\n`;
  const streamOf = (raw: string): string => raw.slice(raw.indexOf('\r\n\r\n') + 4);

  describe('the body of an upgrade request is not part of the stream', () => {
    const json = '{"Detach":false,"Tty":false}';
    it('Content-Length: body and stream bytes in one write (docker CLI, dockerode exec start)', async () => {
      const raw = await exchange([
        `${upgradeHead(`Content-Length: ${json.length}\r\n`)}${json}hi!`,
      ]);
      expect(raw).toMatch(/^HTTP\/1\.1 101 UPGRADED\r\n/);
      expect(streamOf(raw)).toBe(`json:${json} stream:hi!`);
    });
    it('Content-Length: a body that arrives in pieces after the headers', async () => {
      const head = upgradeHead(`Content-Length: ${json.length}\r\n`);
      const raw = await exchange([
        head + json.slice(0, 5),
        json.slice(5, 12),
        json.slice(12),
        'x!',
      ]);
      expect(streamOf(raw)).toBe(`json:${json} stream:x!`);
    });
    it('chunked without a body (dockerode attach): the terminating chunk is not stdin', async () => {
      const raw = await exchange([`${upgradeHead('Transfer-Encoding: chunked\r\n')}0\r\n\r\nin!`]);
      expect(streamOf(raw)).toBe('json:{} stream:in!');
    });
    it('chunked with a body split across writes and a trailer field', async () => {
      const size = json.length.toString(16);
      const raw = await exchange([
        `${upgradeHead('Transfer-Encoding: chunked\r\n')}${size}\r\n${json.slice(0, 9)}`,
        `${json.slice(9)}\r\n0\r`,
        '\nX-Trailer: 1\r\n\r\nab',
        'c!',
      ]);
      expect(streamOf(raw)).toBe(`json:${json} stream:abc!`);
    });
    it('a malformed chunk size is answered 400, nothing hijacked', async () => {
      const raw = await exchange([`${upgradeHead('Transfer-Encoding: chunked\r\n')}zz\r\n`]);
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toContain('bad chunk size zz');
    });
  });

  it('hijacks without Upgrade as a 200 raw stream that is not chunked', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const conn = connect(socket);
      let data = '';
      conn.on('data', (d: Buffer) => {
        data += d.toString();
        if (data.includes('\r\n\r\n') && !data.includes('echo:')) conn.write('4\r\npong\r\n');
      });
      conn.on('end', () => resolve(data));
      conn.on('error', reject);
      conn.write(
        'POST /raw HTTP/1.1\r\nHost: engine\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n',
      );
    });
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toContain('Content-Type: application/vnd.docker.raw-stream');
    expect(head).not.toMatch(/Transfer-Encoding/i);
    expect(body).toBe('echo:pong');
  });
});
