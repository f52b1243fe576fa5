import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

import { IpSession } from '../../../engine/networks/bridge.js';
import { NetworkManager } from '../../../engine/networks/index.js';
import { requireHost } from '../../helpers/host.js';
import {
  addNetns,
  delNetns,
  DNS_QUERY,
  type NamedNetns,
  nodeIn,
  ourLinks,
  serveIn,
  stop,
  TCP_PONG,
} from './netns.js';

const run = requireHost({ root: true });
const d = run ? describe : describe.skip;
jest.setTimeout(30_000);
const execFileAsync = promisify(execFile);

/** Async `ip` (the DNS server lives in this process: never block it with a sync spawn). */
async function ip(...args: string[]): Promise<string> {
  return (await execFileAsync('ip', args)).stdout;
}

/** DNS over TCP with dns-packet, printing the A answers of argv[1] from server argv[2]. */
const DNS_TCP = `
const net = require('net');
const packet = require('dns-packet');
const s = net.connect({ host: process.argv[2], port: 53 }, () => s.write(packet.streamEncode({ type: 'query', id: 7, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: process.argv[1] }] })));
let buf = Buffer.alloc(0);
s.on('data', (d) => { buf = Buffer.concat([buf, d]); if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { const r = packet.streamDecode(buf); console.log(JSON.stringify({ rcode: r.rcode, a: r.answers.map((x) => x.data).sort() })); s.destroy(); } });
s.on('error', (e) => console.log(JSON.stringify({ error: e.code })));`;

/** Sends argv[3] UDP A queries for argv[1] to argv[2]; prints the distinct first answers. */
const DNS_FIRSTS = `
const dns = require('dns');
const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
r.setServers([process.argv[2]]);
(async () => { const firsts = new Set(); for (let i = 0; i < Number(process.argv[3]); i++) firsts.add((await r.resolve4(process.argv[1]))[0]); console.log(JSON.stringify([...firsts].sort())); })();`;

d('ip session (root)', () => {
  it('reports each failing command of a request and keeps serving the next ones', async () => {
    const s = new IpSession();
    try {
      await expect(s.run(['link show dev lo', 'link del tsc-test-none0'])).rejects.toThrow(
        /ip -batch: Cannot find device "tsc-test-none0"/,
      );
      await expect(s.run(['link show dev lo'])).resolves.toBeUndefined();
      await expect(
        s.run(['link set dev tsc-test-none1 up', 'link set dev tsc-test-none2 up']),
      ).rejects.toThrow(/tsc-test-none1.*; .*tsc-test-none2/);
    } finally {
      s.close();
    }
  });
});

