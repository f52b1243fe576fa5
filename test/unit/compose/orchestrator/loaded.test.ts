/** The orchestrator on projects from the real loader (YAML in, plan text and API bodies out). */
import { loadProject } from '../../../../compose/index.js';
import { emptyState } from '../../../../compose/orchestrator/observe.js';
import { renderPlan } from '../../../../compose/orchestrator/plan.js';
import { reconcileUp } from '../../../../compose/orchestrator/reconcile.js';
import { translateService } from '../../../../compose/orchestrator/translate.js';

import { lines } from './fixtures.js';

function load(yaml: string) {
  return loadProject({
    cwd: '/proj',
    files: ['-'],
    readStdin: () => yaml,
    environment: { HOME: '/root' },
    homeDir: '/root',
    projectName: 'demo',
  });
}

describe('orchestrator on loaded projects', () => {
  it('plans a healthy-gated stack with a named volume and a published port', () => {
    const { project } = load(
      [
        'services:',
        '  db:',
        '    image: busybox',
        '    command: ["sleep", "1000"]',
        '    healthcheck: { test: ["CMD", "true"], interval: 1s }',
        '    volumes: ["data:/data"]',
        '  web:',
        '    image: busybox',
        '    ports: ["8080:80"]',
        '    extra_hosts: ["somehost:162.242.195.82", "other=10.0.0.1"]',
        '    environment: { B: "2", A: "1" }',
        '    stop_grace_period: 1m',
        '    depends_on: { db: { condition: service_healthy } }',
        'volumes:',
        '  data: {}',
      ].join('\n'),
    );
    expect(renderPlan(reconcileUp(project, emptyState('demo')).nodes)).toBe(
      lines(
        '#1 [] pull-image docker.io/library/busybox:latest (missing)',
        '#2 [1] create-network demo_default (missing)',
        '#3 [1] create-volume demo_data (missing)',
        '#4 [1,2,3] create-container db#1 (missing)',
        '#5 [1,2,4] create-container web#1 (missing)',
        '#6 [4] start-container db#1 (created)',
        '#7 [6] wait-service db service_healthy (required by web)',
        '#8 [5,7] start-container web#1 (created)',
      ),
    );
    const web = translateService({ project }, 'web', 1).body;
    expect(web.HostConfig?.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    expect(web.HostConfig?.ExtraHosts).toEqual(['other:10.0.0.1', 'somehost:162.242.195.82']);
    expect(web.Env).toEqual(['A=1', 'B=2']);
    expect(web.StopTimeout).toBe(60);
    expect(web.NetworkingConfig).toEqual({
      EndpointsConfig: { demo_default: { Aliases: ['web'] } },
    });
    const db = translateService({ project }, 'db', 1).body;
    expect(db.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'demo_data', Target: '/data' },
    ]);
    expect(db.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 1e9 });
  });
});
