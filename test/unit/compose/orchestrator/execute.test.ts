import {
  type Clock,
  type ContainerState,
  type ExecuteClient,
  executePlan,
  waitCondition,
} from '../../../../compose/orchestrator/execute.js';
import { emptyState } from '../../../../compose/orchestrator/observe.js';
import { PlanBuilder } from '../../../../compose/orchestrator/plan.js';
import { renderPlainEvent, type ProgressEvent } from '../../../../compose/orchestrator/progress.js';
import { reconcileUp } from '../../../../compose/orchestrator/reconcile.js';

import { project } from './fixtures.js';

/** A fake Engine API: records calls, resolves them on the next tick, containers have scripted states. */
class FakeClient implements ExecuteClient {
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** States returned by inspect, per container; the last one repeats. */
  readonly states = new Map<string, ContainerState[]>();
  failOn = new Set<string>();

  private async call(what: string): Promise<void> {
    this.calls.push(what);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    if (this.failOn.has(what)) throw Object.assign(new Error('boom'), { statusCode: 500 });
  }
  pullImage = (ref: string) => this.call(`pull ${ref}`);
  createNetwork = (b: { Name?: string }) => this.call(`create-network ${b.Name}`);
  createVolume = (b: { Name?: string }) => this.call(`create-volume ${b.Name}`);
  createContainer = async (b: { name?: string }) => {
    await this.call(`create ${b.name}`);
    return `id-${b.name}`;
  };
  connectNetwork = (n: string, c: string) => this.call(`connect ${n} ${c}`);
  startContainer = (id: string) => this.call(`start ${id}`);
  stopContainer = (id: string) => this.call(`stop ${id}`);
  removeContainer = (id: string) => this.call(`remove ${id}`);
  removeNetwork = (n: string) => this.call(`remove-network ${n}`);
  removeVolume = (n: string) => this.call(`remove-volume ${n}`);
  removeImage = (r: string) => this.call(`remove-image ${r}`);
  inspectContainer = (id: string) => {
    this.calls.push(`inspect ${id}`);
    const list = this.states.get(id) ?? [];
    const s = list.length > 1 ? list.shift()! : list[0];
    return Promise.resolve(s ?? { Status: 'running', Running: true, ExitCode: 0 });
  };
}

const fakeClock = (): Clock & { t: number } => {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: (ms: number) => {
      c.t += ms;
      return Promise.resolve();
    },
  };
  return c;
};

const exited = (code: number): ContainerState => ({
  Status: 'exited',
  Running: false,
  ExitCode: code,
});
const running: ContainerState = { Status: 'running', Running: true, ExitCode: 0 };

