/** translate: memory/CPU/pids/blkio, deploy.resources, ulimits, restart, devices, security. */
import type { Service } from '../../../../compose/model.js';
import { translateService } from '../../../../compose/orchestrator/translate.js';

import { project } from './fixtures.js';

const host = (s: Service) => {
  const h = { ...translateService({ project: project({ web: s }) }, 'web', 1).body.HostConfig };
  delete h.NetworkMode;
  return h;
};

describe('translate: resources and host settings', () => {
  it('maps service-level limits', () => {
    expect(
      host({
        image: 'x',
        mem_limit: 268435456,
        memswap_limit: 536870912,
        mem_reservation: 134217728,
        mem_swappiness: 10,
        cpus: 1.5,
        cpu_shares: 512,
        cpu_quota: 50000,
        cpu_period: 100000,
        cpuset: '0-1',
        pids_limit: 100,
        oom_kill_disable: true,
        oom_score_adj: 500,
        shm_size: 67108864,
        blkio_config: {
          weight: 300,
          weight_device: [{ path: '/dev/sda', weight: 400 }],
          device_read_bps: [{ path: '/dev/sda', rate: 1048576 }],
          device_write_iops: [{ path: '/dev/sda', rate: 100 }],
        },
      }),
    ).toEqual({
      Memory: 268435456,
      MemorySwap: 536870912,
      MemoryReservation: 134217728,
      MemorySwappiness: 10,
      NanoCpus: 1500000000,
      CpuShares: 512,
      CpuQuota: 50000,
      CpuPeriod: 100000,
      CpusetCpus: '0-1',
      PidsLimit: 100,
      OomKillDisable: true,
      OomScoreAdj: 500,
      ShmSize: 67108864,
      BlkioWeight: 300,
      BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 400 }],
      BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1048576 }],
      BlkioDeviceWriteIOps: [{ Path: '/dev/sda', Rate: 100 }],
    });
  });

  it('takes deploy.resources when the service-level keys are absent, and restart_policy', () => {
    expect(
      host({
        image: 'x',
        deploy: {
          resources: {
            limits: { cpus: 0.5, memory: 1073741824, pids: 50 },
            reservations: { memory: 536870912 },
          },
          restart_policy: { condition: 'on-failure', max_attempts: 3 },
        },
      }),
    ).toEqual({
      Memory: 1073741824,
      MemoryReservation: 536870912,
      NanoCpus: 500000000,
      PidsLimit: 50,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
    });
    expect(
      host({ image: 'x', mem_limit: 1024, deploy: { resources: { limits: { memory: 2048 } } } }),
    ).toEqual({
      Memory: 1024,
    });
    expect(
      host({ image: 'x', deploy: { restart_policy: { condition: 'any' } } }).RestartPolicy,
    ).toEqual({
      Name: 'always',
      MaximumRetryCount: 0,
    });
  });

  it('maps restart, ulimits, sysctls, capabilities, devices, logging and modes', () => {
    expect(
      host({
        image: 'x',
        restart: 'on-failure:5',
        ulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 } },
        sysctls: { 'net.core.somaxconn': '1024' },
        cap_add: ['NET_ADMIN'],
        cap_drop: ['ALL'],
        privileged: true,
        read_only: true,
        init: true,
        devices: [
          { source: '/dev/fuse' },
          { source: '/dev/sda', target: '/dev/xvda', permissions: 'r' },
        ],
        group_add: ['audio'],
        security_opt: ['no-new-privileges:true'],
        logging: { driver: 'json-file', options: { 'max-size': '10m' } },
        ipc: 'shareable',
        pid: 'host',
        cgroup_parent: 'tsc.slice',
        userns_mode: 'host',
        runtime: 'runc',
      }),
    ).toEqual({
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
      Ulimits: [
        { Name: 'nofile', Soft: 20000, Hard: 40000 },
        { Name: 'nproc', Soft: 65535, Hard: 65535 },
      ],
      Sysctls: { 'net.core.somaxconn': '1024' },
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['ALL'],
      Privileged: true,
      ReadonlyRootfs: true,
      Init: true,
      Devices: [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' },
      ],
      GroupAdd: ['audio'],
      SecurityOpt: ['no-new-privileges:true'],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
      IpcMode: 'shareable',
      PidMode: 'host',
      CgroupParent: 'tsc.slice',
      UsernsMode: 'host',
      Runtime: 'runc',
    });
  });
});
