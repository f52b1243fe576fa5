/**
 * The Archery acceptance (issue 8) end to end, through the CLI and our engine: the offline scripts
 * build or reuse the stand-ins, serve them from a loopback registry and bring the unmodified compose
 * file up on a copy of examples/archery, with an engine on a temp data root, socket and config. Then
 * reachability, the host mysql client, DNS between containers, persistence across down + up,
 * restart: always, ps/logs -f/exec, and a down that leaves nothing behind. Cleans up everything.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { Agent, request } from 'node:http';
import * as path from 'node:path';

import Dockerode from 'dockerode';

import { requireHost } from '../helpers/host';
import { ROOT } from '../helpers/paths';
import { freePort } from '../helpers/registry';

const OFFLINE = path.join(ROOT, 'examples/archery/offline');
const EXAMPLE = path.join(ROOT, 'examples/archery');
const CLI = path.join(ROOT, 'dist/cli/tscompose.js');
const SERVICES = ['archery', 'goinception', 'mysql', 'redis'];
/** The data directories the compose file bind-mounts (created on first start). */
const DATA_DIRS = [
  'mysql/datadir',
  'archery/downloads',
  'archery/sql/migrations',
  'archery/logs',
  'archery/keys',
];
/** Host ports the compose file publishes. */
const PORTS = [3306, 4000, 9123];

const run = requireHost({
  root: true,
  packages: [
    'debootstrap',
    'umoci',
    'skopeo',
    'docker-registry',
    'curl',
    'iproute2',
    'iptables',
    'mariadb-client',
  ],
});
const d = run ? describe : describe.skip;

interface Result {
  readonly rc: number;
  readonly out: string;
  readonly err: string;
}

interface PsEntry {
  readonly ID: string;
  readonly Name: string;
  readonly Service: string;
  readonly State: string;
  readonly Health: string;
  readonly Status: string;
}