describe('executePlan', () => {
  it('runs nodes in dependency order and reports progress', async () => {
    const p = project({ web: { image: 'nginx' } });
    const plan = reconcileUp(p, emptyState('demo'));
    const client = new FakeClient();
    const events: ProgressEvent[] = [];
    const res = await executePlan(client, plan.nodes, {
      onProgress: (e) => events.push(e),
      clock: fakeClock(),
    });
    expect(res.error).toBeUndefined();
    expect(client.calls).toEqual([
      'pull docker.io/library/nginx:latest',
      'create-network demo_default',
      'create demo-web-1',
      'start demo-web-1',
    ]);
    expect(events.map(renderPlainEvent)).toEqual([
      ' Image docker.io/library/nginx:latest  Pulling',
      ' Image docker.io/library/nginx:latest  Pulled 0.0s',
      ' Network demo_default  Creating',
      ' Network demo_default  Created 0.0s',
      ' Container demo-web-1  Creating',
      ' Container demo-web-1  Created 0.0s',
      ' Container demo-web-1  Starting',
      ' Container demo-web-1  Started 0.0s',
    ]);
  });

  it('never runs more nodes at once than the concurrency bound', async () => {
    const services: Record<string, { image: string }> = {};
    for (let i = 0; i < 10; i++) services[`s${i}`] = { image: 'busybox' };
    const plan = reconcileUp(
      project(services),
      emptyState('demo', ['docker.io/library/busybox:latest']),
    );
    const client = new FakeClient();
    const res = await executePlan(client, plan.nodes, { concurrency: 3 });
    expect(res.error).toBeUndefined();
    expect(client.maxInFlight).toBe(3);
    expect(client.calls.filter((c) => c.startsWith('start '))).toHaveLength(10);
  });

  it("aborts with compose's message when a completed_successfully dependency fails (case 021)", async () => {
    const p = project({
      migrate: { image: 'busybox' },
      web: {
        image: 'busybox',
        depends_on: { migrate: { condition: 'service_completed_successfully', required: true } },
      },
      reporter: {
        image: 'busybox',
        depends_on: { web: { condition: 'service_started', required: true } },
      },
    });
    const plan = reconcileUp(p, emptyState('demo', ['docker.io/library/busybox:latest']));
    const client = new FakeClient();
    client.states.set('demo-migrate-1', [running, running, exited(3)]);
    const events: string[] = [];
    const res = await executePlan(client, plan.nodes, {
      clock: fakeClock(),
      onProgress: (e) => events.push(renderPlainEvent(e)),
    });
    expect(res.error?.code).toBe('TSC_COMPOSE_DEPENDENCY');
    expect(events).toContain(' Container demo-migrate-1  Waiting');
    expect(events).toContain(
      ' Container demo-migrate-1  Error 1.0s service "migrate" didn\'t complete successfully: exit 3',
    );
    expect(events).toContain(' Container demo-web-1  Skipped');
    expect(res.error?.message).toBe('service "migrate" didn\'t complete successfully: exit 3');
    expect(client.calls.filter((c) => c.startsWith('start '))).toEqual(['start demo-migrate-1']);
    // like docker compose, the dependents are left created, not started
    expect(client.calls.filter((c) => c.startsWith('create '))).toEqual([
      'create demo-migrate-1',
      'create demo-web-1',
      'create demo-reporter-1',
    ]);
    const skipped = plan.nodes.filter((n) => res.outcomes.get(n.id) === 'skipped');
    expect(skipped.map((n) => n.op.kind)).toEqual(['start-container', 'start-container']);
  });

  it('waits for healthy, and fails on unhealthy or a missing healthcheck', async () => {
    const client = new FakeClient();
    const clock = fakeClock();
    client.states.set('a', [
      { ...running, Health: { Status: 'starting', FailingStreak: 0, Log: [] } },
      { ...running, Health: { Status: 'healthy', FailingStreak: 0, Log: [] } },
    ]);
    await expect(waitCondition(client, 'db', 'service_healthy', ['a'], { clock })).resolves.toBe(
      'Healthy',
    );
    expect(clock.t).toBe(500);
    client.states.set('b', [
      { ...running, Health: { Status: 'unhealthy', FailingStreak: 3, Log: [] } },
    ]);
    await expect(waitCondition(client, 'db', 'service_healthy', ['b'], { clock })).rejects.toThrow(
      'dependency failed to start: container b is unhealthy',
    );
    client.states.set('c', [running]);
    await expect(waitCondition(client, 'db', 'service_healthy', ['c'], { clock })).rejects.toThrow(
      'dependency failed to start: container c has no healthcheck configured',
    );
    client.states.set('d', [
      { ...running, Health: { Status: 'starting', FailingStreak: 0, Log: [] } },
    ]);
    await expect(
      waitCondition(client, 'db', 'service_healthy', ['d'], { clock, waitTimeoutMs: 2000 }),
    ).rejects.toThrow('timeout waiting for dependency service "db" (service_healthy)');
  });

  it('waits for running (and healthy when a healthcheck exists) for up --wait', async () => {
    const client = new FakeClient();
    const clock = fakeClock();
    client.states.set('a', [{ ...running, Running: false, Status: 'created' }, running]);
    await expect(waitCondition(client, 's', 'service_started', ['a'], { clock })).resolves.toBe(
      'Started',
    );
    client.states.set('b', [exited(0)]);
    await expect(waitCondition(client, 's', 'service_started', ['b'], { clock })).rejects.toThrow(
      'container b exited (0)',
    );
    client.states.set('c', [
      { ...running, Health: { Status: 'starting', FailingStreak: 0, Log: [] } },
      { ...running, Health: { Status: 'healthy', FailingStreak: 0, Log: [] } },
    ]);
    const t0 = clock.t;
    await expect(waitCondition(client, 's', 'service_started', ['c'], { clock })).resolves.toBe(
      'Started',
    );
    expect(clock.t - t0).toBe(500);
  });

  it('only warns when an optional dependency fails its condition', async () => {
    const b = new PlanBuilder();
    const w = b.add(
      {
        kind: 'wait-service',
        service: 'db',
        condition: 'service_healthy',
        containers: ['db1'],
        required: false,
      },
      'required by web',
    );
    b.add(
      { kind: 'start-container', container: { service: 'web', replica: 1, name: 'web1' } },
      'created',
      [w],
    );
    const client = new FakeClient();
    client.states.set('db1', [running]);
    const warnings: string[] = [];
    const res = await executePlan(client, b.nodes, { onWarning: (m) => warnings.push(m) });
    expect(res.error).toBeUndefined();
    expect(warnings).toEqual([
      'dependency failed to start: container db1 has no healthcheck configured',
    ]);
    expect(client.calls).toContain('start web1');
  });

  it('maps an API failure to an EngineError naming the operation and skips dependents', async () => {
    const p = project({ web: { image: 'nginx', networks: { front: null, back: null } } });
    const plan = reconcileUp(p, emptyState('demo', ['docker.io/library/nginx:latest']));
    const client = new FakeClient();
    client.failOn.add('create demo-web-1');
    const res = await executePlan(client, plan.nodes);
    expect(res.error?.code).toBe('TSC_ENGINE_STATE');
    expect(res.error?.message).toBe('create container demo-web-1: boom');
    expect(client.calls).not.toContain('start demo-web-1');
    // a daemon error (dockerode: message wrapped, the daemon's text in json.message)
    const wrapped = new FakeClient();
    wrapped.createContainer = () =>
      Promise.reject(
        Object.assign(new Error('(HTTP code 404) no such container - No such image: x:1 '), {
          statusCode: 404,
          json: { message: 'No such image: x:1' },
        }),
      );
    const r404 = await executePlan(wrapped, plan.nodes);
    expect(r404.error?.code).toBe('TSC_ENGINE_NOT_FOUND');
    expect(r404.error?.message).toBe('create container demo-web-1: No such image: x:1');
    const ok = new FakeClient();
    await executePlan(ok, plan.nodes);
    expect(ok.calls.slice(2)).toEqual([
      'create demo-web-1',
      'connect demo_front id-demo-web-1',
      'start demo-web-1',
    ]);
  });

  it('stops launching when the signal is aborted', async () => {
    const plan = reconcileUp(project({ web: { image: 'nginx' } }), emptyState('demo'));
    const ac = new AbortController();
    ac.abort();
    const client = new FakeClient();
    const res = await executePlan(client, plan.nodes, { signal: ac.signal });
    expect(client.calls).toEqual([]);
    expect([...res.outcomes.values()].every((o) => o === 'skipped')).toBe(true);
  });

  describe('Ctrl-C during a dependency wait', () => {
    const healthyDep = () =>
      reconcileUp(
        project({
          db: { image: 'busybox' },
          web: {
            image: 'busybox',
            depends_on: { db: { condition: 'service_healthy', required: true } },
          },
        }),
        emptyState('demo', ['docker.io/library/busybox:latest']),
      );
    const starting: ContainerState = {
      ...running,
      Health: { Status: 'starting', FailingStreak: 0, Log: [] },
    };

    /** Runs the plan, aborting once the wait has begun; resolves the result and the events. */
    const abortDuringWait = async (client: FakeClient, clock: Clock) => {
      const plan = healthyDep();
      const ac = new AbortController();
      const events: ProgressEvent[] = [];
      const res = await executePlan(client, plan.nodes, {
        signal: ac.signal,
        clock,
        onProgress: (e) => {
          events.push(e);
          if (e.status === 'Waiting') setImmediate(() => ac.abort());
        },
      });
      return { plan, res, lines: events.map(renderPlainEvent) };
    };

    /** The wait node and the start of web (the only node after it; web is created before). */
    const afterWait = (plan: ReturnType<typeof healthyDep>) => {
      const wait = plan.nodes.find((n) => n.op.kind === 'wait-service');
      const start = plan.nodes.find(
        (n) => n.op.kind === 'start-container' && n.op.container.service === 'web',
      );
      expect(wait && start?.after).toContain(wait?.id);
      return [wait?.id, start?.id];
    };

    it('cancels a wait whose inspect never answers; the nodes after it are skipped', async () => {
      const client = new FakeClient();
      client.inspectContainer = (id: string) => {
        client.calls.push(`inspect ${id}`);
        return new Promise<ContainerState>(() => undefined);
      };
      const { plan, res, lines } = await abortDuringWait(client, fakeClock());
      expect(res.error).toBeUndefined();
      for (const id of afterWait(plan)) expect(res.outcomes.get(id ?? -1)).toBe('skipped');
      const others = plan.nodes.filter((n) => !afterWait(plan).includes(n.id));
      for (const n of others) expect(res.outcomes.get(n.id)).toBe('done');
      expect(client.calls).toContain('start demo-db-1');
      expect(client.calls).toContain('inspect demo-db-1');
      expect(client.calls).not.toContain('start demo-web-1');
      expect(lines).toContain(' Container demo-db-1  Waiting');
      expect(lines).toContain(' Container demo-db-1  Skipped');
      expect(lines).toContain(' Container demo-web-1  Skipped');
      expect(lines.some((l) => l.includes('Healthy') || l.includes('Error'))).toBe(false);
    });

    it('cancels a wait sleeping between polls (a clock whose sleep never ends)', async () => {
      const client = new FakeClient();
      client.states.set('demo-db-1', [starting]);
      let sleeps = 0;
      const clock: Clock = {
        now: () => 0,
        sleep: () => {
          sleeps++;
          return new Promise<void>(() => undefined);
        },
      };
      const { plan, res } = await abortDuringWait(client, clock);
      expect(res.error).toBeUndefined();
      expect(sleeps).toBe(1);
      for (const id of afterWait(plan)) expect(res.outcomes.get(id ?? -1)).toBe('skipped');
      expect(client.calls).not.toContain('start demo-web-1');
    });

    it('waitCondition rejects at once when the signal is already aborted', async () => {
      const client = new FakeClient();
      const ac = new AbortController();
      ac.abort();
      await expect(
        waitCondition(client, 'db', 'service_healthy', ['x'], { signal: ac.signal }),
      ).rejects.toThrow('interrupted');
    });

    it('cancels a running pull; the run ends without an error', async () => {
      const plan = reconcileUp(project({ web: { image: 'nginx' } }), emptyState('demo'));
      const client = new FakeClient();
      let pullSignal: AbortSignal | undefined;
      client.pullImage = (ref: string, _platform?: string, signal?: AbortSignal) => {
        client.calls.push(`pull ${ref}`);
        pullSignal = signal;
        return new Promise<void>(() => undefined);
      };
      const ac = new AbortController();
      const res = await executePlan(client, plan.nodes, {
        signal: ac.signal,
        concurrency: 1,
        onProgress: (e) => {
          if (e.status === 'Pulling') setImmediate(() => ac.abort());
        },
      });
      expect(res.error).toBeUndefined();
      expect(pullSignal?.aborted).toBe(true);
      expect([...res.outcomes.values()].every((o) => o === 'skipped')).toBe(true);
      expect(client.calls).toEqual(['pull docker.io/library/nginx:latest']);
    });
  });
});
