import { execFileSync } from 'node:child_process';
import { createSign, X509Certificate, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireHost } from '../../helpers/host.js';
import { freePort, startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { seedBusybox, type BuiltImage } from '../../fixtures/images/build.js';
import { ImageStore } from '../../../engine/images/store.js';
import { RegistryClient, type Credentials } from '../../../engine/images/registry.js';

const run = requireHost({
  root: true,
  packages: ['docker-registry', 'busybox-static', 'attr', 'apache2-utils', 'openssl'],
});
const d = run ? describe : describe.skip;

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** A token issuer (token-spec): signs RS256 JWTs carrying the cert in `x5c`. */
async function startTokenIssuer(dir: string, service: string, issuer: string) {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=tsc-test-token',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
  const certPem = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  const der = new X509Certificate(certPem).raw;
  const requests: Array<{ user: string | undefined; scope: string | null }> = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    let user: string | undefined;
    if (auth?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (u !== 'alice' || p !== 'secret') {
        res.writeHead(401).end();
        return;
      }
      user = u;
    }
    const scope = url.searchParams.get('scope');
    requests.push({ user, scope });
    const access = [];
    if (scope) {
      const [type, name, actions] = scope.split(':');
      // anonymous users may pull only public/*; alice may do anything
      const allowed = (actions ?? '')
        .split(',')
        .filter((a) => user !== undefined || (a === 'pull' && name?.startsWith('public/')));
      access.push({ type, name, actions: allowed });
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signing).sign(key);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token: `${signing}.${b64url(sig)}`,
        expires_in: 300,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPem,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

d('registry authentication', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-auth-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('Basic (htpasswd)', () => {
    let reg: TestRegistry;
    let image: BuiltImage;
    const creds: Credentials = { username: 'bob', password: 'hunter2' };
    beforeAll(async () => {
      reg = await startRegistry({ auth: { kind: 'htpasswd', ...creds } });
      image = await seedBusybox(new RegistryClient({ credentials: () => creds }), reg.host);
    });
    afterAll(async () => reg?.stop());

    it('pulls with credentials', async () => {
      const store = new ImageStore({
        root: tmp,
        registry: { credentials: (h) => (h === reg.host ? creds : undefined) },
      });
      expect(await store.pull(`${reg.host}/busybox:1.36`)).toBe(image.configDigest);
    });

    it('reads credentials from a docker config.json', async () => {
      const file = path.join(tmp, 'config.json');
      fs.writeFileSync(
        file,
        JSON.stringify({
          auths: { [reg.host]: { auth: Buffer.from('bob:hunter2').toString('base64') } },
        }),
      );
      const { dockerConfigCredentials } = await import('../../../engine/images/registry.js');
      const store = new ImageStore({
        root: tmp,
        registry: { credentials: dockerConfigCredentials(file) },
      });
      expect(await store.pull(`${reg.host}/busybox:latest`)).toBe(image.configDigest);
    });

    it('fails without or with wrong credentials', async () => {
      const anon = new ImageStore({ root: tmp, registry: { credentials: () => undefined } });
      await expect(anon.pull(`${reg.host}/busybox:1.36`)).rejects.toMatchObject({
        code: 'TSC_IMAGE_PULL',
      });
      const wrong = new ImageStore({
        root: tmp,
        registry: { credentials: () => ({ username: 'bob', password: 'x' }) },
      });
      await expect(wrong.pull(`${reg.host}/busybox:1.36`)).rejects.toMatchObject({
        code: 'TSC_IMAGE_PULL',
      });
      expect(await anon.records()).toEqual([]);
    });
  });

  describe('Bearer tokens', () => {
    let reg: TestRegistry;
    let issuer: Awaited<ReturnType<typeof startTokenIssuer>>;
    let keyDir: string;
    let image: BuiltImage;
    const alice: Credentials = { username: 'alice', password: 'secret' };
    beforeAll(async () => {
      keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-token-'));
      issuer = await startTokenIssuer(keyDir, 'tsc-test-registry', 'tsc-test-issuer');
      reg = await startRegistry({
        auth: {
          kind: 'token',
          realm: issuer.realm,
          service: 'tsc-test-registry',
          issuer: 'tsc-test-issuer',
          rootCertPem: issuer.certPem,
        },
      });
      const pusher = new RegistryClient({ credentials: () => alice });
      image = await seedBusybox(pusher, reg.host, 'public/busybox');
      await seedBusybox(pusher, reg.host, 'private/busybox');
    });
    afterAll(async () => {
      await reg?.stop();
      await issuer?.close();
      fs.rmSync(keyDir, { recursive: true, force: true });
    });

    it('pulls anonymously where the issuer grants anonymous pull', async () => {
      const store = new ImageStore({ root: tmp, registry: { credentials: () => undefined } });
      expect(await store.pull(`${reg.host}/public/busybox:1.36`)).toBe(image.configDigest);
      expect(
        issuer.requests.some(
          (r) => r.user === undefined && r.scope === 'repository:public/busybox:pull',
        ),
      ).toBe(true);
    });

    it('sends credentials to the token realm and pulls private repositories', async () => {
      const anon = new ImageStore({ root: tmp, registry: { credentials: () => undefined } });
      await expect(anon.pull(`${reg.host}/private/busybox:1.36`)).rejects.toMatchObject({
        code: 'TSC_IMAGE_PULL',
      });
      const store = new ImageStore({ root: tmp, registry: { credentials: () => alice } });
      expect(await store.pull(`${reg.host}/private/busybox:1.36`)).toBe(image.configDigest);
      expect(
        issuer.requests.some(
          (r) => r.user === 'alice' && r.scope === 'repository:private/busybox:pull',
        ),
      ).toBe(true);
    });
  });
});
