/**
 * The Archery offline stand-ins (examples/archery/offline) without the engine: builds them (slow the
 * first time, cached after), runs each image's rootfs under chroot in PID/mount namespaces inside a
 * private network namespace, and checks what the compose file relies on; then pushes them into the
 * loopback registry and pulls them back through the engine's image store with that registry as the
 * Docker Hub mirror. Cleans up every process (by pid), the netns and its dirs.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { requireHost } from '../helpers/host';
import { ROOT } from '../helpers/paths';
import { freePort } from '../helpers/registry';
import { ImageStore } from '../../engine/images/store';
import { RegistryClient } from '../../engine/images/registry';

const OFFLINE = path.join(ROOT, 'examples/archery/offline');
const ARCHERY = path.join(ROOT, 'examples/archery');
const CACHE = process.env.TSCOMPOSE_ARCHERY_CACHE ?? '/var/cache/tscompose-archery';
const LAYOUT = path.join(CACHE, 'oci');
const NAMES = ['redis', 'mysql', 'goinception', 'archery'] as const;

const run = requireHost({
  root: true,
  packages: ['debootstrap', 'umoci', 'skopeo', 'docker-registry', 'curl', 'iproute2'],
});
const d = run ? describe : describe.skip;

interface ImageConfig {
  readonly Entrypoint?: string[];
  readonly Cmd?: string[];
  readonly Env?: string[];
  readonly WorkingDir?: string;
  readonly ExposedPorts?: Record<string, object>;
  readonly Labels?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** The layout's tag -> manifest digest map. */
function layoutTags(): Record<string, string> {
  const index = readJson<{
    manifests: { digest: string; annotations?: Record<string, string> }[];
  }>(path.join(LAYOUT, 'index.json'));
  const out: Record<string, string> = {};
  for (const m of index.manifests) {
    const tag = m.annotations?.['org.opencontainers.image.ref.name'];
    if (tag !== undefined) out[tag] = m.digest;
  }
  return out;
}

function blob<T>(digest: string): T {
  return readJson<T>(path.join(LAYOUT, 'blobs', ...digest.split(':')));
}

/** The OCI image config of a layout tag. */
function imageConfig(tag: string): ImageConfig {
  const digest = layoutTags()[tag];
  if (digest === undefined) throw new Error(`no tag ${tag} in ${LAYOUT}`);
  const manifest = blob<{ config: { digest: string } }>(digest);
  return blob<{ config: ImageConfig }>(manifest.config.digest).config;
}

