// NetworkManager.connect on a container whose endpoint outlived its veth (a start cut short by an
// engine crash, the netns gone since): the stale endpoint is dropped and the connect goes ahead;
// a live endpoint is still refused as already connected.
import { existsSync } from 'node:fs';

import { NetworkManager } from '../../../engine/networks/index.js';
import { requireHost } from '../../helpers/host.js';
import { addNetns, delNetns, type NamedNetns } from './netns.js';

const run = requireHost({ root: true });
const d = run ? describe : describe.skip;
jest.setTimeout(30_000);

d('networks: connect drops a stale endpoint of the same container (root)', () => {
  let manager: NetworkManager;
  const ns: NamedNetns[] = [];
  const id = '5'.repeat(64);

  beforeAll(() => {
    manager = new NetworkManager({ iptables: false, dnsForwarders: [] });
  });

  afterAll(async () => {
    await manager.releaseContainer(id).catch(() => undefined);
    for (const n of manager.list()) await manager.remove(n.Id).catch(() => undefined);
    await manager.close();
    for (const n of ns) delNetns(n);
  });

  it('reconnects a container whose old veth is gone, refuses a live duplicate', async () => {
    const { Id } = await manager.create({ Name: 'tsc-test-stale' });
    const first = addNetns('st1');
    ns.push(first);
    const e1 = await manager.connect(Id, {
      containerId: id,
      containerName: 'tsc-test-stale-1',
      netnsPath: first.path,
    });
    const veth = Object.values(manager.state().networks[Id]?.endpoints ?? {})[0]?.hostIfName;
    expect(veth).toMatch(/^veth|^vtsc/);
    // the netns dies with its container: the kernel deletes the veth pair
    delNetns(first);
    for (let i = 0; i < 200 && existsSync(`/sys/class/net/${veth ?? ''}`); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(`/sys/class/net/${veth ?? ''}`)).toBe(false);
    const second = addNetns('st2');
    ns.push(second);
    const e2 = await manager.connect(Id, {
      containerId: id,
      containerName: 'tsc-test-stale-1',
      netnsPath: second.path,
    });
    expect(e2.EndpointID).not.toBe(e1.EndpointID);
    expect(Object.keys(manager.state().networks[Id]?.endpoints ?? {})).toEqual([e2.EndpointID]);
    // the address of the dropped endpoint was released: the same one comes back
    expect(e2.IPAddress).toBe(e1.IPAddress);
    await expect(
      manager.connect(Id, {
        containerId: id,
        containerName: 'tsc-test-stale-1',
        netnsPath: second.path,
      }),
    ).rejects.toThrow(/already connected/);
    await manager.releaseContainer(id);
    await manager.remove(Id);
  });
});
