/** Network and volume create bodies (POST /networks/create, POST /volumes/create). */
import { networkCreateBody, volumeCreateBody } from '../../../../compose/orchestrator/reconcile.js';

import { project } from './fixtures.js';

describe('network and volume bodies', () => {
  const p = project(
    {},
    {
      networks: {
        default: { name: 'demo_default' },
        back: {
          name: 'demo_back',
          driver: 'bridge',
          driver_opts: { 'com.docker.network.bridge.name': 'br-tsc0' },
          internal: true,
          enable_ipv6: true,
          labels: { tier: 'back' },
          ipam: {
            config: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1', ip_range: '172.28.5.0/24' }],
          },
        },
      },
      volumes: {
        data: {
          name: 'demo_data',
          driver_opts: { type: 'tmpfs', device: 'tmpfs' },
          labels: { k: 'v' },
        },
      },
    },
  );

  it('labels networks with project, key and version, and maps ipam', () => {
    expect(networkCreateBody(p, 'default')).toEqual({
      Name: 'demo_default',
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: false,
      Attachable: false,
      EnableIPv6: false,
      Labels: {
        'com.docker.compose.project': 'demo',
        'com.docker.compose.network': 'default',
        'com.docker.compose.version': '2.40.0',
      },
    });
    expect(networkCreateBody(p, 'back')).toEqual({
      Name: 'demo_back',
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: true,
      Attachable: false,
      EnableIPv6: true,
      Options: { 'com.docker.network.bridge.name': 'br-tsc0' },
      IPAM: {
        Driver: 'default',
        Config: [{ Subnet: '172.28.0.0/16', IPRange: '172.28.5.0/24', Gateway: '172.28.0.1' }],
        Options: {},
      },
      Labels: {
        tier: 'back',
        'com.docker.compose.project': 'demo',
        'com.docker.compose.network': 'back',
        'com.docker.compose.version': '2.40.0',
      },
    });
  });

  it('labels volumes with project, key and version', () => {
    expect(volumeCreateBody(p, 'data')).toEqual({
      Name: 'demo_data',
      Driver: 'local',
      DriverOpts: { type: 'tmpfs', device: 'tmpfs' },
      Labels: {
        k: 'v',
        'com.docker.compose.project': 'demo',
        'com.docker.compose.volume': 'data',
        'com.docker.compose.version': '2.40.0',
      },
    });
  });
});
