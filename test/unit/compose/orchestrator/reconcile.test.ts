import { emptyState } from '../../../../compose/orchestrator/observe.js';
import { renderPlan } from '../../../../compose/orchestrator/plan.js';
import {
  reconcileDown,
  reconcileStop,
  reconcileUp,
} from '../../../../compose/orchestrator/reconcile.js';

import { container, lines, project, state } from './fixtures.js';

const NGINX = 'docker.io/library/nginx:latest';
const BUSYBOX = 'docker.io/library/busybox:latest';

describe('reconcileUp', () => {
  it('creates the default network before any container', () => {
    const p = project({ web: { image: 'nginx' } });
    const plan = reconcileUp(p, emptyState('demo'));
    expect(renderPlan(plan.nodes)).toBe(
      lines(
        `#1 [] pull-image ${NGINX} (missing)`,
        '#2 [1] create-network demo_default (missing)',
        '#3 [1,2] create-container web#1 (missing)',
        '#4 [3] start-container web#1 (created)',
      ),
    );
  });

  it('changes nothing when every container is up to date', () => {
    const p = project({ web: { image: 'nginx' }, db: { image: 'busybox' } });
    const obs = state(p, [container(p, 'db', 1), container(p, 'web', 1)], {
      networks: ['demo_default'],
      images: [NGINX, BUSYBOX],
    });
    const plan = reconcileUp(p, obs);
    expect(renderPlan(plan.nodes)).toBe('');
    expect(plan.orphans).toEqual([]);
  });

  it('recreates only the service whose config changed', () => {
    const p = project({ web: { image: 'nginx' }, db: { image: 'busybox' } });
    const obs = state(p, [container(p, 'db', 1), container(p, 'web', 1, { configHash: 'old' })], {
      networks: ['demo_default'],
      images: [NGINX, BUSYBOX],
    });
    expect(renderPlan(reconcileUp(p, obs).nodes)).toBe(
      lines(
        '#1 [] stop-container web#1 (config changed)',
        '#2 [1] remove-container web#1 (config changed)',
        '#3 [2] create-container web#1 (config changed)',
        '#4 [3] start-container web#1 (recreated)',
      ),
    );
  });

  it('does not recreate with noRecreate, recreates everything with forceRecreate', () => {
    const p = project({ web: { image: 'nginx' } });
    const obs = state(p, [container(p, 'web', 1, { configHash: 'old' })], {
      networks: ['demo_default'],
      images: [NGINX],
    });
    expect(renderPlan(reconcileUp(p, obs, { noRecreate: true }).nodes)).toBe('');
    const same = state(p, [container(p, 'web', 1)], {
      networks: ['demo_default'],
      images: [NGINX],
    });
    expect(renderPlan(reconcileUp(p, same, { forceRecreate: true }).nodes)).toBe(
      lines(
        '#1 [] stop-container web#1 (force recreate)',
        '#2 [1] remove-container web#1 (force recreate)',
        '#3 [2] create-container web#1 (force recreate)',
        '#4 [3] start-container web#1 (recreated)',
      ),
    );
  });

  it('starts stopped containers without recreating them', () => {
    const p = project({ web: { image: 'nginx' } });
    const obs = state(p, [container(p, 'web', 1, { state: 'exited' })], {
      networks: ['demo_default'],
      images: [NGINX],
    });
    expect(renderPlan(reconcileUp(p, obs).nodes)).toBe('#1 [] start-container web#1 (stopped)');
  });

  it('reports orphans, and removes them only with removeOrphans', () => {
    const p = project({ web: { image: 'nginx' } });
    const gone = container(p, 'old', 1, { name: 'demo-old-1' });
    const obs = state(p, [gone, container(p, 'web', 1)], {
      networks: ['demo_default'],
      images: [NGINX],
    });
    const plain = reconcileUp(p, obs);
    expect(renderPlan(plain.nodes)).toBe('');
    expect(plain.orphans).toEqual(['demo-old-1']);
    const removing = reconcileUp(p, obs, { removeOrphans: true });
    expect(renderPlan(removing.nodes)).toBe(
      lines('#1 [] stop-container old#1 (orphan)', '#2 [1] remove-container old#1 (orphan)'),
    );
    expect(removing.orphans).toEqual([]);
  });

  it('scales up by filling the lowest free numbers', () => {
    const p = project({ web: { image: 'nginx', scale: 3 } });
    const obs = state(p, [container(p, 'web', 2)], { networks: ['demo_default'], images: [NGINX] });
    expect(renderPlan(reconcileUp(p, obs).nodes)).toBe(
      lines(
        '#1 [] create-container web#1 (missing)',
        '#2 [] create-container web#3 (missing)',
        '#3 [1] start-container web#1 (created)',
        '#4 [2] start-container web#3 (created)',
      ),
    );
  });

  it('scales down removing the highest numbers first, --scale overriding the file', () => {
    const p = project({ web: { image: 'nginx', deploy: { replicas: 3 } } });
    const obs = state(
      p,
      [1, 2, 3].map((n) => container(p, 'web', n)),
      {
        networks: ['demo_default'],
        images: [NGINX],
      },
    );
    expect(renderPlan(reconcileUp(p, obs, { scale: { web: 1 } }).nodes)).toBe(
      lines(
        '#1 [] stop-container web#3 (scale down)',
        '#2 [1] remove-container web#3 (scale down)',
        '#3 [] stop-container web#2 (scale down)',
        '#4 [3] remove-container web#2 (scale down)',
      ),
    );
  });

  it('gates starts on depends_on conditions with wait nodes', () => {
    const p = project({
      web: {
        image: 'nginx',
        depends_on: {
          db: { condition: 'service_healthy', required: true },
          migrate: { condition: 'service_completed_successfully', required: true },
          cache: { condition: 'service_started', required: true },
        },
      },
      db: { image: 'busybox' },
      migrate: {
        image: 'busybox',
        depends_on: { db: { condition: 'service_healthy', required: true } },
      },
      cache: { image: 'busybox' },
    });
    expect(renderPlan(reconcileUp(p, emptyState('demo')).nodes)).toBe(
      lines(
        `#1 [] pull-image ${BUSYBOX} (missing)`,
        `#2 [] pull-image ${NGINX} (missing)`,
        '#3 [1,2] create-network demo_default (missing)',
        '#4 [1,2,3] create-container cache#1 (missing)',
        '#5 [1,2,3] create-container db#1 (missing)',
        '#6 [1,2,3,5] create-container migrate#1 (missing)',
        '#7 [1,2,3,4,5,6] create-container web#1 (missing)',
        '#8 [4] start-container cache#1 (created)',
        '#9 [5] start-container db#1 (created)',
        '#10 [9] wait-service db service_healthy (required by migrate)',
        '#11 [6,10] start-container migrate#1 (created)',
        '#12 [11] wait-service migrate service_completed_successfully (required by web)',
        '#13 [7,8,10,12] start-container web#1 (created)',
      ),
    );
  });

  it('restarts dependents with restart: true when their dependency is recreated', () => {
    const p = project({
      db: { image: 'busybox' },
      web: {
        image: 'nginx',
        depends_on: { db: { condition: 'service_started', required: true, restart: true } },
      },
    });
    const obs = state(p, [container(p, 'db', 1, { configHash: 'old' }), container(p, 'web', 1)], {
      networks: ['demo_default'],
      images: [NGINX, BUSYBOX],
    });
    expect(renderPlan(reconcileUp(p, obs).nodes)).toBe(
      lines(
        '#1 [] stop-container db#1 (config changed)',
        '#2 [1] remove-container db#1 (config changed)',
        '#3 [2] create-container db#1 (config changed)',
        '#4 [3] stop-container web#1 (dependency db recreated)',
        '#5 [3] start-container db#1 (recreated)',
        '#6 [4,5] start-container web#1 (dependency db recreated)',
      ),
    );
  });

  it('recreates containers joined to a recreated service (network_mode service:)', () => {
    const p = project({
      vpn: { image: 'busybox' },
      app: { image: 'busybox', network_mode: 'service:vpn' },
    });
    const obs = state(p, [container(p, 'app', 1), container(p, 'vpn', 1, { configHash: 'old' })], {
      networks: ['demo_default'],
      images: [BUSYBOX],
    });
    expect(renderPlan(reconcileUp(p, obs).nodes)).toBe(
      lines(
        '#1 [] stop-container vpn#1 (config changed)',
        '#2 [1] remove-container vpn#1 (config changed)',
        '#3 [2] create-container vpn#1 (config changed)',
        '#4 [3] stop-container app#1 (dependency vpn recreated)',
        '#5 [4] remove-container app#1 (dependency vpn recreated)',
        '#6 [3,5] create-container app#1 (dependency vpn recreated)',
        '#7 [3] start-container vpn#1 (recreated)',
        '#8 [6,7] start-container app#1 (recreated)',
      ),
    );
  });

  it('selects named services with their dependencies, or alone with noDeps', () => {
    const p = project({
      db: { image: 'busybox' },
      web: {
        image: 'busybox',
        depends_on: { db: { condition: 'service_started', required: true } },
      },
      other: { image: 'busybox' },
    });
    const obs = state(p, [], { networks: ['demo_default'], images: [BUSYBOX] });
    expect(renderPlan(reconcileUp(p, obs, { services: ['web'] }).nodes)).toBe(
      lines(
        '#1 [] create-container db#1 (missing)',
        '#2 [1] create-container web#1 (missing)',
        '#3 [1] start-container db#1 (created)',
        '#4 [2,3] start-container web#1 (created)',
      ),
    );
    expect(
      renderPlan(reconcileUp(p, obs, { services: ['web'], noDeps: true, noStart: true }).nodes),
    ).toBe('#1 [] create-container web#1 (missing)');
  });

  it('creates declared volumes and makes containers wait for them; pull always', () => {
    const p = project(
      {
        db: {
          image: 'busybox',
          pull_policy: 'always',
          volumes: [{ type: 'volume', source: 'data', target: '/data' }],
        },
      },
      { volumes: { data: { name: 'demo_data' } }, networks: { default: { name: 'demo_default' } } },
    );
    expect(renderPlan(reconcileUp(p, state(p, [], { images: [BUSYBOX] })).nodes)).toBe(
      lines(
        `#1 [] pull-image ${BUSYBOX} (always)`,
        '#2 [1] create-network demo_default (missing)',
        '#3 [1] create-volume demo_data (missing)',
        '#4 [1,2,3] create-container db#1 (missing)',
        '#5 [4] start-container db#1 (created)',
      ),
    );
  });
});

