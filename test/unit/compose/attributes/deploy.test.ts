// deploy and resource units: bytes as decimal strings, cpus numbers, device requests.
import { web } from './helpers';

describe('deploy', () => {
  test('resources', () => {
    const s = web(`
services:
  web:
    image: x
    mem_limit: 512m
    memswap_limit: 1g
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 256M, pids: 10}
        reservations:
          devices: [{capabilities: [gpu], count: all}]
      restart_policy: {condition: on-failure, delay: 5s}
`);
    expect(s.mem_limit).toBe(536870912);
    expect(s.memswap_limit).toBe(1073741824);
    expect(s.deploy).toEqual({
      replicas: 2,
      resources: {
        limits: { cpus: 0.5, memory: 268435456, pids: 10 },
        reservations: { devices: [{ capabilities: ['gpu'], count: -1 }] },
      },
      restart_policy: { condition: 'on-failure', delay: '5s' },
    });
  });
  test('device request count must be all or a number', () => {
    expect(() =>
      web(
        'services: {web: {image: x, deploy: {resources: {reservations: {devices: [{capabilities: [gpu], count: lots}]}}}}}',
      ),
    ).toThrow('invalid value "lots", the only value allowed is \'all\' or a number');
  });
});
