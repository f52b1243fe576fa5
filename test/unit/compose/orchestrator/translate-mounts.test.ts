/** translate: Binds, Mounts (bind, volume, tmpfs), Tmpfs, secrets/configs, VolumesFrom. */
import type { Project, Service } from '../../../../compose/model.js';
import { translateService } from '../../../../compose/orchestrator/translate.js';

import { project } from './fixtures.js';

const host = (b: ReturnType<typeof translateService>['body']) => b.HostConfig ?? {};

describe('translate: mounts', () => {
  const p: Project = project(
    {
      web: {
        image: 'x',
        volumes: [
          { type: 'bind', source: '/src', target: '/app', bind: { create_host_path: true } },
          {
            type: 'bind',
            source: '/etc/conf',
            target: '/conf',
            read_only: true,
            bind: { create_host_path: true, selinux: 'z' },
          },
          { type: 'bind', source: '/strict', target: '/strict', bind: { propagation: 'rshared' } },
          {
            type: 'volume',
            source: 'data',
            target: '/data',
            volume: { nocopy: true, subpath: 'sub' },
          },
          { type: 'volume', source: 'shared', target: '/shared', read_only: true },
          { type: 'volume', target: '/anon' },
          { type: 'tmpfs', target: '/scratch', tmpfs: { size: 1048576, mode: 0o1777 } },
        ],
        tmpfs: ['/run', '/tmp:size=64m,mode=1777'],
        secrets: [{ source: 'token' }, { source: 'cert', target: '/etc/ssl/cert.pem' }],
        configs: [{ source: 'nginx', target: '/etc/nginx.conf' }, { source: 'plain' }],
        volumes_from: ['db:ro', 'container:abc123'],
      },
      db: { image: 'y' },
    },
    {
      volumes: { data: { name: 'demo_data' }, shared: { name: 'external-shared', external: true } },
      secrets: { token: { file: '/src/token.txt' }, cert: { file: '/src/cert.pem' } },
      configs: { nginx: { file: '/src/nginx.conf' }, plain: { file: '/src/plain.txt' } },
    },
  );

  it('maps every volume kind, secrets and configs exactly', () => {
    const h = host(translateService({ project: p }, 'web', 1).body);
    expect(h.Binds).toEqual(['/src:/app:rw', '/etc/conf:/conf:ro,z']);
    expect(h.Mounts).toEqual([
      {
        Type: 'bind',
        Source: '/strict',
        Target: '/strict',
        BindOptions: { Propagation: 'rshared' },
      },
      {
        Type: 'volume',
        Source: 'demo_data',
        Target: '/data',
        VolumeOptions: { NoCopy: true, Subpath: 'sub' },
      },
      { Type: 'volume', Source: 'external-shared', Target: '/shared', ReadOnly: true },
      { Type: 'volume', Target: '/anon' },
      { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
      { Type: 'bind', Source: '/src/token.txt', Target: '/run/secrets/token', ReadOnly: true },
      { Type: 'bind', Source: '/src/cert.pem', Target: '/etc/ssl/cert.pem', ReadOnly: true },
      { Type: 'bind', Source: '/src/nginx.conf', Target: '/etc/nginx.conf', ReadOnly: true },
      { Type: 'bind', Source: '/src/plain.txt', Target: '/plain', ReadOnly: true },
    ]);
    expect(h.Tmpfs).toEqual({ '/run': '', '/tmp': 'size=64m,mode=1777' });
    expect(h.VolumesFrom).toEqual(['demo-db-1:ro', 'abc123']);
  });

  it('falls back to <project>_<key> for a volume without a name', () => {
    const svc: Service = {
      image: 'x',
      volumes: [{ type: 'volume', source: 'cache', target: '/c' }],
    };
    const h = host(translateService({ project: project({ web: svc }) }, 'web', 1).body);
    expect(h.Mounts).toEqual([{ Type: 'volume', Source: 'demo_cache', Target: '/c' }]);
    expect(h.Binds).toBeUndefined();
  });
});
