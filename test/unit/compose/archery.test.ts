/**
 * The reference workload: examples/archery/docker-compose.yml (upstream Archery's file, with the
 * config files it mounts written by us) loads with the values docker compose gives it.
 */
import { join } from 'node:path';

import { loadProject } from '../../../compose/index';
import { ROOT } from '../../helpers/paths';

const DIR = join(ROOT, 'examples/archery');

describe('examples/archery', () => {
  const { project, graph } = loadProject({
    cwd: DIR,
    environment: { HOME: '/root' },
    homeDir: '/root',
  });

  it('has the four upstream services, named after the directory', () => {
    expect(project.name).toBe('archery');
    expect(Object.keys(project.services).sort()).toEqual([
      'archery',
      'goinception',
      'mysql',
      'redis',
    ]);
  });

  it('starts archery after redis and mysql are healthy', () => {
    expect(graph.startOrder.indexOf('archery')).toBeGreaterThan(graph.startOrder.indexOf('mysql'));
    expect(project.services.archery?.depends_on).toEqual({
      mysql: { condition: 'service_healthy', required: true },
      redis: { condition: 'service_healthy', required: true },
    });
  });

  it('publishes 3306 and 9123 and binds config files from the example directory', () => {
    expect(project.services.mysql?.ports).toEqual([
      { mode: 'ingress', target: 3306, published: '3306', protocol: 'tcp' },
    ]);
    expect(project.services.archery?.ports?.[0]).toMatchObject({ target: 9123, published: '9123' });
    expect(project.services.mysql?.volumes?.[0]).toMatchObject({
      type: 'bind',
      source: join(DIR, 'mysql/my.cnf'),
      target: '/etc/mysql/my.cnf',
    });
  });

  it("reads .env into archery through env_file and keeps redis-server's password argument", () => {
    expect(project.services.archery?.environment).toMatchObject({
      DATABASE_URL: 'mysql://root:123456@mysql:3306/archery',
      CACHE_URL: 'redis://redis:6379/0?PASSWORD=123456',
    });
    expect(project.services.redis?.command).toEqual(['redis-server', '--requirepass', '123456']);
    expect(project.services.archery?.entrypoint).toEqual([
      'bash',
      '/opt/archery/src/docker/startup.sh',
    ]);
  });
});
