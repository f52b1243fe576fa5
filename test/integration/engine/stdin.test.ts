/**
 * Attach stdin end to end as root (Docker's OpenStdin / StdinOnce, non-TTY): a real engine on a
 * temp home, driven by dockerode's hijacked attach and the docker CLI (`run -i` with piped input).
 * Everything created is removed afterwards (the engine fixture removes every container).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';

import type Docker from 'dockerode';

import { requireHost } from '../../helpers/host';
import { useEngine } from '../../helpers/engine-fixture';
import { DOCKER, until } from './harness';

const ok = requireHost({ root: true, packages: ['tini'] });
const d = ok ? describe : describe.skip;

jest.setTimeout(120_000);

/** A hijacked attach (stdin, stdout, stderr) and the demultiplexed stdout text so far. */
async function attach(
  docker: Docker,
  c: Docker.Container,
): Promise<{ conn: Duplex; stdout: () => string; closed: Promise<void> }> {
  const conn = (await c.attach({
    stream: true,
    stdin: true,
    stdout: true,
    stderr: true,
    hijack: true,
  })) as unknown as Duplex;
  let text = '';
  const out = new PassThrough();
  out.on('data', (x: Buffer) => (text += x.toString()));
  docker.modem.demuxStream(conn, out, new PassThrough());
  const closed = new Promise<void>((resolve) => {
    conn.on('end', resolve);
    conn.on('close', resolve);
  });
  return { conn, stdout: () => text, closed };
}