function sh(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { status: number; out: string } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

async function until<T>(what: string, probe: () => T | undefined, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

/** A stand-in running under run-rootfs.sh (the process is `unshare`, parent of the PID ns init). */
interface Service {
  readonly proc: ChildProcess;
  readonly log: string;
  readonly exited: Promise<void>;
}

d('archery offline stand-ins (examples/archery/offline)', () => {
  const netns = `tsc-test-archery-${process.pid}`;
  let work = '';
  const services = new Map<string, Service>();
  const stateEnv = (): NodeJS.ProcessEnv => ({ TSCOMPOSE_ARCHERY_STATE: path.join(work, 'state') });
  let registryAddr = '';

  const inNs = (args: readonly string[]): { status: number; out: string } =>
    sh('ip', ['netns', 'exec', netns, ...args]);
  const rootfs = (name: string): string => path.join(work, name, 'rootfs');

  function start(key: string, image: string, args: readonly string[]): Service {
    const log = path.join(work, `${key}.log`);
    const out = fs.openSync(log, 'a');
    const proc = spawn(
      path.join(OFFLINE, 'run-rootfs.sh'),
      ['--netns', netns, ...args.slice(0, args.indexOf('--'))].concat(
        image,
        path.join(work, image),
        ...args.slice(args.indexOf('--') + 1),
      ),
      { stdio: ['ignore', out, out], env: { ...process.env, TSCOMPOSE_ARCHERY_CACHE: CACHE } },
    );
    fs.closeSync(out);
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const s = { proc, log, exited };
    services.set(key, s);
    return s;
  }

  /** SIGTERM to the PID ns init (unshare's child), SIGKILL after 20 s; waits for unshare. */
  async function stop(key: string): Promise<void> {
    const s = services.get(key);
    if (!s) return;
    services.delete(key);
    const pid = s.proc.pid;
    if (pid === undefined || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
    const children = (): number[] => {
      try {
        return fs
          .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number);
      } catch {
        return [];
      }
    };
    const signal = (sig: NodeJS.Signals): void => {
      for (const c of children()) {
        try {
          process.kill(c, sig);
        } catch {
          // already gone
        }
      }
    };
    signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      s.exited.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 20_000))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      signal('SIGKILL');
      process.kill(pid, 'SIGKILL');
      await s.exited;
    }
  }

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-archery-'));
    const build = spawnSync(path.join(OFFLINE, 'build-images.sh'), [], {
      encoding: 'utf8',
      env: { ...process.env, TSCOMPOSE_ARCHERY_CACHE: CACHE },
      timeout: 45 * 60_000,
    });
    if (build.status !== 0) throw new Error(`build-images.sh failed:\n${build.stderr}`);
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
  }, 50 * 60_000);

  afterAll(async () => {
    await Promise.all([...services.keys()].map((key) => stop(key)));
    if (work !== '') {
      spawnSync(path.join(OFFLINE, 'registry.sh'), ['stop'], {
        env: {
          ...process.env,
          ...stateEnv(),
          TSCOMPOSE_ARCHERY_REGISTRY: registryAddr || '127.0.0.1:1',
        },
      });
    }
    // Anything still in our netns was started by this suite (only run-rootfs.sh and ip use it).
    const left = sh('ip', ['netns', 'pids', netns])
      .out.split(/\s+/)
      .filter((p) => /^\d+$/.test(p));
    for (const pid of left) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    const del = sh('ip', ['netns', 'del', netns]);
    if (work !== '') fs.rmSync(work, { recursive: true, force: true });
    if (del.status !== 0 && fs.existsSync(`/run/netns/${netns}`)) {
      throw new Error(`ip netns del ${netns}: ${del.out}`);
    }
  }, 180_000);

  it('a second build reuses the cache and changes no image', () => {
    const before = layoutTags();
    const r = sh(path.join(OFFLINE, 'build-images.sh'), [], { TSCOMPOSE_ARCHERY_CACHE: CACHE });
    expect(r.status).toBe(0);
    for (const n of NAMES) expect(r.out).toMatch(new RegExp(`${n}: cached`));
    expect(r.out).toMatch(/base \w+: cached/);
    expect(layoutTags()).toEqual(before);
  }, 300_000);

  it('image configs are shaped like the upstream images and labelled as stand-ins', () => {
    const redis = imageConfig('redis');
    expect(redis.Entrypoint).toEqual(['docker-entrypoint.sh']);
    expect(redis.Cmd).toEqual(['redis-server']);
    expect(redis.WorkingDir).toBe('/data');
    expect(Object.keys(redis.ExposedPorts ?? {})).toEqual(['6379/tcp']);
    const mysql = imageConfig('mysql');
    expect(mysql.Entrypoint).toEqual(['docker-entrypoint.sh']);
    expect(mysql.Cmd).toEqual(['mysqld']);
    expect(Object.keys(mysql.ExposedPorts ?? {}).sort()).toEqual(['3306/tcp', '33060/tcp']);
    expect(Object.keys(imageConfig('goinception').ExposedPorts ?? {})).toEqual(['4000/tcp']);
    const archery = imageConfig('archery');
    expect(archery.Entrypoint).toEqual(['bash', '/opt/archery/src/docker/startup.sh']);
    expect(archery.WorkingDir).toBe('/opt/archery');
    expect(Object.keys(archery.ExposedPorts ?? {})).toEqual(['9123/tcp']);
    for (const n of NAMES) {
      const c = imageConfig(n);
      expect(c.Labels?.['io.tscompose.standin']).toBe('true');
      expect(c.Env?.some((e) => e.startsWith('PATH=/usr/local/sbin:'))).toBe(true);
    }
  });

  it('redis answers AUTH + PING and its healthcheck command exits 0', async () => {
    start('redis', 'redis', ['--', 'redis-server', '--requirepass', '123456']);
    const cli = ['chroot', rootfs('redis'), 'redis-cli'];
    const pong = await until('redis', () => {
      const r = inNs([...cli, '-a', '123456', '--no-auth-warning', 'ping']);
      return r.out.trim() === 'PONG' ? r.out.trim() : undefined;
    });
    expect(pong).toBe('PONG');
    const health = inNs([...cli, 'ping']);
    expect(health.status).toBe(0);
    expect(health.out).toMatch(/NOAUTH/);
    const mode = inNs([
      ...cli,
      '-a',
      '123456',
      '--no-auth-warning',
      'config',
      'get',
      'protected-mode',
    ]);
    expect(mode.out.split('\n').map((l) => l.trim())).toContain('no');
    const listen = inNs(['ss', '-Hltn', 'sport = :6379']);
    expect(listen.out).toMatch(/0\.0\.0\.0:6379/);
  }, 180_000);

  it('mysql initialises an empty data dir, honours my.cnf and keeps data across a restart', async () => {
    const datadir = path.join(work, 'datadir');
    fs.mkdirSync(datadir);
    const args = [
      '-v',
      `${path.join(ARCHERY, 'mysql/my.cnf')}:/etc/mysql/my.cnf`,
      '-v',
      `${datadir}:/var/lib/mysql`,
      '-e',
      'MYSQL_DATABASE=archery',
      '-e',
      'MYSQL_ROOT_PASSWORD=123456',
      '--',
    ];
    start('mysql', 'mysql', args);
    const client = [
      'chroot',
      rootfs('mysql'),
      'mysql',
      '-h127.0.0.1',
      '-P3306',
      '-uroot',
      '-p123456',
    ];
    const query = (sql: string): { status: number; out: string } =>
      inNs([...client, '-N', '-B', 'archery', '-e', sql]);
    await until(
      'mysql over TCP',
      () => (query('select 1').status === 0 ? true : undefined),
      180_000,
    );
    expect(query('select 1').out.trim()).toBe('1');
    expect(query('show databases').out.split('\n')).toContain('archery');
    // /etc/mysql/my.cnf (ours, mounted) is the one read.
    expect(query('select @@lower_case_table_names, @@time_zone').out.trim()).toBe('1\t+08:00');
    expect(
      query("select count(*) from mysql.user where user = 'root' and host = '%'").out.trim(),
    ).toBe('1');
    const wrong = inNs([
      'chroot',
      rootfs('mysql'),
      'mysql',
      '-h127.0.0.1',
      '-uroot',
      '-pwrong',
      '-e',
      'select 1',
    ]);
    expect(wrong.status).not.toBe(0);
    // The compose healthcheck: `mysqladmin ping` (no password) exits 0 on a live server.
    expect(inNs(['chroot', rootfs('mysql'), 'mysqladmin', 'ping']).status).toBe(0);
    expect(query('create table t (v int); insert into t values (42)').status).toBe(0);

    await stop('mysql');
    start('mysql', 'mysql', args);
    await until(
      'mysql after restart',
      () => (query('select 1').status === 0 ? true : undefined),
      120_000,
    );
    expect(query('select v from t').out.trim()).toBe('42');
    expect(fs.readFileSync(services.get('mysql')!.log, 'utf8')).not.toMatch(
      /Initializing database files[\s\S]*Initializing database files/,
    );
  }, 400_000);

  it('goinception accepts TCP on 4000 and says it is a stand-in', async () => {
    start('goinception', 'goinception', [
      '-v',
      `${path.join(ARCHERY, 'inception/config.toml')}:/etc/config.toml`,
      '--',
    ]);
    const probe = [
      'chroot',
      rootfs('goinception'),
      'python3',
      '-c',
      'import socket; s = socket.create_connection(("127.0.0.1", 4000), 2); print(s.recv(512)[7:].decode())',
    ];
    const banner = await until('goinception', () => {
      const r = inNs(probe);
      return r.status === 0 ? r.out : undefined;
    });
    expect(banner).toMatch(/goinception stand-in/);
  }, 120_000);

  it('archery reports mysql, redis and goinception reachable by service name (.env unchanged)', async () => {
    // The compose service names, resolved the way the engine's DNS would: to this netns' loopback.
    const hosts = path.join(work, 'hosts');
    fs.writeFileSync(hosts, '127.0.0.1\tlocalhost mysql redis goinception archery\n');
    const envFile = fs
      .readFileSync(path.join(ARCHERY, '.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l));
    start('archery', 'archery', [
      '-v',
      `${hosts}:/etc/hosts`,
      ...envFile.flatMap((e) => ['-e', e]),
      '--',
    ]);
    const get = (url: string, accept?: string): { status: number; out: string } =>
      inNs([
        'curl',
        '-fsS',
        '--max-time',
        '20',
        ...(accept ? ['-H', `Accept: ${accept}`] : []),
        url,
      ]);
    const report = await until(
      'archery all reachable',
      () => {
        const r = get('http://127.0.0.1:9123/?format=json');
        if (r.status !== 0) return undefined;
        const j = JSON.parse(r.out) as {
          ok: boolean;
          checks: Record<string, { reachable: boolean }>;
        };
        return j.ok ? j : undefined;
      },
      120_000,
    );
    expect(Object.keys(report.checks).sort()).toEqual(['goinception', 'mysql', 'redis']);
    for (const c of Object.values(report.checks)) expect(c.reachable).toBe(true);
    const byAccept = JSON.parse(get('http://127.0.0.1:9123/', 'application/json').out) as {
      standin: string;
    };
    expect(byAccept.standin).toMatch(/stand-in/);
    const page = get('http://127.0.0.1:9123/');
    expect(page.out).toMatch(/<html/);
    expect(page.out).toMatch(/stand-in/);
    expect(page.out).toMatch(/all reachable/);
  }, 200_000);

  it('archery takes its targets from the environment and reports what it cannot reach', async () => {
    start('archery-env', 'archery', [
      '-e',
      'NGINX_PORT=9124',
      '-e',
      'DATABASE_URL=mysql://root:123456@127.0.0.1:3306/archery',
      '-e',
      'CACHE_URL=redis://127.0.0.1:6379/0?PASSWORD=wrong',
      '-e',
      'GOINCEPTION_HOST=127.0.0.1',
      '-e',
      'GOINCEPTION_PORT=4000',
      '--',
    ]);
    const report = await until('archery on 9124', () => {
      const r = inNs(['curl', '-fsS', '--max-time', '20', 'http://127.0.0.1:9124/?format=json']);
      return r.status === 0
        ? (JSON.parse(r.out) as {
            ok: boolean;
            checks: Record<string, { reachable: boolean; detail: string }>;
          })
        : undefined;
    });
    expect(report.checks.mysql?.reachable).toBe(true);
    expect(report.checks.goinception?.reachable).toBe(true);
    expect(report.checks.redis?.reachable).toBe(false);
    expect(report.checks.redis?.detail).toMatch(/AUTH/);
    expect(report.ok).toBe(false);
    await stop('archery-env');
  }, 120_000);

  it('the registry serves the stand-ins under the upstream names and the image store pulls them as Docker Hub images', async () => {
    registryAddr = `127.0.0.1:${await freePort()}`;
    const env = {
      ...stateEnv(),
      TSCOMPOSE_ARCHERY_REGISTRY: registryAddr,
      TSCOMPOSE_ARCHERY_CACHE: CACHE,
    };
    const reg = (...args: string[]): { status: number; out: string } =>
      sh(path.join(OFFLINE, 'registry.sh'), args, env);
    expect(reg('status').status).toBe(3);
    expect(reg('start').status).toBe(0);
    expect(reg('start').out).toMatch(/already running/);
    const pushed = reg('push');
    expect(pushed.status).toBe(0);
    const refs: Record<(typeof NAMES)[number], [string, string]> = {
      redis: ['library/redis', '5'],
      mysql: ['library/mysql', '5.7'],
      goinception: ['hanchuanchuan/goinception', 'latest'],
      archery: ['hhyo/archery', 'v1.14.0'],
    };
    const tags = layoutTags();
    for (const n of NAMES) {
      const [repo, tag] = refs[n];
      const res = await fetch(`http://${registryAddr}/v2/${repo}/manifests/${tag}`, {
        headers: {
          Accept:
            'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
        },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { config: { digest: string } };
      const local = blob<{ config: { digest: string } }>(tags[n]!);
      expect(body.config.digest).toBe(local.config.digest);
    }

    // The engine's pull path with the registry as Docker Hub mirror; nothing else is reachable.
    const guarded: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.host !== registryAddr) {
        return Promise.reject(new Error(`test: no network beyond the mirror (${url.host})`));
      }
      return fetch(input, init);
    };
    const storeRoot = path.join(work, 'store');
    const store = new ImageStore({
      root: storeRoot,
      registry: new RegistryClient({
        config: { registryMirrors: [`http://${registryAddr}`], insecureRegistries: [registryAddr] },
        credentials: () => undefined,
        fetch: guarded,
        attempts: 1,
      }),
    });
    for (const ref of [
      'redis:5',
      'mysql:5.7',
      'hanchuanchuan/goinception',
      'hhyo/archery:v1.14.0',
    ]) {
      await store.pull(ref);
    }
    const inspected = await store.inspect('hhyo/archery:v1.14.0');
    expect(inspected.Config?.Entrypoint).toEqual(['bash', '/opt/archery/src/docker/startup.sh']);
    expect((await store.inspect('redis:5')).RepoTags).toContain('redis:5');

    expect(reg('stop').status).toBe(0);
    expect(reg('status').status).toBe(3);
  }, 600_000);
});

