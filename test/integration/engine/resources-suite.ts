/**
 * Imported by containers.test.ts so the two engines never run in parallel (they would share the
 * host's iptables chains and default subnets).
 * The engine's container extras, image and network routes end to end as root, through dockerode
 * and the docker CLI: pause/unpause, rename, top, stats, named volumes with copy-up, user networks
 * with DNS between containers, published ports, image tag/list/inspect/rm and pull from a loopback
 * registry. Everything created is removed afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as net from 'node:net';
import * as os from 'node:os';

import type Docker from 'dockerode';

import { RegistryClient } from '../../../engine/images/registry';
import { seedBusybox } from '../../fixtures/images/build';
import { requireHost } from '../../helpers/host';
import { startRegistry, type TestRegistry } from '../../helpers/registry';
import { dockerCli, until, type EngineHome } from './harness';
import { useEngine } from '../../helpers/engine-fixture';

const ok = requireHost({ root: true, packages: ['tini', 'docker-registry', 'docker-compose'] });
const d = ok ? describe : describe.skip;

jest.setTimeout(120_000);

d('engine container extras, images and networks', () => {
  const fx = useEngine();
  let home: EngineHome;
  let docker: Docker;
  let registry: TestRegistry | undefined;
  beforeAll(() => {
    ({ home, docker } = fx);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('pauses, unpauses, renames, lists processes and reports stats', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-busy',
      Cmd: ['sleep', '1000'],
      HostConfig: { NetworkMode: 'none', Memory: 64 * 1024 * 1024 },
    });
    await c.start();
    await c.pause();
    expect((await c.inspect()).State).toMatchObject({ Status: 'paused', Paused: true });
    await c.unpause();
    expect((await c.inspect()).State).toMatchObject({ Status: 'running', Paused: false });
    await c.rename({ name: 'tsc-busy2' });
    expect((await docker.getContainer('tsc-busy2').inspect()).Name).toBe('/tsc-busy2');
    const top = (await c.top()) as { Titles: string[]; Processes: string[][] };
    expect(top.Titles).toContain('PID');
    expect(top.Processes.some((p: string[]) => p.join(' ').includes('sleep 1000'))).toBe(true);
    const stats = (await c.stats({ stream: false })) as unknown as {
      memory_stats: { limit: number };
      pids_stats: { current: number };
    };
    expect(stats.memory_stats.limit).toBe(64 * 1024 * 1024);
    expect(stats.pids_stats.current).toBe(1);
    await c.remove({ force: true });
  });

  it('creates named volumes on first use with the image content copied up', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      Cmd: ['sh', '-c', 'cat /var/cache/new; echo more > /var/cache/added'],
      HostConfig: { NetworkMode: 'none', Binds: ['tsc-cache:/var/cache'] },
    });
    await c.start();
    await c.wait();
    const vol = await docker.getVolume('tsc-cache').inspect();
    expect(vol.Name).toBe('tsc-cache');
    const mounts = (await c.inspect()).Mounts;
    expect(mounts).toEqual([
      expect.objectContaining({ Type: 'volume', Name: 'tsc-cache', Destination: '/var/cache' }),
    ]);
    await c.remove();
    const again = await docker.createContainer({
      Image: 'busybox:1.36',
      Cmd: ['cat', '/var/cache/new', '/var/cache/added'],
      HostConfig: { NetworkMode: 'none', Binds: ['tsc-cache:/var/cache:ro'] },
    });
    await again.start();
    await again.wait();
    const { stdout } = await dockerCli(home, 'logs', again.id);
    expect(stdout).toBe('visible\nmore\n');
    await again.remove();
    await docker.getVolume('tsc-cache').remove();
  });

  it('connects containers on a user network that resolve each other by name, and publishes ports', async () => {
    await dockerCli(home, 'network', 'create', 'tsc-net');
    await dockerCli(
      home,
      'run',
      '-d',
      '--name',
      'tsc-srv',
      '--network',
      'tsc-net',
      '-p',
      '127.0.0.1::8080',
      'busybox:1.36',
      'sh',
      '-c',
      'while true; do echo pong | nc -l -p 8080; done',
    );
    const { stdout } = await dockerCli(
      home,
      'run',
      '--rm',
      '--network',
      'tsc-net',
      'busybox:1.36',
      'sh',
      '-c',
      'nslookup tsc-srv >/dev/null && echo resolved',
    );
    expect(stdout).toBe('resolved\n');
    const info = await docker.getContainer('tsc-srv').inspect();
    const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    expect(port).toMatch(/^\d+$/);
    const reply = await until(async () => {
      const text = await new Promise<string>((resolve) => {
        const s = net.connect(Number(port), '127.0.0.1');
        let got = '';
        s.on('data', (b) => (got += b.toString()));
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(''));
      });
      return text.includes('pong') ? text : undefined;
    });
    expect(reply).toBe('pong\n');
    const { stdout: nets } = await dockerCli(home, 'network', 'ls', '--format', '{{.Name}}');
    expect(nets.split('\n')).toEqual(expect.arrayContaining(['bridge', 'host', 'none', 'tsc-net']));
    await dockerCli(home, 'rm', '-f', 'tsc-srv');
    await dockerCli(home, 'network', 'rm', 'tsc-net');
  });

  it('gives a host-network container the host files plus its extra hosts and dns search', async () => {
    const { stdout } = await dockerCli(
      home,
      'run',
      '--rm',
      '--network',
      'host',
      '--add-host',
      'tsc-extra:10.9.8.7',
      '--dns-search',
      'tsc.example',
      'busybox:1.36',
      'sh',
      '-c',
      'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname',
    );
    const [hosts = '', resolv = '', name = ''] = stdout.split('---\n');
    expect(hosts).toMatch(/^10\.9\.8\.7\ttsc-extra$/m);
    expect(resolv).toMatch(/^search tsc\.example$/m);
    expect(name.trim()).toBe(os.hostname());
  });

  it('tags, lists, inspects and removes images, and pulls from a registry', async () => {
    await dockerCli(home, 'tag', 'busybox:1.36', 'tsc/mine:1');
    const { stdout: images } = await dockerCli(
      home,
      'images',
      '--format',
      '{{.Repository}}:{{.Tag}}',
    );
    expect(images.split('\n')).toEqual(expect.arrayContaining(['busybox:1.36', 'tsc/mine:1']));
    const inspected = await docker.getImage('tsc/mine:1').inspect();
    expect(inspected.RepoTags).toEqual(
      expect.arrayContaining(['busybox:1.36', 'busybox:latest', 'tsc/mine:1']),
    );
    const { stdout: removed } = await dockerCli(home, 'rmi', 'tsc/mine:1');
    expect(removed).toContain('Untagged: tsc/mine:1');
    registry = await startRegistry();
    await seedBusybox(new RegistryClient(), registry.host, 'tsc/pulled');
    const ref = `${registry.host}/tsc/pulled:1.36`;
    const { stdout: pulled } = await dockerCli(home, 'pull', ref);
    expect(pulled).toContain(`Status: Downloaded newer image for ${ref}`);
    const { stdout: out } = await dockerCli(
      home,
      'run',
      '--rm',
      '--network',
      'none',
      ref,
      'cat',
      '/etc/fixture',
    );
    expect(out).toBe('busybox-fixture\n');
    await dockerCli(home, 'rmi', ref);
    await expect(docker.getImage(ref).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('brings a three-service docker-compose v1 stack with a network and a volume up and down', async () => {
    const project = join(home.dir, 'compose');
    mkdirSync(project);
    writeFileSync(
      join(project, 'docker-compose.yml'),
      [
        'version: "3.8"',
        'services:',
        '  web:',
        '    image: busybox:1.36',
        '    command: sh -c "echo web up; trap \'exit 0\' TERM; while true; do sleep 0.2; done"',
        '    networks: [tscnet]',
        '    volumes: [tscdata:/data]',
        '  worker:',
        '    image: busybox:1.36',
        '    command: sh -c "nslookup web >/dev/null && echo resolved-web; trap \'exit 0\' TERM; while true; do sleep 0.2; done"',
        '    networks: [tscnet]',
        '    depends_on: [web]',
        '  once:',
        '    image: busybox:1.36',
        '    command: echo done',
        '    networks: [tscnet]',
        'networks:',
        '  tscnet: {}',
        'volumes:',
        '  tscdata: {}',
        '',
      ].join('\n'),
    );
    const compose = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
      promisify(execFile)('docker-compose', ['-p', 'tscv1', ...args], {
        cwd: project,
        env: { ...process.env, DOCKER_HOST: `unix://${home.socket}` },
      });
    await compose('up', '-d');
    const logs = await until(async () => {
      const { stdout } = await compose('logs', '--no-color');
      return stdout.includes('resolved-web') && stdout.includes('web up') && stdout.includes('done')
        ? stdout
        : undefined;
    });
    expect(logs).toContain('once_1');
    const { stdout: ps } = await compose('ps');
    expect(ps).toMatch(/tscv1_web_1 .* Up/);
    expect(ps).toMatch(/tscv1_once_1 .* Exit 0/);
    expect((await docker.getVolume('tscv1_tscdata').inspect()).Name).toBe('tscv1_tscdata');
    await compose('down', '-v');
    expect(await docker.listContainers({ all: true })).toEqual([]);
    await expect(docker.getNetwork('tscv1_tscnet').inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(docker.getVolume('tscv1_tscdata').inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
