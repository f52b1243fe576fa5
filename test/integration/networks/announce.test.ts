/**
 * Address announcements after an attach (native/src/netlink.c): an endpoint that comes back with
 * its IP and a new MAC (a restarted container) sends a gratuitous ARP and an unsolicited NA, so a
 * peer's neighbour entry carries the new MAC at once. Everything is named tsc* and removed.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import {
  netlinkAnnounce,
  netlinkAttach,
  netlinkBridgeCreate,
  netlinkLinkDel,
} from '../../../native/index.js';
import { requireHost } from '../../helpers/host.js';
import {
  addNetns,
  delNetns,
  nodeIn,
  serveIn,
  stop,
  TCP_CLIENT,
  TCP_PONG,
  type NamedNetns,
} from './netns.js';

const run = requireHost({ root: true, packages: ['iproute2'] });
const d = run ? describe : describe.skip;
jest.setTimeout(30_000);

const PORT = '7391';
const B4 = '10.252.0.3';
const B6 = 'fd52::3';

/** The MAC in `ns`'s neighbour entry for `ip`, or '' when there is none. */
function neighMac(ns: NamedNetns, ip: string): string {
  const out = execFileSync('ip', ['-j', '-n', ns.name, 'neigh', 'show', ip], { encoding: 'utf8' });
  const entries = JSON.parse(out || '[]') as { lladdr?: string }[];
  return entries[0]?.lladdr ?? '';
}

/** Polls (briefly: the announcement only has to be processed) until `ns` maps `ip` to `mac`. */
async function neighBecomes(ns: NamedNetns, ip: string, mac: string): Promise<string> {
  let seen = neighMac(ns, ip);
  for (let i = 0; i < 100 && seen !== mac; i++) {
    await new Promise((r) => setTimeout(r, 20));
    seen = neighMac(ns, ip);
  }
  return seen;
}

/** A random locally administered unicast MAC (as engine/networks/bridge.ts `randomMac`). */
function mac(): string {
  const b = [...randomBytes(6)];
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

d('announcements after attach', () => {
  const tag = randomBytes(3).toString('hex');
  const bridge = `br-tscan${tag}`;
  const hostA = `vtscaa${tag}`;
  const hostB = `vtscab${tag}`;
  let a: NamedNetns;
  let b: NamedNetns;
  let server: ChildProcess | undefined;

  let firstMac = '';
  const attachB = (m: string): Promise<string> =>
    netlinkAttach({
      netnsPath: b.path,
      bridge,
      hostIfname: hostB,
      ifname: 'eth0',
      mac: m,
      addresses: [`${B4}/24`, `${B6}/64`],
      gateways: ['10.252.0.1'],
    });

  beforeAll(async () => {
    a = addNetns('ana');
    b = addNetns('anb');
    await netlinkBridgeCreate({
      name: bridge,
      mac: mac(),
      addresses: ['10.252.0.1/24', 'fd52::1/64'],
    });
    await netlinkAttach({
      netnsPath: a.path,
      bridge,
      hostIfname: hostA,
      ifname: 'eth0',
      mac: mac(),
      addresses: ['10.252.0.2/24', 'fd52::2/64'],
    });
    firstMac = mac();
    await attachB(firstMac);
    server = await serveIn(b.path, TCP_PONG, [PORT, 'b']);
  });

  afterAll(async () => {
    await stop(server);
    await netlinkLinkDel(hostA).catch(() => undefined);
    await netlinkLinkDel(hostB).catch(() => undefined);
    await netlinkLinkDel(bridge).catch(() => undefined);
    if (a) delNetns(a);
    if (b) delNetns(b);
  });

  test('a re-attach with the same IPs and a new MAC updates the peer at once (ARP and NA)', async () => {
    // A talks to B over both families: A's neighbour entries for B now hold B's first MAC.
    expect(await nodeIn(a.path, TCP_CLIENT, [B4, PORT])).toBe('pong b 10.252.0.2');
    expect(await nodeIn(a.path, TCP_CLIENT, [B6, PORT])).toBe('pong b fd52::2');
    const oldMac = neighMac(a, B4);
    expect(oldMac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(oldMac).toBe(firstMac);
    expect(neighMac(a, B6)).toBe(oldMac);

    // B goes away and comes back with the same addresses and a new MAC (a restarted container).
    await netlinkLinkDel(hostB);
    const newMac = mac();
    expect(await attachB(newMac)).toBe('');

    expect(await neighBecomes(a, B4, newMac)).toBe(newMac);
    expect(await neighBecomes(a, B6, newMac)).toBe(newMac);
    expect(await nodeIn(a.path, TCP_CLIENT, [B4, PORT])).toBe('pong b 10.252.0.2');
    expect(await nodeIn(a.path, TCP_CLIENT, [B6, PORT])).toBe('pong b fd52::2');
  });

  test('netlinkAnnounce alone (the iproute2 fallback) announces a changed MAC', async () => {
    expect(await nodeIn(a.path, TCP_CLIENT, [B4, PORT])).toBe('pong b 10.252.0.2');
    const newMac = mac();
    execFileSync('ip', ['-n', b.name, 'link', 'set', 'eth0', 'address', newMac]);
    expect(
      await netlinkAnnounce({
        netnsPath: b.path,
        ifname: 'eth0',
        addresses: [`${B4}/24`, `${B6}/64`],
      }),
    ).toBe('');
    expect(await neighBecomes(a, B4, newMac)).toBe(newMac);
    expect(await neighBecomes(a, B6, newMac)).toBe(newMac);
    expect(await nodeIn(a.path, TCP_CLIENT, [B6, PORT])).toBe('pong b fd52::2');
  });

  test('a missing link is a warning, not an error', async () => {
    const warning = await netlinkAnnounce({
      netnsPath: b.path,
      ifname: 'eth9',
      addresses: [`${B4}/24`],
    });
    expect(warning).toBe('find link: ENODEV');
  });
});