describe('archery offline: the Debian mirror is read from apt sources (lib.sh)', () => {
  let root = '';
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-archery-apt-'));
    fs.mkdirSync(path.join(root, 'etc/apt/sources.list.d'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'etc/apt/sources.list'),
      '# comment\n' +
        'deb [arch=amd64 signed-by=/k.gpg] http://one.invalid/debian bookworm main contrib\n' +
        'deb-src http://src.invalid/debian bookworm main\n',
    );
    fs.writeFileSync(
      path.join(root, 'etc/apt/sources.list.d/d.sources'),
      'Types: deb deb-src\nURIs: http://two.invalid/debian\n  http://three.invalid/debian\n' +
        'Suites: bookworm bookworm-updates\nComponents: main\n\n' +
        'Types: deb\nEnabled: no\nURIs: http://off.invalid/debian\nSuites: bookworm\nComponents: main\n\n' +
        'Types: deb\n# note\nURIs: http://sec.invalid/debian-security\nSuites: bookworm-security\n' +
        'Components: main\n',
    );
    fs.writeFileSync(
      path.join(root, 'etc/apt/sources.list.d/other.sources.disabled'),
      'Types: deb\nURIs: http://ignored.invalid/x\nSuites: bookworm\nComponents: main\n',
    );
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const lib = (fn: string): string[] =>
    execFileSync('bash', ['-c', `. "${OFFLINE}/lib.sh"; ${fn}`], {
      encoding: 'utf8',
      env: { ...process.env, TSCOMPOSE_ARCHERY_APT_ROOT: root },
    })
      .trim()
      .split('\n');

  it('lists enabled deb entries from one-line and deb822 files', () => {
    expect(lib('apt_deb_entries')).toEqual([
      'http://one.invalid/debian bookworm main contrib',
      'http://two.invalid/debian bookworm main',
      'http://two.invalid/debian bookworm-updates main',
      'http://three.invalid/debian bookworm main',
      'http://three.invalid/debian bookworm-updates main',
      'http://sec.invalid/debian-security bookworm-security main',
    ]);
  });

  it('picks the first mirror serving the suite and writes the build sources', () => {
    expect(lib('debian_mirror bookworm')).toEqual(['http://one.invalid/debian']);
    expect(lib('debian_sources_list bookworm')).toContain(
      'deb http://sec.invalid/debian-security bookworm-security main',
    );
    expect(lib('debian_sources_list bookworm')).not.toContain(
      'deb http://off.invalid/debian bookworm main',
    );
  });
});