d('networks: IPv6, MTU, static addresses, DNS over TCP and round-robin (root)', () => {
  let manager: NetworkManager;
  const ns: NamedNetns[] = [];
  const procs: Awaited<ReturnType<typeof serveIn>>[] = [];
  const ids = ['1', '2', '3'].map((c) => c.repeat(64));

  beforeAll(() => {
    manager = new NetworkManager({ iptables: false, dnsForwarders: [] });
    for (const tag of ['x1', 'x2', 'x3']) ns.push(addNetns(tag));
  });

  afterAll(async () => {
    for (const p of procs) await stop(p);
    for (const id of ids) await manager.releaseContainer(id).catch(() => undefined);
    for (const n of manager.list()) await manager.remove(n.Id).catch(() => undefined);
    await manager.close();
    for (const n of ns) delNetns(n);
  });

  it('creates concurrently without handing out the same subnet', async () => {
    const [a, b] = await Promise.all([
      manager.create({ Name: 'tsc-test-p1' }),
      manager.create({ Name: 'tsc-test-p2' }),
    ]);
    const s1 = manager.inspect(a.Id).IPAM.Config[0]!.Subnet;
    const s2 = manager.inspect(b.Id).IPAM.Config[0]!.Subnet;
    expect(s1).not.toBe(s2);
    await manager.remove(a.Id);
    await manager.remove(b.Id);
  });

  it('runs a dual-stack network with MTU, ip_range and static addresses', async () => {
    if (!existsSync('/proc/net/if_inet6')) throw new Error('host has no IPv6');
    const { Id } = await manager.create({
      Name: 'tsc-test-v6',
      EnableIPv6: true,
      IPAM: {
        Config: [
          {
            Subnet: '10.252.0.0/16',
            IPRange: '10.252.5.0/24',
            AuxiliaryAddresses: { printer: '10.252.5.2' },
          },
          { Subnet: 'fd42:7473:6300::/64' },
        ],
      },
      Options: { 'com.docker.network.driver.mtu': '1400' },
    });
    const [x1, x2, x3] = ns as [NamedNetns, NamedNetns, NamedNetns];
    const e1 = await manager.connect(Id, {
      containerId: ids[0]!,
      containerName: 'tsc-test-web-1',
      netnsPath: x1.path,
      aliases: ['web'],
    });
    const e2 = await manager.connect(Id, {
      containerId: ids[1]!,
      containerName: 'tsc-test-web-2',
      netnsPath: x2.path,
      aliases: ['web'],
      ipv4Address: '10.252.9.9',
      ipv6Address: 'fd42:7473:6300::99',
    });
    // an address outside the subnet: the reason reaches the API's message, not only the cause
    await expect(
      manager.connect(Id, {
        containerId: ids[2]!,
        containerName: 'tsc-test-client',
        netnsPath: x3.path,
        ipv4Address: '10.99.5.7',
      }),
    ).rejects.toThrow(
      /^connect tsc-test-client to network tsc-test-v6: allocate address 10\.99\.5\.7: not a host address of 10\.252\.0\.0\/16/,
    );
    const e3 = await manager.connect(Id, {
      containerId: ids[2]!,
      containerName: 'tsc-test-client',
      netnsPath: x3.path,
    });
    expect(e1.IPAddress).toBe('10.252.5.0');
    expect(e1.GlobalIPv6Address).toBe('fd42:7473:6300::2');
    expect(e1.IPv6Gateway).toBe('fd42:7473:6300::1');
    expect(e2).toMatchObject({
      IPAddress: '10.252.9.9',
      GlobalIPv6Address: 'fd42:7473:6300::99',
      GlobalIPv6PrefixLen: 64,
    });
    expect(e3.IPAddress).toBe('10.252.5.1');
    expect(await ip('-n', x1.name, '-o', 'link', 'show', 'eth0')).toContain('mtu 1400');
    expect(
      await ip(
        '-o',
        'link',
        'show',
        'dev',
        manager.inspect(Id).Options['com.docker.network.bridge.name'] ?? `br-tsc${Id.slice(0, 9)}`,
      ),
    ).toContain('mtu 1400');
    expect(await ip('-n', x1.name, '-6', 'route', 'show', 'default')).toContain(
      'via fd42:7473:6300::1 dev eth0',
    );

    procs.push(
      await serveIn(
        x2.path,
        TCP_PONG.replace(
          '.listen(Number(process.argv[1]),',
          ".listen({ port: Number(process.argv[1]), host: '::' },",
        ),
        ['7000', 'web2'],
      ),
    );
    const v6 = await nodeIn(
      x3.path,
      `require('net').connect({ host: process.argv[1], port: 7000 }).on('data', (d) => console.log(String(d))).on('error', (e) => console.log('fail:' + e.code));`,
      ['fd42:7473:6300::99'],
    );
    expect(v6).toBe('pong web2 fd42:7473:6300::3');
    const gw = e3.Gateway;
    expect(await nodeIn(x3.path, DNS_QUERY, ['tsc-test-web-2', gw, 'AAAA'])).toBe(
      JSON.stringify(['fd42:7473:6300::99']),
    );
    expect(await nodeIn(x3.path, DNS_TCP, ['web', gw])).toBe(
      JSON.stringify({ rcode: 'NOERROR', a: ['10.252.5.0', '10.252.9.9'] }),
    );
    expect(await nodeIn(x3.path, DNS_TCP, ['nothing-here', gw])).toBe(
      JSON.stringify({ rcode: 'NXDOMAIN', a: [] }),
    );
    // Shuffled per query: over 40 queries both replicas come first at least once (p(fail) = 2^-39).
    expect(await nodeIn(x3.path, DNS_FIRSTS, ['web', gw, '40'])).toBe(
      JSON.stringify(['10.252.5.0', '10.252.9.9']),
    );
  });

  it('rolls a failed connect back: no veth, the address is free again', async () => {
    const before = ourLinks();
    await expect(
      manager.connect('tsc-test-v6', {
        containerId: '4'.repeat(64),
        containerName: 'tsc-test-bad',
        netnsPath: '/run/netns/tsc-test-missing',
      }),
    ).rejects.toMatchObject({ code: 'TSC_NETWORK' });
    expect(ourLinks()).toEqual(before);
    expect(Object.keys(manager.inspect('tsc-test-v6').Containers)).toHaveLength(3);
    await manager.disconnect('tsc-test-v6', ids[2]!);
    const again = await manager.connect('tsc-test-v6', {
      containerId: ids[2]!,
      containerName: 'tsc-test-client',
      netnsPath: ns[2]!.path,
      links: { db: 'tsc-test-web-2' },
      ndots: 2,
    });
    expect(again.IPAddress).toBe('10.252.5.1');
    // Link aliases resolve for the linking container only; with ndots > 0 a single-label miss is
    // answered empty (not forwarded, not NXDOMAIN) so the stub goes on with its search list.
    const gw = again.Gateway;
    expect(await nodeIn(ns[2]!.path, DNS_QUERY, ['db', gw])).toBe(JSON.stringify(['10.252.9.9']));
    expect(await nodeIn(ns[1]!.path, DNS_QUERY, ['db', gw])).toBe(
      JSON.stringify({ error: 'ENOTFOUND' }),
    );
    expect(await nodeIn(ns[2]!.path, DNS_QUERY, ['nothing', gw])).toBe(
      JSON.stringify({ error: 'ENODATA' }),
    );
    expect(await nodeIn(ns[2]!.path, DNS_QUERY, ['nothing.test', gw])).toBe(
      JSON.stringify({ error: 'ENOTFOUND' }),
    );
  });

  it('resumes from persisted state: collects dead endpoints, DNS answers again', async () => {
    const state = JSON.parse(JSON.stringify(manager.state())) as ReturnType<
      NetworkManager['state']
    >;
    await manager.close();
    manager = new NetworkManager({ state, iptables: false, dnsForwarders: [] });
    // web-1's netns died while the engine was down: its endpoint is collected on resume.
    delNetns(ns[0]!);
    // The bridge vanished too: it is recreated and the surviving veths plugged back in.
    await ip('link', 'del', `br-tsc${manager.inspect('tsc-test-v6').Id.slice(0, 9)}`);
    expect(await manager.resume()).toEqual([{ network: 'tsc-test-v6', containerId: ids[0] }]);
    expect(Object.keys(manager.inspect('tsc-test-v6').Containers).sort()).toEqual([ids[1], ids[2]]);
    const gw = manager.inspect('tsc-test-v6').IPAM.Config[0]!.Gateway;
    expect(await nodeIn(ns[2]!.path, DNS_QUERY, ['tsc-test-web-2', gw])).toBe(
      JSON.stringify(['10.252.9.9']),
    );
  });
});
