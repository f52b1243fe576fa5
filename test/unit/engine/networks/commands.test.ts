import * as dnsPacket from 'dns-packet';

import {
  bridgeCreateCommands,
  bridgeName,
  endpointHostCommands,
  endpointNetnsCommands,
  randomMac,
  vethName,
} from '../../../../engine/networks/bridge.js';
import {
  resolveName,
  resolvePtr,
  truncateForUdp,
  type DnsNetwork,
  type DnsRecord,
} from '../../../../engine/networks/dns.js';
import { planNetworkMode } from '../../../../engine/networks/index.js';
import {
  renderRemoval,
  renderRules,
  OUR_CHAINS,
  OUR_CHAINS_V6,
} from '../../../../engine/networks/iptables.js';
import { expandPortSpec } from '../../../../engine/networks/ports.js';

const net = (id: string, name: string, records: Record<string, DnsRecord>): DnsNetwork => ({
  id,
  name,
  internal: false,
  records: new Map(Object.entries(records)),
});

describe('bridge commands', () => {
  it('names devices within IFNAMSIZ with our prefixes', () => {
    expect(bridgeName('0123456789abcdef')).toBe('br-tsc012345678');
    expect(vethName(Buffer.from('a1b2c3d4e5f6', 'hex'))).toBe('vtsca1b2c3d4e5f');
    expect(randomMac(Buffer.from([0xff, 1, 2, 3, 4, 5]))).toBe('fe:01:02:03:04:05');
  });

  it('builds bridge and endpoint batches, the peer born inside the netns', () => {
    expect(
      bridgeCreateCommands({
        name: 'br-tscx',
        mtu: 1400,
        macAddress: '02:00:00:00:00:fe',
        addresses: ['172.18.0.1/16', 'fd00::1/64'],
      }),
    ).toEqual([
      'link add name br-tscx mtu 1400 address 02:00:00:00:00:fe type bridge',
      'addr add 172.18.0.1/16 dev br-tscx',
      'addr add fd00::1/64 dev br-tscx nodad',
      'link set br-tscx up',
    ]);
    const ep = {
      bridge: 'br-tscx',
      hostIfName: 'vtsc1',
      ifName: 'eth1',
      netnsPath: '/proc/42/ns/net',
      macAddress: '02:00:00:00:00:01',
      mtu: 0,
      addresses: ['172.18.0.2/16'],
      gateways: ['172.18.0.1'],
    };
    expect(endpointNetnsCommands(ep, '/proc/7/ns/net')).toEqual([
      'link add eth1 address 02:00:00:00:00:01 type veth peer name vtsc1 netns /proc/7/ns/net',
      'link set lo up',
      'addr add 172.18.0.2/16 dev eth1',
      'link set eth1 up',
      'route replace default via 172.18.0.1 dev eth1',
    ]);
    expect(endpointHostCommands(ep)).toEqual(['link set vtsc1 master br-tscx up']);
    expect(
      endpointNetnsCommands(
        { ...ep, mtu: 1400, addresses: ['fd00::2/64'], gateways: ['fd00::1'] },
        '/x',
      ),
    ).toEqual([
      'link add eth1 mtu 1400 address 02:00:00:00:00:01 type veth peer name vtsc1 mtu 1400 netns /x',
      'link set lo up',
      'addr add fd00::2/64 dev eth1 nodad',
      'link set eth1 up',
      'route replace default via fd00::1 dev eth1',
    ]);
  });
});

