import { NetworkManager } from '../../../../engine/networks/index.js';

// Only paths that need no kernel objects: no iptables, no DNS listener, no ip session.
describe('NetworkManager without networks', () => {
  const nm = new NetworkManager({ iptables: false, dnsForwarders: [] });
  afterAll(() => nm.close());

  it('gives a host-network container the host files plus extra_hosts', () => {
    const files = nm.containerFiles({
      containerId: 'x'.repeat(64),
      hostname: 'myhost',
      hostNetwork: true,
      hostEtcHosts: '127.0.0.1 localhost\n10.0.0.5 nas',
      extraHosts: ['db:10.1.1.1'],
      hostResolvConf: { path: '/etc/resolv.conf', content: 'nameserver 10.0.0.2\n' },
      dnsSearch: ['corp.test'],
    });
    expect(files.hostname).toBe('myhost\n');
    expect(files.hosts).toBe('127.0.0.1 localhost\n10.0.0.5 nas\n10.1.1.1\tdb\n');
    expect(files.resolvConf).toContain('nameserver 10.0.0.2\nsearch corp.test\n');
    expect(files.resolvConf).not.toContain('ndots:0');
  });

  it('renders only localhost records for a container on no network (network_mode none)', () => {
    const files = nm.containerFiles({
      containerId: 'y'.repeat(64),
      hostname: 'lonely',
      ipv6: false,
      hostResolvConf: { path: '/etc/resolv.conf', content: '' },
    });
    expect(files.hosts).toBe('127.0.0.1\tlocalhost\n');
  });

  it('reports unknown networks and empty state', () => {
    expect(() => nm.inspect('nope')).toThrow('network nope not found');
    expect(nm.list()).toEqual([]);
    expect(nm.state()).toEqual({ networks: {}, savedIpForward: undefined });
    expect(nm.containerNetworks('z')).toEqual({});
  });
});
