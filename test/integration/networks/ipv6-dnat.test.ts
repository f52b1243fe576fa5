/**
 * IPv6 DNAT for ports published on an IPv6-enabled bridge network: ip6tables gets our chains with
 * the same rules as IPv4, traffic from this host to an IPv6 host address reaches the container's
 * IPv6 address without the proxy, and everything is gone with the network.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

import { NetworkManager } from '../../../engine/networks/index.js';
import { requireHost } from '../../helpers/host.js';
import {
  addNetns,
  delNetns,
  iptablesState,
  type NamedNetns,
  serveIn,
  stop,
  TCP_PONG,
} from './netns.js';

const run = requireHost({ root: true, packages: ['iptables'] });
const d = run ? describe : describe.skip;
jest.setTimeout(30_000);

function tcpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let data = '';
    s.setTimeout(3000, () => s.destroy(new Error('timeout')));
    s.on('data', (b) => (data += String(b)));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

d('IPv6 DNAT (ip6tables)', () => {
  const hex = randomBytes(2).toString('hex');
  const octet = Math.floor(Math.random() * 256);
  const V6 = `fd48:${hex}::`;
  let manager: NetworkManager;
  let c: NamedNetns;
  const procs: ChildProcess[] = [];
  let before6 = '';
  let before4 = '';

  beforeAll(() => {
    before6 = iptablesState('ip6tables');
    before4 = iptablesState();
    manager = new NetworkManager({ iptables: true, dnsForwarders: ['127.0.0.1'] });
    c = addNetns('v6');
  });

  afterAll(async () => {
    for (const p of procs) await stop(p);
    if (manager) {
      await manager.releaseContainer('f'.repeat(64)).catch(() => undefined);
      for (const n of manager.list()) await manager.remove(n.Id).catch(() => undefined);
      await manager.close();
    }
    if (c) delNetns(c);
  });

  test('a port published on :: is DNATed to the container IPv6 address; rules go with the network', async () => {
    const { Id } = await manager.create({
      Name: 'tsc-test-v6',
      EnableIPv6: true,
      IPAM: { Config: [{ Subnet: `10.248.${octet}.0/24` }, { Subnet: `${V6}/64` }] },
    });
    const ep = await manager.connect(Id, {
      containerId: 'f'.repeat(64),
      containerName: 'tsc-test-v6c',
      netnsPath: c.path,
    });
    expect(ep.GlobalIPv6Address).toBe(`${V6}2`);
    expect(ep.IPv6Gateway).toBe(`${V6}1`);
    procs.push(await serveIn(c.path, TCP_PONG, ['7500', 'v6']));
    const ports = await manager.publish('f'.repeat(64), [
      { protocol: 'tcp', hostIp: '', published: '', target: '7500' },
    ]);
    const v6port = ports.find((p) => p.hostIp === '::');
    expect(v6port).toBeDefined();
    const hostPort = v6port!.hostPort;
    const rules = execFileSync('ip6tables-save', ['-t', 'nat'], { encoding: 'utf8' });
    expect(rules).toContain(`--dport ${hostPort} -j DNAT --to-destination [${V6}2]:7500`);
    expect(rules).toContain(
      '-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT',
    );
    // To a local IPv6 address: DNAT, the container sees an IPv6 peer.
    expect(await tcpGet(`${V6}1`, hostPort)).toBe(`pong v6 ${V6}1`);
    // To ::1 (excluded from DNAT): the userland proxy, which reaches the container over IPv4.
    expect(await tcpGet('::1', hostPort)).toBe(`pong v6 10.248.${octet}.1`);

    await manager.unpublish('f'.repeat(64));
    expect(execFileSync('ip6tables-save', ['-t', 'nat'], { encoding: 'utf8' })).not.toContain(
      `[${V6}2]:7500`,
    );
    await manager.releaseContainer('f'.repeat(64));
    await manager.remove(Id);
    expect(iptablesState('ip6tables')).toBe(before6);
    expect(iptablesState()).toBe(before4);
  });
});
