/**
 * The engine daemon end to end with real clients: dockerode and the docker CLI against a daemon on a
 * temp socket and data root (system, volumes, events), a real tmpfs-backed volume mount, and the
 * detached start/status/stop management. Everything created lives under a tsc-test temp dir.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import Docker from 'dockerode';

import { resolveConfig } from '../../../engine/config';
import {
  engineStart,
  engineStatus,
  engineStop,
  readEngineLog,
} from '../../../engine/daemon-control';
import { livePid } from '../../../engine/daemon-control';
import { startDaemon, type RunningDaemon } from '../../../engine/daemon';
import { API_VERSION } from '../../../engine/api/version';
import { requireHost } from '../../helpers/host';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';
const ok = requireHost({ root: true });
const d = ok ? describe : describe.skip;

function mountedAt(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

d('engine daemon with real clients', () => {
  let dir: string;
  let daemon: RunningDaemon;
  let docker: Docker;
  let socket: string;
  const cli = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run(DOCKER, args, {
      env: {
        ...process.env,
        DOCKER_HOST: `unix://${socket}`,
        DOCKER_CONFIG: join(dir, 'docker-config'),
      },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-test-engine-'));
    socket = join(dir, 'run', 'engine.sock');
    const config = resolveConfig({
      'data-root': join(dir, 'data'),
      socket,
      pidfile: join(dir, 'run', 'engine.pid'),
    });
    daemon = await startDaemon(config, { log: () => undefined });
    docker = new Docker({ socketPath: socket });
  });

  afterAll(async () => {
    await daemon?.close();
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(dir, 'run', 'engine.pid'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on a 0660 socket and writes its pid file', () => {
    expect(statSync(socket).mode & 0o777).toBe(0o660);
    expect(livePid(join(dir, 'run', 'engine.pid'))).toBe(process.pid);
  });

  it('refuses a second daemon on the same socket and keeps the first one serving', async () => {
    const again = resolveConfig({
      'data-root': join(dir, 'data2'),
      socket,
      pidfile: join(dir, 'run', 'engine.pid'),
    });
    await expect(startDaemon(again, { log: () => undefined })).rejects.toMatchObject({
      code: 'TSC_ENGINE_CONFLICT',
    });
    expect(livePid(join(dir, 'run', 'engine.pid'))).toBe(process.pid);
    expect(String(await docker.ping())).toBe('OK');
  });

  it('keeps an idle keep-alive connection open, as dockerd does (no 5 s idle close)', async () => {
    const conn = createConnection(socket);
    await new Promise<void>((resolve, reject) =>
      conn.once('connect', resolve).once('error', reject),
    );
    let received = '';
    conn.on('data', (b: Buffer) => (received += b.toString()));
    const ping = async (): Promise<void> => {
      const before = received.length;
      conn.write('GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n');
      for (let i = 0; i < 200 && !received.slice(before).includes('\r\n\r\nOK'); i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(received.slice(before)).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nOK$/);
    };
    try {
      await ping();
      // a default Node server closes an idle connection after 5 s (seen at ~6 s)
      await new Promise((r) => setTimeout(r, 7_000));
      expect(conn.destroyed).toBe(false);
      await ping();
    } finally {
      conn.destroy();
    }
  }, 20_000);

  it('answers dockerode ping, version and info', async () => {
    expect(String(await docker.ping())).toBe('OK');
    const v = await docker.version();
    expect(v).toMatchObject({ ApiVersion: API_VERSION, Os: 'linux', MinAPIVersion: '1.24' });
    const info = (await docker.info()) as Record<string, unknown>;
    expect(info).toMatchObject({
      OSType: 'linux',
      DockerRootDir: join(dir, 'data'),
      Containers: 0,
      LoggingDriver: 'json-file',
    });
  });

  it('serves the docker CLI: version negotiation and info', async () => {
    const { stdout } = await cli('version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}');
    expect(stdout.trim()).toBe(`${API_VERSION} linux`);
    const info = await cli('info', '--format', '{{.DockerRootDir}}');
    expect(info.stdout.trim()).toBe(join(dir, 'data'));
  });

  it('manages volumes through dockerode', async () => {
    await docker.createVolume({ Name: 'tsc-test-dv', Labels: { a: 'b' } });
    expect(await docker.getVolume('tsc-test-dv').inspect()).toMatchObject({
      Name: 'tsc-test-dv',
      Driver: 'local',
      Labels: { a: 'b' },
      Scope: 'local',
    });
    const list = await docker.listVolumes({ filters: { label: ['a=b'] } });
    expect(list.Volumes.map((v) => v.Name)).toEqual(['tsc-test-dv']);
    const inspected = await docker.getVolume('tsc-test-dv').inspect();
    expect(inspected.Mountpoint).toBe(join(dir, 'data', 'volumes', 'tsc-test-dv', '_data'));
    await docker.getVolume('tsc-test-dv').remove();
    await expect(docker.getVolume('tsc-test-dv').inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('returns Docker status codes and messages for bad requests', async () => {
    await expect(docker.createVolume({ Name: '/etc' })).rejects.toMatchObject({ statusCode: 400 });
    await expect(
      docker.createVolume({ Name: 'x1', DriverOpts: { bogus: '1' } }),
    ).rejects.toMatchObject({
      statusCode: 400,
      json: { message: 'invalid option: "bogus"' },
    });
    await expect(docker.listContainers()).rejects.toMatchObject({ statusCode: 501 });
  });

  it('manages volumes through the docker CLI', async () => {
    expect((await cli('volume', 'create', '--label', 'k=v', 'tsc-test-cv')).stdout.trim()).toBe(
      'tsc-test-cv',
    );
    expect(
      (
        await cli('volume', 'ls', '--format', '{{.Name}} {{.Driver}}', '--filter', 'label=k=v')
      ).stdout.trim(),
    ).toBe('tsc-test-cv local');
    const inspected = JSON.parse((await cli('volume', 'inspect', 'tsc-test-cv')).stdout) as Array<{
      Labels: Record<string, string>;
    }>;
    expect(inspected[0]?.Labels).toEqual({ k: 'v' });
    expect((await cli('volume', 'rm', 'tsc-test-cv')).stdout.trim()).toBe('tsc-test-cv');
    await expect(cli('volume', 'rm', 'tsc-test-cv')).rejects.toMatchObject({
      stderr: expect.stringContaining('no such volume') as unknown,
    });
  });

  it('streams events to dockerode and answers docker system events --since --until', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const stream = await docker.getEvents({
      filters: { type: ['volume'] },
    });
    const got = new Promise<Array<{ Action: string; Actor: { ID: string } }>>((resolve) => {
      const seen: Array<{ Action: string; Actor: { ID: string } }> = [];
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          seen.push(JSON.parse(buf.slice(0, i)) as { Action: string; Actor: { ID: string } });
          buf = buf.slice(i + 1);
          if (seen.length === 2) resolve(seen);
        }
      });
    });
    await docker.createVolume({ Name: 'tsc-test-ev' });
    await docker.getVolume('tsc-test-ev').remove();
    expect((await got).map((e) => `${e.Action} ${e.Actor.ID}`)).toEqual([
      'create tsc-test-ev',
      'destroy tsc-test-ev',
    ]);
    (stream as unknown as { destroy(): void }).destroy();

    const until = Math.floor(Date.now() / 1000) + 1;
    const { stdout } = await cli(
      'system',
      'events',
      '--since',
      String(since),
      '--until',
      String(until),
      '--filter',
      'type=volume',
      '--filter',
      'volume=tsc-test-ev',
      '--format',
      '{{.Action}} {{.Actor.ID}}',
    );
    expect(stdout.trim().split('\n')).toEqual(['create tsc-test-ev', 'destroy tsc-test-ev']);
  });

  it('mounts a tmpfs-backed volume on first use and unmounts it after the last', async () => {
    await cli(
      'volume',
      'create',
      '-o',
      'type=tmpfs',
      '-o',
      'device=tmpfs',
      '-o',
      'o=size=1m',
      'tsc-test-tmpfs',
    );
    const path = await daemon.volumes.acquire('tsc-test-tmpfs');
    try {
      expect(mountedAt(path)).toBe(true);
      await expect(cli('volume', 'rm', 'tsc-test-tmpfs')).rejects.toMatchObject({
        stderr: expect.stringContaining('volume is in use') as unknown,
      });
    } finally {
      await daemon.volumes.release('tsc-test-tmpfs');
    }
    expect(mountedAt(path)).toBe(false);
    await cli('volume', 'rm', 'tsc-test-tmpfs');
  });
});

d('engine daemon graceful stop', () => {
  it('ends open event streams and removes its socket and pid file on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-test-engclose-'));
    try {
      const socket = join(dir, 'e.sock');
      const pidfile = join(dir, 'e.pid');
      const daemon = await startDaemon(
        resolveConfig({ 'data-root': join(dir, 'data'), socket, pidfile }),
        { log: () => undefined },
      );
      const stream = await new Docker({
        socketPath: socket,
      }).getEvents();
      const ended = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('error', () => resolve());
        stream.on('close', resolve);
      });
      expect(daemon.events.listeners).toBe(1);
      await daemon.close();
      await ended;
      // the server side unsubscribes once it sees the connection close (a leak would hang here)
      while (daemon.events.listeners > 0) await new Promise((r) => setImmediate(r));
      expect(existsSync(socket)).toBe(false);
      expect(existsSync(pidfile)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

d('engine daemon management (detached start, status, stop)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-test-engctl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the daemon detached, reports it, refuses a second one, and stops it leaving nothing', async () => {
    const config = resolveConfig({
      'data-root': join(dir, 'data'),
      socket: join(dir, 'run', 'e.sock'),
      pidfile: join(dir, 'run', 'e.pid'),
      'log-file': join(dir, 'engine.log'),
    });
    const command = [process.execPath, join(__dirname, 'fixtures', 'run-daemon.js')];
    const opts = { config, command, timeoutMs: 30_000 };
    expect((await engineStatus(opts)).running).toBe(false);
    const started = await engineStart(opts);
    try {
      expect(started.alreadyRunning).toBe(false);
      const status = await engineStatus(opts);
      expect(status).toMatchObject({ running: true, pid: started.pid, apiVersion: API_VERSION });
      expect(readFileSync(`/proc/${started.pid}/comm`, 'utf8').trim()).toBe('tsc:[engine]');
      expect((await engineStart(opts)).alreadyRunning).toBe(true);
      expect(readFileSync(config.logFile, 'utf8')).toContain(`listening on ${config.socket}`);
    } finally {
      expect(await engineStop(opts)).toBe(started.pid);
    }
    expect((await engineStatus(opts)).running).toBe(false);
    expect(existsSync(config.socket)).toBe(false);
    expect(existsSync(config.pidFile)).toBe(false);
    expect(existsSync(`/proc/${started.pid}`)).toBe(false);
    expect(readdirSync(join(dir, 'run'))).toEqual([]);
    expect(readFileSync(config.logFile, 'utf8')).toContain('engine stopped');
    expect(await readEngineLog(opts, 1)).toMatch(/engine stopped\n$/);
  });
});