describe('reconcileDown', () => {
  it('removes dependents first, then networks, volumes with -v and images with --rmi', () => {
    const p = project({
      db: { image: 'busybox' },
      web: { image: 'nginx', depends_on: { db: { condition: 'service_started', required: true } } },
      app: { build: { context: '/src' } },
    });
    const obs = state(
      p,
      [container(p, 'app', 1, { state: 'exited' }), container(p, 'db', 1), container(p, 'web', 1)],
      { networks: ['demo_default'], volumes: ['demo_data'] },
    );
    expect(renderPlan(reconcileDown(obs, { volumes: true, rmi: 'local' }, p).nodes)).toBe(
      lines(
        '#1 [] remove-container app#1 (down)',
        '#2 [] stop-container web#1 (down)',
        '#3 [2] remove-container web#1 (down)',
        '#4 [3] stop-container db#1 (down)',
        '#5 [4] remove-container db#1 (down)',
        '#6 [1,3,5] remove-network demo_default (down)',
        '#7 [1,3,5] remove-volume demo_data (down -v)',
        '#8 [1,3,5] remove-image demo-app (rmi local)',
      ),
    );
  });

  it('without a project uses the depends_on labels; orphans only with removeOrphans', () => {
    const p = project({ db: { image: 'busybox' } });
    const web = container(p, 'web', 1, { dependsOn: ['db'] });
    const obs = state(p, [container(p, 'db', 1), web], { networks: ['demo_default'] });
    expect(renderPlan(reconcileDown(obs).nodes)).toBe(
      lines(
        '#1 [] stop-container web#1 (down)',
        '#2 [1] remove-container web#1 (down)',
        '#3 [2] stop-container db#1 (down)',
        '#4 [3] remove-container db#1 (down)',
        '#5 [2,4] remove-network demo_default (down)',
      ),
    );
    const withProject = reconcileDown(obs, {}, p);
    expect(withProject.orphans).toEqual(['demo-web-1']);
    expect(renderPlan(reconcileDown(obs, { removeOrphans: true }, p).nodes)).toContain(
      'remove-container web#1 (orphan)',
    );
  });
});

