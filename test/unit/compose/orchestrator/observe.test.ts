import type Dockerode from 'dockerode';

import { type ExecuteClient, dockerodeClient } from '../../../../compose/orchestrator/execute.js';
import { type ObserveClient, observe } from '../../../../compose/orchestrator/observe.js';

const L = 'com.docker.compose';

/** A fake daemon: fixed list JSON, and the filters each call received. */
function fakeDaemon(): ObserveClient & { filters: unknown[] } {
  const filters: unknown[] = [];
  return {
    filters,
    listContainers: (o) => {
      filters.push(o);
      return Promise.resolve([
        {
          Id: 'b2',
          Names: ['/demo-web-2'],
          Image: 'nginx',
          State: 'exited',
          Labels: {
            [`${L}.project`]: 'demo',
            [`${L}.service`]: 'web',
            [`${L}.container-number`]: '2',
            [`${L}.oneoff`]: 'False',
            [`${L}.config-hash`]: 'h2',
            [`${L}.depends_on`]: 'db:service_healthy:false',
          },
        },
        {
          Id: 'a1',
          Names: ['/demo-web-1'],
          Image: 'nginx',
          State: 'running',
          Labels: {
            [`${L}.service`]: 'web',
            [`${L}.container-number`]: '1',
            [`${L}.config-hash`]: 'h1',
          },
        },
        {
          Id: 'r1',
          Names: ['/demo-web-run-abc'],
          Image: 'nginx',
          State: 'running',
          Labels: { [`${L}.service`]: 'web', [`${L}.oneoff`]: 'True' },
        },
      ]);
    },
    listNetworks: (o) => {
      filters.push(o);
      return Promise.resolve([
        { Id: 'n1', Name: 'demo_default', Labels: { [`${L}.network`]: 'default' } },
      ]);
    },
    listVolumes: (o) => {
      filters.push(o);
      return Promise.resolve({
        Volumes: [{ Name: 'demo_data', Labels: { [`${L}.volume`]: 'data' } }],
      });
    },
    listImages: () =>
      Promise.resolve([
        { Id: 'sha256:1', RepoTags: ['nginx:latest'] },
        { Id: 'sha256:2', RepoTags: ['<none>:<none>'] },
      ]),
  };
}

describe('observe', () => {
  it('lists no images when told not to (down and stop plans pull nothing)', async () => {
    const d = fakeDaemon();
    let imageLists = 0;
    const listImages = d.listImages;
    d.listImages = () => {
      imageLists++;
      return listImages();
    };
    const s = await observe(d, 'demo', { images: false });
    expect(imageLists).toBe(0);
    expect(s.images).toEqual([]);
    expect(s.containers).toHaveLength(3);
    await observe(d, 'demo');
    expect(imageLists).toBe(1);
  });

  it('takes one filtered snapshot as sorted plain data', async () => {
    const d = fakeDaemon();
    const s = await observe(d, 'demo');
    const filter = { label: ['com.docker.compose.project=demo'] };
    expect(d.filters).toEqual([
      { all: true, filters: filter },
      { filters: filter },
      { filters: filter },
    ]);
    expect(
      s.containers.map((c) => [
        c.name,
        c.service,
        c.number,
        c.oneoff,
        c.configHash,
        c.state,
        c.dependsOn,
      ]),
    ).toEqual([
      ['demo-web-run-abc', 'web', 0, true, '', 'running', []],
      ['demo-web-1', 'web', 1, false, 'h1', 'running', []],
      ['demo-web-2', 'web', 2, false, 'h2', 'exited', ['db']],
    ]);
    expect(s.networks).toEqual([
      { id: 'n1', name: 'demo_default', key: 'default', labels: { [`${L}.network`]: 'default' } },
    ]);
    expect(s.volumes.map((v) => [v.name, v.key])).toEqual([['demo_data', 'data']]);
    expect(s.images).toEqual(['docker.io/library/nginx:latest', 'sha256:1', 'sha256:2']);
  });
});

describe('client seams', () => {
  it('are satisfied by a dockerode instance (checked by the compiler)', () => {
    const asObserve = (d: Dockerode): ObserveClient => d;
    const asExecute = (d: Dockerode): ExecuteClient => dockerodeClient(d);
    expect([typeof asObserve, typeof asExecute]).toEqual(['function', 'function']);
  });
});
