/**
 * macvlan and ipvlan networks through NetworkManager, on a parent link the test creates (`dummy`
 * when the kernel has it, else one end of a veth pair; never a host interface). Containers are
 * netns stand-ins. Checks Docker's behaviour: IPAM as for bridge, the child link born in the
 * container netns, no bridge/NAT/rules/DNS listener, containers on one network reach each other.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { NetworkManager } from '../../../engine/networks/index.js';
import { requireHost } from '../../helpers/host.js';
import {
  addNetns,
  delNetns,
  iptablesState,
  type NamedNetns,
  nodeIn,
  ourLinks,
  serveIn,
  stop,
  TCP_CLIENT,
  TCP_PONG,
} from './netns.js';
import type { ChildProcess } from 'node:child_process';

const run = requireHost({ root: true, packages: ['iproute2', 'iptables'] });
const d = run ? describe : describe.skip;
jest.setTimeout(30_000);

/** True when `ip link add ... type <kind>` works here (the kernel has the link kind). */
function kernelHas(kind: string, parent?: string): boolean {
  const name = `tsck${randomBytes(4).toString('hex')}`;
  try {
    const link = parent ? ['link', parent] : [];
    execFileSync('ip', ['link', 'add', ...link, 'name', name, 'type', kind], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface LinkJson {
  readonly ifname: string;
  readonly address: string;
  readonly flags: string[];
  readonly linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
  readonly addr_info?: { local: string; prefixlen: number }[];
}

function linkIn(ns: NamedNetns, dev: string): LinkJson | undefined {
  const json = execFileSync('ip', ['-d', '-j', '-n', ns.name, 'addr', 'show', 'dev', dev], {
    encoding: 'utf8',
  });
  return (JSON.parse(json) as LinkJson[])[0];
}

d('macvlan and ipvlan networks (root, netns stand-ins)', () => {
  const tag = randomBytes(3).toString('hex');
  const parent = `tscmvp${tag}`;
  const parentPeer = `tscmvq${tag}`;
  const parent2 = `tscipp${tag}`;
  const parent2Peer = `tscipq${tag}`;
  const octet = Math.floor(Math.random() * 256);
  const SUBNET = `10.253.${octet}.0/24`;
  let manager: NetworkManager;
  let a: NamedNetns;
  let b: NamedNetns;
  const procs: ChildProcess[] = [];
  let iptablesBefore = '';
  let linksBefore: string[] = [];

  /** A parent link of ours: dummy when available, else a veth end (its peer stays in our netns). */
  function addParent(name: string, peer: string): void {
    if (kernelHas('dummy')) {
      execFileSync('ip', ['link', 'add', name, 'type', 'dummy']);
    } else {
      execFileSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', peer]);
      execFileSync('ip', ['link', 'set', peer, 'up']);
    }
    execFileSync('ip', ['link', 'set', name, 'up']);
  }

  beforeAll(() => {
    iptablesBefore = iptablesState();
    addParent(parent, parentPeer);
    addParent(parent2, parent2Peer);
    linksBefore = ourLinks().sort();
    manager = new NetworkManager({ iptables: true, dnsForwarders: ['127.0.0.1'] });
    a = addNetns('mva');
    b = addNetns('mvb');
  });

  afterAll(async () => {
    for (const p of procs) await stop(p);
    if (manager) {
      for (const n of manager.list()) {
        for (const id of Object.keys(n.Containers))
          await manager.disconnect(n.Id, id).catch(() => undefined);
        await manager.remove(n.Id).catch(() => undefined);
      }
      await manager.close();
    }
    if (a) delNetns(a);
    if (b) delNetns(b);
    for (const l of [parent, parent2]) {
      try {
        execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    }
  });

  test('macvlan: create, two containers reach each other, no bridge/rules/DNS, detach', async () => {
    const { Id } = await manager.create({
      Name: 'tsc-test-mv',
      Driver: 'macvlan',
      Options: { parent },
      IPAM: { Config: [{ Subnet: SUBNET }] },
    });
    const net = manager.inspect(Id);
    expect(net.Driver).toBe('macvlan');
    expect(net.Options).toEqual({ parent });
    expect(net.IPAM.Config).toEqual([{ Subnet: SUBNET, Gateway: `10.253.${octet}.1` }]);
    // No bridge, no chains, no listener: the host is as before apart from the parent.
    expect(ourLinks().sort()).toEqual(linksBefore);
    expect(iptablesState()).toBe(iptablesBefore);

    const ea = await manager.connect(Id, {
      containerId: 'a'.repeat(64),
      containerName: 'tsc-test-mva',
      netnsPath: a.path,
    });
    const eb = await manager.connect(Id, {
      containerId: 'b'.repeat(64),
      containerName: 'tsc-test-mvb',
      netnsPath: b.path,
    });
    expect(ea).toMatchObject({
      IPAddress: `10.253.${octet}.2`,
      IPPrefixLen: 24,
      Gateway: `10.253.${octet}.1`,
      InterfaceName: 'eth0',
    });
    expect(eb.IPAddress).toBe(`10.253.${octet}.3`);
    const eth0 = linkIn(a, 'eth0');
    expect(eth0?.linkinfo?.info_kind).toBe('macvlan');
    expect(eth0?.linkinfo?.info_data?.['mode']).toBe('bridge');
    expect(eth0?.address).toBe(ea.MacAddress);
    expect(eth0?.flags).toContain('UP');
    expect(eth0?.addr_info?.map((x) => `${x.local}/${x.prefixlen}`)).toContain(
      `10.253.${octet}.2/24`,
    );
    const routes = execFileSync('ip', ['-n', a.name, 'route', 'show', 'default'], {
      encoding: 'utf8',
    });
    expect(routes.trim()).toBe(`default via 10.253.${octet}.1 dev eth0`);

    procs.push(await serveIn(b.path, TCP_PONG, ['7300', 'mvb']));
    expect(await nodeIn(a.path, TCP_CLIENT, [eb.IPAddress, '7300'])).toBe(
      `pong mvb ${ea.IPAddress}`,
    );

    // resolv.conf: the host's resolvers (no embedded DNS on a gateway that is not ours).
    const files = manager.containerFiles({
      containerId: 'a'.repeat(64),
      hostname: 'mva',
      hostResolvConf: { path: '/etc/resolv.conf', content: 'nameserver 192.0.2.53\n' },
    });
    expect(files.resolvConf).toContain('nameserver 192.0.2.53');
    expect(files.resolvConf).not.toContain(`10.253.${octet}.1`);
    expect(files.hosts).toContain(`${ea.IPAddress}\tmva`);
    // Ports are not published on macvlan networks (as in Docker).
    expect(
      await manager.publish('a'.repeat(64), [
        { target: '80', published: '', protocol: 'tcp', hostIp: '' },
      ]),
    ).toEqual([]);
    expect(iptablesState()).toBe(iptablesBefore);

    await manager.disconnect(Id, 'a'.repeat(64));
    expect(execFileSync('ip', ['-n', a.name, '-o', 'link'], { encoding: 'utf8' })).not.toContain(
      'eth0',
    );
    await manager.disconnect(Id, 'b'.repeat(64));
    await manager.remove(Id);
    expect(ourLinks().sort()).toEqual(linksBefore);
  });

  test('macvlan: Docker messages for a missing parent, a parent in use, a bad mode', async () => {
    await expect(
      manager.create({ Name: 'tsc-test-mv0', Driver: 'macvlan', Options: { parent: 'tscnope0' } }),
    ).rejects.toThrow('-o parent interface was not found on the host: tscnope0');
    await expect(
      manager.create({
        Name: 'tsc-test-mv0',
        Driver: 'macvlan',
        Options: { parent, macvlan_mode: 'bogus' },
      }),
    ).rejects.toThrow(
      "requested macvlan mode 'bogus' is not valid, 'bridge' mode is the macvlan driver default",
    );
    const { Id } = await manager.create({
      Name: 'tsc-test-mv1',
      Driver: 'macvlan',
      Options: { parent, macvlan_mode: 'private' },
    });
    await expect(
      manager.create({ Name: 'tsc-test-mv2', Driver: 'macvlan', Options: { parent } }),
    ).rejects.toThrow(`network tsc-test-mv1 is already using parent interface ${parent}`);
    const ea = await manager.connect(Id, {
      containerId: 'c'.repeat(64),
      containerName: 'tsc-test-mvc',
      netnsPath: a.path,
    });
    expect(linkIn(a, 'eth0')?.linkinfo?.info_data?.['mode']).toBe('private');
    expect(ea.IPAddress).not.toBe('');
    await manager.disconnect(Id, 'c'.repeat(64));
    await manager.remove(Id);
    expect(manager.list().map((n) => n.Name)).toEqual([]);
  });

  test('ipvlan: l2 containers reach each other where the kernel has ipvlan; a clear error where not', async () => {
    const create = manager.create({
      Name: 'tsc-test-ipv',
      Driver: 'ipvlan',
      Options: { parent: parent2, ipvlan_mode: 'l2' },
      IPAM: { Config: [{ Subnet: `10.254.${octet}.0/24` }] },
    });
    if (!kernelHas('ipvlan', parent2)) {
      await expect(create).rejects.toThrow(
        'create network tsc-test-ipv: the kernel has no ipvlan support',
      );
      expect(manager.list()).toEqual([]);
      expect(ourLinks().sort()).toEqual(linksBefore);
      return;
    }
    const { Id } = await create;
    const ea = await manager.connect(Id, {
      containerId: 'd'.repeat(64),
      containerName: 'tsc-test-ipa',
      netnsPath: a.path,
    });
    const eb = await manager.connect(Id, {
      containerId: 'e'.repeat(64),
      containerName: 'tsc-test-ipb',
      netnsPath: b.path,
    });
    expect(ea.MacAddress).toBe('');
    expect(linkIn(a, 'eth0')?.linkinfo?.info_kind).toBe('ipvlan');
    procs.push(await serveIn(b.path, TCP_PONG, ['7301', 'ipb']));
    expect(await nodeIn(a.path, TCP_CLIENT, [eb.IPAddress, '7301'])).toBe(
      `pong ipb ${ea.IPAddress}`,
    );
    await manager.disconnect(Id, 'd'.repeat(64));
    await manager.disconnect(Id, 'e'.repeat(64));
    await manager.remove(Id);
  });

  test('ipvlan: bad mode and flag are refused with Docker messages', async () => {
    await expect(
      manager.create({
        Name: 'tsc-test-ipv1',
        Driver: 'ipvlan',
        Options: { parent: parent2, ipvlan_mode: 'l4' },
      }),
    ).rejects.toThrow(
      "requested ipvlan mode 'l4' is not valid, 'l2' mode is the ipvlan driver default",
    );
    await expect(
      manager.create({
        Name: 'tsc-test-ipv1',
        Driver: 'ipvlan',
        Options: { parent: parent2, ipvlan_flag: 'loud' },
      }),
    ).rejects.toThrow(
      "requested ipvlan flag 'loud' is not valid, 'bridge' is the ipvlan driver default",
    );
  });
});
