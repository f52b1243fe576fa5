/** translate: ExposedPorts and PortBindings from ports (ranges, host_ip, protocol) and expose. */
import type { Service } from '../../../../compose/model.js';
import { translateService } from '../../../../compose/orchestrator/translate.js';

import { project } from './fixtures.js';

const body = (s: Service) => translateService({ project: project({ web: s }) }, 'web', 1).body;

describe('translate: ports', () => {
  it('maps published ports, ranges, host_ip, protocol and expose', () => {
    const b = body({
      image: 'x',
      ports: [
        { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
        { mode: 'ingress', target: 80, published: '8081', protocol: 'tcp', host_ip: '127.0.0.1' },
        { mode: 'ingress', target: 53, published: '5353', protocol: 'udp' },
        { mode: 'ingress', target: 9000, published: '9000-9005' },
        { mode: 'ingress', target: 3000 },
      ],
      expose: ['7000-7001', '6000/udp'],
    });
    expect(b.ExposedPorts).toEqual({
      '80/tcp': {},
      '53/udp': {},
      '9000/tcp': {},
      '3000/tcp': {},
      '7000/tcp': {},
      '7001/tcp': {},
      '6000/udp': {},
    });
    expect(b.HostConfig?.PortBindings).toEqual({
      '80/tcp': [
        { HostIp: '', HostPort: '8080' },
        { HostIp: '127.0.0.1', HostPort: '8081' },
      ],
      '53/udp': [{ HostIp: '', HostPort: '5353' }],
      '9000/tcp': [{ HostIp: '', HostPort: '9000-9005' }],
      '3000/tcp': [{ HostIp: '', HostPort: '' }],
    });
  });

  it('sends neither key when there are no ports', () => {
    const b = body({ image: 'x' });
    expect(b.ExposedPorts).toBeUndefined();
    expect(b.HostConfig?.PortBindings).toBeUndefined();
  });
});
