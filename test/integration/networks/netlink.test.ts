/**
 * The addon's rtnetlink client (native/src/netlink.c) against the real kernel: a bridge, a veth
 * endpoint born in a test netns, its addresses and routes, errors as NativeError with errno
 * names, deletion inside a netns. Everything is named tsc* and removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';

import { NativeError } from '../../../base/errors.js';
import { netlinkAttach, netlinkBridgeCreate, netlinkLinkDel } from '../../../native/index.js';
import { requireHost } from '../../helpers/host.js';
import { addNetns, delNetns, type NamedNetns } from './netns.js';

const run = requireHost({ root: true, packages: ['iproute2'] });
const d = run ? describe : describe.skip;
jest.setTimeout(30_000);

interface IpAddr {
  readonly ifname: string;
  readonly mtu: number;
  readonly address: string;
  readonly operstate: string;
  readonly addr_info: { family: string; local: string; prefixlen: number }[];
}

function ipJson<T>(args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8' })) as T;
}

async function nativeErrno(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NativeError) return e.errno;
    throw e;
  }
  throw new Error('expected a NativeError');
}

d('rtnetlink client', () => {
  const tag = randomBytes(3).toString('hex');
  const bridge = `br-tscnl${tag}`;
  const host = `vtscnl${tag}`;
  let ns: NamedNetns;

  beforeAll(async () => {
    ns = addNetns('nl');
    await netlinkBridgeCreate({
      name: bridge,
      mac: '02:42:ac:11:00:01',
      mtu: 1450,
      addresses: ['10.251.0.1/24', 'fd51::1/64'],
    });
  });

  afterAll(async () => {
    await netlinkLinkDel(host).catch(() => undefined);
    await netlinkLinkDel(bridge).catch(() => undefined);
    if (ns) delNetns(ns);
  });

  test('creates a bridge with its mac, mtu and addresses, up', () => {
    const [br] = ipJson<IpAddr[]>(['addr', 'show', 'dev', bridge]);
    expect(br?.address).toBe('02:42:ac:11:00:01');
    expect(br?.mtu).toBe(1450);
    expect(br?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(
      expect.arrayContaining(['10.251.0.1/24', 'fd51::1/64']),
    );
    const flags = ipJson<{ flags: string[] }[]>(['link', 'show', 'dev', bridge])[0]?.flags;
    expect(flags).toContain('UP');
  });

  test('attaches a veth: peer born in the netns with mac, mtu, addresses, routes; host end on the bridge', async () => {
    await netlinkAttach({
      netnsPath: ns.path,
      bridge,
      hostIfname: host,
      ifname: 'eth0',
      mac: '02:42:0a:fb:00:02',
      mtu: 1450,
      addresses: ['10.251.0.2/24', 'fd51::2/64'],
      gateways: ['10.251.0.1', 'fd51::1'],
    });
    const [eth0] = ipJson<IpAddr[]>(['-n', ns.name, 'addr', 'show', 'dev', 'eth0']);
    expect(eth0?.address).toBe('02:42:0a:fb:00:02');
    expect(eth0?.mtu).toBe(1450);
    expect(eth0?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(
      expect.arrayContaining(['10.251.0.2/24', 'fd51::2/64']),
    );
    const lo = ipJson<{ flags: string[] }[]>(['-n', ns.name, 'link', 'show', 'dev', 'lo'])[0];
    expect(lo?.flags).toContain('UP');
    const v4 = ipJson<{ dst: string; gateway?: string; dev: string }[]>([
      '-n',
      ns.name,
      'route',
      'show',
      'default',
    ]);
    expect(v4).toEqual([expect.objectContaining({ dst: 'default', gateway: '10.251.0.1' })]);
    const v6 = ipJson<{ dst: string; gateway?: string }[]>([
      '-6',
      '-n',
      ns.name,
      'route',
      'show',
      'default',
    ]);
    expect(v6).toEqual([expect.objectContaining({ dst: 'default', gateway: 'fd51::1' })]);
    const [hostEnd] = ipJson<{ master?: string; mtu: number; flags: string[] }[]>([
      'link',
      'show',
      'dev',
      host,
    ]);
    expect(hostEnd?.master).toBe(bridge);
    expect(hostEnd?.mtu).toBe(1450);
    expect(hostEnd?.flags).toContain('UP');
    // The gateway on the bridge answers through the new veth.
    execFileSync('ip', ['netns', 'exec', ns.name, 'ip', 'neigh', 'flush', 'all']);
    const out = execFileSync(
      'ip',
      ['netns', 'exec', ns.name, process.execPath, '-e', NET_PROBE, '10.251.0.1'],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('refused');
  });

  test('a taken name is EEXIST and leaves nothing behind', async () => {
    const other = `vtscnx${tag}`;
    expect(
      await nativeErrno(
        netlinkAttach({ netnsPath: ns.path, bridge, hostIfname: other, ifname: 'eth0' }),
      ),
    ).toBe('EEXIST');
    expect(ipJson<unknown[]>(['link', 'show']).some((l) => JSON.stringify(l).includes(other))).toBe(
      false,
    );
  });

  test('a missing bridge is ENODEV; a failed step undoes the veth', async () => {
    expect(
      await nativeErrno(
        netlinkAttach({
          netnsPath: ns.path,
          bridge: 'br-tscnone',
          hostIfname: `vtscny${tag}`,
          ifname: 'eth1',
        }),
      ),
    ).toBe('ENODEV');
    // A gateway off every subnet makes the route step fail after the veth exists.
    const err = await netlinkAttach({
      netnsPath: ns.path,
      bridge,
      hostIfname: `vtscnz${tag}`,
      ifname: 'eth1',
      addresses: ['10.251.0.3/24'],
      gateways: ['10.99.99.1'],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeError);
    expect((err as NativeError).message).toMatch(
      /^attach eth1 \(vtscnz\w+\): add default route 1: E/,
    );
    expect(ipJson<unknown[]>(['-n', ns.name, 'link', 'show']).length).toBe(2); // lo, eth0
  });

  test('bad arguments are TypeErrors naming the field', async () => {
    await expect(netlinkAttach({ ifname: 'eth0', hostIfname: 'x' })).rejects.toThrow(
      /netnsPath or netnsFd is required/,
    );
    await expect(
      netlinkAttach({
        netnsPath: ns.path,
        ifname: 'eth0',
        hostIfname: 'x',
        addresses: ['10.0.0.1'],
      }),
    ).rejects.toThrow(/needs a prefix length/);
    await expect(
      netlinkAttach({ netnsPath: ns.path, ifname: 'a-name-longer-than-15', hostIfname: 'x' }),
    ).rejects.toThrow(/ifname is invalid/);
    await expect(
      netlinkAttach({
        netnsPath: ns.path,
        kind: 'macvlan',
        ifname: 'eth1',
        parent: 'x',
        mode: 'l9',
      }),
    ).rejects.toThrow(/bad macvlan mode l9/);
  });

  test('an all-zero gateway is a device route (ipvlan l3 style); netnsFd works like a path', async () => {
    const other = addNetns('nl0');
    const fd = openSync(other.path, 'r');
    try {
      await netlinkAttach({
        netnsFd: fd,
        bridge,
        hostIfname: `vtscnd${tag}`,
        ifname: 'eth0',
        addresses: ['10.251.0.9/24', 'fd51::9/64'],
        gateways: ['0.0.0.0', '::'],
      });
      const v4 = execFileSync('ip', ['-n', other.name, 'route', 'show', 'default'], {
        encoding: 'utf8',
      });
      expect(v4.trim()).toBe('default dev eth0 scope link');
      const v6 = execFileSync('ip', ['-6', '-n', other.name, 'route', 'show', 'default'], {
        encoding: 'utf8',
      });
      expect(v6).toMatch(/^default dev eth0 /);
    } finally {
      closeSync(fd);
      await netlinkLinkDel(`vtscnd${tag}`).catch(() => undefined);
      delNetns(other);
    }
  });

  test('deletes a link inside a netns, and a missing one is ENODEV', async () => {
    execFileSync('ip', ['-n', ns.name, 'link', 'add', 'tscdel0', 'type', 'bridge']);
    await netlinkLinkDel('tscdel0', ns.path);
    expect(await nativeErrno(netlinkLinkDel('tscdel0', ns.path))).toBe('ENODEV');
    await netlinkLinkDel(host);
    expect(ipJson<unknown[]>(['-n', ns.name, 'link', 'show']).length).toBe(1); // eth0 went along
  });
});

/** Connects to port 1 of an address: `refused` proves the peer answered (an RST came back). */
const NET_PROBE = `
const s = require('net').connect({ host: process.argv[1], port: 1 });
s.setTimeout(3000, () => { console.log('timeout'); process.exit(0); });
s.on('error', (e) => { console.log(e.code === 'ECONNREFUSED' ? 'refused' : e.code); process.exit(0); });
s.on('connect', () => { console.log('open'); process.exit(0); });`;
