import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, rmdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';

import { NetworkManager, planNetworkMode } from '../../../engine/networks/index.js';
import { requireHost } from '../../helpers/host.js';
import {
  addNetns,
  delNetns,
  DNS_QUERY,
  iptablesState,
  type NamedNetns,
  nodeIn,
  ourLinks,
  serveIn,
  spawnHolder,
  stop,
  TCP_CLIENT,
  TCP_PONG,
  UDP_ECHO,
  UPSTREAM_DNS,
} from './netns.js';

const run = requireHost({ root: true, packages: ['iptables'] });
const d = run ? describe : describe.skip;
jest.setTimeout(30_000);
const execFileAsync = promisify(execFile);

/** TCP request/response against the host's loopback. */
function tcpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let data = '';
    s.on('data', (b) => (data += String(b)));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

function udpGet(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('udp: no reply'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(String(m));
    });
    s.send(payload, port, host);
  });
}

/** Host's listening sockets on port 53 for an address (from /proc/net/{udp,tcp}). */
function dnsListenersOn(address: string): number {
  const hex = address
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
  let n = 0;
  for (const f of ['/proc/net/udp', '/proc/net/tcp']) {
    n += readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`${hex}:0035`)).length;
  }
  return n;
}

d('networks (root, netns stand-ins)', () => {
  // Random /30 of TEST-NET-3, random internal /24 and link name: runs on one host do not collide.
  const wanBase = 4 * Math.floor(Math.random() * 64);
  const WAN_HOST = `203.0.113.${wanBase + 1}`;
  const WAN_PEER = `203.0.113.${wanBase + 2}`;
  const WAN_LINK = `tscw${randomBytes(3).toString('hex')}`;
  const C_NET = `10.251.${Math.floor(Math.random() * 256)}`;
  let iptablesBefore = '';
  let ipForwardBefore = '';
  let manager: NetworkManager;
  let wan: NamedNetns;
  let c1: NamedNetns;
  let c2: NamedNetns;
  let c4: NamedNetns;
  let holder: ChildProcess & { pid: number };
  const procs: ChildProcess[] = [];
  let netA = '';
  let netB = '';
  let netC = '';
  let gwA = '';
  let gwB = '';
  let ipC2 = '';
  let ipC3 = '';
  const etcNetns = '/etc/netns';
  let createdEtcNetns = false;

  beforeAll(async () => {
    iptablesBefore = iptablesState();
    ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    // The "outside world": a netns on a veth of ours, with a TCP peer and an upstream DNS server.
    wan = addNetns('wan');
    execFileSync('ip', [
      'link',
      'add',
      WAN_LINK,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      wan.path,
    ]);
    execFileSync('ip', ['addr', 'add', `${WAN_HOST}/30`, 'dev', WAN_LINK]);
    execFileSync('ip', ['link', 'set', WAN_LINK, 'up']);
    execFileSync('ip', ['-n', wan.name, 'addr', 'add', `${WAN_PEER}/30`, 'dev', 'eth0']);
    execFileSync('ip', ['-n', wan.name, 'link', 'set', 'eth0', 'up']);
    procs.push(await serveIn(wan.path, UPSTREAM_DNS, [WAN_PEER]));
    procs.push(await serveIn(wan.path, TCP_PONG, ['7100', 'wan']));

    manager = new NetworkManager({ iptables: true, dnsForwarders: [WAN_PEER] });
    c1 = addNetns('c1');
    c2 = addNetns('c2');
    c4 = addNetns('c4');
    holder = await spawnHolder();
  });

  afterAll(async () => {
    for (const p of procs) await stop(p);
    await stop(holder);
    if (manager) {
      for (const n of manager.list()) {
        for (const id of Object.keys(n.Containers))
          await manager.disconnect(n.Id, id).catch(() => undefined);
        await manager.remove(n.Id).catch(() => undefined);
      }
      await manager.close();
    }
    for (const ns of [c1, c2, c4, wan]) if (ns) delNetns(ns);
    try {
      execFileSync('ip', ['link', 'del', WAN_LINK], { stdio: 'ignore' });
    } catch {
      /* went with the netns */
    }
    if (c1) rmSync(`${etcNetns}/${c1.name}`, { recursive: true, force: true });
    if (createdEtcNetns) rmdirSync(etcNetns);
  });

  it('creates bridge networks from the default pools, visible in inspect and list', async () => {
    netA = (
      await manager.create({ Name: 'tsc-test-a', Labels: { 'com.docker.compose.network': 'a' } })
    ).Id;
    netB = (await manager.create({ Name: 'tsc-test-b' })).Id;
    netC = (
      await manager.create({
        Name: 'tsc-test-c',
        Internal: true,
        IPAM: { Config: [{ Subnet: `${C_NET}.0/24` }] },
      })
    ).Id;
    const a = manager.inspect('tsc-test-a');
    gwA = a.IPAM.Config[0]!.Gateway;
    gwB = manager.inspect(netB).IPAM.Config[0]!.Gateway;
    expect(a).toMatchObject({
      Name: 'tsc-test-a',
      Id: netA,
      Driver: 'bridge',
      Scope: 'local',
      Internal: false,
      Labels: { 'com.docker.compose.network': 'a' },
    });
    expect(a.IPAM.Config[0]!.Subnet).toMatch(
      /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/,
    );
    expect(manager.inspect(netC).IPAM.Config).toEqual([
      { Subnet: `${C_NET}.0/24`, Gateway: `${C_NET}.1` },
    ]);
    expect(manager.list().map((n) => n.Name)).toEqual(['tsc-test-a', 'tsc-test-b', 'tsc-test-c']);
    const links = ourLinks();
    expect(links.filter((l) => l.startsWith('br-tsc'))).toHaveLength(3);
    await expect(manager.create({ Name: 'tsc-test-a' })).rejects.toMatchObject({
      code: 'TSC_ENGINE_CONFLICT',
    });
  });

  it('connects containers by netns path and by pid, with eth0, address, default route and lo', async () => {
    const s1 = await manager.connect(netA, {
      containerId: 'a'.repeat(64),
      containerName: 'tsc-test-box1',
      netnsPath: c1.path,
      aliases: ['box1'],
    });
    const s2 = await manager.connect(netA, {
      containerId: 'b'.repeat(64),
      containerName: 'tsc-test-box2',
      hostname: 'host2',
      netnsPath: c2.path,
      aliases: ['box2', 'alias2'],
    });
    const s3 = await manager.connect(netB, {
      containerId: 'c'.repeat(64),
      containerName: 'tsc-test-box3',
      pid: holder.pid,
      aliases: ['box3'],
    });
    ipC2 = s2.IPAddress;
    ipC3 = s3.IPAddress;
    expect(s1.Gateway).toBe(gwA);
    expect(s1.IPAddress).not.toBe(s2.IPAddress);
    expect(s2.DNSNames).toEqual(['tsc-test-box2', 'box2', 'alias2', 'bbbbbbbbbbbb', 'host2']);
    expect(s2.MacAddress).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
    const addr = execFileSync('ip', ['-n', c2.name, '-o', '-4', 'addr', 'show', 'dev', 'eth0'], {
      encoding: 'utf8',
    });
    expect(addr).toContain(`${ipC2}/${s2.IPPrefixLen}`);
    expect(
      execFileSync('ip', ['-n', c2.name, 'route', 'show', 'default'], { encoding: 'utf8' }),
    ).toContain(`default via ${gwA} dev eth0`);
    expect(
      execFileSync('ip', ['-n', c2.name, '-o', 'link', 'show', 'lo'], { encoding: 'utf8' }),
    ).toContain('UP');
    const inHolder = execFileSync(
      'nsenter',
      [`--net=/proc/${holder.pid}/ns/net`, 'ip', '-o', '-4', 'addr'],
      { encoding: 'utf8' },
    );
    expect(inHolder).toContain(ipC3);
    expect(Object.keys(manager.inspect(netA).Containers).sort()).toEqual([
      'a'.repeat(64),
      'b'.repeat(64),
    ]);
  });

  it('lets two containers on one network talk by IP and by name through the embedded DNS', async () => {
    procs.push(await serveIn(c2.path, TCP_PONG, ['7000', 'box2']));
    expect(await nodeIn(c1.path, TCP_CLIENT, [ipC2, '7000'])).toMatch(/^pong box2 /);
    expect(await nodeIn(c1.path, TCP_CLIENT, ['box2', '7000', gwA])).toMatch(/^pong box2 /);
    expect(await nodeIn(c1.path, DNS_QUERY, ['tsc-test-box2', gwA])).toBe(JSON.stringify([ipC2]));
    expect(await nodeIn(c1.path, DNS_QUERY, ['HOST2.', gwA])).toBe(JSON.stringify([ipC2]));
    expect(await nodeIn(c1.path, DNS_QUERY, ['bbbbbbbbbbbb', gwA])).toBe(JSON.stringify([ipC2]));
    expect(await nodeIn(c1.path, DNS_QUERY, ['box2.tsc-test-a', gwA])).toBe(JSON.stringify([ipC2]));
  });

  it('writes hosts and resolv.conf that glibc in the netns resolves through', async () => {
    const files = manager.containerFiles({
      containerId: 'a'.repeat(64),
      hostname: 'box1host',
      extraHosts: ['gw:host-gateway'],
      hostResolvConf: { path: '/etc/resolv.conf', content: `nameserver ${WAN_PEER}\n` },
    });
    expect(files.resolvConf).toContain(`\nnameserver ${gwA}\noptions ndots:0\n`);
    expect(files.hosts).toContain(`${gwA}\tgw\n`);
    createdEtcNetns = !existsSync(etcNetns);
    mkdirSync(`${etcNetns}/${c1.name}`, { recursive: true });
    writeFileSync(`${etcNetns}/${c1.name}/resolv.conf`, files.resolvConf);
    writeFileSync(`${etcNetns}/${c1.name}/hosts`, files.hosts);
    // Async: the DNS server runs in this process, a sync spawn would block it.
    const getent = async (name: string): Promise<string> =>
      (await execFileAsync('ip', ['netns', 'exec', c1.name, 'getent', 'ahostsv4', name])).stdout;
    expect(await getent('alias2')).toContain(ipC2);
    expect(await getent('box1host')).toContain(
      manager.containerNetworks('a'.repeat(64))['tsc-test-a']!.IPAddress,
    );
    expect(await getent('outside.test')).toContain('198.51.100.7');
  });

  it('scopes aliases to their network and forwards unknown names upstream', async () => {
    expect(await nodeIn(holderPath(), DNS_QUERY, ['alias2', gwB])).toBe(
      JSON.stringify({ error: 'ENOTFOUND' }),
    );
    expect(await nodeIn(holderPath(), DNS_QUERY, ['box3', gwB])).toBe(JSON.stringify([ipC3]));
    expect(await nodeIn(c1.path, DNS_QUERY, ['box3', gwA])).toBe(
      JSON.stringify({ error: 'ENOTFOUND' }),
    );
    expect(await nodeIn(c1.path, DNS_QUERY, ['outside.test', gwA])).toBe(
      JSON.stringify(['198.51.100.7']),
    );
  });

  it('keeps different networks apart', async () => {
    const out = await nodeIn(holderPath(), TCP_CLIENT, [ipC2, '7000']);
    expect(out).toMatch(/^fail:/);
  });

  it('masquerades outbound traffic of a non-internal network', async () => {
    expect(await nodeIn(c1.path, TCP_CLIENT, [WAN_PEER, '7100'])).toBe(`pong wan ${WAN_HOST}`);
  });

  it('gives an internal network no way out and no forwarding of unknown names', async () => {
    const s4 = await manager.connect(netC, {
      containerId: 'd'.repeat(64),
      containerName: 'tsc-test-box4',
      netnsPath: c4.path,
    });
    expect(s4.IPAddress).toBe(`${C_NET}.2`);
    expect(
      execFileSync('ip', ['-n', c4.name, 'route', 'show', 'default'], { encoding: 'utf8' }).trim(),
    ).toBe('');
    expect(await nodeIn(c4.path, TCP_CLIENT, [WAN_PEER, '7100'])).toMatch(/^fail:/);
    expect(await nodeIn(c4.path, DNS_QUERY, ['outside.test', `${C_NET}.1`])).toBe(
      JSON.stringify({ error: 'ENOTFOUND' }),
    );
    expect(await nodeIn(c4.path, DNS_QUERY, ['tsc-test-box4', `${C_NET}.1`])).toBe(
      JSON.stringify([`${C_NET}.2`]),
    );
  });

  it('publishes TCP and UDP ports on host loopback, random ports reported', async () => {
    procs.push(await serveIn(c2.path, UDP_ECHO, ['7001']));
    const published = await manager.publish('b'.repeat(64), [
      { protocol: 'tcp', hostIp: '127.0.0.1', published: '', target: '7000' },
      { protocol: 'udp', hostIp: '127.0.0.1', published: '', target: '7001' },
      { protocol: 'tcp', hostIp: '::1', published: '', target: '7000' },
    ]);
    expect(published).toHaveLength(3);
    for (const p of published) expect(p.hostPort).toBeGreaterThan(0);
    const [tcp, udp, tcp6] = published;
    expect(await tcpGet('127.0.0.1', tcp!.hostPort)).toMatch(/^pong box2 /);
    expect(await tcpGet('::1', tcp6!.hostPort)).toMatch(/^pong box2 /);
    expect(await udpGet('127.0.0.1', udp!.hostPort, 'hi')).toBe('echo hi');
    expect(iptablesState()).toContain('TSCOMPOSE-POSTROUTING');
    await manager.unpublish('b'.repeat(64));
    await expect(tcpGet('127.0.0.1', tcp!.hostPort)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('publishes on every host address and DNATs traffic to non-loopback addresses', async () => {
    const ports = await manager.publish('b'.repeat(64), [
      { protocol: 'tcp', hostIp: '', published: '', target: '7000' },
    ]);
    const p = ports[0];
    // Empty host IP: 0.0.0.0 and, with IPv6 on the host, :: on the same random port.
    if (ports.length === 2) {
      expect(ports[1]).toMatchObject({ hostIp: '::', hostPort: p!.hostPort });
      expect(await tcpGet('::1', p!.hostPort)).toMatch(/^pong box2 /);
    }
    expect(await tcpGet('127.0.0.1', p!.hostPort)).toMatch(/^pong box2 /);
    expect(iptablesState()).toContain(
      `--dport ${p!.hostPort} -j DNAT --to-destination ${ipC2}:7000`,
    );
    // From the wan peer through the host's address: DNAT to the container.
    expect(await nodeIn(wan.path, TCP_CLIENT, [WAN_HOST, String(p!.hostPort)])).toMatch(
      /^pong box2 /,
    );
    await manager.unpublish('b'.repeat(64));
    expect(iptablesState()).not.toContain('DNAT --to-destination');
  });

  it('adds a NIC to a running netns that works at once, and removes it again', async () => {
    const s = await manager.connect(netB, {
      containerId: 'a'.repeat(64),
      containerName: 'tsc-test-box1',
      netnsPath: c1.path,
      aliases: ['box1'],
    });
    expect(s.InterfaceName).toBe('eth1');
    expect(
      execFileSync('ip', ['-n', c1.name, '-o', '-4', 'addr', 'show', 'dev', 'eth1'], {
        encoding: 'utf8',
      }),
    ).toContain(s.IPAddress);
    // The default route stays on the first network.
    expect(
      execFileSync('ip', ['-n', c1.name, 'route', 'show', 'default'], { encoding: 'utf8' }),
    ).toContain('dev eth0');
    procs.push(await serveIn(holderPath(), TCP_PONG, ['7000', 'box3']));
    expect(await nodeIn(c1.path, TCP_CLIENT, ['box3', '7000', gwB])).toBe(
      `pong box3 ${s.IPAddress}`,
    );
    expect(await nodeIn(c1.path, DNS_QUERY, ['box3', gwA])).toBe(JSON.stringify([ipC3]));
    await manager.disconnect(netB, 'a'.repeat(64));
    expect(execFileSync('ip', ['-n', c1.name, '-o', 'link'], { encoding: 'utf8' })).not.toContain(
      'eth1',
    );
  });

  it('describes network_mode container:<pid> so a joiner shares the interfaces', () => {
    const plan = planNetworkMode(`container:${holder.pid}`, () => undefined);
    expect(plan).toEqual({
      kind: 'container',
      netns: 'join',
      path: `/proc/${holder.pid}/ns/net`,
      containerId: '',
    });
    if (plan.kind !== 'container') throw new Error('unreachable');
    expect(
      execFileSync('nsenter', [`--net=${plan.path}`, 'ip', '-o', '-4', 'addr'], {
        encoding: 'utf8',
      }),
    ).toContain(ipC3);
  });

  it('refuses to remove a network with endpoints, then tears everything down without leftovers', async () => {
    await expect(manager.remove(netA)).rejects.toMatchObject({ code: 'TSC_ENGINE_CONFLICT' });
    // A crashed container: its netns is gone before the engine collects the endpoint.
    await stop(holder);
    const state = manager.state();
    const ours = Object.values(state.networks).flatMap((n) => [
      n.bridge,
      ...Object.values(n.endpoints).map((e) => e.hostIfName),
    ]);
    expect(ours.length).toBeGreaterThan(3);
    await manager.releaseContainer('c'.repeat(64));
    for (const id of ['a', 'b', 'd']) await manager.releaseContainer(id.repeat(64));
    for (const n of [netA, netB, netC]) await manager.remove(n);
    expect(manager.list()).toEqual([]);
    expect(ourLinks().filter((l) => ours.includes(l))).toEqual([]);
    expect(dnsListenersOn(gwA) + dnsListenersOn(gwB) + dnsListenersOn(`${C_NET}.1`)).toBe(0);
    expect(iptablesState()).toBe(iptablesBefore);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(ipForwardBefore);
    expect(manager.state()).toEqual({ networks: {}, savedIpForward: undefined });
  });

  it('removes its chains when the last network goes even after someone deleted one of its jumps', async () => {
    const id = (await manager.create({ Name: 'tsc-test-jump' })).Id;
    expect(iptablesState()).toContain('-A FORWARD -j TSCOMPOSE-FORWARD');
    // a firewall reload elsewhere: the removal's one iptables-restore fails, it reads and retries
    execFileSync('iptables', ['-t', 'filter', '-D', 'FORWARD', '-j', 'TSCOMPOSE-FORWARD']);
    await manager.remove(id);
    expect(iptablesState()).toBe(iptablesBefore);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(ipForwardBefore);
  });

  function holderPath(): string {
    return `/proc/${holder.pid}/ns/net`;
  }
});