interface Report {
  readonly ok: boolean;
  readonly standin: string;
  readonly checks: Record<string, { reachable: boolean; detail: string }>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 250 ms until it returns a value; throws with the last error after `ms`. */
async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(
    `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

/** GET on loopback; resolves with status and body. */
function httpGet(
  port: number,
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      // A fresh connection per request: the suite blocks its event loop in spawnSync, so a pooled
      // keep-alive socket closed by the server meanwhile would be reused unnoticed (EPIPE).
      { host: '127.0.0.1', port, path: pathname, headers, timeout: 20_000, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** Host link names (`ip -o link`), without the `@peer` suffix. */
function links(): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((n) => n !== '')
    .sort();
}

/** Mount points (mountinfo field 5) under `dir`. */
function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

function iptablesSave(): string {
  const r = spawnSync('iptables-save', [], { encoding: 'utf8' });
  return r.stdout;
}

function ipForward(): string {
  return fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
}

/** Cgroup directories (v2 unified, or any v1 hierarchy) of these container ids that still exist. */
function cgroupsOf(ids: readonly string[]): string[] {
  const roots = ['/sys/fs/cgroup'];
  for (const c of fs.readdirSync('/sys/fs/cgroup')) {
    const p = path.join('/sys/fs/cgroup', c);
    if (fs.statSync(p).isDirectory() && fs.existsSync(path.join(p, 'tscompose'))) roots.push(p);
  }
  return roots.flatMap((r) =>
    ids.map((id) => path.join(r, 'tscompose', id)).filter((p) => fs.existsSync(p)),
  );
}

d('archery stack through tscompose (examples/archery, offline mode)', () => {
  let work = '';
  let project = '';
  let registry = '';
  let engine: Dockerode | undefined;
  const baseline = { links: [] as string[], ipForward: '', etcConfig: false, iptables: false };
  let ids: string[] = [];

  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    TSCOMPOSE_ARCHERY_DIR: project,
    TSCOMPOSE_ENGINE_CONFIG: path.join(work, 'engine.json'),
    TSCOMPOSE_ARCHERY_STATE: path.join(work, 'state'),
    TSCOMPOSE_ARCHERY_REGISTRY: registry,
    DOCKER_HOST: `unix://${path.join(work, 'engine.sock')}`,
  });
  const script = (name: string, args: readonly string[] = [], timeout = 30 * 60_000): Result => {
    const r = spawnSync(path.join(OFFLINE, name), [...args], {
      encoding: 'utf8',
      env: env(),
      timeout,
      maxBuffer: 64 << 20,
    });
    return { rc: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
  };
  const tsc = (...args: string[]): Result => {
    const r = spawnSync(process.execPath, [CLI, '--progress', 'plain', ...args], {
      cwd: project,
      encoding: 'utf8',
      env: env(),
      timeout: 240_000,
      maxBuffer: 64 << 20,
    });
    // docker compose warns about the upstream file's obsolete `version` key the same way.
    const err = (r.stderr ?? '').replace(
      /^WARN\[0000\] .*: the attribute `version` is obsolete.*\n/m,
      '',
    );
    return { rc: r.status ?? -1, out: r.stdout ?? '', err };
  };
  const ps = (...args: string[]): PsEntry[] => {
    const r = tsc('ps', '--format', 'json', ...args);
    if (r.rc !== 0) throw new Error(`ps failed (${r.rc}): ${r.err}`);
    return r.out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as PsEntry);
  };
  const sql = (q: string): Result =>
    tsc('exec', '-T', 'mysql', 'mysql', '-uroot', '-p123456', '-N', '-B', 'archery', '-e', q);
  const report = async (): Promise<Report> => {
    const r = await httpGet(9123, '/?format=json');
    if (r.status !== 200) throw new Error(`GET /?format=json: ${r.status}`);
    return JSON.parse(r.body) as Report;
  };

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) {
      const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (b.status !== 0) throw new Error('npm run build failed');
    }
    baseline.links = links();
    baseline.ipForward = ipForward();
    baseline.etcConfig = fs.existsSync('/etc/tscompose/engine.json');
    baseline.iptables = iptablesSave().includes('TSCOMPOSE');
    for (const port of PORTS) {
      const busy = spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
      if (busy.stdout.trim() !== '') throw new Error(`port ${port} is busy: ${busy.stdout}`);
    }
    work = fs.mkdtempSync('/tmp/tsc-test-archery-stack-');
    // The compose project is a copy (project name "archery", like the example's directory), so the
    // checkout's bind-mounted data directories stay untouched.
    project = path.join(work, 'archery');
    fs.cpSync(EXAMPLE, project, {
      recursive: true,
      filter: (src) => {
        const rel = path.relative(EXAMPLE, src);
        return rel !== 'offline' && rel !== 'README.md' && !DATA_DIRS.some((d) => rel === d);
      },
    });
    fs.writeFileSync(
      path.join(work, 'engine.json'),
      `${JSON.stringify({
        'data-root': path.join(work, 'data'),
        socket: path.join(work, 'engine.sock'),
        pidfile: path.join(work, 'engine.pid'),
      })}\n`,
    );
    registry = `127.0.0.1:${await freePort()}`;
    // No keep-alive pool, for the same reason as httpGet's.
    // (docker-modem takes `agent`; @types/dockerode does not list it.)
    const options = {
      socketPath: path.join(work, 'engine.sock'),
      agent: new Agent({ keepAlive: false }),
    };
    engine = new Dockerode(options);
  }, 10 * 60_000);

  afterAll(() => {
    if (work === '') return;
    const problems: string[] = [];
    const config = path.join(work, 'engine.json');
    const status = spawnSync(process.execPath, [CLI, 'engine', 'status', '--config', config], {
      encoding: 'utf8',
      env: env(),
    });
    if (/engine running/.test(status.stdout)) {
      // A test failed midway: take the stack down and stop the engine.
      const down = tsc('down', '-t', '5');
      if (down.rc !== 0) problems.push(`down: ${down.err}`);
      const stop = spawnSync(process.execPath, [CLI, 'engine', 'stop', '--config', config], {
        encoding: 'utf8',
        env: env(),
        timeout: 60_000,
      });
      if (stop.status !== 0) problems.push(`engine stop: ${stop.stderr}`);
    }
    const reg = script('registry.sh', ['stop'], 60_000);
    if (reg.rc !== 0) problems.push(`registry.sh stop: ${reg.err}`);
    const pidFile = path.join(work, 'state/registry/registry.pid');
    if (fs.existsSync(pidFile)) problems.push('registry pid file left');
    for (const m of mountsUnder(work).sort((a, b) => b.length - a.length)) {
      problems.push(`mount left: ${m}`);
      spawnSync('umount', ['-l', m]);
    }
    fs.rmSync(work, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }, 300_000);

  it(
    'up.sh builds or reuses the stand-ins and `up -d --wait` returns 0 with every service running',
    () => {
      const r = script('up.sh');
      if (r.rc !== 0) throw new Error(`up.sh failed (${r.rc}):\n${r.err}`);
      expect(r.err).toMatch(/Container archery {2}Started/);
      expect(r.err).toMatch(/Container mysql {2}Healthy/);
      expect(r.err).toMatch(/Container redis {2}Healthy/);
      expect(r.out).toContain('http://127.0.0.1:9123/');
      // Our own engine config got the mirror; /etc/tscompose is untouched.
      const cfg = JSON.parse(fs.readFileSync(path.join(work, 'engine.json'), 'utf8')) as Record<
        string,
        string[]
      >;
      expect(cfg['registry-mirrors']).toEqual([`http://${registry}`]);
      expect(fs.existsSync('/etc/tscompose/engine.json')).toBe(baseline.etcConfig);
      const list = ps();
      expect(list.map((c) => [c.Name, c.Service, c.State]).sort()).toEqual(
        SERVICES.map((s) => [s, s, 'running']),
      );
      expect(Object.fromEntries(list.map((c) => [c.Service, c.Health]))).toEqual({
        archery: '',
        goinception: '',
        mysql: 'healthy',
        redis: 'healthy',
      });
      ids = list.map((c) => c.ID);
      // `up -d --wait` again through the CLI: 0, nothing recreated.
      const again = tsc('up', '-d', '--wait');
      expect(again.rc).toBe(0);
      expect(again.err).not.toMatch(/Recreate|Creating/);
      expect(ps().map((c) => c.ID)).toEqual(list.map((c) => c.ID));
    },
    30 * 60_000,
  );

  it('GET :9123 reports mysql, redis and goinception reachable (HTML and JSON)', async () => {
    const j = await until('archery report ok', async () => {
      const r = await report();
      return r.ok ? r : undefined;
    });
    expect(Object.keys(j.checks).sort()).toEqual(['goinception', 'mysql', 'redis']);
    for (const c of Object.values(j.checks)) expect(c.reachable).toBe(true);
    expect(j.standin).toMatch(/stand-in/);
    const page = await httpGet(9123, '/');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<html/);
    expect(page.body).toMatch(/all reachable/);
  }, 120_000);

  it("Debian's mysql client reaches mysql on 127.0.0.1:3306 from the host", () => {
    const r = spawnSync(
      'mysql',
      ['-h', '127.0.0.1', '-P', '3306', '-uroot', '-p123456', 'archery', '-e', 'select 1'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('1\n1\n');
  });

  it('a container reaches the others by service name, container_name and short id', async () => {
    const names = new Map<string, string>();
    for (const c of ps()) names.set(c.Service, c.ID.slice(0, 12));
    // archery -> the others over TCP, by name (service name == container_name here) and by id.
    const targets: [string, number][] = [
      ['mysql', 3306],
      ['redis', 6379],
      ['goinception', 4000],
      [names.get('mysql')!, 3306],
    ];
    const probe = tsc(
      'exec',
      '-T',
      'archery',
      'python3',
      '-c',
      'import socket, sys\n' +
        'for a in sys.argv[1:]:\n' +
        '    h, p = a.rsplit(":", 1)\n' +
        '    socket.create_connection((h, int(p)), 5).close()\n' +
        '    print(h, socket.gethostbyname(h))\n',
      ...targets.map(([h, p]) => `${h}:${p}`),
    );
    expect(probe.err).toBe('');
    expect(probe.rc).toBe(0);
    const resolved = new Map(
      probe.out
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    expect([...resolved.keys()]).toEqual(targets.map(([h]) => h));
    expect(resolved.get(names.get('mysql')!)).toBe(resolved.get('mysql'));
    // mysql's container resolves the others too (getent through the engine's DNS).
    const back = tsc('exec', '-T', 'mysql', 'getent', 'hosts', 'archery');
    expect(back.rc).toBe(0);
    const net = await engine!.getNetwork('archery_default').inspect();
    const archeryIp = (
      Object.values(net.Containers as Record<string, { Name: string; IPv4Address: string }>).find(
        (c) => c.Name === 'archery',
      )?.IPv4Address ?? ''
    ).split('/')[0];
    expect(back.out.split(/\s+/)[0]).toBe(archeryIp);
    expect(resolved.get('mysql')).toBe(
      (
        Object.values(net.Containers as Record<string, { Name: string; IPv4Address: string }>).find(
          (c) => c.Name === 'mysql',
        )?.IPv4Address ?? ''
      ).split('/')[0],
    );
  }, 60_000);

  it('exec mysql mysql -e behaves like docker compose exec (output, exit codes)', () => {
    const r = tsc('exec', '-T', 'mysql', 'mysql', '-uroot', '-p123456', '-e', 'select 1 as one');
    expect(r).toMatchObject({ rc: 0, out: 'one\n1\n' });
    // Without -T and without a terminal: no pty either, the same output (docker compose's rule).
    expect(
      tsc('exec', 'mysql', 'mysql', '-uroot', '-p123456', '-e', 'select 1 as one'),
    ).toMatchObject({ rc: 0, out: 'one\n1\n' });
    // The command's exit status is exec's exit status; its stderr stays stderr.
    const bad = tsc('exec', '-T', 'mysql', 'mysql', '-uroot', '-p123456', '-e', 'select nope');
    expect(bad.rc).toBe(1);
    expect(bad.out).toBe('');
    expect(bad.err).toMatch(/ERROR 1054 .*Unknown column 'nope'/);
    expect(tsc('exec', '-T', 'mysql', 'sh', '-c', 'exit 7').rc).toBe(7);
    const none = tsc('exec', '-T', 'nosuch', 'true');
    expect(none.rc).toBe(1);
    expect(none.err).toMatch(/service "nosuch" is not running|no such service: nosuch/);
  }, 60_000);

  it('ps prints docker compose columns and filters like it', () => {
    const table = tsc('ps');
    expect(table.rc).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(SERVICES);
    const row = (name: string): string => lines.find((l) => l.startsWith(`${name} `)) ?? '';
    expect(row('mysql')).toMatch(/mysql:5\.7\s+"docker-entrypoint\.s…"\s+mysql\s/);
    expect(row('mysql')).toMatch(
      /Up \d+ seconds? \(healthy\)|Up (About a|\d+) minutes? \(healthy\)/,
    );
    expect(row('mysql')).toMatch(/0\.0\.0\.0:3306->3306\/tcp/);
    expect(row('redis')).toMatch(/\s6379\/tcp$/);
    expect(tsc('ps', '--services').out).toBe(`${SERVICES.join('\n')}\n`);
    const quiet = tsc('ps', '-q').out.trim().split('\n');
    expect(quiet).toHaveLength(4);
    for (const q of quiet) expect(q).toMatch(/^[0-9a-f]{12,64}$/);
    expect(ps('mysql').map((c) => c.Name)).toEqual(['mysql']);
    expect(tsc('ps', '--status', 'exited').out.trimEnd().split('\n')).toHaveLength(1);
    const missing = tsc('ps', 'nosuch');
    expect(missing.rc).toBe(1);
    expect(missing.err).toMatch(/no such service: nosuch/);
  }, 60_000);

  it('logs -f archery follows new output until it is stopped', async () => {
    const child = spawn(process.execPath, [CLI, 'logs', '-f', 'archery'], {
      cwd: project,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    const exited = new Promise<string>((r) =>
      child.once('exit', (code, signal) => r(code === null ? String(signal) : String(code))),
    );
    try {
      await until('existing logs', () => (out.includes('listening on') ? true : undefined));
      const marker = `/tsc-follow-${process.pid}-${Date.now()}`;
      await httpGet(9123, marker);
      await until('followed line', () => (out.includes(marker) ? true : undefined), 30_000);
      // docker compose prefixes each line with the container's name, padded, and " | ".
      for (const l of out.trimEnd().split('\n')) expect(l).toMatch(/^archery\s+\| /);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGINT');
    }
    // Interrupted like Ctrl-C: a clean exit, 130, or death by SIGINT (the shell's 130).
    expect(['0', '130', 'SIGINT']).toContain(await exited);
  }, 90_000);

  it('restart: always brings back a service whose main process is killed', async () => {
    const before = await engine!.getContainer('redis').inspect();
    expect(before.State.Running).toBe(true);
    const pid = before.State.Pid;
    expect(pid).toBeGreaterThan(1);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toMatch(/^redis-server/);
    process.kill(pid, 'SIGKILL');
    const after = await until('redis restarted', async () => {
      const i = await engine!.getContainer('redis').inspect();
      return i.RestartCount > before.RestartCount && i.State.Running && i.State.Pid !== pid
        ? i
        : undefined;
    });
    expect(after.Id).toBe(before.Id);
    expect(after.RestartCount).toBe(before.RestartCount + 1);
    const pong = await until('redis serves again', () => {
      const r = tsc(
        'exec',
        '-T',
        'redis',
        'redis-cli',
        '-a',
        '123456',
        '--no-auth-warning',
        'ping',
      );
      return r.out.trim() === 'PONG' ? r.out.trim() : undefined;
    });
    expect(pong).toBe('PONG');
    await until('archery reaches redis again', async () => {
      const c = (await report()).checks.redis;
      return c?.reachable ? true : undefined;
    });
    expect(ps('redis')[0]?.State).toBe('running');
  }, 120_000);

  it('a row written into mysql survives down + up; down leaves nothing but the data dirs', async () => {
    expect(sql('create table t (v varchar(32)); insert into t values ("kept")').rc).toBe(0);
    const net = await engine!.getNetwork('archery_default').inspect();
    // engine/networks/bridge.ts names a network's bridge `br-tsc` + 9 hex of its id.
    const bridge =
      (net.Options as Record<string, string> | undefined)?.['com.docker.network.bridge.name'] ??
      `br-tsc${net.Id.slice(0, 9)}`;
    expect(links()).toContain(bridge);
    const down = tsc('down');
    expect(down.rc).toBe(0);
    for (const s of SERVICES) expect(down.err).toMatch(new RegExp(`Container ${s} {2}Removed`));
    expect(down.err).toMatch(/Network archery_default {2}Removed/);
    // Containers, network, veths, bridge, mounts, cgroups: all gone.
    expect(await engine!.listContainers({ all: true })).toEqual([]);
    expect((await engine!.listNetworks()).filter((n) => n.Name === 'archery_default')).toEqual([]);
    // While the engine runs it keeps its default `bridge` network (like dockerd's docker0) and
    // its TSCOMPOSE-* chains; nothing of the project's network is left.
    const defaultBridge = `br-tsc${(await engine!.getNetwork('bridge').inspect()).Id.slice(0, 9)}`;
    expect(links().filter((l) => l !== defaultBridge)).toEqual(baseline.links);
    expect(links()).not.toContain(bridge);
    const rules = iptablesSave();
    expect(rules).not.toContain(bridge);
    expect(rules).not.toMatch(/--dport (3306|4000|9123) -j DNAT/);
    expect(mountsUnder(path.join(work, 'data')).filter((m) => /\/containers?\//.test(m))).toEqual(
      [],
    );
    expect(cgroupsOf(ids)).toEqual([]);
    // The bind-mounted data directories stay.
    for (const dir of DATA_DIRS)
      expect(fs.statSync(path.join(project, dir)).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(project, 'mysql/datadir/archery'))).toBe(true);

    const up = tsc('up', '-d', '--wait');
    if (up.rc !== 0) throw new Error(`up failed (${up.rc}):\n${up.err}`);
    expect(sql('select v from t')).toMatchObject({ rc: 0, out: 'kept\n' });
    ids = ps().map((c) => c.ID);
  }, 300_000);

  it('down.sh removes every container, the network and the registry; engine stop leaves no bridge, rule or mount', async () => {
    const down = script('down.sh', [], 180_000);
    if (down.rc !== 0) throw new Error(`down.sh failed (${down.rc}):\n${down.err}`);
    expect(down.err).toMatch(/registry stopped/);
    expect(await engine!.listContainers({ all: true })).toEqual([]);
    expect(cgroupsOf(ids)).toEqual([]);
    expect(script('registry.sh', ['status'], 30_000).rc).toBe(3);
    const stop = spawnSync(
      process.execPath,
      [CLI, 'engine', 'stop', '--config', path.join(work, 'engine.json')],
      { encoding: 'utf8', env: env(), timeout: 60_000 },
    );
    expect(stop.status).toBe(0);
    expect(links()).toEqual(baseline.links);
    expect(mountsUnder(work)).toEqual([]);
    expect(iptablesSave().includes('TSCOMPOSE')).toBe(baseline.iptables);
    expect(ipForward()).toBe(baseline.ipForward);
    expect(fs.existsSync(path.join(project, 'mysql/datadir/archery'))).toBe(true);
    expect(fs.existsSync('/etc/tscompose/engine.json')).toBe(baseline.etcConfig);
    // a second down.sh, engine stopped: nothing to do, not an error
    const again = script('down.sh', [], 60_000);
    expect(again.rc).toBe(0);
    expect(again.err).toContain('is not running: no containers to take down');
  }, 300_000);
});