d('engine attach stdin', () => {
  const fx = useEngine();

  it('forwards stdin and closes it at the client half-close with StdinOnce', async () => {
    const docker = fx.docker;
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-stdin-once',
      Cmd: ['sh', '-c', 'cat; echo eof'],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: { NetworkMode: 'none' },
    });
    const a = await attach(docker, c);
    const waited = c.wait({ condition: 'next-exit' });
    await c.start();
    a.conn.write('hello\n');
    a.conn.end();
    expect(await waited).toMatchObject({ StatusCode: 0 });
    await a.closed;
    expect(a.stdout()).toBe('hello\neof\n');
  });

  it('gives a container without OpenStdin /dev/null and ignores attached input', async () => {
    const docker = fx.docker;
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-stdin-null',
      Cmd: ['sh', '-c', 'readlink /proc/self/fd/0; cat; echo eof'],
      HostConfig: { NetworkMode: 'none' },
    });
    const a = await attach(docker, c);
    const waited = c.wait({ condition: 'next-exit' });
    await c.start();
    a.conn.write('ignored\n');
    expect(await waited).toMatchObject({ StatusCode: 0 });
    await a.closed;
    expect(a.stdout()).toBe('/dev/null\neof\n');
  });

  it('keeps stdin open after the client goes without StdinOnce; a later attach writes again', async () => {
    const docker = fx.docker;
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-stdin-open',
      Cmd: ['sh', '-c', 'readlink /proc/self/fd/0 | grep -q stdin && echo fifo; cat; echo eof'],
      OpenStdin: true,
      StdinOnce: false,
      HostConfig: { NetworkMode: 'none' },
    });
    const first = await attach(docker, c);
    await c.start();
    first.conn.write('one\n');
    first.conn.end();
    await until(() => Promise.resolve(first.stdout().includes('one\n') ? true : undefined));
    first.conn.destroy();
    const second = await attach(docker, c);
    second.conn.write('two\n');
    second.conn.end();
    await until(() => Promise.resolve(second.stdout().includes('two\n') ? true : undefined));
    second.conn.destroy();
    // cat still reads: stdin got no EOF from either client
    expect((await c.inspect()).State.Running).toBe(true);
    const logs = (await c.logs({ stdout: true, follow: false })).toString();
    expect(logs).toContain('fifo');
    expect(logs).toContain('one');
    expect(logs).toContain('two');
    expect(logs).not.toContain('eof');
    const waited = c.wait({ condition: 'next-exit' });
    await c.kill({ signal: 'SIGKILL' });
    expect(await waited).toMatchObject({ StatusCode: 137 });
  });

  /** Starts an OpenStdin + StdinOnce `cat` named `name` and waits until it reads its stdin. */
  async function startReading(docker: Docker, name: string): Promise<Docker.Container> {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name,
      Cmd: ['sh', '-c', 'echo ready; cat; echo eof'],
      OpenStdin: true,
      StdinOnce: true,
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await until(async () =>
      (await c.logs({ stdout: true, follow: false })).toString().includes('ready')
        ? true
        : undefined,
    );
    return c;
  }

  it('keeps an OpenStdin container that nobody attached to reading (no EOF)', async () => {
    const docker = fx.docker;
    const c = await startReading(docker, 'tsc-stdin-idle');
    expect((await c.inspect()).State.Running).toBe(true);
    // a restart opens a fresh stdin for the new run, which again gets no EOF
    await c.restart({ t: 0 });
    await until(async () => ((await c.inspect()).State.Running ? true : undefined));
    const a = await attach(docker, c);
    const waited = c.wait({ condition: 'next-exit' });
    a.conn.write('after restart\n');
    a.conn.end();
    expect(await waited).toMatchObject({ StatusCode: 0 });
    expect((await c.logs({ stdout: true, follow: false })).toString()).toContain('after restart');
  });

  /** The docker CLI against the engine with `input` piped in. */
  async function dockerWithInput(
    input: string,
    ...args: string[]
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const home = fx.home;
    const child = spawn(DOCKER, args, {
      env: {
        ...process.env,
        DOCKER_HOST: `unix://${home.socket}`,
        DOCKER_CONFIG: join(home.dir, 'docker-config'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (x: Buffer) => (stdout += x.toString()));
    child.stderr.on('data', (x: Buffer) => (stderr += x.toString()));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, stdout, stderr };
  }

  /** `docker run -i --rm busybox:1.36 <cmd>` with `input` piped in. */
  const runInteractive = (input: string, ...cmd: string[]): ReturnType<typeof dockerWithInput> =>
    dockerWithInput(input, 'run', '-i', '--rm', '--network', 'none', 'busybox:1.36', ...cmd);

  it('docker start -ai feeds each run a fresh stdin', async () => {
    await dockerWithInput(
      '',
      'create',
      '-i',
      '--name',
      'tsc-stdin-start',
      '--network',
      'none',
      'busybox:1.36',
      'sh',
      '-c',
      'cat; echo eof',
    );
    expect(await dockerWithInput('first\n', 'start', '-ai', 'tsc-stdin-start')).toEqual({
      code: 0,
      stdout: 'first\neof\n',
      stderr: '',
    });
    expect(await dockerWithInput('second\n', 'start', '-ai', 'tsc-stdin-start')).toEqual({
      code: 0,
      stdout: 'second\neof\n',
      stderr: '',
    });
  });

  it('gives a running OpenStdin init EOF when the engine goes (documented)', async () => {
    const c = await startReading(fx.docker, 'tsc-stdin-restart');
    await fx.engine.kill();
    const docker = (await fx.restart()).docker;
    const again = docker.getContainer(c.id);
    const state = await until(async () => {
      const s = (await again.inspect()).State;
      return s.Running ? undefined : s;
    });
    expect(state.ExitCode).toBe(0);
    expect((await again.logs({ stdout: true, follow: false })).toString()).toContain('eof');
  });

  it('docker run -i --rm with piped input prints it and exits 0', async () => {
    expect(await runInteractive('hi\n', 'cat')).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
  });

  it('docker run -i passes input larger than the pipe buffer whole (backpressure)', async () => {
    // 300 KB: several times the FIFO's 64 KiB buffer
    const counted = await runInteractive(
      'abcdefghi\n'.repeat(30_000),
      'sh',
      '-c',
      'n=0; while read -r l; do [ "$l" = abcdefghi ] && n=$((n+1)); done; echo $n',
    );
    expect(counted).toEqual({ code: 0, stdout: '30000\n', stderr: '' });
  });
});
