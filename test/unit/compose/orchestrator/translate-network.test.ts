/** translate: NetworkMode, EndpointsConfig (aliases, addresses, priority), DNS and hosts. */
import type { Project } from '../../../../compose/model.js';
import { translateService } from '../../../../compose/orchestrator/translate.js';

import { project } from './fixtures.js';

describe('translate: networking', () => {
  const p: Project = project(
    {
      web: {
        image: 'x',
        networks: {
          back: { aliases: ['api'], ipv4_address: '172.28.0.10' },
          front: { priority: 100 },
          ext: null,
        },
        dns: ['10.0.0.2'],
        dns_search: ['example.org'],
        dns_opt: ['ndots:2'],
        extra_hosts: ['db.local=10.0.0.5', 'v6.local=::1', 'old.local:10.0.0.6'],
      },
      side: { image: 'x', network_mode: 'service:web', ipc: 'service:web' },
      lone: { image: 'x', network_mode: 'none' },
    },
    {
      networks: {
        back: { name: 'demo_back' },
        front: { name: 'demo_front' },
        ext: { name: 'shared', external: true },
      },
    },
  );

  it('puts the highest-priority network in the create body and connects the rest', () => {
    const spec = translateService({ project: p }, 'web', 1);
    expect(spec.body.HostConfig?.NetworkMode).toBe('demo_front');
    expect(spec.body.NetworkingConfig).toEqual({
      EndpointsConfig: { demo_front: { Aliases: ['web'] } },
    });
    expect(spec.connect).toEqual([
      {
        network: 'demo_back',
        endpoint: { Aliases: ['web', 'api'], IPAMConfig: { IPv4Address: '172.28.0.10' } },
      },
      { network: 'shared', endpoint: { Aliases: ['web'] } },
    ]);
    const h = spec.body.HostConfig ?? {};
    expect([h.Dns, h.DnsSearch, h.DnsOptions, h.ExtraHosts]).toEqual([
      ['10.0.0.2'],
      ['example.org'],
      ['ndots:2'],
      ['db.local:10.0.0.5', 'v6.local:::1', 'old.local:10.0.0.6'],
    ]);
  });

  it('resolves service:<x> modes to container:<that container>', () => {
    const spec = translateService({ project: p }, 'side', 1);
    expect(spec.body.HostConfig?.NetworkMode).toBe('container:demo-web-1');
    expect(spec.body.HostConfig?.IpcMode).toBe('container:demo-web-1');
    expect(spec.body.NetworkingConfig).toBeUndefined();
    const viaId = translateService({ project: p, containerOf: (s) => `id-of-${s}` }, 'side', 1);
    expect(viaId.body.HostConfig?.NetworkMode).toBe('container:id-of-web');
  });

  it('passes other network modes through', () => {
    const spec = translateService({ project: p }, 'lone', 1);
    expect(spec.body.HostConfig?.NetworkMode).toBe('none');
    expect(spec.connect).toEqual([]);
  });
});
