import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ContainerService } from '../../../../engine/api/services';
import { resolveConfig } from '../../../../engine/config';
import { startDaemon, type DaemonCore } from '../../../../engine/daemon';
import { call } from './http-client';

describe('engine/daemon plugins', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tsc-test-daemon-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives plugins the core, uses their services and routes, and closes them after the server', async () => {
    const socket = join(dir, 'e.sock');
    const order: string[] = [];
    let seen: DaemonCore | undefined;
    const containers = {
      counts: () => Promise.resolve({ total: 3, running: 2, paused: 0, stopped: 1 }),
    } as unknown as ContainerService;
    const daemon = await startDaemon(
      resolveConfig({ 'data-root': join(dir, 'data'), socket, pidfile: join(dir, 'e.pid') }),
      {
        log: () => undefined,
        plugins: [
          (core) => {
            seen = core;
            core.volumes.setUsage((name) => (name === 'busy' ? ['c1'] : []));
            return {
              services: { containers },
              registerRoutes: (router) =>
                router.add('GET', '/containers/json', () => ({ json: [{ Id: 'c1' }] })),
              close: () => {
                order.push(
                  existsSync(socket) ? 'plugin closed while serving' : 'plugin closed after server',
                );
                return Promise.resolve();
              },
            };
          },
        ],
      },
    );
    try {
      expect(seen?.volumes).toBe(daemon.volumes);
      const info = JSON.parse((await call(socket, 'GET', '/info')).body) as Record<string, unknown>;
      expect(info).toMatchObject({ Containers: 3, ContainersRunning: 2, ContainersStopped: 1 });
      expect(JSON.parse((await call(socket, 'GET', '/v1.43/containers/json')).body)).toEqual([
        { Id: 'c1' },
      ]);
      await call(socket, 'POST', '/volumes/create', '{"Name":"busy"}');
      const rm = await call(socket, 'DELETE', '/volumes/busy');
      expect([rm.status, JSON.parse(rm.body)]).toEqual([
        409,
        { message: 'remove busy: volume is in use - [c1]' },
      ]);
      expect((await call(socket, 'POST', '/containers/create', '{}')).status).toBe(501);
    } finally {
      await daemon.close();
    }
    expect(order).toEqual(['plugin closed after server']);
  });
});
