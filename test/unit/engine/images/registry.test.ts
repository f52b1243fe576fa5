import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContentStore } from '../../../../engine/images/content-store.js';
import { sha256Digest } from '../../../../engine/images/oci.js';
import { parseReference } from '../../../../engine/images/reference.js';
import {
  RegistryClient,
  dockerConfigCredentials,
  isInsecureRegistry,
  parseRegistryConfig,
  parseWwwAuthenticate,
  registryEndpoints,
  runLimited,
} from '../../../../engine/images/registry.js';

describe('parseWwwAuthenticate', () => {
  it('parses a Bearer challenge', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:library/alpine:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:library/alpine:pull',
        },
      },
    ]);
  });
  it('parses Basic with a realm', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
  });
});

describe('endpoints', () => {
  it('puts Docker Hub mirrors first and adds https', () => {
    expect(
      registryEndpoints('docker.io', {
        registryMirrors: ['mirror.example:5000', 'http://127.0.0.1:1/'],
      }),
    ).toEqual([
      'https://mirror.example:5000',
      'http://127.0.0.1:1',
      'https://registry-1.docker.io',
    ]);
  });
  it('applies mirrors only to Docker Hub', () => {
    expect(registryEndpoints('ghcr.io', { registryMirrors: ['m.example'] })).toEqual([
      'https://ghcr.io',
    ]);
  });
  it('allows plain HTTP for loopback and configured registries', () => {
    expect(registryEndpoints('127.0.0.1:5000')).toEqual([
      'https://127.0.0.1:5000',
      'http://127.0.0.1:5000',
    ]);
    expect(isInsecureRegistry('localhost:5000')).toBe(true);
    expect(isInsecureRegistry('[::1]:5000')).toBe(true);
    expect(isInsecureRegistry('10.1.2.3:5000')).toBe(false);
    expect(isInsecureRegistry('10.1.2.3:5000', { insecureRegistries: ['10.0.0.0/8'] })).toBe(true);
    expect(isInsecureRegistry('reg.corp:5000', { insecureRegistries: ['reg.corp:5000'] })).toBe(
      true,
    );
  });
  it('reads daemon.json keys', () => {
    expect(
      parseRegistryConfig({ 'registry-mirrors': ['a'], 'insecure-registries': ['b'] }),
    ).toEqual({
      registryMirrors: ['a'],
      insecureRegistries: ['b'],
    });
  });
});

