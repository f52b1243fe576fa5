/**
 * `docker network create -d macvlan -o parent=...` against our engine (docker CLI on a temp
 * socket): the network is listed with Docker's shape and two containers on it talk over HTTP.
 * The parent is a link the test creates (`tsc...`); everything is removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';

import { requireHost } from '../../helpers/host.js';
import {
  dockerCli,
  type Engine,
  type EngineHome,
  fullBusyboxLayers,
  makeHome,
  removeNetworks,
  shimPids,
  startEngine,
  waitShimsGone,
} from '../../helpers/engine.js';

const run = requireHost({ root: true, packages: ['iproute2'] });
const d = run ? describe : describe.skip;
jest.setTimeout(120_000);

d('macvlan through the engine API (docker CLI)', () => {
  const tag = randomBytes(3).toString('hex');
  const parent = `tscmve${tag}`;
  const peer = `tscmvf${tag}`;
  const octet = Math.floor(Math.random() * 256);
  const net = `tsc-test-mv${tag}`;
  let home: EngineHome | undefined;
  let engine: Engine | undefined;
  let shimsBefore = new Set<number>();

  beforeAll(async () => {
    shimsBefore = shimPids();
    execFileSync('ip', ['link', 'add', parent, 'type', 'veth', 'peer', 'name', peer]);
    execFileSync('ip', ['link', 'set', peer, 'up']);
    execFileSync('ip', ['link', 'set', parent, 'up']);
    home = await makeHome({ layers: fullBusyboxLayers() });
    engine = await startEngine(home);
  });

  afterAll(async () => {
    try {
      if (engine && home) {
        const all = await engine.docker.listContainers({ all: true }).catch(() => []);
        for (const c of all) await engine.docker.getContainer(c.Id).remove({ force: true });
        await dockerCli(home, 'network', 'rm', net).catch(() => undefined);
        await engine.stop();
        await waitShimsGone(shimsBefore);
      }
    } finally {
      if (home) {
        await removeNetworks(home);
        rmSync(home.dir, { recursive: true, force: true });
      }
      execFileSync('ip', ['link', 'del', parent], { stdio: 'ignore' });
    }
  });

  test('network create -d macvlan, two containers reach each other', async () => {
    const h = home!;
    await dockerCli(
      h,
      'network',
      'create',
      '-d',
      'macvlan',
      '-o',
      `parent=${parent}`,
      '--subnet',
      `10.249.${octet}.0/24`,
      net,
    );
    const shown = await dockerCli(
      h,
      'network',
      'inspect',
      net,
      '-f',
      '{{.Driver}} {{.Options.parent}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}',
    );
    expect(shown.stdout.trim()).toBe(`macvlan ${parent} 10.249.${octet}.0/24 10.249.${octet}.1`);
    const ls = await dockerCli(
      h,
      'network',
      'ls',
      '--filter',
      'driver=macvlan',
      '--format',
      '{{.Name}}',
    );
    expect(ls.stdout.trim()).toBe(net);

    await dockerCli(
      h,
      'run',
      '-d',
      '--name',
      `tsc-test-mvweb${tag}`,
      '--network',
      net,
      'busybox',
      'httpd',
      '-f',
      '-p',
      '7400',
      '-h',
      '/etc',
    );
    const ip = (
      await dockerCli(
        h,
        'inspect',
        '-f',
        `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`,
        `tsc-test-mvweb${tag}`,
      )
    ).stdout.trim();
    expect(ip).toBe(`10.249.${octet}.2`);
    const got = await dockerCli(
      h,
      'run',
      '--rm',
      '--network',
      net,
      'busybox',
      'sh',
      '-c',
      `for i in 1 2 3 4 5; do wget -qO- http://${ip}:7400/passwd && exit 0; sleep 0.3; done; exit 1`,
    );
    expect(got.stdout).toContain('root:x:0:0:root');
    const route = await dockerCli(h, 'run', '--rm', '--network', net, 'busybox', 'ip', 'route');
    expect(route.stdout).toContain(`default via 10.249.${octet}.1 dev eth0`);
  });
});