describe('iptables rules', () => {
  it('renders NAT, isolation, internal and DNAT rules in our chains only', () => {
    const text = renderRules(
      [
        {
          bridge: 'br-a',
          subnets: ['172.18.0.0/16'],
          internal: false,
          masquerade: true,
          icc: true,
          ports: [
            {
              protocol: 'tcp',
              hostIp: '',
              hostPort: 8080,
              containerIp: '172.18.0.2',
              containerPort: 80,
            },
          ],
        },
        {
          bridge: 'br-b',
          subnets: ['172.19.0.0/16'],
          internal: true,
          masquerade: true,
          icc: true,
          ports: [],
        },
      ],
      [OUR_CHAINS[0]],
    );
    expect(text).toBe(
      [
        '*nat',
        ':TSCOMPOSE-POSTROUTING - [0:0]',
        ':TSCOMPOSE-DNAT - [0:0]',
        '-A TSCOMPOSE-POSTROUTING -s 172.18.0.0/16 ! -o br-a -j MASQUERADE',
        '-A TSCOMPOSE-DNAT ! -i br-a -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80',
        '-I POSTROUTING 1 -j TSCOMPOSE-POSTROUTING',
        'COMMIT',
        '*filter',
        ':TSCOMPOSE-FORWARD - [0:0]',
        '-A TSCOMPOSE-FORWARD -i br-a -o br-a -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -i br-b -o br-b -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -i br-a -o br-b -j DROP',
        '-A TSCOMPOSE-FORWARD -i br-b -o br-a -j DROP',
        '-A TSCOMPOSE-FORWARD -d 172.18.0.2/32 ! -i br-a -o br-a -p tcp -m tcp --dport 80 -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -o br-a -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -i br-a ! -o br-a -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -i br-b ! -o br-b -j DROP',
        '-A TSCOMPOSE-FORWARD -o br-b ! -i br-b -j DROP',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('renders the same rules for ip6tables with IPv6 addresses', () => {
    const text = renderRules(
      [
        {
          bridge: 'br-a',
          subnets: ['fd12:3456::/64'],
          internal: false,
          masquerade: true,
          icc: true,
          ports: [
            {
              protocol: 'tcp',
              hostIp: '::',
              hostPort: 8080,
              containerIp: 'fd12:3456::2',
              containerPort: 80,
            },
            {
              protocol: 'udp',
              hostIp: 'fd00::2',
              hostPort: 5353,
              containerIp: 'fd12:3456::2',
              containerPort: 53,
            },
          ],
        },
      ],
      [OUR_CHAINS_V6[2]],
      6,
    );
    expect(text).toBe(
      [
        '*nat',
        ':TSCOMPOSE-POSTROUTING - [0:0]',
        ':TSCOMPOSE-DNAT - [0:0]',
        '-A TSCOMPOSE-POSTROUTING -s fd12:3456::/64 ! -o br-a -j MASQUERADE',
        '-A TSCOMPOSE-DNAT ! -i br-a -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd12:3456::2]:80',
        '-A TSCOMPOSE-DNAT -d fd00::2/128 ! -i br-a -p udp -m udp --dport 5353 -j DNAT --to-destination [fd12:3456::2]:53',
        '-I OUTPUT 1 ! -d ::1/128 -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT',
        'COMMIT',
        '*filter',
        ':TSCOMPOSE-FORWARD - [0:0]',
        '-A TSCOMPOSE-FORWARD -i br-a -o br-a -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -d fd12:3456::2/128 ! -i br-a -o br-a -p tcp -m tcp --dport 80 -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -d fd12:3456::2/128 ! -i br-a -o br-a -p udp -m udp --dport 53 -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -o br-a -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A TSCOMPOSE-FORWARD -i br-a ! -o br-a -j ACCEPT',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('leaves out a table with nothing of ours left (a removal half done before)', () => {
    expect(renderRemoval([], ['TSCOMPOSE-FORWARD'])).toBe(
      ['*filter', '-F TSCOMPOSE-FORWARD', '-X TSCOMPOSE-FORWARD', 'COMMIT', ''].join('\n'),
    );
    expect(renderRemoval([], [])).toBe('');
  });

  it('removes only the jumps present, then flushes and deletes our chains', () => {
    expect(renderRemoval([OUR_CHAINS[3]])).toBe(
      [
        '*nat',
        '-F TSCOMPOSE-POSTROUTING',
        '-X TSCOMPOSE-POSTROUTING',
        '-F TSCOMPOSE-DNAT',
        '-X TSCOMPOSE-DNAT',
        'COMMIT',
        '*filter',
        '-D FORWARD -j TSCOMPOSE-FORWARD',
        '-F TSCOMPOSE-FORWARD',
        '-X TSCOMPOSE-FORWARD',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });
});

describe('port specs', () => {
  it('maps ranges 1:1, random ports, and both address families for an empty host IP', () => {
    expect(
      expandPortSpec(
        { protocol: 'tcp', hostIp: '', published: '8000-8001', target: '80-81' },
        true,
      ),
    ).toEqual([
      { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8000, hostPortEnd: 8000, containerPort: 80 },
      { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8001, hostPortEnd: 8001, containerPort: 81 },
      { protocol: 'tcp', hostIp: '::', hostPort: 8000, hostPortEnd: 8000, containerPort: 80 },
      { protocol: 'tcp', hostIp: '::', hostPort: 8001, hostPortEnd: 8001, containerPort: 81 },
    ]);
    expect(
      expandPortSpec({ protocol: 'udp', hostIp: '127.0.0.1', published: '', target: '53' }, false),
    ).toEqual([
      { protocol: 'udp', hostIp: '127.0.0.1', hostPort: 0, hostPortEnd: 0, containerPort: 53 },
    ]);
    expect(
      expandPortSpec(
        { protocol: 'tcp', hostIp: '::1', published: '9000-9005', target: '80' },
        false,
      ),
    ).toEqual([
      { protocol: 'tcp', hostIp: '::1', hostPort: 9000, hostPortEnd: 9005, containerPort: 80 },
    ]);
  });

  it('rejects malformed ports and ranges of different lengths', () => {
    expect(() =>
      expandPortSpec({ protocol: 'tcp', hostIp: '', published: '80-79', target: '80' }, false),
    ).toThrow('parse host port 80-79: invalid port or range');
    expect(() =>
      expandPortSpec(
        { protocol: 'tcp', hostIp: '', published: '8000-8002', target: '80-81' },
        false,
      ),
    ).toThrow('host and container ranges differ in length');
  });
});

describe('dns names', () => {
  const back = net('n1', 'aliasdns_backnet', {
    e1: {
      names: ['aliasdns-store-1', 'store', 'primary-store', 'store.internal'],
      ipv4: '172.19.0.2',
    },
    e2: { names: ['aliasdns-probe-1', 'probe'], ipv4: '172.19.0.3', ipv6: 'fd00::3' },
  });
  const def = net('n2', 'aliasdns_default', {
    e3: { names: ['aliasdns-outsider-1', 'outsider'], ipv4: '172.18.0.2' },
    e4: { names: ['web'], ipv4: '172.18.0.3' },
    e5: { names: ['web'], ipv4: '172.18.0.4' },
  });

  it('answers names and aliases case-insensitively, with a trailing dot', () => {
    expect(resolveName([back], 'Primary-Store.', 'A')).toEqual({
      kind: 'found',
      addresses: ['172.19.0.2'],
    });
    expect(resolveName([back], 'store.internal', 'A')).toEqual({
      kind: 'found',
      addresses: ['172.19.0.2'],
    });
  });

  it('scopes names to the networks of the asker (case 025)', () => {
    expect(resolveName([def], 'primary-store', 'A')).toEqual({ kind: 'unknown' });
  });

  it('returns every replica and an empty answer for a missing family', () => {
    expect(resolveName([def], 'web', 'A')).toEqual({
      kind: 'found',
      addresses: ['172.18.0.3', '172.18.0.4'],
    });
    expect(resolveName([def], 'web', 'AAAA')).toEqual({ kind: 'found', addresses: [] });
    expect(resolveName([back], 'probe', 'AAAA')).toEqual({ kind: 'found', addresses: ['fd00::3'] });
  });

  it('resolves name.network in that network only', () => {
    expect(resolveName([back, def], 'store.aliasdns_backnet', 'A')).toEqual({
      kind: 'found',
      addresses: ['172.19.0.2'],
    });
    expect(resolveName([back, def], 'store.aliasdns_default', 'A')).toEqual({ kind: 'unknown' });
  });

  it('answers PTR with the first name', () => {
    expect(resolvePtr([back], '2.0.19.172.in-addr.arpa')).toEqual({
      kind: 'ptr',
      name: 'aliasdns-store-1.aliasdns_backnet',
    });
    expect(resolvePtr([back], '9.0.19.172.in-addr.arpa')).toEqual({ kind: 'unknown' });
  });
});

describe('network modes', () => {
  const lookup = (ref: string) => (ref === 'db' ? { containerId: 'c1', pid: 77 } : undefined);
  it('describes host, none, container and bridge modes as data', () => {
    expect(planNetworkMode('host', lookup)).toEqual({ kind: 'host', netns: 'host' });
    expect(planNetworkMode('none', lookup)).toEqual({ kind: 'none', netns: 'new' });
    expect(planNetworkMode('container:db', lookup)).toEqual({
      kind: 'container',
      netns: 'join',
      path: '/proc/77/ns/net',
      containerId: 'c1',
    });
    expect(planNetworkMode('container:1234', lookup)).toEqual({
      kind: 'container',
      netns: 'join',
      path: '/proc/1234/ns/net',
      containerId: '',
    });
    expect(planNetworkMode('proj_default', lookup)).toEqual({ kind: 'bridge', netns: 'new' });
    expect(() => planNetworkMode('container:nope', lookup)).toThrow(
      'join network of container nope: not running',
    );
  });
});

describe('dns truncation', () => {
  const reply = dnsPacket.encode({
    type: 'response',
    id: 9,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', name: 'web' }],
    answers: Array.from({ length: 60 }, (_, i) => ({
      type: 'A' as const,
      name: 'web',
      ttl: 600,
      data: `10.0.0.${i + 1}`,
    })),
  });

  it('cuts answers to 512 bytes and sets TC when the query has no EDNS0', () => {
    const query = dnsPacket.encode({
      type: 'query',
      id: 9,
      questions: [{ type: 'A', name: 'web' }],
    });
    expect(reply.length).toBeGreaterThan(512);
    const out = dnsPacket.decode(truncateForUdp(query, reply));
    expect(truncateForUdp(query, reply).length).toBeLessThanOrEqual(512);
    expect(out.flag_tc).toBe(true);
    expect(out.answers!.length).toBeGreaterThan(0);
    expect(out.answers!.length).toBeLessThan(60);
  });

  it('keeps the whole answer when EDNS0 allows a larger payload', () => {
    const query = dnsPacket.encode({
      type: 'query',
      id: 9,
      questions: [{ type: 'A', name: 'web' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    expect(truncateForUdp(query, reply)).toBe(reply);
  });
});