describe('dockerConfigCredentials', () => {
  it('reads auths.<host>.auth and the Docker Hub key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-dc-'));
    try {
      const file = path.join(dir, 'config.json');
      const b64 = (s: string): string => Buffer.from(s).toString('base64');
      fs.writeFileSync(
        file,
        JSON.stringify({
          auths: {
            'https://index.docker.io/v1/': { auth: b64('hub:pw') },
            'localhost:5000': { auth: b64('u:p:with:colons') },
            'http://reg.example/v2/': { username: 'x', password: 'y' },
          },
        }),
      );
      const lookup = dockerConfigCredentials(file);
      expect(lookup('docker.io')).toEqual({ username: 'hub', password: 'pw' });
      expect(lookup('localhost:5000')).toEqual({ username: 'u', password: 'p:with:colons' });
      expect(lookup('reg.example')).toEqual({ username: 'x', password: 'y' });
      expect(lookup('other')).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

type Handler = (url: URL, init: RequestInit) => Response;

function fakeFetch(
  handler: Handler,
  log: Array<{ url: string; auth: string | undefined }>,
): typeof fetch {
  const impl = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const headers = (init?.headers ?? {}) as Record<string, string>;
    log.push({ url: url.href, auth: headers.authorization });
    return Promise.resolve(handler(url, init ?? {}));
  };
  return impl;
}

describe('RegistryClient (fake transport)', () => {
  const ref = parseReference('reg.example/team/app:1');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {},
      layers: [],
    }),
  );

  it('answers a Bearer challenge with a token from the realm, sending credentials', async () => {
    const log: Array<{ url: string; auth: string | undefined }> = [];
    const client = new RegistryClient({
      credentials: () => ({ username: 'u', password: 'p' }),
      fetch: fakeFetch((url, init) => {
        const auth = (init.headers as Record<string, string>).authorization;
        if (url.host === 'auth.example') {
          expect(url.searchParams.get('scope')).toBe('repository:team/app:pull');
          expect(url.searchParams.get('service')).toBe('svc');
          expect(auth).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
          return Response.json({ token: 'T1' });
        }
        if (auth !== 'Bearer T1') {
          return new Response('', {
            status: 401,
            headers: {
              'www-authenticate': 'Bearer realm="https://auth.example/token",service="svc"',
            },
          });
        }
        return new Response(manifest, {
          headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        });
      }, log),
    });
    const m = await client.fetchManifest(ref);
    expect(m.digest).toBe(sha256Digest(manifest));
    expect(log.map((l) => new URL(l.url).host)).toEqual([
      'reg.example',
      'auth.example',
      'reg.example',
    ]);
    await client.fetchManifest(ref);
    expect(log).toHaveLength(4);
  });

  it('follows a blob redirect without forwarding Authorization to the other host', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-rc-'));
    try {
      const store = new ContentStore({ root });
      const blob = Buffer.from('layer-bytes');
      const digest = sha256Digest(blob);
      const log: Array<{ url: string; auth: string | undefined }> = [];
      const client = new RegistryClient({
        credentials: () => ({ username: 'u', password: 'p' }),
        fetch: fakeFetch((url, init) => {
          const auth = (init.headers as Record<string, string>).authorization;
          if (url.host === 'cdn.example') return new Response(blob);
          if (!auth)
            return new Response('', {
              status: 401,
              headers: { 'www-authenticate': 'Basic realm="r"' },
            });
          return new Response('', {
            status: 307,
            headers: { location: 'https://cdn.example/blob?sig=1' },
          });
        }, log),
      });
      const w = await store.writer({ digest, size: blob.length });
      await client.fetchBlob(ref, { mediaType: 'x', digest, size: blob.length }, w);
      expect(await store.has(digest)).toBe(true);
      expect(log.at(-1)).toEqual({ url: 'https://cdn.example/blob?sig=1', auth: undefined });
      expect(log.at(-2)?.auth).toMatch(/^Basic /);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('retries server errors with backoff and then succeeds', async () => {
    let calls = 0;
    const client = new RegistryClient({
      credentials: () => undefined,
      backoffMs: 1,
      fetch: fakeFetch(() => {
        calls++;
        if (calls < 3) return new Response('', { status: 503 });
        return new Response(manifest, {
          headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        });
      }, []),
    });
    await client.fetchManifest(ref);
    expect(calls).toBe(3);
  });

  it('rejects a manifest whose digest does not match the requested digest', async () => {
    const client = new RegistryClient({
      credentials: () => undefined,
      fetch: fakeFetch(() => new Response(manifest), []),
    });
    const want = sha256Digest('other');
    await expect(
      client.fetchManifest(parseReference(`reg.example/x@${want}`)),
    ).rejects.toMatchObject({
      code: 'TSC_IMAGE_DIGEST',
    });
  });

  it('reports a missing manifest as a pull error', async () => {
    const client = new RegistryClient({
      credentials: () => undefined,
      fetch: fakeFetch(
        () =>
          Response.json(
            { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] },
            { status: 404 },
          ),
        [],
      ),
    });
    await expect(client.fetchManifest(ref)).rejects.toThrow(
      'pull reg.example/team/app:1: manifest unknown',
    );
  });
});

describe('runLimited', () => {
  it('never runs more than the limit at once', async () => {
    let active = 0;
    let peak = 0;
    await runLimited([1, 2, 3, 4, 5, 6], 2, async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r));
      active--;
    });
    expect(peak).toBe(2);
  });
});
