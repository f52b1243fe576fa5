/**
 * The engine's container API end to end as root: the daemon as a child process on a temp socket
 * and data root, driven by dockerode and the docker CLI (create/start/logs/wait/inspect/remove,
 * run --rm, run -d, ps, logs, exec, stop, rm, restart policy, healthcheck, SIGKILL of the engine
 * and recovery, Docker's error codes). Everything created is removed afterwards.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { PassThrough } from 'node:stream';

import type Docker from 'dockerode';

import { requireHost } from '../../helpers/host';
import { dockerCli, until, type Engine, type EngineHome } from './harness';
import { useEngine } from '../../helpers/engine-fixture';
import './resources-suite';

const ok = requireHost({ root: true, packages: ['tini'] });
const d = ok ? describe : describe.skip;

jest.setTimeout(120_000);

/** stdout and stderr of a multiplexed log stream. */
async function demuxLogs(
  docker: Docker,
  c: Docker.Container,
): Promise<{ stdout: string; stderr: string }> {
  const buf = await c.logs({ stdout: true, stderr: true, follow: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (x: Buffer) => (stdout += x.toString()));
  err.on('data', (x: Buffer) => (stderr += x.toString()));
  const src = new PassThrough();
  docker.modem.demuxStream(src, out, err);
  src.end(buf);
  await new Promise((r) => setImmediate(r));
  return { stdout, stderr };
}

d('engine containers with real clients', () => {
  const fx = useEngine();
  let home: EngineHome;
  let engine: Engine;
  let docker: Docker;
  beforeAll(() => {
    ({ home, engine, docker } = fx);
  });

  it('creates, starts, waits for, logs, inspects and removes a container (dockerode)', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-one',
      Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      Env: ['FOO=bar'],
      Labels: { 'tsc.test': 'one' },
      HostConfig: { NetworkMode: 'none' },
    });
    let info = await c.inspect();
    expect(info.Name).toBe('/tsc-one');
    expect(info.State.Status).toBe('created');
    expect(info.Config.Env).toEqual([
      'FOO=bar',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    expect(info.Config.Labels).toEqual({ 'org.tscompose.fixture': 'busybox', 'tsc.test': 'one' });
    expect(info.Id).toMatch(/^[a-f0-9]{64}$/);
    const waited = c.wait({ condition: 'next-exit' });
    await c.start();
    expect(await waited).toMatchObject({ StatusCode: 3 });
    info = await c.inspect();
    expect(info.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 3 });
    expect(info.State.FinishedAt).not.toBe('0001-01-01T00:00:00Z');
    expect(await demuxLogs(docker, c)).toEqual({ stdout: 'out\n', stderr: 'err\n' });
    const listed = await docker.listContainers({
      all: true,
      filters: { label: ['tsc.test=one'] },
    });
    expect(listed.map((x) => x.Names[0])).toEqual(['/tsc-one']);
    expect(listed[0]?.State).toBe('exited');
    expect(await docker.listContainers()).toEqual([]);
    await c.remove();
    await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("keeps a running container's shim small: static musl build, under 300 kB resident", async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      Cmd: ['sleep', '60'],
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await c.start();
      const pid = (await c.inspect()).State.Pid;
      // the init's parent is the container's shim (native/src/shim.c)
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      expect(readFileSync(`/proc/${ppid}/cmdline`, 'utf8')).toContain('tscompose-shim');
      const status = readFileSync(`/proc/${ppid}/status`, 'utf8');
      const kB = (key: string): number =>
        Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
      // a static glibc shim maps ~900 kB; native/build-shim.sh links against musl
      expect(kB('VmRSS')).toBeGreaterThan(0);
      expect(kB('VmRSS')).toBeLessThan(300);
    } finally {
      await c.remove({ force: true });
    }
  });

  it('answers bad requests with Docker codes and messages', async () => {
    await expect(
      docker.createContainer({ Image: 'nope:1', HostConfig: { NetworkMode: 'none' } }),
    ).rejects.toMatchObject({ statusCode: 404, json: { message: 'No such image: nope:1' } });
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-dup',
      HostConfig: { NetworkMode: 'none' },
    });
    await expect(
      docker.createContainer({ Image: 'busybox:1.36', name: 'tsc-dup' }),
    ).rejects.toMatchObject({ statusCode: 409 });
    const raw = await fetchRaw(home.socket, 'POST', '/v1.43/containers/create', '{nope');
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body)).toHaveProperty('message');
    const unknown = await fetchRaw(
      home.socket,
      'POST',
      '/v1.43/containers/create',
      JSON.stringify({ Image: 'busybox:1.36', Bogus: 1 }),
    );
    // dockerd ignores unknown fields (its decoder does not disallow them)
    expect(unknown.status).toBe(201);
    await docker.getContainer((JSON.parse(unknown.body) as { Id: string }).Id).remove();
    await expect(docker.getContainer('missing').start()).rejects.toMatchObject({
      statusCode: 404,
      json: { message: 'No such container: missing' },
    });
    const bad = await docker.createContainer({
      Image: 'busybox:1.36',
      Cmd: ['/no/such/binary'],
      HostConfig: { NetworkMode: 'none' },
    });
    await expect(bad.start()).rejects.toMatchObject({ statusCode: 400 });
    const badInfo = await bad.inspect();
    expect(badInfo.State.ExitCode).toBe(127);
    expect(badInfo.State.Error).toContain('executable file not found');
    await bad.remove();
    await c.remove();
  });

  it('gives a name to exactly one of many concurrent creates', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        docker.createContainer({
          Image: 'busybox:1.36',
          name: 'tsc-race',
          HostConfig: { NetworkMode: 'none' },
        }),
      ),
    );
    const made = results.filter((r) => r.status === 'fulfilled');
    expect(made).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ statusCode: 409 });
    }
    await docker.getContainer('tsc-race').remove();
  });

  it('runs `docker run --rm busybox:1.36 echo hi` on the default bridge', async () => {
    const { stdout } = await dockerCli(home, 'run', '--rm', 'busybox:1.36', 'echo', 'hi');
    expect(stdout).toBe('hi\n');
    const { stdout: ps } = await dockerCli(home, 'ps', '-a', '-q');
    expect(ps.trim()).toBe('');
    await expect(
      dockerCli(home, 'run', '--rm', '--network', 'none', 'busybox:1.36', 'sh', '-c', 'exit 3'),
    ).rejects.toMatchObject({ code: 3 });
    await expect(
      dockerCli(home, 'run', '--rm', '--network', 'none', 'busybox:1.36', '/no/such/binary'),
    ).rejects.toMatchObject({ code: 127 });
  });

  it('follows logs until the container exits and runs exec with a TTY', async () => {
    const { stdout: id } = await dockerCli(
      home,
      'run',
      '-d',
      '--network',
      'none',
      'busybox:1.36',
      'sh',
      '-c',
      'for i in 1 2 3; do echo line$i; sleep 0.2; done; echo oops >&2; sleep 0.5',
    );
    const { stdout: tty } = await dockerCli(
      home,
      'exec',
      '-t',
      id.trim(),
      'sh',
      '-c',
      '[ -t 1 ] && echo tty',
    ).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`exec -t: ${e.stdout} ${e.stderr}`);
    });
    expect(tty).toBe('tty\r\n');
    const { stdout: notty } = await dockerCli(
      home,
      'exec',
      id.trim(),
      'sh',
      '-c',
      '[ -t 1 ] || echo pipe',
    );
    expect(notty).toBe('pipe\n');
    const { stdout, stderr } = await dockerCli(home, 'logs', '-f', id.trim());
    expect(stdout).toBe('line1\nline2\nline3\n');
    expect(stderr).toBe('oops\n');
    // the last line is stderr's: --tail 1 leaves stdout empty and stamps the one stderr line
    const tail = await dockerCli(home, 'logs', '--tail', '1', '-t', id.trim());
    expect(tail).toEqual({
      stdout: '',
      stderr: expect.stringMatching(/^\d{4}-\d\d-\d\dT\S+ oops\n$/) as unknown,
    });
    await dockerCli(home, 'rm', id.trim());
  });

  it('serves run -d, ps, logs, exec, stop and rm through the docker CLI', async () => {
    const { stdout: id } = await dockerCli(
      home,
      'run',
      '-d',
      '--name',
      'tsc-web',
      'busybox:1.36',
      'sh',
      '-c',
      'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done',
    );
    expect(id.trim()).toMatch(/^[a-f0-9]{64}$/);
    const { stdout: ps } = await dockerCli(home, 'ps', '--format', '{{.Names}} {{.Status}}');
    expect(ps).toMatch(/^tsc-web Up /m);
    await until(async () =>
      (await dockerCli(home, 'logs', 'tsc-web')).stdout.includes('started') ? true : undefined,
    );
    const { stdout: hostname } = await dockerCli(home, 'exec', 'tsc-web', 'hostname');
    expect(hostname.trim()).toBe(id.trim().slice(0, 12));
    const { stdout: ip } = await dockerCli(
      home,
      'inspect',
      '-f',
      '{{.NetworkSettings.Networks.bridge.IPAddress}}',
      'tsc-web',
    );
    expect(ip.trim()).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await expect(dockerCli(home, 'exec', 'tsc-web', 'sh', '-c', 'exit 7')).rejects.toMatchObject({
      code: 7,
    });
    await dockerCli(home, 'stop', '-t', '5', 'tsc-web');
    const { stdout: code } = await dockerCli(
      home,
      'inspect',
      '-f',
      '{{.State.Status}} {{.State.ExitCode}}',
      'tsc-web',
    );
    expect(code.trim()).toBe('exited 0');
    await dockerCli(home, 'rm', 'tsc-web');
    await expect(dockerCli(home, 'inspect', 'tsc-web')).rejects.toMatchObject({ code: 1 });
  });

  it('restarts an always-failing on-failure:3 container exactly 3 times', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-flaky',
      Cmd: ['sh', '-c', 'exit 2'],
      HostConfig: {
        NetworkMode: 'none',
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      },
    });
    const since = Math.floor(Date.now() / 1000) - 1;
    await c.start();
    const info = await until(async () => {
      const i = await c.inspect();
      return i.State.Status === 'exited' && !i.State.Restarting ? i : undefined;
    });
    expect(info.RestartCount).toBe(3);
    expect(info.State.ExitCode).toBe(2);
    const events = await eventsOf(docker, c.id, since);
    expect(events.filter((e) => e === 'start')).toHaveLength(4);
    expect(events.filter((e) => e === 'die')).toHaveLength(4);
    await c.remove();
  });

  it('answers a SIGKILL kill once the container has exited, paused ones too (as dockerd)', async () => {
    for (const paused of [false, true]) {
      const c = await docker.createContainer({
        Image: 'busybox:1.36',
        name: `tsc-killed-${paused ? 'paused' : 'running'}`,
        Cmd: ['sleep', '1000'],
        HostConfig: { NetworkMode: 'none' },
      });
      await c.start();
      if (paused) await c.pause();
      await c.kill();
      // no wait: the state is final when kill answers
      expect((await c.inspect()).State).toMatchObject({
        Status: 'exited',
        Running: false,
        Paused: false,
        ExitCode: 137,
      });
      await c.remove();
    }
  });

  it('reports a failing healthcheck as unhealthy', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-sick',
      Cmd: ['sleep', '1000'],
      Healthcheck: { Test: ['CMD-SHELL', 'exit 1'], Interval: 200_000_000, Retries: 2 },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    const health = await until(async () => {
      const h = (await c.inspect()).State.Health;
      return h?.Status === 'unhealthy' ? h : undefined;
    });
    expect(health.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(health.Log.at(-1)?.ExitCode).toBe(1);
    await c.remove({ force: true });
  });

  it('keeps containers running across an engine SIGKILL and records exits that happened meanwhile', async () => {
    const keep = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-keep',
      Cmd: ['sleep', '1000'],
    });
    await keep.start();
    const gone = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-gone',
      Cmd: ['sleep', '1000'],
      HostConfig: { NetworkMode: 'none' },
    });
    await gone.start();
    const done = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-done',
      Cmd: ['sh', '-c', 'exit 4'],
      HostConfig: { NetworkMode: 'none' },
    });
    await done.start();
    await done.wait();
    const before = await keep.inspect();
    const gonePid = (await gone.inspect()).State.Pid;
    await engine.kill();
    process.kill(gonePid, 'SIGKILL');
    engine = await fx.restart();
    docker = engine.docker;
    const after = await docker.getContainer('tsc-keep').inspect();
    expect(after.State).toMatchObject({ Status: 'running', Running: true, Pid: before.State.Pid });
    expect(after.NetworkSettings.Networks.bridge?.IPAddress).toBe(
      before.NetworkSettings.Networks.bridge?.IPAddress,
    );
    const { stdout } = await dockerCli(home, 'exec', 'tsc-keep', 'echo', 'alive');
    expect(stdout).toBe('alive\n');
    const g = await until(async () => {
      const i = await docker.getContainer('tsc-gone').inspect();
      return i.State.Running ? undefined : i;
    });
    expect(g.State.Status).toBe('exited');
    expect(g.State.ExitCode).toBe(137);
    const d2 = await docker.getContainer('tsc-done').inspect();
    expect(d2.State).toMatchObject({ Status: 'exited', ExitCode: 4 });
    await docker.getContainer('tsc-done').remove();
    await docker.getContainer('tsc-keep').remove({ force: true });
    await docker.getContainer('tsc-gone').remove();
  });

  it('keeps a stop that was answered when the engine is SIGKILLed at once (its writes may not have landed)', async () => {
    // the exit's record and network state are written after the answer: the restart must
    // recover both (the shim's exit record; the network's resume drops the veth-less endpoint)
    const net = await docker.createNetwork({ Name: 'tsc-stop-kill' });
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-stop-kill',
      Cmd: ['sh', '-c', "trap 'exit 3' TERM; sleep 1000 & wait"],
      HostConfig: { NetworkMode: 'tsc-stop-kill' },
    });
    await c.start();
    await c.stop({ t: 5 });
    await engine.kill();
    engine = await fx.restart();
    docker = engine.docker;
    const i = await docker.getContainer('tsc-stop-kill').inspect();
    expect(i.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 3 });
    await docker.getContainer('tsc-stop-kill').remove();
    await docker.getNetwork(net.id).remove();
  });
});

/** Container actions from the event stream between `since` and now. */
async function eventsOf(docker: Docker, id: string, since: number): Promise<string[]> {
  const stream = await docker.getEvents({
    since,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { container: [id] },
  });
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString();
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { Action: string }).Action);
}

/** A raw HTTP request on the unix socket. */
function fetchRaw(
  socket: string,
  method: string,
  path: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, method, path, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
