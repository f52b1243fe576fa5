// ports: short syntax (ranges, IPv6, protocols, host_ip) -> long syntax.
import { parse } from 'yaml';

import { canonicalize } from '../../../../compose/canonical';
import type { RawMap } from '../../../../compose/raw';

function portsOf(yaml: string): unknown {
  const tree = canonicalize(parse(yaml) as RawMap);
  return (tree.services as RawMap).web;
}

describe('ports', () => {
  test('short syntax with ranges and protocols (compose-go TestLoadExpandedPortFormat)', () => {
    const svc = portsOf(`
services:
  web:
    ports:
      - "80-82:8080-8082"
      - "90-92:8090-8092/udp"
      - "85:8500"
      - 8600
      - protocol: udp
        target: 53
        published: 10053
      - mode: host
        target: 22
        published: 10022
`) as RawMap;
    expect(svc.ports).toEqual([
      { mode: 'ingress', target: 8080, published: '80', protocol: 'tcp' },
      { mode: 'ingress', target: 8081, published: '81', protocol: 'tcp' },
      { mode: 'ingress', target: 8082, published: '82', protocol: 'tcp' },
      { mode: 'ingress', target: 8090, published: '90', protocol: 'udp' },
      { mode: 'ingress', target: 8091, published: '91', protocol: 'udp' },
      { mode: 'ingress', target: 8092, published: '92', protocol: 'udp' },
      { mode: 'ingress', target: 8500, published: '85', protocol: 'tcp' },
      { mode: 'ingress', target: 8600, protocol: 'tcp' },
      { mode: 'ingress', target: 53, published: '10053', protocol: 'udp' },
      { mode: 'host', target: 22, published: '10022', protocol: 'tcp' },
    ]);
  });
  test('host ip, IPv6 in brackets, published range for one target', () => {
    const svc = portsOf(`
services:
  web:
    ports: ["127.0.0.1:8080:80", "[::1]:9000:90/udp", "8000-8010:80"]
`) as RawMap;
    expect(svc.ports).toEqual([
      { mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'tcp' },
      { mode: 'ingress', host_ip: '::1', target: 90, published: '9000', protocol: 'udp' },
      { mode: 'ingress', target: 80, published: '8000-8010', protocol: 'tcp' },
    ]);
  });
  test('bad protocol is reported with its path', () => {
    expect(() => portsOf('services: {web: {ports: ["80:80/xyz"]}}')).toThrow(/invalid proto: xyz/);
  });
});