describe('reconcileUp edge cases', () => {
  it('refuses to scale a service with container_name', () => {
    const p = project({ web: { image: 'nginx', container_name: 'front' } });
    expect(() => reconcileUp(p, emptyState('demo'), { scale: { web: 2 } })).toThrow(
      'compose.yaml services.web.container_name: service "web" uses the custom container name "front"; remove it to scale the service to 2',
    );
  });

  it('does not pull images of build services unless pull is always', () => {
    const p = project({ app: { image: 'app:dev', build: { context: '/src' } } });
    const obs = state(p, [], { networks: ['demo_default'] });
    expect(renderPlan(reconcileUp(p, obs, { noStart: true }).nodes)).toBe(
      '#1 [] create-container app#1 (missing)',
    );
    expect(renderPlan(reconcileUp(p, obs, { noStart: true, pull: 'always' }).nodes)).toBe(
      lines(
        '#1 [] pull-image docker.io/library/app:dev (always)',
        '#2 [1] create-container app#1 (missing)',
      ),
    );
  });
});

describe('reconcileUp --wait (case 023)', () => {
  it('waits for exited 0, healthy or running per service', () => {
    const p = project({
      seed: { image: 'busybox' },
      api: {
        image: 'busybox',
        healthcheck: { test: ['CMD', 'true'] },
        depends_on: { seed: { condition: 'service_completed_successfully', required: true } },
      },
      sidecar: { image: 'busybox' },
    });
    const obs = state(p, [], { networks: ['demo_default'], images: [BUSYBOX] });
    const plan = reconcileUp(p, obs, { wait: true });
    expect(renderPlan(plan.nodes)).toBe(
      lines(
        '#1 [] create-container seed#1 (missing)',
        '#2 [1] create-container api#1 (missing)',
        '#3 [] create-container sidecar#1 (missing)',
        '#4 [1] start-container seed#1 (created)',
        '#5 [4] wait-service seed service_completed_successfully (required by api)',
        '#6 [2,5] start-container api#1 (created)',
        '#7 [3] start-container sidecar#1 (created)',
        '#8 [6] wait-service api service_healthy (wait)',
        '#9 [7] wait-service sidecar service_started (wait)',
      ),
    );
  });

  it('waits on the containers the plan leaves, whatever their numbers', () => {
    const p = project({
      db: { image: 'busybox', scale: 3 },
      web: {
        image: 'busybox',
        depends_on: { db: { condition: 'service_healthy', required: true } },
      },
    });
    const obs = state(p, [container(p, 'db', 2), container(p, 'db', 5)], {
      networks: ['demo_default'],
      images: [BUSYBOX],
    });
    const wait = reconcileUp(p, obs).nodes.find((n) => n.op.kind === 'wait-service');
    expect(wait?.op).toEqual({
      kind: 'wait-service',
      service: 'db',
      condition: 'service_healthy',
      containers: ['demo-db-1', 'demo-db-2', 'demo-db-5'],
      required: true,
    });
  });
});

describe('reconcileStop', () => {
  const p = project({
    db: { image: 'busybox' },
    web: { image: 'nginx', depends_on: { db: { condition: 'service_started', required: true } } },
    worker: { image: 'busybox', stop_grace_period: '2s' },
  });
  const obs = state(p, [
    container(p, 'db', 1),
    container(p, 'web', 1),
    container(p, 'web', 2, { state: 'exited' }),
    container(p, 'worker', 1),
  ]);

  it('stops dependents first, independent services in parallel', () => {
    const plan = reconcileStop(obs, {}, p);
    expect(renderPlan(plan.nodes)).toBe(
      lines(
        '#1 [] stop-container web#1 (stop)',
        '#2 [1] stop-container db#1 (stop)',
        '#3 [] stop-container worker#1 (stop)',
      ),
    );
    const worker = plan.nodes[2]?.op;
    expect(worker?.kind === 'stop-container' && worker.timeoutS).toBe(2);
  });

  it('stops the named services and their dependents', () => {
    expect(renderPlan(reconcileStop(obs, { services: ['db'], timeoutS: 0 }, p).nodes)).toBe(
      lines('#1 [] stop-container web#1 (stop)', '#2 [1] stop-container db#1 (stop)'),
    );
  });
});
