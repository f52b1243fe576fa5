import {
  allocateAddress,
  allocateSubnets,
  formatAddress,
  parseAddress,
  parsePrefix,
  prefixesOverlap,
  releaseAddress,
} from '../../../../engine/networks/ipam.js';

describe('ipam', () => {
  it('parses and formats IPv4 and compressed IPv6 addresses', () => {
    expect(formatAddress(4, parseAddress('172.18.0.2').value)).toBe('172.18.0.2');
    expect(formatAddress(6, parseAddress('fd00:0:0:0:0:0:0:1').value)).toBe('fd00::1');
    expect(formatAddress(6, parseAddress('2001:db8::1:0:0:1').value)).toBe('2001:db8::1:0:0:1');
    expect(formatAddress(6, parseAddress('::ffff:10.0.0.1').value)).toBe('::ffff:a00:1');
    expect(formatAddress(6, 0n)).toBe('::');
  });

  it('clears host bits of a prefix and detects overlaps', () => {
    expect(parsePrefix('10.1.2.3/8')).toEqual({
      family: 4,
      network: parseAddress('10.0.0.0').value,
      bits: 8,
    });
    expect(prefixesOverlap(parsePrefix('172.16.0.0/12'), parsePrefix('172.18.0.0/16'))).toBe(true);
    expect(prefixesOverlap(parsePrefix('172.18.0.0/16'), parsePrefix('172.19.0.0/16'))).toBe(false);
    expect(() => parsePrefix('10.0.0.0/33')).toThrow('invalid prefix length');
  });

  it('takes the first free default pool, skipping used prefixes', () => {
    expect(allocateSubnets({ configs: [], enableIPv6: false, used: [] })).toEqual([
      {
        family: 4,
        subnet: '172.17.0.0/16',
        gateway: '172.17.0.1',
        ipRange: undefined,
        auxAddresses: {},
        allocated: [],
      },
    ]);
    const [s] = allocateSubnets({
      configs: [],
      enableIPv6: false,
      used: ['172.17.0.0/16', '172.18.5.0/24', '10.255.255.53'],
    });
    expect(s?.subnet).toBe('172.19.0.0/16');
  });

  it('moves to 192.168.x.0/20 once 172.17-31 are used, skipping a covering route in one step', () => {
    const [s] = allocateSubnets({
      configs: [],
      enableIPv6: false,
      used: ['172.16.0.0/12', '192.168.0.0/19'],
    });
    expect(s?.subnet).toBe('192.168.32.0/20');
  });

  it('fails when every pool is used', () => {
    expect(() =>
      allocateSubnets({
        configs: [],
        enableIPv6: false,
        used: ['172.16.0.0/12', '192.168.0.0/16'],
      }),
    ).toThrow('all default address pools are in use');
  });

  it('honours ipam.config subnet, ip_range, gateway and aux addresses', () => {
    const [s] = allocateSubnets({
      configs: [
        {
          Subnet: '10.5.0.0/16',
          IPRange: '10.5.3.0/24',
          Gateway: '10.5.0.254',
          AuxiliaryAddresses: { router: '10.5.3.0', dns: '10.5.3.1' },
        },
      ],
      enableIPv6: false,
      used: [],
    });
    expect(s).toEqual({
      family: 4,
      subnet: '10.5.0.0/16',
      gateway: '10.5.0.254',
      ipRange: '10.5.3.0/24',
      auxAddresses: { dns: '10.5.3.1', router: '10.5.3.0' },
      allocated: [],
    });
    expect(allocateAddress(s!).address).toBe('10.5.3.2');
  });

  it('rejects a configured subnet that overlaps a used prefix or a gateway outside it', () => {
    expect(() =>
      allocateSubnets({
        configs: [{ Subnet: '192.0.2.0/24' }],
        enableIPv6: false,
        used: ['192.0.2.0/24'],
      }),
    ).toThrow('allocate subnet 192.0.2.0/24: overlaps 192.0.2.0/24 already in use');
    expect(() =>
      allocateSubnets({
        configs: [{ Subnet: '10.9.0.0/24', Gateway: '10.8.0.1' }],
        enableIPv6: false,
        used: [],
      }),
    ).toThrow('gateway 10.8.0.1 is outside the subnet');
  });

  it('adds an IPv4 pool subnet and a ULA /64 when only IPv6 is enabled', () => {
    const subnets = allocateSubnets({ configs: [], enableIPv6: true, used: [] });
    expect(subnets.map((s) => [s.subnet, s.gateway])).toEqual([
      ['172.17.0.0/16', '172.17.0.1'],
      ['fd00::/64', 'fd00::1'],
    ]);
    expect(allocateAddress(subnets[1]!).address).toBe('fd00::2');
  });

  it('uses a configured IPv6 subnet alongside an automatic IPv4 one', () => {
    const subnets = allocateSubnets({
      configs: [{ Subnet: '2001:db8:1::/64' }],
      enableIPv6: true,
      used: [],
    });
    expect(subnets.map((s) => s.subnet)).toEqual(['172.17.0.0/16', '2001:db8:1::/64']);
  });

  it('hands out the lowest free address, reuses a released one, and honours static addresses', () => {
    let [s] = allocateSubnets({
      configs: [{ Subnet: '10.0.0.0/29' }],
      enableIPv6: false,
      used: [],
    });
    const take = (req?: string): string => {
      const r = allocateAddress(s!, req);
      s = r.state;
      return r.address;
    };
    expect(take()).toBe('10.0.0.2');
    expect(take()).toBe('10.0.0.3');
    expect(take('10.0.0.6')).toBe('10.0.0.6');
    expect(() => take('10.0.0.6')).toThrow('already in use');
    expect(() => take('10.0.0.7')).toThrow('not a host address'); // broadcast
    expect(() => take('10.0.0.1')).toThrow('already in use'); // gateway
    s = releaseAddress(s!, '10.0.0.2');
    expect(take()).toBe('10.0.0.2');
    expect(take()).toBe('10.0.0.4');
    expect(take()).toBe('10.0.0.5');
    expect(() => take()).toThrow('no free address left');
    expect(s.allocated).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  });
});
